/**
 * MIKEY-SAKKE I_MESSAGEs end to end (TS 33.180 Annex E): created by an initiator with real ECCSI
 * and SAKKE keys, opened by the receiver with every Annex E check, and refused with a typed
 * error (and no replay-cache entry) for each way a message can be wrong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  SakkePublicKey,
  deriveGukId,
  deriveUid,
  deriveUserSalt,
  extractRsk,
  generateEccsiKmsKey,
  generateEccsiPair,
  generateKeyId,
  generateSakkeKmsKey,
  keyPeriodNoAt,
  prepareRsk,
  type KeyType,
  type SakkeRecipient,
} from '../../src/crypto/index.js';
import {
  MemoryReplayCache,
  createIMessage,
  decodeMikey,
  openIMessage,
  type IMessageReceiverContext,
} from '../../src/formats/mikey/index.js';

const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const periods = { userKeyPeriod: 2_592_000, userKeyOffset: 0 };
const kmsUri = 'kms.example.org';
const sakkeKms = generateSakkeKmsKey();
const kms = new SakkePublicKey(sakkeKms.zT);
const eccsiKms = generateEccsiKmsKey();
const now = new Date();
const period = keyPeriodNoAt(now, periods.userKeyPeriod, periods.userKeyOffset);
const uid = (uri: string, keyPeriodNo = period): Uint8Array => deriveUid({ uri, kmsUri, ...periods, keyPeriodNo });

const aliceUri = 'sip:alice@example.org';
const bobUri = 'sip:bob@example.org';
const alicePair = generateEccsiPair(eccsiKms, uid(aliceUri));
const initiator = { uri: aliceUri, kmsUri, ...periods, kpak: eccsiKms.kpak, ...alicePair };
const responder = { uri: bobUri, kmsUri, ...periods, kms };
const bobRecipient = prepareRsk(kms, uid(bobUri), extractRsk(sakkeKms.z, uid(bobUri)));

function receiver(over: Partial<IMessageReceiverContext> = {}): IMessageReceiverContext {
  return {
    uri: bobUri,
    kmsUri,
    ...periods,
    recipientFor: (n: number): SakkeRecipient | undefined => (n === period ? bobRecipient : undefined),
    trustedKms: (uri: string) => (uri === kmsUri ? { kpak: eccsiKms.kpak, ...periods } : undefined),
    replayCache: new MemoryReplayCache(),
    now: () => now,
    ...over,
  };
}

function message(keyType: KeyType, extra: { hide?: boolean; time?: Date; key?: Uint8Array; keyId?: number } = {}) {
  const key = extra.key ?? rnd(16);
  const keyId = extra.keyId ?? generateKeyId(keyType);
  const bytes = createIMessage({
    keyType,
    key,
    keyId,
    initiator,
    responder,
    time: extra.time ?? now,
    ...(extra.hide === true ? { hideIdentities: true } : {}),
  });
  return { key, keyId, bytes };
}

test('every key type round-trips: key, ID (GMK-ID from the GUK-ID), identities, period', async () => {
  for (const keyType of ['GMK', 'PCK', 'CSK', 'SPK', 'MKFC', 'MSCCK', 'MuSiK'] as const) {
    const { key, keyId, bytes } = message(keyType);
    const opened = await openIMessage(bytes, receiver());
    assert.equal(opened.keyType, keyType);
    assert.deepEqual(opened.key, key);
    assert.equal(opened.keyId, keyId, keyType);
    assert.equal(opened.initiatorUri, aliceUri);
    assert.equal(opened.keyPeriodNo, period);
    assert.equal(opened.format, 'current');
    const csbId = decodeMikey(bytes).hdr.csbId;
    if (keyType === 'GMK') {
      assert.equal(opened.gukId, csbId);
      assert.equal(csbId, deriveGukId(keyId, deriveUserSalt(key, bobUri)));
      assert.notEqual(csbId, keyId);
    } else {
      assert.equal(csbId, keyId);
      assert.equal(opened.gukId, undefined);
    }
  }
});

test('identity hiding (§E.7): IDRuidi / IDRuidr carry the UIDs; the receiver opens it and learns the initiator UID', async () => {
  const { key, bytes } = message('PCK', { hide: true });
  const m = decodeMikey(bytes);
  const roles = m.payloads.flatMap((p) => (p.type === 14 ? [p.role] : []));
  assert.deepEqual(roles, [8, 9, 6, 7]);
  const opened = await openIMessage(bytes, receiver());
  assert.deepEqual(opened.key, key);
  assert.equal(opened.initiatorUri, undefined);
  assert.deepEqual(opened.initiatorUid, uid(aliceUri));
  assert.equal(opened.identitiesHidden, true);
});

test('a replayed message is ERR_REPLAY; a refused message leaves no replay entry', async () => {
  const cache = new MemoryReplayCache();
  const { bytes } = message('PCK');
  const bad = bytes.slice();
  const inS = bad.length - 129 + 40; // inside s of r || s || PVT
  bad[inS] = (bad[inS] as number) ^ 1;
  await assert.rejects(openIMessage(bad, receiver({ replayCache: cache })), { code: 'ERR_SIGNATURE' });
  assert.equal(cache.size, 0);
  await openIMessage(bytes, receiver({ replayCache: cache }));
  assert.equal(cache.size, 1);
  await assert.rejects(openIMessage(bytes, receiver({ replayCache: cache })), { name: 'PolicyError', code: 'ERR_REPLAY' });
});

test('stale or future timestamps outside the window are ERR_EXPIRED', async () => {
  const { bytes } = message('PCK', { time: new Date(now.getTime() - 10 * 60_000) });
  await assert.rejects(openIMessage(bytes, receiver()), { code: 'ERR_EXPIRED', field: 'mikey.payload.T' });
  await openIMessage(bytes, receiver({ windowMs: 20 * 60_000 }));
});

test('no RSK for the message key period is ERR_UNKNOWN_KEY; the RSK of another period fails to decapsulate', async () => {
  const { bytes } = message('CSK');
  await assert.rejects(openIMessage(bytes, receiver({ recipientFor: () => undefined })), { code: 'ERR_UNKNOWN_KEY' });
  const otherPeriod = prepareRsk(kms, uid(bobUri, period + 1), extractRsk(sakkeKms.z, uid(bobUri, period + 1)));
  await assert.rejects(openIMessage(bytes, receiver({ recipientFor: () => otherPeriod })), { code: 'ERR_DECRYPT' });
});

test('a message for someone else, or signed under an untrusted KMS, is refused before decapsulation', async () => {
  const { bytes } = message('PCK');
  await assert.rejects(openIMessage(bytes, receiver({ uri: 'sip:carol@example.org' })), { code: 'ERR_UNKNOWN_KEY', field: 'mikey.payload3.idData' });
  await assert.rejects(openIMessage(bytes, receiver({ trustedKms: () => undefined })), { code: 'ERR_UNKNOWN_KEY', field: 'mikey.payload4.idData' });
  const otherKpak = generateEccsiKmsKey().kpak;
  await assert.rejects(openIMessage(bytes, receiver({ trustedKms: () => ({ kpak: otherKpak, ...periods }) })), { code: 'ERR_SIGNATURE' });
});

test('createIMessage refuses a key ID whose purpose tag is not the key type, and keys that are not 16 octets', async () => {
  assert.throws(() => message('GMK', { keyId: generateKeyId('PCK') }), { code: 'ERR_BAD_VALUE', field: 'mikey.keyId.purposeTag' });
  assert.throws(() => message('PCK', { key: rnd(32) }), { code: 'ERR_BAD_LENGTH', field: 'mikey.key' });
});

test('any single flipped octet is refused with a typed error and never yields a key', async () => {
  const { bytes } = message('GMK');
  for (let at = 0; at < bytes.length; at += 7) {
    const bad = bytes.slice();
    bad[at] = (bad[at] as number) ^ 0x40;
    await assert.rejects(openIMessage(bad, receiver()),
      (err: unknown) => err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('ERR_'),
      `offset ${at}`,
    );
  }
});
