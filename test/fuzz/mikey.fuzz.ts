/**
 * `npm run fuzz`: the MIKEY decoder's totality and round trip over many generated inputs
 * (FUZZ_RUNS, default 100,000 per property): arbitrary octets, single-octet mutations of a real
 * signed I_MESSAGE, and generated messages that must round-trip through encode and decode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import * as c from '../../src/crypto/index.js';
import { FormatError } from '../../src/errors/index.js';
import {
  CsIdMapType,
  PayloadType,
  TsType,
  createIMessage,
  decodeMikey,
  encodeMikey,
  type MikeyPayload,
} from '../../src/formats/mikey/index.js';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 100_000);
const periods = { userKeyPeriod: 2_592_000, userKeyOffset: 0 };
const s = c.generateSakkeKmsKey();
const e = c.generateEccsiKmsKey();
const now = new Date();
const uid = c.deriveUid({ uri: 'sip:a@x', kmsUri: 'k', ...periods, keyPeriodNo: c.keyPeriodNoAt(now, periods.userKeyPeriod, 0) });
const message = createIMessage({
  keyType: 'GMK',
  key: new Uint8Array(randomBytes(16)),
  keyId: c.generateKeyId('GMK'),
  initiator: { uri: 'sip:a@x', kmsUri: 'k', ...periods, kpak: e.kpak, ...c.generateEccsiPair(e, uid) },
  responder: { uri: 'sip:b@x', kmsUri: 'k', ...periods, kms: new c.SakkePublicKey(s.zT) },
  time: now,
});

const total = (bytes: Uint8Array): void => {
  try {
    decodeMikey(bytes);
  } catch (err) {
    assert.ok(err instanceof FormatError, String(err));
  }
};

test(`decodeMikey is total on ${RUNS} arbitrary inputs`, () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 1024 }), total), { numRuns: RUNS });
});

test(`decodeMikey is total on ${RUNS} mutations of a signed I_MESSAGE`, () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(message.length - 1), fc.nat(255)), { minLength: 1, maxLength: 4 }), fc.nat(message.length), (edits, cut) => {
      const bytes = message.slice(0, Math.max(cut, 1));
      for (const [at, v] of edits) if (at < bytes.length) bytes[at] = v;
      total(bytes);
    }),
    { numRuns: RUNS },
  );
});

const bytes = (min: number, max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: min, maxLength: max });
const payload: fc.Arbitrary<MikeyPayload> = fc.oneof(
  fc.record({ type: fc.constant(PayloadType.T), tsType: fc.constant(TsType.NTP_UTC), value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }, { noNullPrototype: true }),
  fc.record({ type: fc.constant(PayloadType.RAND), rand: bytes(16, 255) }, { noNullPrototype: true }),
  fc.record({ type: fc.constant(PayloadType.IDR), role: fc.constantFrom(1, 2, 6, 7, 8, 9), idType: fc.constantFrom(0, 1, 2), data: bytes(0, 64) }, { noNullPrototype: true }),
  fc.record({ type: fc.constant(PayloadType.SAKKE), sakkeParams: fc.nat(255), idScheme: fc.nat(255), data: bytes(0, 300) }, { noNullPrototype: true }),
  fc.record({ type: fc.constant(PayloadType.GENERAL_EXT), extType: fc.constantFrom(0, 1, 7), data: bytes(0, 64) }, { noNullPrototype: true }),
);

test(`${Math.floor(RUNS / 10)} generated messages round-trip through encodeMikey and decodeMikey`, () => {
  fc.assert(
    fc.property(fc.array(payload, { maxLength: 10 }), fc.nat(0xffff_ffff), bytes(129, 129), (payloads, csbId, sig) => {
      const encoded = encodeMikey(
        { hdr: { version: 1, dataType: 26, v: false, prfFunc: 1, csbId, csIdMapType: CsIdMapType.EMPTY, srtpIds: [], genericIds: [] }, payloads },
        { sType: 2, signatureLength: 129, sign: () => sig },
      );
      const m = decodeMikey(encoded);
      assert.deepEqual(m.payloads, payloads);
      assert.equal(m.hdr.csbId, csbId);
      assert.deepEqual(m.sign?.signature, sig);
      assert.throws(() => decodeMikey(encoded.subarray(0, -1)), { code: 'ERR_TRUNCATED' });
    }),
    { numRuns: Math.floor(RUNS / 10) },
  );
});
