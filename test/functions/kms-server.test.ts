// The KMS over real HTTPS (TS 33.180 §5.3, Annex D): a domain made from nothing, users, a client
// provisioned with TrK/InK protection, every route, every refusal, two instances on one
// PostgreSQL database answering alike, and no key material in any log line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import pino from 'pino';
import { postgresUnreachable } from '../helpers/postgres.js';
import { AccessTokenVerifier } from '../../src/functions/authz/index.js';
import { KmsService, addExternalCertificate, buildKmsServer, initDomain, issueClientKeys } from '../../src/functions/kms/index.js';
import { KyselyKmsStore, SecretBox, openDatabase, type StoreDatabase } from '../../src/store/index.js';
import { ClientKeyStore, KmsClient } from '../../src/client/index.js';
import { encodeKmsRequest, encodeKmsResponse, encodeKrr, verifyCertificateSignatures } from '../../src/formats/kms-xml/index.js';
import { generateEccsiKmsKey, generateSakkeKmsKey } from '../../src/crypto/index.js';
import { httpsPost, loadOrCreateTls } from '../../src/transport/http/index.js';
import { McsecError } from '../../src/errors/index.js';
import { fromHex, toHex } from '../../src/util/index.js';

const KMS = 'kms.example.org';
const ISSUER = 'https://idms.example.org';
const ALICE = 'sip:alice@example.org';
const BOB = 'sip:bob@example.org';
const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

const idms = await generateKeyPair('ES256');
const jwk = { ...(await exportJWK(idms.publicKey)), kid: 'idms-1', alg: 'ES256' };
async function token(claims: Record<string, unknown>, o: { exp?: string; iss?: string; aud?: string; key?: Parameters<SignJWT['sign']>[0] } = {}): Promise<string> {
  return new SignJWT({ scope: 'openid 3gpp:mc:ptt_key_management_service', client_id: 'mcptt-client', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'idms-1' })
    .setIssuer(o.iss ?? ISSUER)
    .setAudience(o.aud ?? 'mcsec-kms')
    .setSubject('alice')
    .setIssuedAt()
    .setExpirationTime(o.exp ?? '5m')
    .sign(o.key ?? idms.privateKey);
}

/** A pino logger writing into an array, to search the lines for secrets. */
function capture(): { readonly logger: pino.Logger; readonly lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _e, cb) { lines.push(chunk.toString('utf8')); cb(); } });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

interface Running { readonly url: string; readonly close: () => Promise<void>; readonly lines: string[]; readonly store: KyselyKmsStore; readonly caPem: string }

