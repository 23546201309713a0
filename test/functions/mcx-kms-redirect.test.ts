// KMS Redirect Responses from the MCX server (TS 33.180 §5.2.8.2.3 Case A, Annex D.4): a CSK
// upload whose initiator KMS is not accepted for the user (a migrated user) is answered over the
// real SIP socket with a 488 carrying a signed KRR, nothing stored; the client verifies the KRR
// against the certificate it trusts and gets the KMS lists and the KMS to use next; a tampered
// KRR, an untrusted signer, a KRR about another user and an unsigned KRR are refused by code and
// field; the KRR configuration file is checked at start-up.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSelfSignedCertificate, type CertifiedKey } from '../../src/crypto/x509.js';
import { McsecError } from '../../src/errors/index.js';
import { KRR_CONTENT_TYPE, decodeKrr } from '../../src/formats/kms-xml/index.js';
import { MemoryReplayCache } from '../../src/formats/mikey/index.js';
import { decodeSipMessage, encodeSipMessage, headerValue, kmsRedirectOf, readKmsRedirect, selectKmsUri, type SipResponse } from '../../src/formats/sip/index.js';
import { listenSip, type SipEndpoint } from '../../src/transport/sip/index.js';
import { McxServerService, answerMcxRequest, decodeKmsRedirectConfig, mcxServerConfig, serveMcxSip, type KmsRedirectPolicy } from '../../src/functions/mcx-server/index.js';
import { McxClientKeys } from '../../src/client/mcx-client-keys.js';
import type { McxUserKeys } from '../../src/client/mcx-user-keys.js';
import { KMS_URI, MDSI, mcxWorld, type McxWorld } from '../helpers/mcx.js';

const ALICE = 'sip:alice@krr.test'; // migrated: only kms.migrated.test is accepted for her
const BOB = 'sip:bob@krr.test';
const MIGRATED = 'kms.migrated.test';

let world: McxWorld;
let signer: CertifiedKey;
let other: CertifiedKey;
let policy: KmsRedirectPolicy;
let server: SipEndpoint;
let stop: () => void;
const users = new Map<string, McxUserKeys>();
const dir = mkdtempSync(join(tmpdir(), 'mcsec-krr-'));

before(async () => {
  world = await mcxWorld();
  signer = await createSelfSignedCertificate({ commonName: 'mcx-server.krr.test' });
  other = await createSelfSignedCertificate({ commonName: 'somebody-else' });
  writeFileSync(join(dir, 'krr-key.pem'), signer.privateKeyPem);
  writeFileSync(join(dir, 'krr-cert.pem'), signer.certificatePem);
  const config = { initiatorKmsUris: [KMS_URI], users: { [ALICE]: [MIGRATED] }, signer: { key: 'krr-key.pem', certificate: 'krr-cert.pem' } };
  policy = decodeKmsRedirectConfig(JSON.stringify(config), (p) => readFileSync(join(dir, p), 'utf8'));
  const service = new McxServerService({ config: mcxServerConfig({ mdsi: MDSI, kmsRedirect: policy }), keys: world.serverKeys, store: world.mcxStore, replayCache: new MemoryReplayCache() });
  await service.prepare();
  server = await listenSip({ udp: {}, tcp: {} }, { transactionTimeoutMs: 20_000 });
  stop = serveMcxSip(server, service);
  for (const u of [ALICE, BOB]) users.set(u, await world.userKeysOf(u));
});

after(async () => {
  stop();
  await server.close();
  await world.close();
});

const keysOf = (u: string): McxUserKeys => {
  const k = users.get(u);
  assert.ok(k !== undefined);
  return k;
};

/** Registers `user` with a CSK upload over TCP on a real socket; the server's answer. */
async function register(user: string, keys: McxClientKeys): Promise<SipResponse> {
  const sip = await listenSip({ tcp: {} });
  try {
    const port = sip.address('tcp')?.port ?? 0;
    const req = keys.registerRequest({ via: { transport: 'tcp', host: '127.0.0.1', port }, contact: `sip:${user.slice(4, user.indexOf('@'))}@127.0.0.1:${port};transport=tcp`, expiresS: 600 });
    return await sip.request(req, { transport: 'tcp', host: '127.0.0.1', port: server.address('tcp')?.port ?? 0 });
  } finally {
    await sip.close();
  }
}

function assertCode(f: () => unknown, code: string, field: string): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof McsecError, String(e));
    assert.deepEqual([e.code, e.field], [code, field]);
    return true;
  });
}

/** The same response with its KRR body changed (re-encoded, as it would arrive). */
const withBody = (res: SipResponse, body: string): SipResponse => {
  const m = decodeSipMessage(encodeSipMessage({ ...res, body: new TextEncoder().encode(body) }));
  assert.equal(m.kind, 'response');
  return m;
};

let aliceRedirect: SipResponse | undefined;

