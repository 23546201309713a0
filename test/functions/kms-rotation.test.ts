// TrK / InK rotation over real HTTPS (TS 33.180 §5.3.3 step 2, Annex D.3, examples D.3.4.1/2):
// the operator schedules a rotation, the next KmsInit / KmsKeyProv carries NewTransportKey /
// NewIntegrityKey wrapped under the TrK the request named, the client applies them, names the
// new TrK and signs with the new InK, the KMS takes that as the end of the rotation and refuses
// the old keys from then on. A lost response is answered again with the same new keys. The
// client refuses offers it cannot trust and applies nothing. SQLite, and two instances on one
// PostgreSQL database (skipped, saying why, when none answers).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import pino from 'pino';
import { postgresUnreachable } from '../helpers/postgres.js';
import { AccessTokenVerifier } from '../../src/functions/authz/index.js';
import { KmsService, buildKmsServer, initDomain, issueClientKeys, scheduleClientKeyRotation } from '../../src/functions/kms/index.js';
import { KyselyKmsStore, SecretBox, openDatabase, type KmsStore, type StoreDatabase } from '../../src/store/index.js';
import { ClientKeyStore, KmsClient, type ClientTransportKeys } from '../../src/client/index.js';
import { KmsAlgorithm, decodeKmsResponse, encodeKmsRequest, encodeKmsResponse, openKmsResponse, unwrapKmsKey, type KmsNewKeys, type KmsResponse, type XmlEncryptedKey } from '../../src/formats/kms-xml/index.js';
import { httpsPost, loadOrCreateTls } from '../../src/transport/http/index.js';
import { McsecError } from '../../src/errors/index.js';
import { fromHex, toHex } from '../../src/util/index.js';

const KMS = 'kms.example.org';
const ISSUER = 'https://idms.example.org';
const ALICE = 'sip:alice@example.org';
const BOB = 'sip:bob@example.org';
const CAROL = 'sip:carol@example.org';
const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = join(import.meta.dirname, '..', 'fixtures', 'kms', 'schema', 'kms-response.xsd');
const BASE = '/keymanagement/identity/v1';

const idms = await generateKeyPair('ES256');
const jwk = { ...(await exportJWK(idms.publicKey)), kid: 'idms-1', alg: 'ES256' };
const token = (user: string): Promise<string> =>
  new SignJWT({ scope: 'openid 3gpp:mc:ptt_key_management_service', client_id: 'mcptt-client', mcptt_id: user })
    .setProtectedHeader({ alg: 'ES256', kid: 'idms-1' })
    .setIssuer(ISSUER)
    .setAudience('mcsec-kms')
    .setSubject(user)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(idms.privateKey);

interface Running { readonly url: string; readonly close: () => Promise<unknown>; readonly lines: string[]; readonly store: KyselyKmsStore; readonly caPem: string }

