/**
 * The GMS's GMK I_MESSAGEs (functions/gms/gmk-i-message.ts, TS 33.180 §5.7 / Annex E.2): byte for
 * byte what `createIMessage` makes for the same random octets (with key parameters, SAKKE-to-self,
 * hidden identities), one GUK-ID per member (§5.2.3, §F.1.3) that each member turns back into the
 * GMK-ID, and the fan-out on the calling thread and on a worker thread giving messages that open,
 * with a worker's typed error arriving typed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  SakkePublicKey,
  deriveGukId,
  deriveUid,
  deriveUserSalt,
  eccsiKpakOf,
  extractRsk,
  generateEccsiPair,
  generateKeyId,
  keyPeriodNoAt,
  prepareRsk,
} from '../../src/crypto/index.js';
import { SakkeBatchEncapsulator } from '../../src/crypto/sakke-batch.js';
import { MemoryReplayCache, PayloadType, createIMessage, decodeMikey, openIMessage } from '../../src/formats/mikey/index.js';
import { InlineFanOut, WorkerFanOut, createGmkIMessages, gmkRand, type FanOutJob } from '../../src/functions/gms/index.js';
import { bigIntToBytes, toHex } from '../../src/util/index.js';
import { onlyCase } from '../fixtures/vectors.js';

const v = onlyCase('rfc6508/appendix-a.json');
const z = bigIntToBytes(v.big('z'), 128);
const zT = v.hex('Z');
const kms = new SakkePublicKey(zT);
const KMS = 'kms.example.org';
const OTHER_KMS = 'kms.partner.example.org';
const periods = { userKeyPeriod: 2_592_000, userKeyOffset: 0 };
const now = new Date();
const period = keyPeriodNoAt(now, periods.userKeyPeriod, periods.userKeyOffset);
const uid = (uri: string, kmsUri = KMS): Uint8Array => deriveUid({ uri, kmsUri, ...periods, keyPeriodNo: period });
const GMS = 'sip:gms@example.org';
const ksak = new Uint8Array(randomBytes(32));
ksak[0] = 0x01; // below the P-256 order
const kpak = eccsiKpakOf(ksak);
const pair = generateEccsiPair({ ksak, kpak }, uid(GMS));
const signer = { uri: GMS, kmsUri: KMS, ...periods, kpak, ...pair };
const members = ['sip:alice@example.org', 'sip:bob@example.org', 'sip:carol@example.org'];
const encapsulator = new SakkeBatchEncapsulator(kms, { pointWindow: 5, gtWindow: 5 });
const gmk = new Uint8Array(randomBytes(16));
const gmkId = generateKeyId('GMK');
const keyParameters = {
  activationTime: new Date(Math.floor(now.getTime() / 1000) * 1000),
  expiryTime: new Date(Math.floor(now.getTime() / 1000) * 1000 + 86_400_000),
  text: 'Fire team',
  mcGroupIds: ['sip:fire@example.org', 'sip:fire-video@example.org'],
  status: { securityGateway: true },
};

/** The same octets on every call sequence: a counter (signEccsi reduces what it draws). */
function counter(seed: number): (n: number) => Uint8Array {
  let i = seed;
  return (n) => Uint8Array.from({ length: n }, () => (i = (i * 1103515245 + 12345) >>> 0) >>> 24);
}

const prepared = new Map<string, ReturnType<typeof prepareRsk>>();
function open(bytes: Uint8Array, uri: string) {
  const id = uid(uri);
  const recipient = prepared.get(uri) ?? prepareRsk(kms, id, extractRsk(z, id));
  prepared.set(uri, recipient);
  return openIMessage(bytes, {
    uri,
    kmsUri: KMS,
    ...periods,
    recipientFor: () => recipient,
    trustedKms: () => ({ kpak, ...periods }),
    replayCache: new MemoryReplayCache(),
    now: () => now,
  });
}

test('Annex E.2: each member gets what createIMessage makes, byte for byte, for the same random octets', () => {
  for (const variant of [{}, { hideIdentities: true }] as const) {
    const rngA = counter(7);
    const rngB = counter(7);
    const ours = createGmkIMessages({
      gmk, gmkId, signer, time: now, keyParameters, ...variant, rng: rngA,
      recipients: members.map((uri) => ({ uri, kmsUri: KMS, ...periods })),
      encapsulatorFor: () => encapsulator,
    });
    const theirs = members.map((uri) =>
      createIMessage({ keyType: 'GMK', key: gmk, keyId: gmkId, initiator: signer, responder: { uri, kmsUri: KMS, ...periods, kms }, time: now, keyParameters, ...variant, rand: gmkRand(gmk, gmkId), rng: rngB }),
    );
    assert.deepEqual(ours, theirs, JSON.stringify(variant));
  }
});

test('§E.5: with SAKKE-to-self, and members of another KMS, still equal to createIMessage', () => {
  const rngA = counter(99);
  const rngB = counter(99);
  const recipients = [{ uri: members[0] as string, kmsUri: OTHER_KMS, ...periods }];
  const ours = createGmkIMessages({ gmk, gmkId, signer: { ...signer, sakkeToSelf: kms }, time: now, keyParameters, rng: rngA, recipients, encapsulatorFor: () => encapsulator });
  const theirs = createIMessage({ keyType: 'GMK', key: gmk, keyId: gmkId, initiator: { ...signer, sakkeToSelf: kms }, responder: { ...recipients[0]!, kms }, time: now, keyParameters, rand: gmkRand(gmk, gmkId), rng: rngB });
  assert.deepEqual(ours[0], theirs);
});

