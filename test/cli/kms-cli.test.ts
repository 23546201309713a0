// `mcsec kms …` as an operator and a client run it: a KMS from nothing (init-domain, add-user,
// provision with its progress bar, issue-client-keys), `kms serve` on real HTTPS printing
// `listening on <url>`, and `kms fetch` provisioning a client through it; errors as one line.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { json, mcsec } from '../helpers/cli.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mcsec-kms-cli-'));
const data = join(dir, 'kms');

let server: ChildProcess | undefined;
after(() => server?.kill('SIGTERM'));

test('mcsec kms: init-domain, add-user, provision, issue-client-keys, serve, fetch', async () => {
  const s = ['--data-dir', data, '--kms-uri', 'kms.example.org'];
  const init = json(await mcsec(['kms', 'init-domain', ...s, '--user-key-period', '86400']));
  assert.equal(init['created'], true);
  assert.equal((init['pubEncKey'] as string).length, 514);
  assert.equal(json(await mcsec(['kms', 'init-domain', ...s]))['created'], false, 'idempotent');
  assert.equal(statSync(join(data, 'storage.key')).mode & 0o077, 0, 'storage key is 0600');
  assert.deepEqual(json(await mcsec(['kms', 'add-user', '--data-dir', data, 'sip:alice@example.org', 'sip:bob@example.org'])), { added: 2, present: 0 });
  const prov = await mcsec(['kms', 'provision', '--data-dir', data, '--users', '20']);
  const p = json(prov);
  assert.equal(p['keySetsMade'], 20);
  assert.match(prov.stderr, /key sets \[.*\] 20\/20 users/, 'a progress bar on stderr');
  const keys = json(await mcsec(['kms', 'issue-client-keys', '--data-dir', data, 'sip:alice@example.org']));
  assert.match(String(keys['trkId']), /^[0-9a-f]{8}$/);
  writeFileSync(join(dir, 'client-keys.json'), JSON.stringify(keys));

  // The IdMS stand-in of this test: a key pair and a JWKS file (the IdMS issue provides the real one).
  const idms = await generateKeyPair('ES256');
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(idms.publicKey)), kid: 'k1', alg: 'ES256' }] }));
  const tok = await new SignJWT({ mcptt_id: 'sip:alice@example.org', scope: 'openid 3gpp:mc:ptt_key_management_service' })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('https://idms.test').setAudience('kms').setExpirationTime('5m').sign(idms.privateKey);
  writeFileSync(join(dir, 'token'), tok);

  server = spawn(process.execPath, ['bin/mcsec.js', 'kms', 'serve', '--data-dir', data, '--port', '0', '--issuer', 'https://idms.test', '--audience', 'kms', '--jwks', join(dir, 'jwks.json')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    server?.stdout?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /listening on (https:\/\/\S+)/.exec(out);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    server?.on('exit', (code) => reject(new Error(`kms serve exited ${code}`)));
  });
  assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const fetched = json(await mcsec(['kms', 'fetch', '--kms', url, '--token', join(dir, 'token'), '--user', 'sip:alice@example.org', '--kms-uri', 'kms.example.org', '--client-keys', join(dir, 'client-keys.json'), '--ca', join(data, 'tls-cert.pem'), '--data-dir', join(dir, 'client'), '--json']));
  assert.equal(fetched['signature'], 'valid');
  assert.equal((fetched['keyPeriods'] as unknown[]).length, 2);
  assert.deepEqual(fetched['disagreements'], []);
  assert.ok(readFileSync(join(dir, 'client', 'storage.key')).length > 0);

  // A user the token does not name: one error line, non-zero exit, no keys.
  const refused = await mcsec(['kms', 'fetch', '--kms', url, '--token', join(dir, 'token'), '--user', 'sip:bob@example.org', '--kms-uri', 'kms.example.org', '--ca', join(data, 'tls-cert.pem'), '--data-dir', join(dir, 'client2')]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^mcsec: ERR_FORBIDDEN kms\.init: the KMS answered HTTP 403/);
  assert.equal(refused.stderr.trim().split('\n').length, 1);
  // A KMS the client is not configured for.
  const foreign = await mcsec(['kms', 'fetch', '--kms', url, '--token', join(dir, 'token'), '--user', 'sip:alice@example.org', '--kms-uri', 'kms.other.org', '--ca', join(data, 'tls-cert.pem'), '--data-dir', join(dir, 'client3')]);
  assert.equal(foreign.code, 1);
  assert.match(foreign.stderr, /^mcsec: ERR_(FORBIDDEN|BAD_VALUE) /);
});
