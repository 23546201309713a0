/**
 * `npm run fuzz`: the MIKEY decoder's totality and round trip over many generated inputs
 * (FUZZ_RUNS, default 100,000 per property): arbitrary octets, single-octet mutations of a real
 * signed I_MESSAGE (with a §E.6 key-parameters extension), and generated messages that must
 * round-trip through encode and decode; the same for the codecs of that extension, the MCData
 * Protected Payload (TS 33.180 §8.5.4.1) and the Key Parameters IE (§E.6.1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import * as c from '../../src/crypto/index.js';
import { FormatError } from '../../src/errors/index.js';
import {
  decodeMcdataProtectedPayload,
  encodeMcdataProtectedPayload,
  type McdataProtectedPayload,
} from '../../src/formats/mcdata/index.js';
import {
  CsIdMapType,
  GROUP_KEY_TYPES,
  GeneralExtType,
  PayloadType,
  TsType,
  createIMessage,
  decodeKeyParameters,
  decodeKeyParametersExtension,
  decodeMikey,
  encodeKeyParameters,
  encodeMikey,
  type KeyParameters,
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
  keyParameters: { text: 'fuzz', mcGroupIds: ['sip:g@x'], status: { securityGateway: true }, activationTime: now },
});
const extension = decodeMikey(message).payloads.find((p) => p.type === PayloadType.GENERAL_EXT && p.extType === GeneralExtType.KEY_PARAMETERS);
if (extension === undefined || extension.type !== PayloadType.GENERAL_EXT) throw new Error('the fuzz message has no key parameters');
const protectedPayload = extension.data;
const keyParameters = encodeKeyParameters({
  iei: 0,
  keyType: 'GMK',
  status: { revoked: false, securityGateway: true, undefinedBits: 0 },
  activationTime: new Date(1_800_000_000_000),
  expiryTime: undefined,
  text: 'Fire A',
  mcGroupIds: [{ iei: 0, id: 'sip:fire@example.org' }],
  reserved: { iei: 1, value: Uint8Array.of(1, 2, 3) },
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

/** Totality of a decoder: a value or a FormatError, nothing else. */
const totalOf = (decode: (b: Uint8Array) => unknown) => (bytes: Uint8Array): void => {
  try {
    decode(bytes);
  } catch (err) {
    assert.ok(err instanceof FormatError, String(err));
  }
};
const mutations = (base: Uint8Array) =>
  fc.tuple(fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(255)), { minLength: 1, maxLength: 4 }), fc.nat(base.length)).map(([edits, cut]) => {
    const bytes = base.slice(0, Math.max(cut, 1));
    for (const [at, v] of edits) if (at < bytes.length) bytes[at] = v;
    return bytes;
  });

const protectedTotal = totalOf((b) => decodeMcdataProtectedPayload(b));
const protectedWithSignallingTotal = totalOf((b) => decodeMcdataProtectedPayload(b, { signallingAlgorithm: true }));
const extensionTotal = totalOf((b) => decodeKeyParametersExtension(b, 0, 'mikey.payload7'));
const keyParametersTotal = totalOf((b) => decodeKeyParameters(b));

test(`decodeMcdataProtectedPayload and the E.6 extension decoder are total on ${RUNS} arbitrary inputs`, () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
      protectedTotal(bytes);
      protectedWithSignallingTotal(bytes);
      extensionTotal(bytes);
    }),
    { numRuns: RUNS },
  );
});

test(`decodeMcdataProtectedPayload is total on ${RUNS} mutations of a real E.6 protected payload`, () => {
  fc.assert(
    fc.property(mutations(protectedPayload), (bytes) => {
      protectedTotal(bytes);
      extensionTotal(bytes);
    }),
    { numRuns: RUNS },
  );
});

test(`decodeKeyParameters is total on ${RUNS} arbitrary inputs and ${RUNS} mutations of a real one`, () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), keyParametersTotal), { numRuns: RUNS });
  fc.assert(fc.property(mutations(keyParameters), keyParametersTotal), { numRuns: RUNS });
});

const arbProtected: fc.Arbitrary<McdataProtectedPayload> = fc.record(
  {
    messageType: fc.nat(255).map((v) => v | 0x40),
    dateTime: fc.integer({ min: 0, max: 2 ** 40 - 1 }).map((x) => new Date(x * 1000)),
    payloadId: fc.nat(0xffff_ffff),
    payloadSequenceNumber: fc.nat(255),
    payloadAlgorithm: fc.constantFrom(1, 2),
    signallingAlgorithm: fc.option(fc.constantFrom(1, 2), { nil: undefined }),
    iv: bytes(16, 16),
    dppkId: fc.nat(0xffff_ffff),
    payload: fc.record({ iei: fc.nat(255), value: bytes(16, 120) }, { noNullPrototype: true }),
    iMessage: fc.option(fc.record({ iei: fc.nat(255), value: bytes(0, 120) }, { noNullPrototype: true }), { nil: undefined }),
  },
  { noNullPrototype: true },
);

const keyTypes = ['GMK', 'PCK', 'CSK', 'SPK', 'MKFC', 'MSCCK', 'MuSiK'] as const;
const arbKeyParameters: fc.Arbitrary<KeyParameters> = fc
  .record(
    {
      iei: fc.nat(255),
      keyType: fc.constantFrom(...keyTypes),
      status: fc.record({ revoked: fc.boolean(), securityGateway: fc.boolean(), undefinedBits: fc.nat(0xffff_ffff).map((v) => (v & ~3) >>> 0) }, { noNullPrototype: true }),
      activationTime: fc.option(fc.integer({ min: 1, max: 2 ** 40 - 1 }).map((x) => new Date(x * 1000)), { nil: undefined }),
      expiryTime: fc.option(fc.integer({ min: 1, max: 2 ** 40 - 1 }).map((x) => new Date(x * 1000)), { nil: undefined }),
      text: fc.string({ maxLength: 30 }),
      groups: fc.array(fc.record({ iei: fc.nat(255), id: fc.string({ maxLength: 20 }) }, { noNullPrototype: true }), { maxLength: 5 }),
      noGroupForm: fc.boolean(),
      reserved: fc.option(fc.record({ iei: fc.nat(255), value: bytes(0, 40) }, { noNullPrototype: true }), { nil: undefined }),
    },
    { noNullPrototype: true },
  )
  .map(({ groups, noGroupForm, ...rest }) => ({ ...rest, mcGroupIds: GROUP_KEY_TYPES.includes(rest.keyType) ? groups : noGroupForm ? [] : undefined }));

test(`${Math.floor(RUNS / 10)} generated protected payloads and key parameters round-trip`, () => {
  fc.assert(
    fc.property(arbProtected, arbKeyParameters, (p, kp) => {
      const withSignalling = p.signallingAlgorithm !== undefined;
      const pb = encodeMcdataProtectedPayload(p);
      assert.deepEqual(decodeMcdataProtectedPayload(pb, { signallingAlgorithm: withSignalling }), p);
      assert.throws(() => decodeMcdataProtectedPayload(pb.subarray(0, -1), { signallingAlgorithm: withSignalling }), FormatError);
      const kb = encodeKeyParameters(kp);
      assert.deepEqual(decodeKeyParameters(kb), kp);
      assert.throws(() => decodeKeyParameters(kb.subarray(0, -1)), { code: 'ERR_TRUNCATED' });
    }),
    { numRuns: Math.floor(RUNS / 10) },
  );
});