test('a migrated user\'s CSK upload over SIP/TCP: 488 with a signed KRR (Case A: her accepted KMSs, receiver ANY), nothing stored; the client reads it', async () => {
  const keys = new McxClientKeys({ user: keysOf(ALICE), server: { mdsi: MDSI }, krr: { trustedSigners: [signer.certificate], migrationKmsUris: [MIGRATED] } });
  const res = await register(ALICE, keys);
  aliceRedirect = res;
  assert.equal(res.status, 488);
  assert.equal(res.reason, 'Not Acceptable Here');
  assert.equal(headerValue(res, 'Content-Type'), KRR_CONTENT_TYPE);
  assert.match(headerValue(res, 'Warning') ?? '', /ERR_UNKNOWN_KEY mikey\.IDRkmsi/);
  assert.equal(keys.confirmCsk(res), false);
  assert.equal((await world.mcxStore.listCsks(ALICE)).length, 0, 'the MIKEY message is dropped (§5.2.8.2.3)');

  const krr = decodeKrr(kmsRedirectOf(res) ?? new Uint8Array(0));
  assert.deepEqual(
    [krr.krrCreatorUri, krr.initiatorUri, krr.initiatorKmsUri, krr.receiverUri, krr.receiverKmsUri, krr.initiatorKmsList, krr.receiverKmsList],
    [MDSI, ALICE, KMS_URI, MDSI, KMS_URI, [MIGRATED], 'ANY'],
  );
  const r = keys.kmsRedirectOf(res);
  assert.ok(r !== undefined);
  assert.equal(r.kind, 'kms-redirect');
  assert.deepEqual([r.status, r.krrCreatorUri, r.initiatorKmsList, r.receiverKmsList, r.selectedKmsUri], [488, MDSI, [MIGRATED], 'ANY', MIGRATED]);
  assert.equal(r.signer, new (await import('node:crypto')).X509Certificate(signer.certificate).fingerprint256);
  // Without the Migration KMS provisioned, no KMS of the list is usable: the communication fails.
  const plain = new McxClientKeys({ user: keysOf(ALICE), server: { mdsi: MDSI }, krr: { trustedSigners: [signer.certificate] } });
  assert.equal(plain.kmsRedirectOf(res)?.selectedKmsUri, undefined);
  // The same KRR replayed ten minutes later is refused by its Time (review F9)
  const later = new Date(Date.now() + 10 * 60_000);
  assert.throws(() => readKmsRedirect(res, { trustedSigners: [signer.certificate], initiatorUri: ALICE, initiatorKmsUri: KMS_URI, now: () => later }), { code: 'ERR_EXPIRED', field: 'krr.Time' });
  assert.equal(readKmsRedirect(res, { trustedSigners: [signer.certificate], initiatorUri: ALICE, initiatorKmsUri: KMS_URI })?.krrCreatorUri, MDSI);
});

test('no KRR is made about somebody else: an upload whose IDRi is not the request\'s user is refused (403), no body', async () => {
  const keys = new McxClientKeys({ user: keysOf(BOB), server: { mdsi: MDSI } });
  const sip = await listenSip({ tcp: {} });
  try {
    const port = sip.address('tcp')?.port ?? 0;
    // Bob's upload (IDRi Bob) under Alice's SIP identity, for whom his KMS is not accepted.
    const req = keys.registerRequest({ via: { transport: 'tcp', host: '127.0.0.1', port }, contact: `sip:alice@127.0.0.1:${port};transport=tcp`, impu: ALICE });
    const res = await sip.request(req, { transport: 'tcp', host: '127.0.0.1', port: server.address('tcp')?.port ?? 0 });
    assert.equal(res.status, 403);
    assert.match(headerValue(res, 'Warning') ?? '', /ERR_FORBIDDEN mikey\.IDRi/);
    assert.equal(kmsRedirectOf(res), undefined);
  } finally {
    await sip.close();
  }
});

test('a user whose KMS is accepted registers as before (200, CSK stored)', async () => {
  const keys = new McxClientKeys({ user: keysOf(BOB), server: { mdsi: MDSI }, krr: { trustedSigners: [signer.certificate] } });
  const res = await register(BOB, keys);
  assert.equal(res.status, 200, headerValue(res, 'Warning'));
  assert.equal(keys.kmsRedirectOf(res), undefined);
  assert.equal(keys.confirmCsk(res), true);
  assert.equal((await world.mcxStore.listCsks(BOB)).length, 1);
});