test('§5.2.3 / §F.1.3: one GUK-ID per member in the CSB-ID; each member opens its own and finds the GMK-ID', async () => {
  const msgs = createGmkIMessages({ gmk, gmkId, signer, time: now, keyParameters, recipients: members.map((uri) => ({ uri, kmsUri: KMS, ...periods })), encapsulatorFor: () => encapsulator });
  const csbIds = msgs.map((m) => decodeMikey(m).hdr.csbId);
  assert.equal(new Set(csbIds).size, 3, 'a different GUK-ID per member');
  csbIds.forEach((c, i) => assert.equal(c, deriveGukId(gmkId, deriveUserSalt(gmk, members[i] as string))));
  const opened = await open(msgs[1] as Uint8Array, members[1] as string);
  assert.equal(opened.keyType, 'GMK');
  assert.equal(opened.keyId, gmkId);
  assert.equal(opened.gukId, csbIds[1]);
  assert.deepEqual(opened.key, gmk);
  assert.equal(opened.initiatorUri, GMS);
  const kp = opened.keyParameters;
  assert.ok(kp !== undefined && kp.format === 'current');
  assert.deepEqual(kp.mcGroupIds?.map((g) => g.id), keyParameters.mcGroupIds);
  assert.equal(kp.status.securityGateway, true);
  assert.equal(kp.text, 'Fire team');
  assert.deepEqual(kp.expiryTime, keyParameters.expiryTime);
  await assert.rejects(open(msgs[0] as Uint8Array, members[1] as string), { code: 'ERR_UNKNOWN_KEY', field: 'mikey.payload3.idData' }, "another member's message is not for bob");
});

test('§7.4.2: every member gets the same RAND for one GMK, at every distribution (gmkRand)', () => {
  const recipients = members.map((uri) => ({ uri, kmsUri: KMS, ...periods }));
  const randOf = (m: Uint8Array): string => {
    const p = decodeMikey(m).payloads.find((x) => x.type === PayloadType.RAND);
    assert.ok(p !== undefined && p.type === PayloadType.RAND);
    return toHex(p.rand);
  };
  const first = createGmkIMessages({ gmk, gmkId, signer, time: now, keyParameters, recipients, encapsulatorFor: () => encapsulator }).map(randOf);
  const later = createGmkIMessages({ gmk, gmkId, signer, time: new Date(now.getTime() + 60_000), keyParameters, recipients: recipients.slice(2), encapsulatorFor: () => encapsulator }).map(randOf);
  assert.equal(new Set([...first, ...later]).size, 1, 'one RAND for the GMK');
  assert.equal(first[0], toHex(gmkRand(gmk, gmkId)));
  const other = createGmkIMessages({ gmk: gmk.map((b) => b ^ 1), gmkId, signer, time: now, keyParameters, recipients: recipients.slice(0, 1), encapsulatorFor: () => encapsulator }).map(randOf);
  assert.notEqual(other[0], first[0], 'another GMK, another RAND');
});

test('refusals: a GMK of the wrong length, a key ID without the GMK purpose tag', () => {
  const base = { gmk, gmkId, signer, time: now, keyParameters, recipients: [], encapsulatorFor: () => encapsulator };
  assert.throws(() => createGmkIMessages({ ...base, gmk: gmk.subarray(1) }), { code: 'ERR_BAD_LENGTH', field: 'mikey.key' });
  assert.throws(() => createGmkIMessages({ ...base, gmkId: generateKeyId('PCK') }), { code: 'ERR_BAD_VALUE', field: 'mikey.keyId.purposeTag' });
});

function job(recipients: readonly string[]): FanOutJob {
  return {
    gmk: gmk.slice(),
    gmkId,
    timeMs: now.getTime(),
    keyParameters: { revoked: false, securityGateway: false, activationMs: keyParameters.activationTime.getTime(), expiryMs: undefined, text: '', mcGroupIds: ['sip:fire@example.org'] },
    signer: { uri: GMS, kmsUri: KMS, ...periods, kpak, ssk: pair.ssk.slice(), pvt: pair.pvt, sakkeToSelf: undefined },
    kms: { [KMS]: { pubEncKey: zT, ...periods } },
    recipients: recipients.map((uri) => ({ uri, kmsUri: KMS })),
    hideIdentities: false,
  };
}

test('fan-out on the calling thread and on a worker thread: slices in order, messages that open; typed errors cross', async (t) => {
  const many = Array.from({ length: 7 }, (_, i) => `sip:m${i}@example.org`);
  for (const fanOut of [new InlineFanOut({ pointWindow: 5, gtWindow: 5, sliceSize: 3 }), new WorkerFanOut(1, { pointWindow: 5, gtWindow: 5, sliceSize: 3 })]) {
    await t.test(fanOut.constructor.name, async () => {
      try {
        await fanOut.warm([zT]);
        const out: Uint8Array[] = [];
        const firsts: number[] = [];
        await fanOut.run(job(many), (first, messages) => {
          firsts.push(first);
          messages.forEach((m, i) => (out[first + i] = m));
        });
        assert.deepEqual(firsts.sort((a, b) => a - b), [0, 3, 6]);
        assert.equal(out.length, 7);
        const opened = await open(out[1] as Uint8Array, many[1] as string);
        assert.equal(opened.keyId, gmkId);
        assert.deepEqual(opened.key, gmk);
        const bad = { ...job(['sip:x@example.org']), recipients: [{ uri: 'sip:x@example.org', kmsUri: 'kms.unknown.org' }] };
        await assert.rejects(fanOut.run(bad, () => undefined), { name: 'PolicyError', code: 'ERR_UNKNOWN_KEY', field: 'gms.member.kmsUri' });
      } finally {
        await fanOut.close();
      }
    });
  }
});
