/**
 * The §E.6 key-parameters extension in MIKEY-SAKKE I_MESSAGEs end to end (TS 33.180 Annex E):
 * createIMessage places it last inside the signed envelope, protected under the key carried with
 * DPPK-ID = CSB-ID; openIMessage decodes, decrypts and checks it, returns it typed, and refuses a
 * wrong one with a typed error naming the payload, field and clause, recording nothing; an
 * extension that is not an MCData Protected Payload comes back raw as `format: 'legacy'`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as c from '../../src/crypto/index.js';
import { encodeMcdataProtectedPayload, decodeMcdataProtectedPayload, protectMcdataPayload } from '../../src/formats/mcdata/index.js';
import {
  GeneralExtType,
  MemoryReplayCache,
  PayloadType,
  SignType,
  createIMessage,
  decodeMikey,
  encodeKeyParameters,
  encodeMikey,
  keyParametersOf,
  keyParametersPayload,
  openIMessage,
  type KeyParametersInput,
  type MikeyPayload,
} from '../../src/formats/mikey/index.js';
import { concatBytes, fromHex } from '../../src/util/index.js';

const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const periods = { userKeyPeriod: 2_592_000, userKeyOffset: 0 };
const kmsUri = 'kms.example.org';
const now = new Date(Math.floor(Date.now() / 1000) * 1000);
const period = c.keyPeriodNoAt(now, periods.userKeyPeriod, periods.userKeyOffset);
const uid = (uri: string): Uint8Array => c.deriveUid({ uri, kmsUri, ...periods, keyPeriodNo: period });
const s = c.generateSakkeKmsKey();
const kms = new c.SakkePublicKey(s.zT);
const e = c.generateEccsiKmsKey();
const gms = 'sip:gms@example.org';
const bob = 'sip:bob@example.org';
const pair = c.generateEccsiPair(e, uid(gms));
const signer = { ...pair, kpak: e.kpak, id: uid(gms) };
const bobKeys = c.prepareRsk(kms, uid(bob), c.extractRsk(s.z, uid(bob)));
const KEY_TYPES: readonly c.KeyType[] = ['GMK', 'PCK', 'CSK', 'SPK', 'MKFC', 'MSCCK', 'MuSiK'];

function create(keyType: c.KeyType, keyParameters?: KeyParametersInput, toSelf = false) {
  const key = rnd(16);
  const keyId = c.generateKeyId(keyType);
  const bytes = createIMessage({
    keyType,
    key,
    keyId,
    initiator: { uri: gms, kmsUri, ...periods, kpak: e.kpak, ...pair, ...(toSelf ? { sakkeToSelf: kms } : {}) },
    responder: { uri: bob, kmsUri, ...periods, kms },
    time: now,
    ...(keyParameters !== undefined ? { keyParameters } : {}),
  });
  return { key, keyId, bytes };
}

const open = (bytes: Uint8Array, cache = new MemoryReplayCache()) =>
  openIMessage(bytes, {
    uri: bob,
    kmsUri,
    ...periods,
    recipientFor: () => bobKeys,
    trustedKms: () => ({ kpak: e.kpak, ...periods }),
    replayCache: cache,
    now: () => now,
  });

const resign = (bytes: Uint8Array, payloads: (old: readonly MikeyPayload[]) => readonly MikeyPayload[]): Uint8Array => {
  const m = decodeMikey(bytes);
  return encodeMikey({ hdr: m.hdr, payloads: payloads(m.payloads) }, { sType: SignType.ECCSI, signatureLength: 129, sign: (x) => c.signEccsi(x, signer) });
};
const isKeyParameters = (p: MikeyPayload): boolean => p.type === PayloadType.GENERAL_EXT && p.extType === GeneralExtType.KEY_PARAMETERS;
const withExtension = (bytes: Uint8Array, data: Uint8Array): Uint8Array =>
  resign(bytes, (ps) => [...ps.filter((p) => !isKeyParameters(p)), { type: PayloadType.GENERAL_EXT, extType: GeneralExtType.KEY_PARAMETERS, data }]);
const extensionData = (bytes: Uint8Array): Uint8Array => {
  const p = decodeMikey(bytes).payloads.find(isKeyParameters);
  assert.ok(p !== undefined && p.type === PayloadType.GENERAL_EXT);
  return p.data;
};

async function refused(bytes: Uint8Array, want: { code: string; field: string; name?: string }, label: string): Promise<void> {
  const cache = new MemoryReplayCache();
  await assert.rejects(open(bytes, cache), want, label);
  assert.equal(cache.size, 0, `${label}: nothing recorded`);
}

test('every key type with key parameters: opened, decrypted and typed; DPPK-ID = CSB-ID (the GUK-ID for a GMK)', async () => {
  for (const keyType of KEY_TYPES) {
    const group = keyType === 'GMK' || keyType === 'MKFC' || keyType === 'MuSiK';
    const input: KeyParametersInput = {
      status: { securityGateway: keyType === 'GMK' },
      activationTime: new Date(now.getTime() + 60_000),
      expiryTime: new Date(now.getTime() + 86_400_000),
      text: `${keyType} for tests`,
      ...(group ? { mcGroupIds: ['sip:fire@example.org', 'sip:rescue@example.org'] } : {}),
    };
    const { key, keyId, bytes } = create(keyType, input);
    const m = decodeMikey(bytes);
    const last = m.payloads[m.payloads.length - 1];
    assert.ok(last !== undefined && isKeyParameters(last), `${keyType}: the extension is the last payload before SIGN`);
    const opened = await open(bytes);
    assert.deepEqual(opened.key, key);
    assert.equal(opened.keyId, keyId);
    const kp = opened.keyParameters;
    assert.ok(kp !== undefined && kp.format === 'current', keyType);
    assert.equal(kp.keyType, keyType);
    assert.deepEqual(kp.status, { revoked: false, securityGateway: keyType === 'GMK', undefinedBits: 0 });
    assert.deepEqual(kp.activationTime, input.activationTime);
    assert.deepEqual(kp.expiryTime, input.expiryTime);
    assert.equal(kp.text, `${keyType} for tests`);
    assert.deepEqual(kp.mcGroupIds?.map((g) => g.id), group ? ['sip:fire@example.org', 'sip:rescue@example.org'] : undefined);
    assert.equal(kp.protectedPayload.dppkId, m.hdr.csbId);
    assert.equal(kp.protectedPayload.payloadId, 0);
    assert.equal(kp.protectedPayload.payloadSequenceNumber, 0);
    assert.deepEqual(kp.protectedPayload.dateTime, now);
    assert.deepEqual(opened.keyParametersRaw, extensionData(bytes));
    if (keyType === 'GMK') assert.notEqual(kp.protectedPayload.dppkId, keyId);
  }
});

test('defaults: not revoked, times 0 (undefined), empty text, an empty MC Group IDs IE for a GMK; none without the input', async () => {
  const opened = await open(create('GMK', {}).bytes);
  assert.ok(opened.keyParameters?.format === 'current');
  assert.equal(opened.keyParameters.activationTime, undefined);
  assert.equal(opened.keyParameters.expiryTime, undefined);
  assert.equal(opened.keyParameters.text, '');
  assert.deepEqual(opened.keyParameters.mcGroupIds, []);
  assert.equal((await open(create('GMK').bytes)).keyParameters, undefined);
});

test('with SAKKE-to-self the key parameters still come last; both open', async () => {
  const { bytes } = create('PCK', { text: 'call' }, true);
  const exts = decodeMikey(bytes).payloads.flatMap((p) => (p.type === PayloadType.GENERAL_EXT ? [p.extType] : []));
  assert.deepEqual(exts, [GeneralExtType.SAKKE_TO_SELF, GeneralExtType.KEY_PARAMETERS]);
  const opened = await open(bytes);
  assert.equal(opened.sakkeToSelf, true);
  assert.equal(opened.keyParameters?.format === 'current' && opened.keyParameters.text, 'call');
});

test('the extension is inside the signed envelope: a changed octet of it without re-signing is ERR_SIGNATURE', async () => {
  const { bytes } = create('CSK', { text: 'x' });
  const at = bytes.length - 129 - 5;
  const bad = bytes.slice();
  bad[at] = (bad[at] as number) ^ 1;
  await refused(bad, { code: 'ERR_SIGNATURE', field: 'eccsi.signature' }, 'unsigned change');
});

test('wrong key type inside: ERR_BAD_VALUE naming mikey.payloadN.keyParameters.keyType (§E.6.11)', async () => {
  const { key, bytes } = create('GMK', {});
  const csbId = decodeMikey(bytes).hdr.csbId;
  const asPck = keyParametersPayload({ parameters: keyParametersOf({}, 'PCK'), key, csbId, time: now });
  assert.ok(asPck.type === PayloadType.GENERAL_EXT);
  const bad = withExtension(bytes, asPck.data);
  const index = decodeMikey(bad).payloads.findIndex(isKeyParameters);
  await refused(bad, { code: 'ERR_BAD_VALUE', field: `mikey.payload${index}.keyParameters.keyType`, name: 'FormatError' }, 'PCK parameters for a GMK');
});

test('DPPK-ID other than the CSB-ID: ERR_BAD_VALUE before any decryption (§E.6.1)', async () => {
  const { key, keyId, bytes } = create('GMK', {});
  // The GMK-ID instead of the GUK-ID, a plausible sender mistake.
  const other = keyParametersPayload({ parameters: keyParametersOf({}, 'GMK'), key, csbId: keyId, time: now });
  assert.ok(other.type === PayloadType.GENERAL_EXT);
  const bad = withExtension(bytes, other.data);
  const index = decodeMikey(bad).payloads.findIndex(isKeyParameters);
  await refused(bad, { code: 'ERR_BAD_VALUE', field: `mikey.payload${index}.protectedPayload.dppkId` }, 'DPPK-ID = GMK-ID');
});

test('bad tag, other key, truncated, lengthened, unknown algorithm: typed errors, nothing recorded', async () => {
  const { bytes } = create('MuSiK', { text: 'multicast', mcGroupIds: ['sip:g@x'] });
  const data = extensionData(bytes);
  const index = decodeMikey(bytes).payloads.findIndex(isKeyParameters);
  const f = `mikey.payload${index}.protectedPayload`;
  const tag = data.slice();
  tag[tag.length - 1] = (tag[tag.length - 1] as number) ^ 0x80;
  await refused(withExtension(bytes, tag), { code: 'ERR_DECRYPT', field: `${f}.payload`, name: 'CryptoError' }, 'bad tag');
  const pp = decodeMcdataProtectedPayload(data);
  const otherKey = protectMcdataPayload({ dppk: rnd(16), dppkId: pp.dppkId, plaintext: rnd(30), dateTime: now });
  await refused(withExtension(bytes, encodeMcdataProtectedPayload(otherKey)), { code: 'ERR_DECRYPT', field: `${f}.payload` }, 'other key');
  await refused(withExtension(bytes, data.subarray(0, -1)), { code: 'ERR_TRUNCATED', field: `${f}.payload.value` }, 'truncated');
  await refused(withExtension(bytes, concatBytes(data, Uint8Array.of(0))), { code: 'ERR_TRUNCATED', field: `${f}.iMessage.length` }, 'lengthened');
  const alg = data.slice();
  alg[11] = 9;
  await refused(withExtension(bytes, alg), { code: 'ERR_UNSUPPORTED', field: `${f}.payloadAlgorithm` }, 'algorithm 9');
  const notProtected = data.slice();
  notProtected[0] = 0x83; // bit 8 (authenticated) without bit 7: not a protected payload, so legacy
  assert.equal((await open(withExtension(bytes, notProtected))).keyParameters?.format, 'legacy');
});

test('well encrypted but malformed Key Parameters: a FormatError naming the content field', async () => {
  const { key, bytes } = create('PCK', {});
  const csbId = decodeMikey(bytes).hdr.csbId;
  const good = encodeKeyParameters(keyParametersOf({ text: 'abc' }, 'PCK'));
  const index = decodeMikey(bytes).payloads.findIndex(isKeyParameters);
  const seal = (plaintext: Uint8Array): Uint8Array => encodeMcdataProtectedPayload(protectMcdataPayload({ dppk: key, dppkId: csbId, plaintext, dateTime: now }));
  await refused(withExtension(bytes, seal(good.subarray(0, -1))), { code: 'ERR_TRUNCATED', field: `mikey.payload${index}.keyParameters.content` }, 'short');
  await refused(withExtension(bytes, seal(concatBytes(good, Uint8Array.of(1)))), { code: 'ERR_TRAILING_BYTES', field: `mikey.payload${index}.keyParameters` }, 'long');
});

test('a second key-parameters extension is refused (at most once)', async () => {
  const { bytes } = create('CSK', {});
  const data = extensionData(bytes);
  const twice = resign(bytes, (ps) => [...ps, { type: PayloadType.GENERAL_EXT, extType: GeneralExtType.KEY_PARAMETERS, data }]);
  const last = decodeMikey(twice).payloads.length - 1;
  await refused(twice, { code: 'ERR_BAD_VALUE', field: `mikey.payload${last}` }, 'twice');
});

test('a TS 33.179-era extension (not an MCData Protected Payload) opens with the key and comes back raw as legacy', async () => {
  const { key, bytes } = create('GMK');
  const legacy = concatBytes(fromHex('0008'), new TextEncoder().encode('sip:g@xy'), new Uint8Array(8), fromHex('0000'), fromHex('01'), rnd(5));
  const opened = await open(withExtension(bytes, legacy));
  assert.deepEqual(opened.key, key);
  assert.deepEqual(opened.keyParameters, { format: 'legacy', raw: legacy });
  assert.deepEqual(opened.keyParametersRaw, legacy);
});

test('createIMessage refuses key parameters of another key type, or groups for a key without groups', () => {
  assert.throws(() => create('GMK', { keyType: 'PCK' }), { code: 'ERR_BAD_VALUE', field: 'mikey.keyParameters.keyType' });
  assert.throws(() => create('PCK', { mcGroupIds: ['sip:g@x'] }), { code: 'ERR_BAD_VALUE', field: 'mikey.keyParameters.mcGroupIds' });
  assert.throws(() => create('CSK', { text: 'x'.repeat(70_000) }), { code: 'ERR_TOO_LARGE', field: 'mikey.keyParameters.text' });
});
