// `mcsec mcx serve` as an operator runs it: one error line for a bad command line or a missing KMS
// domain; with the MDSI keys from a client key store (what `mcsec kms fetch --user <mdsi>` fills)
// and TLS made in the data folder, it prints `listening on sip:…` and `listening on sips:…`, and
// our client's CSK upload over TLS and over TCP gets a 200, and so does a protected MESSAGE after it
// (an unsigned one 403); with --krr, the upload of a user whose
// KMS is not accepted gets a 488 with a KMS Redirect Response signed by the configured certificate
// (TS 33.180 §5.2.8.2.3, Annex D.4), and a bad --krr file is one error line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keyPeriodNoAt } from '../../src/crypto/index.js';
import { createSelfSignedCertificate } from '../../src/crypto/x509.js';
import { ClientKeyStore } from '../../src/client/index.js';
import { McxClientKeys } from '../../src/client/mcx-client-keys.js';
import { McxClientSignalling } from '../../src/client/mcx-signalling.js';
import { MCPTT_INFO_POLICY } from '../../src/formats/xmlenc/index.js';
import { KeyIssuer } from '../../src/functions/kms/index.js';
import { listenSip, type SipEndpoint, type SipTransport } from '../../src/transport/sip/index.js';
import { ContentType, headerValue } from '../../src/formats/sip/index.js';
import { KMS_URI, MDSI, mcxWorld, type McxWorld } from '../helpers/mcx.js';
import { mcsec } from '../helpers/cli.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mcsec-mcx-cli-'));

let world: McxWorld;
let server: ChildProcess | undefined;
let redirecting: ChildProcess | undefined;
let client: SipEndpoint | undefined;

before(async () => {
  world = await mcxWorld({ dir: join(dir, 'kms') });
  // The MDSI's keys as `mcsec kms fetch --user <mdsi>` stores them for a KM client (§5.3.3).
  const ks = new ClientKeyStore(join(dir, 'keys'));
  const d = world.domain;
  ks.putCertificate({ kmsUri: KMS_URI, role: 'Root', userKeyPeriod: d.userKeyPeriod, userKeyOffset: d.userKeyOffset, pubEncKey: d.pubEncKey, pubAuthKey: d.pubAuthKey });
  await world.kmsStore.addUsers(KMS_URI, [{ userUri: MDSI }]);
  const issuer = new KeyIssuer(world.kmsStore, d);
  const n = keyPeriodNoAt(new Date(), d.userKeyPeriod, d.userKeyOffset);
  for (const k of [n, n + 1]) {
    const s = await issuer.keySet(MDSI, k);
    ks.putKeySet({ kmsUri: KMS_URI, userUri: MDSI, keyPeriodNo: k, userId: s.userId, rsk: s.rsk, ssk: s.ssk, pvt: s.pvt, validFrom: undefined, validTo: undefined });
  }
});

after(async () => {
  server?.kill('SIGTERM');
  redirecting?.kill('SIGTERM');
  await client?.close();
  await world.close();
  rmSync(dir, { recursive: true, force: true });
});

