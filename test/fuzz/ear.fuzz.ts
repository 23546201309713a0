/**
 * `npm run fuzz`: the EAR decoders (TS 33.180 Annex J.1.2 inside the §8.5.5 envelope) over many
 * generated inputs (FUZZ_RUNS, default 100,000 per property): arbitrary octets, single-octet
 * mutations and truncations of a real signed EAR, generated payloads and envelopes that must
 * round-trip, and Authorised Identity strings (J.3.2) that must decode or be refused as FormatError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as c from '../../src/crypto/index.js';
import { FormatError } from '../../src/errors/index.js';
import {
  createEar,
  decodeAuthenticatedPayload,
  decodeAuthorisedIdentity,
  decodeEar,
  decodeEarPayload,
  encodeAuthenticatedPayload,
  encodeEarPayload,
} from '../../src/formats/ear/index.js';
import { arbAuthenticatedPayload, arbEarPayload } from '../fixtures/ear-arbitraries.js';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 100_000);
const periods = { userKeyPeriod: 2_592_000, userKeyOffset: 0 };
const kms = c.generateEccsiKmsKey();
const now = new Date();
const uri = 'sip:mc.dispatcher@example.org?mc-role-client=07&mc-priv-mcptt=07';
const uid = c.deriveUid({ uri, kmsUri: 'kms.example.org', ...periods, keyPeriodNo: c.keyPeriodNoAt(now, periods.userKeyPeriod, 0) });
const ear = createEar(
  { dateTime: now, sourceRole: 1, sourceId: uri, targetRole: 1, targetId: 'sip:t@example.org', request: { requestType: 1, requestId: 0x0102, requestExpiry: now } },
  { uri, kmsUri: 'kms.example.org', ...periods, kpak: kms.kpak, ...c.generateEccsiPair(kms, uid) },
);

const total = (bytes: Uint8Array): void => {
  try {
    decodeEar(bytes);
  } catch (err) {
    assert.ok(err instanceof FormatError, String(err));
  }
  try {
    decodeEarPayload(bytes);
  } catch (err) {
    assert.ok(err instanceof FormatError, String(err));
  }
};

test(`decodeEar / decodeEarPayload are total on ${RUNS} arbitrary inputs`, () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 1024 }), total), { numRuns: RUNS });
});

test(`decodeEar is total on ${RUNS} mutations and truncations of a signed EAR`, () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(ear.length - 1), fc.nat(255)), { minLength: 1, maxLength: 4 }), fc.nat(ear.length), (edits, cut) => {
      const bytes = ear.slice(0, Math.max(cut, 1));
      for (const [at, v] of edits) if (at < bytes.length) bytes[at] = v;
      total(bytes);
    }),
    { numRuns: RUNS },
  );
});

test(`EAR PAYLOAD round trip and truncation on ${RUNS} generated payloads`, () => {
  fc.assert(
    fc.property(arbEarPayload, (p) => {
      const bytes = encodeEarPayload(p);
      assert.deepEqual(decodeEarPayload(bytes), p);
      assert.throws(() => decodeEarPayload(bytes.subarray(0, -1)), { code: 'ERR_TRUNCATED' });
    }),
    { numRuns: RUNS },
  );
});

test(`§8.5.5 envelope round trip on ${RUNS} generated envelopes`, () => {
  fc.assert(
    fc.property(arbAuthenticatedPayload, (a) => {
      const bytes = encodeAuthenticatedPayload(a, () => a.signature);
      const { signedPart, ...back } = decodeAuthenticatedPayload(bytes);
      assert.deepEqual(back, a);
      assert.equal(signedPart.length, bytes.length - 129);
    }),
    { numRuns: RUNS },
  );
});

test(`decodeAuthorisedIdentity is total on ${RUNS} identity-shaped strings`, () => {
  const hname = fc.constantFrom('mc-role-client', 'mc-role-server', 'mc-priv-mcptt', 'mc-offnet-mcdata', 'other', '');
  const header = fc.tuple(hname, fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFxyz=&'), maxLength: 12 })).map(([n, v]) => `${n}=${v}`);
  const arb = fc.tuple(fc.string({ maxLength: 30 }), fc.array(header, { maxLength: 5 }), fc.boolean()).map(([id, hs, q]) => (q ? `${id}?${hs.join('&')}` : id));
  fc.assert(
    fc.property(arb, (s) => {
      try {
        decodeAuthorisedIdentity(s);
      } catch (err) {
        assert.ok(err instanceof FormatError, String(err));
      }
    }),
    { numRuns: RUNS },
  );
});