test('the client refuses a tampered KRR, an untrusted signer, a KRR about another user, and no trust configured', () => {
  const res = aliceRedirect;
  assert.ok(res !== undefined, 'runs after the redirect test');
  const text = new TextDecoder().decode(kmsRedirectOf(res));
  const alice = new McxClientKeys({ user: keysOf(ALICE), server: { mdsi: MDSI }, krr: { trustedSigners: [signer.certificate] } });
  assertCode(() => alice.kmsRedirectOf(withBody(res, text.replace(`<KmsUri>${MIGRATED}</KmsUri>`, '<KmsUri>kms.evil.test</KmsUri>'))), 'ERR_SIGNATURE', 'krr.Signature');
  assertCode(() => alice.kmsRedirectOf(withBody(res, text.replace('<ANY></ANY>', '<KmsUri>kms.evil.test</KmsUri>'))), 'ERR_SIGNATURE', 'krr.Signature');
  const untrusting = new McxClientKeys({ user: keysOf(ALICE), server: { mdsi: MDSI }, krr: { trustedSigners: [other.certificate] } });
  assertCode(() => untrusting.kmsRedirectOf(res), 'ERR_UNKNOWN_KEY', 'krr.Signature.KeyInfo.X509Data');
  assertCode(() => new McxClientKeys({ user: keysOf(ALICE), server: { mdsi: MDSI } }).kmsRedirectOf(res), 'ERR_UNKNOWN_KEY', 'krr.Signature.KeyInfo.X509Data');
  const bob = new McxClientKeys({ user: keysOf(BOB), server: { mdsi: MDSI }, krr: { trustedSigners: [signer.certificate] } });
  assertCode(() => bob.kmsRedirectOf(res), 'ERR_FORBIDDEN', 'krr.InitiatorUri');
  // The signature is intact: the same response is still accepted.
  assert.equal(alice.kmsRedirectOf(res)?.initiatorKmsList[0], MIGRATED);
});

test('an unsigned KRR (no signer configured) is refused unless the policy allows it (§5.2.8.5)', async () => {
  const unsigned: KmsRedirectPolicy = { ...policy, signer: undefined };
  const service = new McxServerService({ config: mcxServerConfig({ mdsi: MDSI, kmsRedirect: unsigned }), keys: world.serverKeys, store: world.mcxStore, replayCache: new MemoryReplayCache() });
  const keys = new McxClientKeys({ user: keysOf(ALICE), server: { mdsi: MDSI }, krr: { trustedSigners: [signer.certificate] } });
  const req = keys.registerRequest({ via: { transport: 'udp', host: '127.0.0.1', port: 5999 }, contact: 'sip:alice@127.0.0.1:5999', expiresS: 600 });
  const res = await answerMcxRequest(service, req, { transport: 'udp', remote: { address: '127.0.0.1', port: 5999 } });
  assert.ok(res !== undefined);
  assert.equal(res.status, 488);
  assert.equal(decodeKrr(kmsRedirectOf(res) ?? new Uint8Array(0)).signature, undefined);
  assertCode(() => keys.kmsRedirectOf(res), 'ERR_FORBIDDEN', 'krr.Signature');
  const lenient = readKmsRedirect(res, { trustedSigners: [], allowUnsigned: true, initiatorUri: ALICE });
  assert.deepEqual(lenient?.initiatorKmsList, [MIGRATED]);
  assert.equal(lenient?.signer, undefined);
});

test('selectKmsUri (§5.2.8.2.5): ANY or a list with the Home KMS gives it, else the first usable, else none', () => {
  assert.equal(selectKmsUri('ANY', 'kms.home'), 'kms.home');
  assert.equal(selectKmsUri(['kms.x', 'kms.home'], 'kms.home'), 'kms.home');
  assert.equal(selectKmsUri(['kms.x', 'kms.m2', 'kms.m1'], 'kms.home', ['kms.m1', 'kms.m2']), 'kms.m2');
  assert.equal(selectKmsUri(['kms.x'], 'kms.home', ['kms.m1']), undefined);
  assert.equal(selectKmsUri([], 'kms.home'), undefined);
});

test('the KRR configuration is checked at start-up: errors name krr.… with ERR_CONFIG', () => {
  const read = (p: string): string => readFileSync(join(dir, p), 'utf8');
  writeFileSync(join(dir, 'other-cert.pem'), other.certificatePem);
  assertCode(() => decodeKmsRedirectConfig('{', read), 'ERR_CONFIG', 'krr');
  assertCode(() => decodeKmsRedirectConfig('{"initiatorKmsUris":[]}', read), 'ERR_CONFIG', 'krr.initiatorKmsUris');
  assertCode(() => decodeKmsRedirectConfig('{"initiatorKmsUris":["kms.a"],"users":{"sip:x@y":[""]}}', read), 'ERR_CONFIG', 'krr.users.sip:x@y[0]');
  assertCode(() => decodeKmsRedirectConfig('{"initiatorKmsUris":["kms.a"],"signer":{"key":"krr-key.pem","certificate":"other-cert.pem"}}', read), 'ERR_CONFIG', 'krr.signer');
  const ok = decodeKmsRedirectConfig('{"initiatorKmsUris":["kms.a"],"creatorUri":"sip:proxy@x"}', read);
  assert.deepEqual([ok.initiatorKmsUris, ok.creatorUri, ok.signer, ok.users.size], [['kms.a'], 'sip:proxy@x', undefined, 0]);
});