async function startKms(database: StoreDatabase, box: SecretBox, dataDir: string, o: { requireTrk?: boolean; signExternalCertificates?: boolean } = {}): Promise<Running> {
  const store = await KyselyKmsStore.open(database, box);
  const verifier = new AccessTokenVerifier({ issuer: ISSUER, audience: 'mcsec-kms', jwks: { keys: { keys: [jwk] } } });
  const service = new KmsService({ store, kmsUri: KMS, verifier, requireTrk: o.requireTrk, signExternalCertificates: o.signExternalCertificates });
  const tls = await loadOrCreateTls({ dataDir });
  const { logger, lines } = capture();
  const app = buildKmsServer({ service, tls, logger });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return { url: `https://127.0.0.1:${port}`, close: () => app.close(), lines, store, caPem: tls.cert };
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

describe('KMS on SQLite over HTTPS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcsec-kms-'));
  const database = openDatabase(undefined, { dataDir: dir });
  const box = new SecretBox(new Uint8Array(randomBytes(32)));
  let kms: Running;
  let aliceKeys: Awaited<ReturnType<typeof issueClientKeys>>;
  const issued: string[] = [];
  before(async () => {
    const store = await KyselyKmsStore.open(database, box);
    const { created } = await initDomain(store, { kmsUri: KMS, userKeyPeriod: 2_419_200, userKeyOffset: 0 });
    assert.equal(created, true);
    await store.addUsers(KMS, [{ userUri: ALICE }, { userUri: BOB }]);
    aliceKeys = await issueClientKeys(store, KMS, ALICE);
    kms = await startKms(database, box, dir);
  });
  after(async () => {
    await kms.close();
    await database.close();
  });

  test('§5.3.3: a client is provisioned over HTTPS: init, keyprov now and next, certcache; keys validated and stored', async () => {
    const client = new KmsClient({
      kmsUrl: kms.url, allowedKmsUris: [KMS], userUri: ALICE, accessToken: await token({ mcptt_id: ALICE }), caPem: kms.caPem,
      trk: { id: aliceKeys.trkId, key: fromHex(aliceKeys.trk) }, ink: { id: aliceKeys.inkId, key: fromHex(aliceKeys.ink) },
    });
    const store = new ClientKeyStore(join(dir, 'client'));
    const r = await client.fetchAll(store);
    assert.equal(r.signature, 'valid');
    assert.equal(r.certificate.role, 'Root');
    assert.equal(r.keySets.length, 2, 'current and next period');
    assert.equal(r.keySets[1]!.keyPeriodNo, r.keySets[0]!.keyPeriodNo + 1);
    assert.deepEqual(r.disagreements, []);
    assert.deepEqual(store.listPeriods(KMS, ALICE), r.keySets.map((k) => k.keyPeriodNo));
    const held = store.getKeySet(KMS, ALICE, r.keySets[0]!.keyPeriodNo);
    assert.deepEqual(held?.rsk, r.keySets[0]!.rsk);
    for (const k of r.keySets) issued.push(toHex(k.rsk), toHex(k.ssk));
    issued.push(aliceKeys.trk, aliceKeys.ink);
    // A second fetch gets the same stored key set (first writer wins).
    const again = await client.keyProv(r.certificate);
    assert.deepEqual(again.keySets[0]!.ssk, r.keySets[0]!.ssk);
  });

  test('D.3.1: without a TrK the key set comes plain; with the TrK alone it is wrapped and TrK-signed', async () => {
    const plain = new KmsClient({ kmsUrl: kms.url, allowedKmsUris: [KMS], userUri: BOB, accessToken: await token({ mcptt_id: BOB }), caPem: kms.caPem });
    const cert = await plain.init();
    const sets = await plain.keyProv(cert);
    assert.equal(sets.keySets.length, 1);
    issued.push(toHex(sets.keySets[0]!.rsk), toHex(sets.keySets[0]!.ssk));
    const trkOnly = new KmsClient({ kmsUrl: kms.url, allowedKmsUris: [`https://${KMS.toUpperCase()}/`], userUri: ALICE, accessToken: await token({ mcptt_id: ALICE }), caPem: kms.caPem, trk: { id: aliceKeys.trkId, key: fromHex(aliceKeys.trk) } });
    const raw = await trkOnly.call('init');
    assert.equal(raw.signatureId, aliceKeys.trkId);
  });

  test('§5.1.3: missing, foreign, expired or mis-scoped tokens and other users get errors, never keys', async () => {
    const mk = async (userUri: string, accessToken: string): Promise<KmsClient> =>
      new KmsClient({ kmsUrl: kms.url, allowedKmsUris: [KMS], userUri, accessToken, caPem: kms.caPem });
    const other = await generateKeyPair('ES256');
    assert.equal(await code((await mk(ALICE, 'not-a-token')).init()), 'ERR_UNAUTHORIZED');
    assert.equal(await code((await mk(ALICE, await token({ mcptt_id: ALICE }, { key: other.privateKey }))).init()), 'ERR_UNAUTHORIZED');
    assert.equal(await code((await mk(ALICE, await token({ mcptt_id: ALICE }, { exp: '-2m' }))).init()), 'ERR_UNAUTHORIZED');
    assert.equal(await code((await mk(ALICE, await token({ mcptt_id: ALICE }, { iss: 'https://evil.example' }))).init()), 'ERR_UNAUTHORIZED');
    assert.equal(await code((await mk(ALICE, await token({ mcptt_id: ALICE }, { aud: 'other' }))).init()), 'ERR_UNAUTHORIZED');
    assert.equal(await code((await mk(ALICE, await token({ mcptt_id: BOB }))).init()), 'ERR_FORBIDDEN');
    assert.equal(await code((await mk(ALICE, await token({ mcptt_id: ALICE, scope: 'openid 3gpp:mc:ptt_service' }))).init()), 'ERR_FORBIDDEN');
    const mallory = await mk('sip:mallory@example.org', await token({ mcptt_id: 'sip:mallory@example.org' }));
    const cert = await mallory.init();
    assert.equal(await code(mallory.keyProv(cert)), 'ERR_NOT_FOUND');
    // Alice asking for Bob's keys with Alice's token.
    const alice = await mk(ALICE, await token({ mcptt_id: ALICE }));
    const r = await httpsPost(`${kms.url}/keymanagement/identity/v1/keyprov/${encodeURIComponent(BOB)}`, encodeKmsRequest({ userUri: ALICE, kmsUri: KMS, clientReqUrl: `${kms.url}/keymanagement/identity/v1/keyprov/${encodeURIComponent(BOB)}` }), { headers: { authorization: `Bearer ${await token({ mcptt_id: ALICE })}` }, caPem: kms.caPem });
    assert.equal(r.status, 403);
    assert.match(r.body, /<KmsError>/);
    assert.doesNotMatch(r.body, /KmsKeySet/);
    void alice;
  });

  test('D.2.2: wrong signatures, unknown TrK-IDs, stale times, foreign ClientReqUrl, oversized and malformed bodies are refused', async () => {
    const url = `${kms.url}/keymanagement/identity/v1/init`;
    const auth = { authorization: `Bearer ${await token({ mcptt_id: ALICE })}` };
    const post = (body: string, path = url) => httpsPost(path, body, { headers: auth, caPem: kms.caPem });
    const req = (x: Partial<Parameters<typeof encodeKmsRequest>[0]> = {}, key?: Uint8Array) => encodeKmsRequest({ userUri: ALICE, kmsUri: KMS, clientReqUrl: url, ...x }, key);
    assert.equal((await post(req())).status, 200);
    // A signed request is accepted once; the same bytes again are a replay (D.2.2 window).
    const signedOnce = req({ trkId: aliceKeys.trkId, signatureId: aliceKeys.inkId }, fromHex(aliceKeys.ink));
    assert.equal((await post(signedOnce)).status, 200);
    const replayed = await post(signedOnce);
    assert.equal(replayed.status, 403);
    assert.match(replayed.body, /ERR_REPLAY/);
    assert.equal((await post(req({ trkId: aliceKeys.trkId, signatureId: aliceKeys.inkId }, new Uint8Array(32).fill(1)))).status, 403);
    assert.equal((await post(req({ trkId: 'deadbeef' }))).status, 403);
    assert.equal((await post(req({ time: '2020-01-01T00:00:00Z' }))).status, 403);
    assert.equal((await post(req({ clientReqUrl: 'https://elsewhere/keymanagement/identity/v1/init' }))).status, 403);
    assert.equal((await post(req({ kmsUri: 'kms.other.org' }))).status, 403);
    assert.equal((await post('<KmsRequest')).status, 400);
    assert.equal((await post('x'.repeat(300 * 1024))).status, 413);
    assert.equal((await post(req(), `${kms.url}/keymanagement/identity/v1/nothing`)).status, 404);
    // Bob's TrK-ID presented by Alice is refused.
    const store = kms.store;
    const bobKeys = await issueClientKeys(store, KMS, BOB);
    assert.equal((await post(req({ trkId: bobKeys.trkId }))).status, 403);
    issued.push(bobKeys.trk, bobKeys.ink);
  });

  test('D.2.5-D.2.8: certcache and cert serve loaded External KMS certificates; lookup; KRR upload kept for audit', async () => {
    const ext = encodeKmsResponse({ userUri: 'sip:x@partner.org', kmsUri: 'kms.partner.org', clientReqUrl: 'https://kms.partner.org/keymanagement/identity/v1/init', kmsMessage: { init: { certificate: { kmsUri: 'kms.partner.org', userIdFormat: '2', userKeyPeriod: 86400, userKeyOffset: 0, pubEncKey: new Uint8Array(257).fill(4), pubAuthKey: new Uint8Array(65).fill(4) } } } });
    await addExternalCertificate(kms.store, KMS, ext, false);
    const client = new KmsClient({ kmsUrl: kms.url, allowedKmsUris: [KMS], userUri: ALICE, accessToken: await token({ mcptt_id: ALICE }), caPem: kms.caPem });
    const certs = await client.certCache();
    assert.deepEqual(certs.map((c) => [c.kmsUri, c.role]), [['kms.partner.org', 'External']]);
    const one = await client.call(`cert/${encodeURIComponent('kms.partner.org')}`);
    assert.ok(one.kmsMessage !== undefined && 'certCache' in one.kmsMessage && one.kmsMessage.certCache.certificates[0]?.kmsUri === 'kms.partner.org');
    assert.equal(await code(client.call('cert/kms.unknown.org')), 'ERR_NOT_FOUND');
    const look = await client.call(`lookup/${encodeURIComponent(BOB)}`);
    assert.ok(look.kmsMessage !== undefined && 'certCache' in look.kmsMessage && look.kmsMessage.certCache.certificates[0]?.kmsUri === KMS);
    const krr = encodeKrr({ krrCreatorUri: BOB, initiatorUri: ALICE, initiatorKmsUri: KMS, receiverUri: BOB, receiverKmsUri: 'kms.reject.org', initiatorKmsList: 'ANY', receiverKmsList: [KMS] });
    const url = `${kms.url}/keymanagement/identity/v1/redirect/${encodeURIComponent(BOB)}`;
    const r = await httpsPost(url, encodeKmsRequest({ userUri: ALICE, kmsUri: KMS, clientReqUrl: url, krr }), { headers: { authorization: `Bearer ${await token({ mcptt_id: ALICE })}` }, caPem: kms.caPem });
    assert.equal(r.status, 204);
    const audit = await kms.store.listKrrAudit(KMS);
    assert.equal(audit[0]?.targetUri, BOB);
    assert.match(audit[0]?.krr ?? '', /kms\.reject\.org/);
  });

  test('D.3.5.1: External certificates come as SignedKmsCertificates under the KSAK, checked by the client with the Root PubAuthKey; the Migration mark', async () => {
    const ecc = generateEccsiKmsKey();
    const ext = encodeKmsResponse({ userUri: 'sip:x@migr.org', kmsUri: 'kms.migr.org', clientReqUrl: 'https://kms.migr.org/keymanagement/identity/v1/init', kmsMessage: { init: { certificate: { kmsUri: 'kms.migr.org', userIdFormat: '2', userKeyPeriod: 86400, userKeyOffset: 0, pubEncKey: generateSakkeKmsKey().zT, pubAuthKey: ecc.kpak } } } });
    await addExternalCertificate(kms.store, KMS, ext, true);
    const client = (o: { requireSignedCertificates?: boolean } = {}) => async () =>
      new KmsClient({ kmsUrl: kms.url, allowedKmsUris: [KMS], userUri: ALICE, accessToken: await token({ mcptt_id: ALICE }), caPem: kms.caPem, ...o });
    const certs = await (await client({ requireSignedCertificates: true })()).certCache();
    const migr = certs.find((c) => c.kmsUri === 'kms.migr.org');
    assert.equal(migr?.signed, true);
    assert.equal(migr?.migration, true);
    assert.ok(certs.every((c) => c.signed), 'every External certificate is signed');
    // the raw answer names the Root certificate as the signer and verifies with its PubAuthKey only
    const url = `${kms.url}/keymanagement/identity/v1/certcache`;
    const raw = await httpsPost(url, encodeKmsRequest({ userUri: ALICE, kmsUri: KMS, clientReqUrl: url }), { headers: { authorization: `Bearer ${await token({ mcptt_id: ALICE })}` }, caPem: kms.caPem });
    const domain = await kms.store.getDomain(KMS);
    assert.ok(domain !== undefined);
    const checks = verifyCertificateSignatures(raw.body, (name) => (name === `${KMS}/cert` ? domain.pubAuthKey : undefined));
    assert.ok(checks.some((c) => c.kmsUri === 'kms.migr.org'));
    assert.throws(() => verifyCertificateSignatures(raw.body, (name) => (name === `${KMS}/cert` ? ecc.kpak : undefined)), { code: 'ERR_SIGNATURE' });
    // a KMS that does not sign: a client that requires signed certificates refuses the cache
    const plainDir = mkdtempSync(join(tmpdir(), 'mcsec-kms-plain-'));
    const unsigned = await startKms(database, box, plainDir, { signExternalCertificates: false });
    try {
      const c = new KmsClient({ kmsUrl: unsigned.url, allowedKmsUris: [KMS], userUri: ALICE, accessToken: await token({ mcptt_id: ALICE }), caPem: unsigned.caPem, requireSignedCertificates: true });
      assert.equal(await code(c.certCache()), 'ERR_FORBIDDEN');
      const lax = new KmsClient({ kmsUrl: unsigned.url, allowedKmsUris: [KMS], userUri: ALICE, accessToken: await token({ mcptt_id: ALICE }), caPem: unsigned.caPem });
      assert.ok((await lax.certCache()).every((x) => !x.signed));
    } finally {
      await unsigned.close();
    }
  });

  test('D.3.5: every response the server emits (init, keyprov wrapped and plain, certcache, error) validates against the schema', async () => {
    const schema = join(import.meta.dirname, '..', 'fixtures', 'kms', 'schema', 'kms-response.xsd');
    const bodies: string[] = [];
    for (const [path, user, trk] of [['init', ALICE, true], ['keyprov', ALICE, true], ['keyprov', BOB, false], ['certcache', ALICE, false], ['keyprov/sip%3Anobody%40x', ALICE, false]] as const) {
      const url = `${kms.url}/keymanagement/identity/v1/${path}`;
      const body = encodeKmsRequest({ userUri: user, kmsUri: KMS, clientReqUrl: url, ...(trk ? { trkId: aliceKeys.trkId, signatureId: aliceKeys.inkId } : {}) }, trk ? fromHex(aliceKeys.ink) : undefined);
      const r = await httpsPost(url, body, { headers: { authorization: `Bearer ${await token({ mcptt_id: user })}` }, caPem: kms.caPem });
      assert.equal(r.contentType, 'application/xml');
      bodies.push(r.body);
    }
    assert.match(bodies[1]!, /xenc:EncryptedKey/);
    assert.match(bodies[2]!, /UserDecryptKey xsi:type="KeyContentType"/);
    assert.match(bodies[4]!, /<KmsError>/);
    const files = bodies.map((b, i) => {
      const f = join(mkdtempSync(join(tmpdir(), 'mcsec-kms-xsd-')), `r${i}.xml`);
      writeFileSync(f, b);
      return f;
    });
    execFileSync('xmllint', ['--noout', '--schema', schema, ...files], { stdio: 'pipe' });
  });

  test('no log line holds key material or a token (every issued RSK, SSK, TrK, InK searched)', () => {
    assert.ok(issued.length >= 8);
    assert.ok(kms.lines.length >= 10, `only ${kms.lines.length} log lines`);
    const text = kms.lines.join('').toLowerCase();
    for (const secret of issued) assert.ok(!text.includes(secret.toLowerCase().slice(0, 32)), 'a key appears in the logs');
    assert.doesNotMatch(text, /bearer|eyj[a-z0-9_-]{10,}/, 'a token appears in the logs');
    assert.match(kms.lines.find((l) => l.includes('"op":"keyprov"')) ?? '', /"user":"sip:alice@example.org"/);
  });
});