test('mcx serve: a bad command line and a missing KMS domain are one error line each', { timeout: 120_000 }, async () => {
  const noMdsi = await mcsec(['mcx', 'serve', '--data-dir', join(dir, 'x')]);
  assert.equal(noMdsi.code, 2);
  assert.match(noMdsi.stderr, /--mdsi/);
  const badMdsi = await mcsec(['mcx', 'serve', '--data-dir', join(dir, 'x'), '--kms-uri', KMS_URI, '--mdsi', 'mcx.example']);
  assert.equal(badMdsi.code, 1);
  assert.match(badMdsi.stderr, /^mcsec: ERR_CONFIG mcx\.mdsi: must be a SIP URI/m);
  const noDomain = await mcsec(['mcx', 'serve', '--data-dir', join(dir, 'x'), '--kms-uri', 'kms.nowhere', '--mdsi', MDSI, '--port', '0']);
  assert.equal(noDomain.code, 1);
  assert.match(noDomain.stderr, /^mcsec: ERR_CONFIG --kms-uri: no KMS domain kms\.nowhere/m);
  const badPort = await mcsec(['mcx', 'serve', '--data-dir', join(dir, 'x'), '--kms-uri', KMS_URI, '--mdsi', MDSI, '--port', '70000']);
  assert.equal(badPort.code, 2);
  assert.match(badPort.stderr, /ERR_USAGE --port/);
  writeFileSync(join(dir, 'bad-krr.json'), '{"initiatorKmsUris":[]}');
  const badKrr = await mcsec(['mcx', 'serve', '--data-dir', join(dir, 'x'), '--kms-uri', KMS_URI, '--mdsi', MDSI, '--krr', join(dir, 'bad-krr.json')]);
  assert.equal(badKrr.code, 1);
  assert.match(badKrr.stderr, /^mcsec: ERR_CONFIG krr\.initiatorKmsUris: must be a non-empty array of KMS URIs \[TS 33\.180 §5\.2\.8\.2\.3\]$/m);
});

test('mcx serve --key-store --tls-port: listening lines; a CSK upload over TLS and over TCP gets 200', { timeout: 180_000 }, async () => {
  const data = join(dir, 'mcx');
  server = spawn(process.execPath, ['bin/mcsec.js', 'mcx', 'serve', '--data-dir', data, '--key-store', join(dir, 'keys'), '--kms-uri', KMS_URI, '--mdsi', MDSI, '--port', '0', '--tls-port', '0', '--log-level', 'warn'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MCSEC_STORAGE_KEY: '' },
  });
  const ports = await new Promise<{ sip: number; sips: number }>((resolve, reject) => {
    let out = '';
    let err = '';
    server?.stdout?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const a = /listening on sip:127\.0\.0\.1:(\d+)\n/.exec(out);
      const b = /listening on sips:127\.0\.0\.1:(\d+)\n/.exec(out);
      if (a?.[1] !== undefined && b?.[1] !== undefined) resolve({ sip: Number(a[1]), sips: Number(b[1]) });
    });
    server?.stderr?.setEncoding('utf8').on('data', (c: string) => (err += c));
    server?.on('exit', (code) => reject(new Error(`mcx serve exited ${code}: ${err}`)));
  });
  const keys = new McxClientKeys({ user: await world.userKeysOf('sip:alice@mcx.test'), server: { mdsi: MDSI } });
  client = await listenSip({ tcp: {}, tls: { key: readFileSync(join(data, 'tls-key.pem')), cert: readFileSync(join(data, 'tls-cert.pem')) } }, { tlsCa: readFileSync(join(data, 'tls-cert.pem'), 'utf8') });
  for (const [transport, port] of [
    ['tls', ports.sips],
    ['tcp', ports.sip],
  ] as [SipTransport, number][]) {
    const local = client.address(transport)?.port ?? 0;
    const req = keys.registerRequest({ via: { transport, host: '127.0.0.1', port: local }, contact: `sip:alice@127.0.0.1:${local};transport=${transport}` });
    const res = await client.request(req, { transport, host: '127.0.0.1', port, servername: 'localhost' });
    assert.equal(res.status, 200, `${transport}: ${headerValue(res, 'Warning') ?? ''}`);
    assert.equal(keys.confirmCsk(res), true);
    // then a MESSAGE whose mcptt-info is encrypted and signed under that CSK (§9.3): 200; its
    // signatures body stripped: 403 (integrity protection required by default)
    const signalling = new McxClientSignalling({ keys });
    const info = `<?xml version="1.0" encoding="UTF-8"?><mcpttinfo xmlns="urn:3gpp:ns:mcpttInfo:1.0"><mcptt-Params><mcptt-calling-user-id><mcpttURI>sip:alice@mcx.test</mcpttURI></mcptt-calling-user-id></mcptt-Params></mcpttinfo>`;
    const msg = signalling.messageRequest({ via: { transport, host: '127.0.0.1', port: local }, to: 'sip:bob@mcx.test', bodies: [{ contentType: ContentType.MCPTT_INFO, xml: info, policy: MCPTT_INFO_POLICY }] });
    const ok = await client.request(msg, { transport, host: '127.0.0.1', port, servername: 'localhost' });
    assert.equal(ok.status, 200, `${transport} MESSAGE: ${headerValue(ok, 'Warning') ?? ''}`);
    const unsigned = signalling.messageRequest({ via: { transport, host: '127.0.0.1', port: local }, to: 'sip:bob@mcx.test', bodies: [{ contentType: ContentType.MCPTT_INFO, xml: info, policy: MCPTT_INFO_POLICY }], sign: false });
    const refused = await client.request(unsigned, { transport, host: '127.0.0.1', port, servername: 'localhost' });
    assert.equal(refused.status, 403);
    assert.match(headerValue(refused, 'Warning') ?? '', /ERR_FORBIDDEN sip\.body/);
  }
});

