/**
 * The MCData Protected Payload message (TS 33.180 §8.5.4.1) and its protection (§8.5.4.2, DPCK of
 * §F.1.5): the exact layout, the 32-octet associated data, round trips with both algorithms,
 * typed refusals for truncated, lengthened and wrong-typed messages, ERR_DECRYPT for any change
 * to the authenticated fields or the tag, and fast-check totality and round-trip properties.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { deriveDpck, openAesGcm } from '../../src/crypto/index.js';
import { FormatError } from '../../src/errors/index.js';
import {
  McdataAlgorithm,
  McdataMessageType,
  decodeMcdataProtectedPayload,
  encodeMcdataProtectedPayload,
  mcdataAssociatedData,
  protectMcdataPayload,
  unprotectMcdataPayload,
  type McdataProtectedPayload,
} from '../../src/formats/mcdata/index.js';
import { concatBytes, fromHex, toHex, utf8 } from '../../src/util/index.js';

const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const fixedIv = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => 0xa0 + i);
const dppk = fromHex('000102030405060708090a0b0c0d0e0f');
const dppkId = 0x1234_5678;
const when = new Date('2026-11-28T12:00:00Z');

const sample = (): McdataProtectedPayload =>
  protectMcdataPayload({ dppk, dppkId, plaintext: utf8('hello, MCData'), dateTime: when, rng: fixedIv });

test('layout of Table 8.5.4.1-1: header fields in order, Payload as TLV-E, nothing else', () => {
  const p = sample();
  const bytes = encodeMcdataProtectedPayload(p);
  const hex = toHex(bytes);
  const seconds = (when.getTime() / 1000).toString(16).padStart(10, '0');
  assert.equal(hex.slice(0, 2), '43'); // DATA PAYLOAD with the protected bit 7
  assert.equal(hex.slice(2, 12), seconds); // Date and Time, 5 octets
  assert.equal(hex.slice(12, 22), '0000000000'); // Payload ID 0, sequence number 0
  assert.equal(hex.slice(22, 24), '01'); // DP_AES_128_GCM
  assert.equal(hex.slice(24, 56), toHex(fixedIv(16)));
  assert.equal(hex.slice(56, 64), '12345678');
  assert.equal(hex.slice(64, 70), `00${(13 + 16).toString(16).padStart(4, '0')}`); // IEI 0, length
  assert.equal(bytes.length, 35 + 13 + 16);
  assert.deepEqual(decodeMcdataProtectedPayload(bytes), p);
  assert.ok(Object.isFrozen(decodeMcdataProtectedPayload(bytes)));
});

test('AD of §8.5.4.2 is the 32 octets Message Type .. DPPK-ID, and the Payload is AES-GCM under the DPCK of §F.1.5', () => {
  const p = sample();
  const bytes = encodeMcdataProtectedPayload(p);
  const ad = mcdataAssociatedData(p);
  assert.equal(ad.length, 32);
  assert.deepEqual(ad, bytes.subarray(0, 32));
  const plain = openAesGcm(deriveDpck(dppk, dppkId), p.iv, ad, p.payload.value);
  assert.deepEqual(plain, utf8('hello, MCData'));
  assert.deepEqual(unprotectMcdataPayload(decodeMcdataProtectedPayload(bytes), dppk), utf8('hello, MCData'));
});

test('DP_AES_256_GCM with a 256-bit DPPK round-trips; with a 128-bit DPPK it is refused (§F.1.5)', () => {
  const key = rnd(32);
  const p = protectMcdataPayload({ dppk: key, dppkId, plaintext: rnd(100), dateTime: when });
  assert.equal(p.payloadAlgorithm, McdataAlgorithm.DP_AES_256_GCM);
  assert.equal(unprotectMcdataPayload(decodeMcdataProtectedPayload(encodeMcdataProtectedPayload(p)), key).length, 100);
  assert.throws(() => protectMcdataPayload({ dppk, dppkId, plaintext: rnd(1), dateTime: when, payloadAlgorithm: 2 }), {
    code: 'ERR_BAD_VALUE',
    field: 'mcdata.protectedPayload.payloadAlgorithm',
  });
});

test('the Signalling algorithm octet (NOTE 6) sits before the IV when the context carries it; it is outside the AD', () => {
  const p = protectMcdataPayload({ dppk, dppkId, plaintext: rnd(3), dateTime: when, signallingAlgorithm: 2, rng: fixedIv });
  const bytes = encodeMcdataProtectedPayload(p);
  assert.equal(bytes[12], 2);
  assert.deepEqual(decodeMcdataProtectedPayload(bytes, { signallingAlgorithm: true }), p);
  assert.deepEqual(mcdataAssociatedData(p), concatBytes(bytes.subarray(0, 12), bytes.subarray(13, 33)));
  assert.equal(unprotectMcdataPayload(p, dppk).length, 3);
  // Read without the option, the same octets do not decode as a message of the same shape.
  assert.notDeepEqual(decodeMcdataProtectedPayloadOrError(bytes), p);
});

const decodeMcdataProtectedPayloadOrError = (b: Uint8Array): unknown => {
  try {
    return decodeMcdataProtectedPayload(b);
  } catch (err) {
    return err;
  }
};

test('the optional MIKEY-SAKKE I-MESSAGE IE (NOTE 4) round-trips after the Payload', () => {
  const p = protectMcdataPayload({ dppk, dppkId, plaintext: rnd(8), dateTime: when, iMessage: { iei: 9, value: rnd(300) } });
  assert.deepEqual(decodeMcdataProtectedPayload(encodeMcdataProtectedPayload(p)), p);
});

test('truncated anywhere is ERR_TRUNCATED naming the field; one more octet is a third TLV-E that does not fit', () => {
  const bytes = encodeMcdataProtectedPayload(sample());
  const fields: Record<number, string> = { 0: 'messageType', 1: 'dateTime', 6: 'payloadId', 10: 'payloadSequenceNumber', 11: 'payloadAlgorithm', 12: 'iv', 28: 'dppkId', 32: 'payload.iei', 33: 'payload.length', 35: 'payload.value' };
  for (let n = 0; n < bytes.length; n++) {
    const start = Math.max(...Object.keys(fields).map(Number).filter((k) => k <= n));
    assert.throws(() => decodeMcdataProtectedPayload(bytes.subarray(0, n)), { code: 'ERR_TRUNCATED', field: `mcdata.protectedPayload.${fields[start] ?? '?'}` }, `length ${n}`);
  }
  assert.throws(() => decodeMcdataProtectedPayload(concatBytes(bytes, Uint8Array.of(0))), { code: 'ERR_TRUNCATED', field: 'mcdata.protectedPayload.iMessage.length' });
  assert.throws(() => decodeMcdataProtectedPayload(concatBytes(bytes, Uint8Array.of(0, 0, 0, 7))), { code: 'ERR_TRAILING_BYTES', field: 'mcdata.protectedPayload' });
});

test('the Payload length one larger or smaller is a typed error, never a value', () => {
  const bytes = encodeMcdataProtectedPayload(sample());
  for (const delta of [1, -1]) {
    const b = bytes.slice();
    new DataView(b.buffer).setUint16(33, new DataView(b.buffer).getUint16(33) + delta);
    // +1: the Payload runs past the end; -1: its last octet starts an I-MESSAGE IE that does not fit.
    const field = delta > 0 ? 'mcdata.protectedPayload.payload.value' : 'mcdata.protectedPayload.iMessage.length';
    assert.throws(() => decodeMcdataProtectedPayload(b), { code: 'ERR_TRUNCATED', field });
  }
});

test('wrong message type (bit 7 clear), unknown algorithm, short Payload: typed errors with the field and clause', () => {
  const bytes = encodeMcdataProtectedPayload(sample());
  const notProtected = bytes.slice();
  notProtected[0] = McdataMessageType.DATA_PAYLOAD;
  assert.throws(() => decodeMcdataProtectedPayload(notProtected), { code: 'ERR_BAD_VALUE', field: 'mcdata.protectedPayload.messageType', clause: 'TS 33.180 §8.5.1' });
  const alg = bytes.slice();
  alg[11] = 3;
  assert.throws(() => decodeMcdataProtectedPayload(alg), { code: 'ERR_UNSUPPORTED', field: 'mcdata.protectedPayload.payloadAlgorithm' });
  const short = concatBytes(bytes.subarray(0, 32), Uint8Array.of(0, 0, 15), new Uint8Array(15));
  assert.throws(() => decodeMcdataProtectedPayload(short), { code: 'ERR_BAD_LENGTH', field: 'mcdata.protectedPayload.payload.length' });
  assert.throws(() => encodeMcdataProtectedPayload({ ...sample(), messageType: 3 }), { code: 'ERR_BAD_VALUE', field: 'mcdata.protectedPayload.messageType' });
  assert.throws(() => encodeMcdataProtectedPayload({ ...sample(), iv: rnd(12) }), { code: 'ERR_BAD_LENGTH', field: 'mcdata.protectedPayload.iv' });
});

test('any flipped bit in the authenticated header or the Payload (bad tag) is ERR_DECRYPT; the Payload ID is authenticated too', () => {
  const bytes = encodeMcdataProtectedPayload(sample());
  for (let at = 0; at < bytes.length; at++) {
    if (at >= 32 && at < 35) continue; // the Payload IEI and length: structure, not AD
    const b = bytes.slice();
    b[at] = (b[at] as number) ^ (at === 0 ? 0x01 : 0x80);
    let p: McdataProtectedPayload;
    try {
      p = decodeMcdataProtectedPayload(b);
    } catch (err) {
      assert.ok(err instanceof FormatError, `offset ${at}: ${String(err)}`);
      continue; // e.g. an algorithm octet that is no longer defined
    }
    assert.throws(() => unprotectMcdataPayload(p, dppk), { name: 'CryptoError', code: 'ERR_DECRYPT', field: 'mcdata.protectedPayload.payload' }, `offset ${at}`);
  }
  assert.throws(() => unprotectMcdataPayload(sample(), rnd(16)), { code: 'ERR_DECRYPT' });
});

const arbProtected: fc.Arbitrary<McdataProtectedPayload> = fc.record(
  {
    messageType: fc.integer({ min: 0, max: 255 }).map((v) => v | McdataMessageType.PROTECTED),
    dateTime: fc.integer({ min: 0, max: 2 ** 40 - 1 }).map((s) => new Date(s * 1000)),
    payloadId: fc.nat(0xffff_ffff),
    payloadSequenceNumber: fc.nat(255),
    payloadAlgorithm: fc.constantFrom(1, 2),
    signallingAlgorithm: fc.option(fc.constantFrom(1, 2), { nil: undefined }),
    iv: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    dppkId: fc.nat(0xffff_ffff),
    payload: fc.record({ iei: fc.nat(255), value: fc.uint8Array({ minLength: 16, maxLength: 80 }) }, { noNullPrototype: true }),
    iMessage: fc.option(fc.record({ iei: fc.nat(255), value: fc.uint8Array({ maxLength: 80 }) }, { noNullPrototype: true }), { nil: undefined }),
  },
  { noNullPrototype: true },
);

test('decodeMcdataProtectedPayload is total: a value or a FormatError, with or without the Signalling algorithm', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, s) => {
      try {
        decodeMcdataProtectedPayload(bytes, { signallingAlgorithm: s });
      } catch (err) {
        assert.ok(err instanceof FormatError, String(err));
      }
    }),
    { numRuns: 2000 },
  );
});

test('round trip: decode(encode(p)) = p, and p minus its last octet is a FormatError', () => {
  fc.assert(
    fc.property(arbProtected, (p) => {
      const bytes = encodeMcdataProtectedPayload(p);
      assert.deepEqual(decodeMcdataProtectedPayload(bytes, { signallingAlgorithm: p.signallingAlgorithm !== undefined }), p);
      assert.throws(() => decodeMcdataProtectedPayload(bytes.subarray(0, -1), { signallingAlgorithm: p.signallingAlgorithm !== undefined }), FormatError);
    }),
    { numRuns: 500 },
  );
});