const pgSkip = await postgresUnreachable(DATABASE_URL, 'the two-instance PostgreSQL KMS test');
if (pgSkip !== false) console.log(`# ${pgSkip}`);

describe('KMS: two instances on one PostgreSQL database answer alike', () => {
  const skip = pgSkip;
  test('keyprov through either instance returns the same stored key set; requireTrk refuses plain key sets', { skip }, async () => {
    const schema = `kms_e2e_${toHex(new Uint8Array(randomBytes(4)))}`;
    const a = openDatabase(DATABASE_URL, { schema });
    const b = openDatabase(DATABASE_URL, { schema });
    const box = new SecretBox(new Uint8Array(randomBytes(32)));
    const dir = mkdtempSync(join(tmpdir(), 'mcsec-kms-pg-'));
    const store = await KyselyKmsStore.open(a, box);
    await initDomain(store, { kmsUri: KMS, userKeyPeriod: 86_400, userKeyOffset: 0 });
    await store.addUsers(KMS, [{ userUri: ALICE }]);
    const keys = await issueClientKeys(store, KMS, ALICE);
    const one = await startKms(a, box, dir);
    const two = await startKms(b, box, dir, { requireTrk: true });
    try {
      const mk = (k: Running, trk: boolean) => new KmsClient({ kmsUrl: k.url, allowedKmsUris: [KMS], userUri: ALICE, accessToken: '', caPem: k.caPem, ...(trk ? { trk: { id: keys.trkId, key: fromHex(keys.trk) } } : {}) });
      const t = await token({ mcptt_id: ALICE });
      const c1 = new KmsClient({ ...Object.assign({}, { kmsUrl: one.url, allowedKmsUris: [KMS], userUri: ALICE, accessToken: t, caPem: one.caPem, trk: { id: keys.trkId, key: fromHex(keys.trk) } }) });
      const c2 = new KmsClient({ kmsUrl: two.url, allowedKmsUris: [KMS], userUri: ALICE, accessToken: t, caPem: two.caPem, trk: { id: keys.trkId, key: fromHex(keys.trk) } });
      const [r1, r2] = await Promise.all([c1.init().then((c) => c1.keyProv(c)), c2.init().then((c) => c2.keyProv(c))]);
      assert.deepEqual(r1.keySets[0]!.ssk, r2.keySets[0]!.ssk);
      assert.deepEqual(r1.keySets[0]!.rsk, r2.keySets[0]!.rsk);
      const plain = new KmsClient({ kmsUrl: two.url, allowedKmsUris: [KMS], userUri: ALICE, accessToken: t, caPem: two.caPem });
      assert.equal(await code(plain.init().then((c) => plain.keyProv(c))), 'ERR_FORBIDDEN');
      void mk;
    } finally {
      await one.close();
      await two.close();
      await a.db.schema.dropSchema(schema).ifExists().cascade().execute();
      await a.close();
      await b.close();
    }
  });
});
