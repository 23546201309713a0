/**
 * The MIKEY codec (RFC 3830, RFC 6043, RFC 6509, TS 33.180 Annex E): a signed MIKEY-SAKKE
 * I_MESSAGE built with real SAKKE and ECCSI keys round-trips and verifies; every truncation,
 * extension and unknown payload is a typed error; the decoder is total on arbitrary input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import {
  EccsiVerifier,
  SakkePublicKey,
  encapsulateSsv,
  extractRsk,
  generateEccsiKmsKey,
  generateEccsiPair,
  generateKeyId,
  generateSakkeKmsKey,
  prepareRsk,
  signEccsi,
} from '../../src/crypto/index.js';
import { FormatError } from '../../src/errors/index.js';
import {
  CsIdMapType,
  DATA_TYPE_SAKKE,
  IdRole,
  IdType,
  PayloadType,
  PrfFunc,
  SignType,
  TsType,
  decodeMikey,
  encodeMikey,
  sakkePayload,
  sakkeToSelfPayload,
  type MikeyPayload,
} from '../../src/formats/mikey/index.js';
import { utf8 } from '../../src/util/index.js';

const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const sakkeKms = generateSakkeKmsKey();
const kms = new SakkePublicKey(sakkeKms.zT);
const eccsiKms = generateEccsiKmsKey();
const alice = rnd(32);
const bob = rnd(32);
const aliceSigning = { ...generateEccsiPair(eccsiKms, alice), kpak: eccsiKms.kpak, id: alice };
const pck = rnd(16);

function payloads(withExtras: boolean): MikeyPayload[] {
  const list: MikeyPayload[] = [
    { type: PayloadType.T, tsType: TsType.NTP_UTC, value: 0xe9d0_1234_5678_9abcn },
    { type: PayloadType.RAND, rand: rnd(16) },
    { type: PayloadType.IDR, role: IdRole.INITIATOR, idType: IdType.URI, data: utf8('sip:alice@example.org') },
    { type: PayloadType.IDR, role: IdRole.RESPONDER, idType: IdType.URI, data: utf8('sip:bob@example.org') },
    { type: PayloadType.IDR, role: IdRole.INITIATOR_KMS, idType: IdType.URI, data: utf8('kms.example.org') },
    { type: PayloadType.IDR, role: IdRole.RESPONDER_KMS, idType: IdType.URI, data: utf8('kms.example.org') },
  ];
  if (withExtras) {
    list.push({
      type: PayloadType.SP,
      policyNo: 0,
      protType: 0,
      params: [
        { type: 0, value: Uint8Array.of(6) },
        { type: 1, value: Uint8Array.of(16) },
      ],
    });
  }
  list.push(sakkePayload(encapsulateSsv(kms, bob, pck)));
  if (withExtras) list.push(sakkeToSelfPayload(encapsulateSsv(kms, alice, pck)));
  return list;
}

function iMessage(withExtras = true, csIdMapType: number = CsIdMapType.EMPTY): Uint8Array {
  const genericIds =
    csIdMapType === CsIdMapType.GENERIC_ID
      ? [{ csId: 0, protType: 0, s: false, policies: [0], sessionData: new Uint8Array(0), spi: rnd(4) }]
      : [];
  return encodeMikey(
    {
      hdr: {
        version: 1,
        dataType: DATA_TYPE_SAKKE,
        v: false,
        prfFunc: PrfFunc.HMAC_SHA_256,
        csbId: generateKeyId('PCK'),
        csIdMapType,
        srtpIds: csIdMapType === CsIdMapType.SRTP_ID ? [{ policyNo: 0, ssrc: 0x12345678, roc: 0 }] : [],
        genericIds,
      },
      payloads: payloads(withExtras),
    },
    { sType: SignType.ECCSI, signatureLength: 129, sign: (signed) => signEccsi(signed, aliceSigning) },
  );
}

const message = iMessage();

test('a signed MIKEY-SAKKE I_MESSAGE round-trips, verifies over the signed part and decapsulates', () => {
  const m = decodeMikey(message);
  assert.equal(m.hdr.dataType, 26);
  assert.equal(m.hdr.csIdMapType, CsIdMapType.EMPTY);
  assert.deepEqual(
    m.payloads.map((p) => p.type),
    [5, 11, 14, 14, 14, 14, 10, 26, 21],
  );
  assert.ok(m.sign !== undefined && m.signedPart !== undefined);
  assert.equal(m.sign.sType, SignType.ECCSI);
  assert.equal(m.sign.signature.length, 129);
  assert.equal(m.signedPart.length, message.length - 129);
  new EccsiVerifier().verify(m.signedPart, m.sign.signature, eccsiKms.kpak, alice);
  const sakke = m.payloads.find((p) => p.type === PayloadType.SAKKE);
  assert.ok(sakke !== undefined && sakke.type === PayloadType.SAKKE);
  const bobKeys = prepareRsk(kms, bob, extractRsk(sakkeKms.z, bob));
  assert.deepEqual(bobKeys.decapsulate(sakke.data), pck);
  const self = m.payloads.find((p) => p.type === PayloadType.GENERAL_EXT);
  assert.ok(self !== undefined && self.type === PayloadType.GENERAL_EXT && self.sakke !== undefined);
  assert.equal(self.sakke.data.length, 273);
  // Re-encoding the decoded message gives the same octets.
  const again = encodeMikey(
    { hdr: m.hdr, payloads: m.payloads },
    { sType: m.sign.sType, signatureLength: 129, sign: () => m.sign?.signature ?? new Uint8Array(0) },
  );
  assert.deepEqual(again, message);
});

test('GENERIC-ID (type 2) and SRTP-ID (type 0) CS ID maps round-trip', () => {
  const generic = iMessage(false, CsIdMapType.GENERIC_ID);
  const m = decodeMikey(generic);
  assert.equal(m.hdr.genericIds.length, 1);
  assert.equal(m.hdr.genericIds[0]?.spi.length, 4);
  assert.equal(m.hdr.genericIds[0]?.policies.length, 1);
  const srtp = decodeMikey(iMessage(false, CsIdMapType.SRTP_ID));
  assert.deepEqual(srtp.hdr.srtpIds, [{ policyNo: 0, ssrc: 0x12345678, roc: 0 }]);
  assert.equal(srtp.hdr.genericIds.length, 0);
});

test('every truncation of the message is ERR_TRUNCATED; one more octet is ERR_TRAILING_BYTES', () => {
  for (let n = 0; n < message.length; n++) {
    assert.throws(() => decodeMikey(message.subarray(0, n)), { name: 'FormatError', code: 'ERR_TRUNCATED' }, `length ${n}`);
  }
  const longer = new Uint8Array(message.length + 1);
  longer.set(message);
  assert.throws(() => decodeMikey(longer), { code: 'ERR_TRAILING_BYTES', field: 'mikey' });
});

test('an unknown payload type in the chain is ERR_UNSUPPORTED naming the payload', () => {
  const bad = message.slice();
  bad[2] = 99; // HDR next payload
  assert.throws(() => decodeMikey(bad), { code: 'ERR_UNSUPPORTED', field: 'mikey.payload0.type' });
});

test('HDR rules: version 1; an unknown CS ID map type is ERR_UNSUPPORTED; RAND shorter than 16 is rejected', () => {
  const v = message.slice();
  v[0] = 2;
  assert.throws(() => decodeMikey(v), { code: 'ERR_BAD_VALUE', field: 'mikey.hdr.version' });
  const map = message.slice();
  map[9] = 3;
  assert.throws(() => decodeMikey(map), { code: 'ERR_UNSUPPORTED', field: 'mikey.hdr.csIdMapType' });
  const m = decodeMikey(message);
  const randAt = m.offsets[2] as number; // HDR, T, then RAND
  const short = message.slice();
  short[randAt + 1] = 15;
  assert.throws(() => decodeMikey(short), { code: 'ERR_BAD_VALUE', field: 'mikey.payload1.randLength' });
});

test('decodeMikey is total: any input gives a message or a FormatError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
      try {
        decodeMikey(bytes);
      } catch (err) {
        assert.ok(err instanceof FormatError, String(err));
      }
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.nat(message.length - 1), fc.integer({ min: 0, max: 255 }), (at, value) => {
      const bytes = message.slice();
      bytes[at] = value;
      try {
        decodeMikey(bytes);
      } catch (err) {
        assert.ok(err instanceof FormatError, String(err));
      }
    }),
    { numRuns: 3000 },
  );
});