test('mcx serve --krr: a CSK upload from a KMS not accepted for the user gets a 488 with a signed KRR the client verifies', { timeout: 180_000 }, async () => {
  const signer = await createSelfSignedCertificate({ commonName: 'mcx-server.mcx.test' });
  const krrDir = join(dir, 'krr');
  rmSync(krrDir, { recursive: true, force: true });
  mkdirSync(krrDir, { recursive: true });
  writeFileSync(join(krrDir, 'key.pem'), signer.privateKeyPem);
  writeFileSync(join(krrDir, 'cert.pem'), signer.certificatePem);
  // Relative signer paths are read from the file's folder.
  writeFileSync(join(krrDir, 'krr.json'), JSON.stringify({ initiatorKmsUris: [KMS_URI], users: { 'sip:dave@mcx.test': ['kms.migrated.test'] }, signer: { key: 'key.pem', certificate: 'cert.pem' } }));
  redirecting = spawn(process.execPath, ['bin/mcsec.js', 'mcx', 'serve', '--data-dir', join(dir, 'mcx-krr'), '--key-store', join(dir, 'keys'), '--kms-uri', KMS_URI, '--mdsi', MDSI, '--port', '0', '--krr', join(krrDir, 'krr.json'), '--log-level', 'warn'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MCSEC_STORAGE_KEY: '' },
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    let err = '';
    redirecting?.stdout?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const a = /listening on sip:127\.0\.0\.1:(\d+)\n/.exec(out);
      if (a?.[1] !== undefined) resolve(Number(a[1]));
    });
    redirecting?.stderr?.setEncoding('utf8').on('data', (c: string) => (err += c));
    redirecting?.on('exit', (code) => reject(new Error(`mcx serve exited ${code}: ${err}`)));
  });
  const keys = new McxClientKeys({ user: await world.userKeysOf('sip:dave@mcx.test'), server: { mdsi: MDSI }, krr: { trustedSigners: [signer.certificate] } });
  const sip = await listenSip({ tcp: {} });
  try {
    const local = sip.address('tcp')?.port ?? 0;
    const req = keys.registerRequest({ via: { transport: 'tcp', host: '127.0.0.1', port: local }, contact: `sip:dave@127.0.0.1:${local};transport=tcp` });
    const res = await sip.request(req, { transport: 'tcp', host: '127.0.0.1', port });
    assert.equal(res.status, 488, headerValue(res, 'Warning'));
    assert.equal(headerValue(res, 'Content-Type'), 'application/vnd.3gpp.kmsredirectresponse+xml');
    const r = keys.kmsRedirectOf(res);
    assert.deepEqual([r?.krrCreatorUri, r?.initiatorKmsList, r?.receiverKmsList], [MDSI, ['kms.migrated.test'], 'ANY']);
  } finally {
    await sip.close();
  }
});