async function startKms(database: StoreDatabase, box: SecretBox, dataDir: string, rotateClientKeysAfterMs?: number, wrap?: (s: KyselyKmsStore) => Partial<KmsStore>): Promise<Running> {
  const store = await KyselyKmsStore.open(database, box);
  const verifier = new AccessTokenVerifier({ issuer: ISSUER, audience: 'mcsec-kms', jwks: { keys: { keys: [jwk] } } });
  const service = new KmsService({ store: wrap === undefined ? store : overriding(store, wrap(store)), kmsUri: KMS, verifier, rotateClientKeysAfterMs });
  const tls = await loadOrCreateTls({ dataDir });
  const lines: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _e, cb) { lines.push(chunk.toString('utf8')); cb(); } });
  const app = buildKmsServer({ service, tls, logger: pino({ level: 'debug' }, stream) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return { url: `https://127.0.0.1:${port}`, close: () => app.close(), lines, store, caPem: tls.cert };
}

/** `store` with some methods replaced (to stage what another instance does meanwhile). */
const overriding = (store: KyselyKmsStore, over: Partial<KmsStore>): KmsStore =>
  new Proxy(store, {
    get(t, p) {
      const o: unknown = Reflect.get(over, p);
      if (o !== undefined) return o;
      const v: unknown = Reflect.get(t, p, t);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });

const key = (id: string, hex: string) => ({ id, key: fromHex(hex) });

/** A request as KmsClient makes it (signed with the InK, else the TrK), posted as is. */
async function post(k: Running, user: string, op: string, keys: ClientTransportKeys): Promise<{ status: number; body: string }> {
  const url = `${k.url}${BASE}/${op}`;
  const signer = keys.ink ?? keys.trk;
  const body = encodeKmsRequest({ userUri: user, kmsUri: KMS, clientReqUrl: url, trkId: keys.trk?.id, signatureId: signer?.id }, signer?.key);
  return httpsPost(url, body, { headers: { authorization: `Bearer ${await token(user)}` }, caPem: k.caPem });
}

function newKeysOf(r: KmsResponse): KmsNewKeys {
  const m = r.kmsMessage;
  if (m !== undefined && 'init' in m) return m.init;
  if (m !== undefined && 'keyProv' in m) return m.keyProv;
  return { newTransportKeys: [], newIntegrityKeys: [] };
}

const wrapped = (c: KmsNewKeys['newTransportKeys'][number] | undefined): XmlEncryptedKey => {
  assert.ok(c !== undefined && 'encryptedKey' in c, 'a wrapped new key');
  return c.encryptedKey;
};

/** xmllint against the D.3.5 schema (test/fixtures/kms/schema); xmllint missing fails the run. */
function schemaValid(...docs: string[]): void {
  const dir = mkdtempSync(join(tmpdir(), 'mcsec-kms-rot-xsd-'));
  try {
    const files = docs.map((d, i) => {
      const f = join(dir, `r${i}.xml`);
      writeFileSync(f, d);
      return f;
    });
    const r = spawnSync('xmllint', ['--noout', '--schema', SCHEMA, ...files], { encoding: 'utf8' });
    if (r.error !== undefined) assert.fail(`xmllint did not run (${r.error.message}); install libxml2-utils`);
    assert.equal(r.status, 0, `xmllint (TS 33.180 Annex D.3.5): ${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const code = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof McsecError, String(e));
    return e.code;
  }
  return 'no error';
};

/**
 * The whole rotation against `one` and `two` (the same server on SQLite; two instances on one
 * PostgreSQL database): returns every secret seen, for the log search.
 */
async function rotationRoundTrip(one: Running, two: Running, dir: string): Promise<string[]> {
  const secrets: string[] = [];
  const issued = await issueClientKeys(one.store, KMS, ALICE);
  secrets.push(issued.trk, issued.ink);
  const old: ClientTransportKeys = { trk: key(issued.trkId, issued.trk), ink: key(issued.inkId, issued.ink) };
  const keyStore = new ClientKeyStore(join(dir, 'alice'));
  const client = new KmsClient({ kmsUrl: one.url, allowedKmsUris: [KMS], userUri: ALICE, accessToken: await token(ALICE), caPem: one.caPem, keyStore, ...old });

  // Nothing scheduled: a fetch changes no keys.
  await client.fetchAll(keyStore);
  assert.equal(client.clientKeys.trk?.id, issued.trkId);
  assert.equal(keyStore.getClientKeys(KMS, ALICE), undefined);

  // The operator schedules a new TrK and InK (§5.3.3 step 2).
  const [scheduled, ...others] = await scheduleClientKeyRotation(one.store, KMS, ALICE, { trk: true, ink: true });
  assert.equal(others.length, 0);
  assert.ok(scheduled?.created === true && scheduled.newTrkId !== undefined && scheduled.newInkId !== undefined);
  assert.equal(scheduled.trkId, issued.trkId);
  const pending = await one.store.getClientKeyRotation(issued.trkId);
  assert.ok(pending?.newTrk !== undefined && pending.newInk !== undefined);
  secrets.push(toHex(pending.newTrk), toHex(pending.newInk));

  // The next KmsInit and KmsKeyProv with the old keys carry them as the D.3.4.1/2 examples show,
  // still signed with the InK the request used; both schema-valid.
  const init = await post(one, ALICE, 'init', old);
  const keyprov = await post(two, ALICE, 'keyprov', old);
  assert.equal(init.status, 200);
  assert.equal(keyprov.status, 200);
  assert.match(init.body, /<KmsInit Version="1\.0\.0" xsi:type="KmsInitTkIkType">/);
  assert.match(keyprov.body, /<KmsKeyProv Version="1\.0\.0" xsi:type="KmsKeyProvTkIkType">/);
  schemaValid(init.body, keyprov.body);
  for (const body of [init.body, keyprov.body]) {
    const { response } = openKmsResponse(body, { ink: old.ink?.key, requireSignature: true });
    assert.equal(response.signatureId, issued.inkId, 'signed with the current InK');
    assert.equal(response.trkId, issued.trkId);
    const n = newKeysOf(response);
    assert.equal(n.newTransportKeys.length, 1);
    assert.equal(n.newIntegrityKeys.length, 1);
    const t = wrapped(n.newTransportKeys[0]);
    const i = wrapped(n.newIntegrityKeys[0]);
    for (const e of [t, i]) {
      assert.equal(e.algorithm, KmsAlgorithm.KW_AES256);
      assert.equal(e.keyName, issued.trkId, 'ds:KeyName: the TrK it is wrapped under');
    }
    assert.equal(t.carriedKeyName, scheduled.newTrkId);
    assert.equal(i.carriedKeyName, scheduled.newInkId);
    assert.deepEqual(unwrapKmsKey(t, old.trk!.key), pending.newTrk, 'the stored new TrK, each time');
    assert.deepEqual(unwrapKmsKey(i, old.trk!.key), pending.newInk);
  }

  // The client applies them from its next fetch on: init brings them, keyprov already names the
  // new TrK and signs with the new InK, and the KMS retires the old ones.
  const r = await client.fetchAll(keyStore);
  assert.equal(r.signature, 'valid');
  assert.equal(r.keySets.length, 2, 'key sets unwrapped under the new TrK and validated');
  assert.deepEqual(client.clientKeys.trk, { id: scheduled.newTrkId, key: pending.newTrk });
  assert.deepEqual(client.clientKeys.ink, { id: scheduled.newInkId, key: pending.newInk });
  const kept = keyStore.getClientKeys(KMS, ALICE);
  assert.deepEqual(kept?.trk, client.clientKeys.trk, 'kept sealed in the client key store');
  assert.deepEqual(kept?.ink, client.clientKeys.ink);
  assert.deepEqual(kept?.previousTrkIds, [issued.trkId]);
  assert.equal(await one.store.getClientKeys(issued.trkId), undefined, 'old TrK-ID retired');
  assert.equal(await two.store.getClientKeyRotation(issued.trkId), undefined, 'nothing pending');
  assert.equal((await two.store.getClientKeys(scheduled.newTrkId))?.inkId, scheduled.newInkId);
  assert.match(one.lines.concat(two.lines).join(''), /"rotation":"completed"/);

  // From now on the old keys are refused by either instance; the new ones are accepted by both.
  for (const k of [one, two]) {
    const refused = await post(k, ALICE, 'init', old);
    assert.equal(refused.status, 403);
    assert.match(refused.body, /ERR_UNKNOWN_KEY kmsRequest\.TrK-ID/);
    const oldInk = await post(k, ALICE, 'init', { trk: client.clientKeys.trk, ink: old.ink });
    assert.equal(oldInk.status, 403, 'the old InK-ID is no Signature-ID of the new TrK');
    assert.match(oldInk.body, /ERR_UNKNOWN_KEY kmsRequest\.Signature-ID/);
    const fine = await post(k, ALICE, 'init', client.clientKeys);
    assert.equal(fine.status, 200);
    const opened = openKmsResponse(fine.body, { ink: client.clientKeys.ink?.key, requireSignature: true });
    assert.equal(opened.response.signatureId, scheduled.newInkId);
    assert.deepEqual(newKeysOf(opened.response).newTransportKeys, [], 'nothing more offered');
  }
  const oldClient = new KmsClient({ kmsUrl: two.url, allowedKmsUris: [KMS], userUri: ALICE, accessToken: await token(ALICE), caPem: two.caPem, ...old });
  assert.equal(await code(oldClient.init()), 'ERR_FORBIDDEN');

  // A restarted client takes its keys from the key store and goes on through the other instance.
  const again = new KmsClient({ kmsUrl: two.url, allowedKmsUris: [KMS], userUri: ALICE, accessToken: await token(ALICE), caPem: two.caPem, trk: kept?.trk, ink: kept?.ink, keyStore });
  const cert = await again.init();
  assert.equal((await again.keyProv(cert)).keySets.length, 1);
  for (const k of r.keySets) secrets.push(toHex(k.rsk), toHex(k.ssk));
  return secrets;
}

/** The lost response: the client asks again with its old keys and gets the same new ones. */
async function lostResponse(one: Running, two: Running): Promise<string[]> {
  const issued = await issueClientKeys(one.store, KMS, BOB);
  const old: ClientTransportKeys = { trk: key(issued.trkId, issued.trk), ink: key(issued.inkId, issued.ink) };
  const [s] = await scheduleClientKeyRotation(one.store, KMS, BOB, { trk: true, ink: false });
  assert.ok(s?.newTrkId !== undefined && s.newInkId === undefined);
  const offered = async (k: Running, op: string): Promise<{ id: string | undefined; key: Uint8Array }> => {
    const a = await post(k, BOB, op, old);
    assert.equal(a.status, 200, a.body);
    const n = newKeysOf(openKmsResponse(a.body, { ink: old.ink?.key, requireSignature: true }).response);
    assert.equal(n.newIntegrityKeys.length, 0, 'a TrK-only rotation offers no InK');
    const e = wrapped(n.newTransportKeys[0]);
    return { id: e.carriedKeyName, key: unwrapKmsKey(e, old.trk!.key) };
  };
  // The first answer is "lost"; asking again (even through the other instance) gets the same key.
  const first = await offered(one, 'init');
  const second = await offered(two, 'keyprov');
  const third = await offered(one, 'init');
  assert.equal(first.id, s.newTrkId);
  assert.deepEqual(second, first);
  assert.deepEqual(third, first);
  // Scheduling again while one is pending keeps the pending one.
  const [repeat] = await scheduleClientKeyRotation(two.store, KMS, BOB, { trk: true, ink: true });
  assert.deepEqual(repeat, { trkId: issued.trkId, newTrkId: s.newTrkId, newInkId: undefined, created: false });
  assert.deepEqual((await offered(two, 'init')).key, first.key);

  // New keys go only to a request signed with the key in force, here the InK: not to an unsigned
  // one, nor to one signed with the TrK alone (the TrK and a token do not get the new keys).
  const url0 = `${one.url}${BASE}/init`;
  const unsignedOld = await httpsPost(url0, encodeKmsRequest({ userUri: BOB, kmsUri: KMS, clientReqUrl: url0, trkId: issued.trkId }), { headers: { authorization: `Bearer ${await token(BOB)}` }, caPem: one.caPem });
  assert.equal(unsignedOld.status, 200, unsignedOld.body);
  assert.deepEqual(newKeysOf(openKmsResponse(unsignedOld.body, { trk: old.trk!.key, requireSignature: true }).response).newTransportKeys, [], 'no offer to an unsigned request');
  const trkSigned = await post(two, BOB, 'keyprov', { trk: old.trk, ink: undefined });
  assert.equal(trkSigned.status, 200, trkSigned.body);
  assert.deepEqual(newKeysOf(openKmsResponse(trkSigned.body, { trk: old.trk!.key, requireSignature: true }).response).newTransportKeys, [], 'no offer to a request signed with the TrK when there is an InK');

  // An unsigned request naming the new TrK-ID is answered under the new TrK (signed with it, as
  // D.3.1 says when no InK is used) but retires nothing: naming a key proves nothing.
  const url = `${one.url}${BASE}/init`;
  const unsigned = await httpsPost(url, encodeKmsRequest({ userUri: BOB, kmsUri: KMS, clientReqUrl: url, trkId: s.newTrkId }), { headers: { authorization: `Bearer ${await token(BOB)}` }, caPem: one.caPem });
  assert.equal(unsigned.status, 200);
  assert.equal(openKmsResponse(unsigned.body, { trk: first.key, requireSignature: true }).response.signatureId, s.newTrkId);
  assert.ok((await one.store.getClientKeyRotation(issued.trkId)) !== undefined, 'still pending');
  assert.equal((await post(two, BOB, 'init', old)).status, 200, 'old keys still accepted');

  // The client that finally got it names the new TrK (the InK is unchanged) and the rotation ends;
  // two requests completing it at once through both instances both succeed, with one outcome.
  const next: ClientTransportKeys = { trk: { id: s.newTrkId, key: first.key }, ink: old.ink };
  // Signed with the new keys but refused by the checks of its operation: completes nothing.
  assert.equal((await post(one, BOB, 'init/extra', next)).status, 404);
  assert.equal((await post(two, BOB, `lookup/${encodeURIComponent('sip:nobody@example.org')}`, next)).status, 404);
  assert.ok((await one.store.getClientKeyRotation(issued.trkId)) !== undefined, 'still pending after requests refused by their operation');
  const both = await Promise.all([post(two, BOB, 'keyprov', next), post(one, BOB, 'init', next)]);
  assert.deepEqual(both.map((a) => a.status), [200, 200], both.map((a) => a.body).join('\n'));
  assert.equal((await post(one, BOB, 'init', old)).status, 403);
  const held = await one.store.getClientKeys(s.newTrkId);
  assert.equal(held?.inkId, issued.inkId, 'a TrK-only rotation keeps the InK');
  assert.equal(held?.userUri, BOB);
  return [issued.trk, issued.ink, toHex(first.key)];
}

/** An InK-only rotation: the TrK-ID stays, the first request signed with the new InK retires the old. */
async function inkOnly(one: Running, two: Running, dir: string): Promise<string[]> {
  const issued = await issueClientKeys(one.store, KMS, CAROL);
  const old: ClientTransportKeys = { trk: key(issued.trkId, issued.trk), ink: key(issued.inkId, issued.ink) };
  const [s] = await scheduleClientKeyRotation(two.store, KMS, CAROL, { trk: false, ink: true, trkId: issued.trkId });
  assert.ok(s?.newInkId !== undefined && s.newTrkId === undefined);
  const keyStore = new ClientKeyStore(join(dir, 'carol'));
  const client = new KmsClient({ kmsUrl: one.url, allowedKmsUris: [KMS], userUri: CAROL, accessToken: await token(CAROL), caPem: one.caPem, keyStore, ...old });
  const cert = await client.init();
  assert.equal(client.clientKeys.trk?.id, issued.trkId, 'the TrK stays');
  assert.equal(client.clientKeys.ink?.id, s.newInkId);
  assert.notDeepEqual(client.clientKeys.ink?.key, old.ink?.key);
  assert.equal((await post(two, CAROL, 'init', old)).status, 200, 'old InK accepted until the new one is used');
  await client.keyProv(cert);
  const refused = await post(two, CAROL, 'init', old);
  assert.equal(refused.status, 403);
  assert.match(refused.body, /ERR_UNKNOWN_KEY kmsRequest\.Signature-ID/);
  assert.equal((await post(one, CAROL, 'init', { trk: old.trk, ink: undefined })).status, 200, 'TrK-signed requests go on');
  assert.equal((await one.store.getClientKeys(issued.trkId))?.inkId, s.newInkId);
  return [issued.trk, issued.ink, toHex(client.clientKeys.ink?.key ?? new Uint8Array(0))];
}

function noSecretsLogged(lines: readonly string[], secrets: readonly string[]): void {
  assert.ok(secrets.length >= 10);
  assert.ok(lines.length >= 10, `only ${lines.length} log lines`);
  const text = lines.join('').toLowerCase();
  for (const s of secrets) assert.ok(!text.includes(s.toLowerCase().slice(0, 32)), 'a key appears in the logs');
}

async function domain(database: StoreDatabase, box: SecretBox): Promise<void> {
  const store = await KyselyKmsStore.open(database, box);
  await initDomain(store, { kmsUri: KMS, userKeyPeriod: 2_419_200, userKeyOffset: 0 });
  await store.addUsers(KMS, [{ userUri: ALICE }, { userUri: BOB }, { userUri: CAROL }]);
}

describe('TrK / InK rotation on SQLite over HTTPS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcsec-kms-rot-'));
  const database = openDatabase(undefined, { dataDir: dir });
  const box = new SecretBox(new Uint8Array(randomBytes(32)));
  let kms: Running;
  const secrets: string[] = [];
  before(async () => {
    await domain(database, box);
    kms = await startKms(database, box, dir);
  });
  after(async () => {
    await kms.close();
    await database.close();
  });

  test('§5.3.3 step 2: scheduled, carried in KmsInit / KmsKeyProv, applied, used; the old keys refused afterwards', async () => {
    secrets.push(...(await rotationRoundTrip(kms, kms, dir)));
  });
  test('§5.3.3: a lost response is answered again with the same pending keys; an unsigned request completes nothing', async () => {
    secrets.push(...(await lostResponse(kms, kms)));
  });
  test('§5.3.3: an InK-only rotation keeps the TrK-ID and ends on the first request signed with the new InK', async () => {
    secrets.push(...(await inkOnly(kms, kms, dir)));
  });
  test('scheduling is refused for a user without client keys or an unknown TrK-ID, and needs --trk or --ink', async () => {
    const store = kms.store;
    await store.addUsers(KMS, [{ userUri: 'sip:dave@example.org' }]);
    await assert.rejects(scheduleClientKeyRotation(store, KMS, 'sip:dave@example.org', { trk: true, ink: true }), { code: 'ERR_CONFIG', field: '--user' });
    await assert.rejects(scheduleClientKeyRotation(store, KMS, 'sip:nobody@example.org', { trk: true, ink: true }), { code: 'ERR_CONFIG', field: '--user' });
    await assert.rejects(scheduleClientKeyRotation(store, KMS, ALICE, { trk: true, ink: false, trkId: 'ffffffff' }), { code: 'ERR_CONFIG', field: '--trk-id' });
    await assert.rejects(scheduleClientKeyRotation(store, KMS, ALICE, { trk: false, ink: false }), { code: 'ERR_USAGE' });
  });
  test('§5.3.3: with a maximum age, keys past it are rotated on the next fetch (only after a request passes its checks); younger keys are not', async () => {
    const DAY = 86_400_000;
    const aging = await startKms(database, box, dir, 7 * DAY);
    try {
      const erin = 'sip:erin@example.org';
      const fay = 'sip:fay@example.org';
      await aging.store.addUsers(KMS, [{ userUri: erin }, { userUri: fay }]);
      const past = await KyselyKmsStore.open(database, box, { now: () => Date.now() - 10 * DAY });
      const aged = await issueClientKeys(past, KMS, erin);
      const young = await issueClientKeys(aging.store, KMS, fay);
      secrets.push(aged.trk, aged.ink, young.trk, young.ink);
      const old: ClientTransportKeys = { trk: key(aged.trkId, aged.trk), ink: key(aged.inkId, aged.ink) };
      // A request that fails its signature check schedules nothing.
      const forged = await post(aging, erin, 'init', { trk: old.trk, ink: { id: aged.inkId, key: new Uint8Array(32).fill(9) } });
      assert.equal(forged.status, 403);
      assert.equal(await aging.store.getClientKeyRotation(aged.trkId), undefined);
      const keyStore = new ClientKeyStore(join(dir, 'erin'));
      const client = new KmsClient({ kmsUrl: aging.url, allowedKmsUris: [KMS], userUri: erin, accessToken: await token(erin), caPem: aging.caPem, keyStore, ...old });
      await client.fetchAll(keyStore, { next: false });
      assert.notEqual(client.clientKeys.trk?.id, aged.trkId, 'a new TrK');
      assert.notEqual(client.clientKeys.ink?.id, aged.inkId, 'a new InK');
      assert.equal(await aging.store.getClientKeys(aged.trkId), undefined, 'the aged TrK-ID retired');
      const now = await aging.store.getClientKeys(client.clientKeys.trk?.id ?? '');
      assert.equal(now?.userUri, erin);
      secrets.push(toHex(now?.trk ?? new Uint8Array(0)), toHex(now?.ink ?? new Uint8Array(0)));
      // The new keys are young: the next fetch keeps them.
      const rotated = client.clientKeys;
      await client.fetchAll(keyStore, { next: false });
      assert.deepEqual(client.clientKeys, rotated);
      assert.match(aging.lines.join(''), /"rotation":"offered"/);
      // Keys younger than the limit are not rotated.
      const fresh = new KmsClient({ kmsUrl: aging.url, allowedKmsUris: [KMS], userUri: fay, accessToken: await token(fay), caPem: aging.caPem, trk: key(young.trkId, young.trk), ink: key(young.inkId, young.ink) });
      await fresh.fetchAll(new ClientKeyStore(join(dir, 'fay')), { next: false });
      assert.equal(fresh.clientKeys.trk?.id, young.trkId);
      assert.equal(await aging.store.getClientKeyRotation(young.trkId), undefined);
      kms.lines.push(...aging.lines);
    } finally {
      await aging.close();
    }
  });
  test('§5.3.3: "rotation":"completed" is logged only by the request that completed it (not when another instance did meanwhile)', async () => {
    const gus = 'sip:gus@example.org';
    await kms.store.addUsers(KMS, [{ userUri: gus }]);
    const issued = await issueClientKeys(kms.store, KMS, gus);
    const [s] = await scheduleClientKeyRotation(kms.store, KMS, gus, { trk: true, ink: false });
    const pending = await kms.store.getClientKeyRotation(issued.trkId);
    assert.ok(s?.newTrkId !== undefined && pending?.newTrk !== undefined);
    secrets.push(issued.trk, issued.ink, toHex(pending.newTrk));
    // Another instance completes the rotation between this request's reads and its completion.
    const late = await startKms(database, box, dir, undefined, (t) => ({
      completeClientKeyRotation: async (id: string) => {
        await t.completeClientKeyRotation(id);
        return t.completeClientKeyRotation(id);
      },
    }));
    try {
      const a = await post(late, gus, 'init', { trk: { id: s.newTrkId, key: pending.newTrk }, ink: key(issued.inkId, issued.ink) });
      assert.equal(a.status, 200, a.body);
      assert.equal(await late.store.getClientKeys(issued.trkId), undefined, 'completed (by the other instance)');
      assert.match(late.lines.join(''), /"op":"init"/);
      assert.doesNotMatch(late.lines.join(''), /"rotation":"completed"/);
    } finally {
      await late.close();
      kms.lines.push(...late.lines);
    }
  });
  test('§5.3.3: keys past their age retired by another request meanwhile: no rotation, 403 ERR_UNKNOWN_KEY (not 500); a rotation not stored for another reason: answered without an offer', async () => {
    const DAY = 86_400_000;
    const [hal, ivy] = ['sip:hal@example.org', 'sip:ivy@example.org'];
    await kms.store.addUsers(KMS, [{ userUri: hal }, { userUri: ivy }]);
    const past = await KyselyKmsStore.open(database, box, { now: () => Date.now() - 10 * DAY });
    const aged = await issueClientKeys(past, KMS, hal);
    const aged2 = await issueClientKeys(past, KMS, ivy);
    secrets.push(aged.trk, aged.ink, aged2.trk, aged2.ink);
    let retire = true;
    const racing = await startKms(database, box, dir, 7 * DAY, (t) => ({
      putClientKeyRotation: async (r: Parameters<KmsStore['putClientKeyRotation']>[0]) => {
        if (r.clientId === aged2.trkId) throw new Error('database busy');
        if (retire) {
          // Another instance ends a rotation of these keys first: their row goes.
          retire = false;
          await scheduleClientKeyRotation(t, KMS, hal, { trk: true, ink: true, trkId: r.clientId });
          await t.completeClientKeyRotation(r.clientId);
        }
        return t.putClientKeyRotation(r);
      },
    }));
    try {
      const a = await post(racing, hal, 'init', { trk: key(aged.trkId, aged.trk), ink: key(aged.inkId, aged.ink) });
      assert.equal(a.status, 403, a.body);
      assert.match(a.body, /ERR_UNKNOWN_KEY kmsRequest\.TrK-ID/);
      const b = await post(racing, ivy, 'init', { trk: key(aged2.trkId, aged2.trk), ink: key(aged2.inkId, aged2.ink) });
      assert.equal(b.status, 200, b.body);
      assert.deepEqual(newKeysOf(openKmsResponse(b.body, { ink: fromHex(aged2.ink), requireSignature: true }).response).newTransportKeys, []);
    } finally {
      await racing.close();
      kms.lines.push(...racing.lines);
    }
  });
  test('no log line holds key material (old, new and carried keys searched)', () => {
    noSecretsLogged(kms.lines, secrets);
  });
});

describe('KmsClient refuses a new TrK / InK it cannot trust, and applies nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcsec-kms-rot-bad-'));
  const trk = key('0badc0de', toHex(new Uint8Array(randomBytes(32))));
  const ink = key('1badc0de', toHex(new Uint8Array(randomBytes(32))));
  let answer = '';
  let url = '';
  let caPem = '';
  let close: () => void = () => undefined;
  before(async () => {
    const tls = await loadOrCreateTls({ dataDir: dir });
    caPem = tls.cert;
    const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/xml' }).end(answer));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    url = `https://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
    close = () => server.close();
  });
  after(() => close());

  const kw = (k: Uint8Array, under: Uint8Array): Uint8Array => {
    const c = createCipheriv('id-aes256-wrap', under, new Uint8Array(8).fill(0xa6));
    return new Uint8Array(Buffer.concat([c.update(k), c.final()]));
  };
  /** A KmsInit from "the KMS", signed with the InK, carrying `offer` as the NewTransportKey. */
  const kmsInit = (offer: XmlEncryptedKey | { key: Uint8Array; carriedKeyName?: string }): string =>
    encodeKmsResponse(
      {
        userUri: ALICE, kmsUri: KMS, clientReqUrl: `${url}${BASE}/init`, trkId: trk.id, signatureId: ink.id,
        kmsMessage: { init: { certificate: { kmsUri: KMS, role: 'Root', userIdFormat: '2', userKeyPeriod: 86_400, userKeyOffset: 0, pubEncKey: new Uint8Array(257).fill(4), pubAuthKey: new Uint8Array(65).fill(4) }, newTransportKeys: ['cipherValue' in offer ? { encryptedKey: offer } : offer] } },
      },
      { trk: trk.key, ink: ink.key },
    );
  const fresh = new Uint8Array(randomBytes(32));
  const other = new Uint8Array(randomBytes(32));

  for (const [name, offer, want, field] of [
    ['names an unknown wrapping key', { algorithm: KmsAlgorithm.KW_AES256, keyName: 'cafef00d', cipherValue: kw(fresh, other), carriedKeyName: '2badc0de' }, 'ERR_UNKNOWN_KEY', 'KeyInfo.KeyName'],
    ['does not unwrap under the TrK', { algorithm: KmsAlgorithm.KW_AES256, keyName: trk.id, cipherValue: kw(fresh, other), carriedKeyName: '2badc0de' }, 'ERR_DECRYPT', 'NewTransportKey[0]'],
    ['is not a 256-bit TrK', { key: new Uint8Array(16).fill(7), carriedKeyName: '2badc0de' }, 'ERR_INVALID_KEY', 'NewTransportKey[0]'],
    ['has no CarriedKeyName', { key: fresh }, 'ERR_BAD_VALUE', 'CarriedKeyName'],
    ['reuses the TrK-ID it replaces', { key: fresh, carriedKeyName: trk.id }, 'ERR_BAD_VALUE', 'CarriedKeyName'],
  ] as const) {
    test(`a NewTransportKey that ${name}: ${want}`, async () => {
      answer = kmsInit(offer);
      assert.equal(decodeKmsResponse(answer).kmsMessage !== undefined, true);
      const store = new ClientKeyStore(join(dir, `c-${toHex(new Uint8Array(randomBytes(4)))}`));
      const client = new KmsClient({ kmsUrl: url, allowedKmsUris: [KMS], userUri: ALICE, accessToken: 't', caPem, trk, ink, keyStore: store });
      await assert.rejects(client.init(), (e: unknown) => {
        assert.ok(e instanceof McsecError, String(e));
        assert.equal(e.code, want);
        assert.ok(e.field.startsWith('kmsResponse.KmsMessage.KmsInit.NewTransportKey[0]'), e.field);
        assert.ok(e.field.includes(field), e.field);
        return true;
      });
      assert.deepEqual(client.clientKeys, { trk, ink }, 'nothing applied');
      assert.equal(store.getClientKeys(KMS, ALICE), undefined, 'nothing kept');
    });
  }

  test('a well-formed offer is applied (the control case of the refusals above)', async () => {
    answer = kmsInit({ key: fresh, carriedKeyName: '2badc0de' });
    const store = new ClientKeyStore(join(dir, 'ok'));
    const client = new KmsClient({ kmsUrl: url, allowedKmsUris: [KMS], userUri: ALICE, accessToken: 't', caPem, trk, ink, keyStore: store });
    await client.init();
    assert.deepEqual(client.clientKeys, { trk: { id: '2badc0de', key: fresh }, ink });
    assert.deepEqual(store.getClientKeys(KMS, ALICE)?.trk, { id: '2badc0de', key: fresh });
  });

  test('a client without a TrK refuses any new key (nothing to unwrap it with): ERR_UNKNOWN_KEY', async () => {
    answer = kmsInit({ key: fresh, carriedKeyName: '2badc0de' });
    const client = new KmsClient({ kmsUrl: url, allowedKmsUris: [KMS], userUri: ALICE, accessToken: 't', caPem, ink });
    await assert.rejects(client.init(), { code: 'ERR_UNKNOWN_KEY' });
    assert.equal(client.clientKeys.trk, undefined);
  });
});

const pgSkip = await postgresUnreachable(DATABASE_URL, 'the TrK / InK rotation test on two PostgreSQL instances');
if (pgSkip !== false) console.log(`# ${pgSkip}`);

describe('TrK / InK rotation: two KMS instances on one PostgreSQL database agree', () => {
  test('rotation, lost response and InK-only rotation across both instances; no key in the logs', { skip: pgSkip }, async () => {
    const schema = `kms_rot_${toHex(new Uint8Array(randomBytes(4)))}`;
    const a = openDatabase(DATABASE_URL, { schema });
    const b = openDatabase(DATABASE_URL, { schema });
    const box = new SecretBox(new Uint8Array(randomBytes(32)));
    const dir = mkdtempSync(join(tmpdir(), 'mcsec-kms-rot-pg-'));
    await domain(a, box);
    const one = await startKms(a, box, dir);
    const two = await startKms(b, box, dir);
    try {
      const secrets = [...(await rotationRoundTrip(one, two, dir)), ...(await lostResponse(one, two)), ...(await inkOnly(one, two, dir))];
      noSecretsLogged([...one.lines, ...two.lines], secrets);
    } finally {
      await one.close();
      await two.close();
      await a.db.schema.dropSchema(schema).ifExists().cascade().execute();
      await a.close();
      await b.close();
    }
  });
});
