// `mcsec idms …`, `mcsec login` and `mcsec token-exchange` as an operator and a user run them,
// through the bin: an IdMS provisioned from nothing (add-user with a password file, add-client),
// `idms serve` printing `listening on <url>`, `login` writing a 0600 token file (and printing no
// token), `login --refresh`, `kms fetch --token <that file>` against `kms serve` trusting the IdMS
// JWKS over HTTPS, a second IdMS as partner domain for `token-exchange`, and errors as one line.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/idms.js';
import { json, mcsec } from '../helpers/cli.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mcsec-idms-cli-'));
const idmsData = join(dir, 'idms');
const partnerData = join(dir, 'idms-b');
const kmsData = join(dir, 'kms');

const servers: ChildProcess[] = [];
after(() => {
  for (const s of servers) s.kill('SIGTERM');
});

function serve(args: readonly string[]): Promise<string> {
  const server = spawn(process.execPath, ['bin/mcsec.js', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MCSEC_STORAGE_KEY: '' } });
  servers.push(server);
  return new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    server.stderr?.setEncoding('utf8').on('data', (c: string) => (err += c));
    server.stdout?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /listening on (https:\/\/\S+)/.exec(out);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    server.on('exit', (code) => reject(new Error(`${args.slice(0, 2).join(' ')} exited ${code}: ${err}`)));
  });
}

test('mcsec idms + login + kms fetch + token-exchange', async () => {
  const pw = join(dir, 'alice.pw');
  writeFileSync(pw, 'correct horse battery staple\n', { mode: 0o600 });
  const s = ['--data-dir', idmsData];
  const user = json(await mcsec(['idms', 'add-user', 'alice', '--password-file', pw, '--mcptt-id', 'sip:alice@example.org', ...s]));
  assert.equal(user['added'], true);
  assert.deepEqual(user['mcServiceIds'], { mcptt_id: 'sip:alice@example.org' });
  assert.equal(json(await mcsec(['idms', 'add-user', 'alice', '--password-file', pw, '--mcptt-id', 'sip:alice@example.org', ...s]))['added'], false);
  const none = await mcsec(['idms', 'add-user', 'bob', '--password-file', pw, ...s]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^mcsec: ERR_USAGE --mcptt-id: at least one MC service ID is required/);
  const client = json(await mcsec(['idms', 'add-client', 'mcptt-client', '--redirect-uri', 'http://127.0.0.1/cb', ...s]));
  assert.deepEqual(client['redirect_uris'], ['http://127.0.0.1/cb']);
  assert.equal(client['token_endpoint_auth_method'], 'none');
  const badRedirect = await mcsec(['idms', 'add-client', 'x', '--redirect-uri', 'http://evil.example/cb', ...s]);
  assert.equal(badRedirect.code, 2);
  assert.equal(statSync(join(idmsData, 'storage.key')).mode & 0o077, 0);

  const partnerPort = await freePort();
  const partner = `https://127.0.0.1:${partnerPort}`;
  writeFileSync(join(dir, 'idms-a.json'), JSON.stringify({ resources: [{ uri: 'https://kms.example.org' }], partners: [{ resource: partner }], ttl: { accessToken: 900 }, clockToleranceSec: 10 }));
  const url = await serve(['idms', 'serve', ...s, '--port', '0', '--config', join(dir, 'idms-a.json')]);
  assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const ca = join(idmsData, 'tls-cert.pem');

  // login: the token file is 0600 and holds the tokens; stdout names none of them.
  const tokFile = join(dir, 'tokens.json');
  const login = ['login', '--idms', url, '--client-id', 'mcptt-client', '--ca', ca, '--out', tokFile];
  const r = await mcsec([...login, '--user', 'alice', '--password-file', pw, '--scope', 'openid 3gpp:mc:ptt_key_management_service', '--resource', 'https://kms.example.org']);
  const summary = json(r);
  assert.deepEqual(summary['mc_service_ids'], { mcptt_id: 'sip:alice@example.org' });
  assert.equal(summary['scope'], '3gpp:mc:ptt_key_management_service');
  assert.equal(summary['refresh_token'], true);
  assert.equal(statSync(tokFile).mode & 0o777, 0o600);
  const stored = JSON.parse(readFileSync(tokFile, 'utf8')) as Record<string, string>;
  assert.match(stored['access_token'] ?? '', /^eyJ/);
  assert.ok(!r.stdout.includes(stored['access_token'] ?? '-') && !r.stdout.includes(stored['refresh_token'] ?? '-'));
  const refreshed = json(await mcsec([...login, '--refresh']));
  assert.equal(refreshed['scope'], '3gpp:mc:ptt_key_management_service');
  assert.notEqual((JSON.parse(readFileSync(tokFile, 'utf8')) as Record<string, string>)['access_token'], stored['access_token']);

  const wrong = join(dir, 'wrong.pw');
  writeFileSync(wrong, 'nope');
  const refused = await mcsec([...login, '--user', 'alice', '--password-file', wrong, '--out', join(dir, 'x.json')]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^mcsec: ERR_UNAUTHORIZED idms\.login: the IdMS did not accept the MC ID and password/m);

  // The KMS trusts the IdMS JWKS over HTTPS; kms fetch takes the token file.
  const k = ['--data-dir', kmsData, '--kms-uri', 'kms.example.org'];
  json(await mcsec(['kms', 'init-domain', ...k, '--user-key-period', '86400']));
  json(await mcsec(['kms', 'add-user', '--data-dir', kmsData, 'sip:alice@example.org']));
  const kmsUrl = await serve(['kms', 'serve', '--data-dir', kmsData, '--port', '0', '--issuer', url, '--audience', 'https://kms.example.org', '--jwks', `${url}/jwks`, '--jwks-ca', ca]);
  const fetched = json(await mcsec(['kms', 'fetch', '--kms', kmsUrl, '--token', tokFile, '--user', 'sip:alice@example.org', '--kms-uri', 'kms.example.org', '--ca', join(kmsData, 'tls-cert.pem'), '--data-dir', join(dir, 'client'), '--json']));
  assert.equal((fetched['keyPeriods'] as unknown[]).length, 2);
  const expired = { ...stored, expires_at: 1 };
  writeFileSync(join(dir, 'expired.json'), JSON.stringify(expired));
  const late = await mcsec(['kms', 'fetch', '--kms', kmsUrl, '--token', join(dir, 'expired.json'), '--user', 'sip:alice@example.org', '--ca', join(kmsData, 'tls-cert.pem'), '--data-dir', join(dir, 'client2')]);
  assert.equal(late.code, 1);
  assert.match(late.stderr, /^mcsec: ERR_EXPIRED --token\.expires_at: the stored access token has expired/);

  // A partner IdMS trusting the first one's JWKS (B.7): token exchange, then the partner token.
  const ps = ['--data-dir', partnerData];
  json(await mcsec(['idms', 'add-client', 'mcptt-client', '--redirect-uri', 'http://127.0.0.1/cb', ...ps]));
  writeFileSync(join(dir, 'idms-b.json'), JSON.stringify({ resources: [{ uri: 'https://gms.b.example.org' }], trustedIdms: [{ issuer: url, jwksUri: `${url}/jwks`, caFile: ca }] }));
  const partnerUrl = await serve(['idms', 'serve', ...ps, '--port', String(partnerPort), '--config', join(dir, 'idms-b.json')]);
  assert.equal(partnerUrl, partner);
  const ptFile = join(dir, 'partner.json');
  const pt = json(await mcsec(['token-exchange', '--idms', url, '--token', tokFile, '--partner', partner, '--client-id', 'mcptt-client', '--scope', 'openid 3gpp:mc:ptt_group_management_service', '--ca', ca, '--partner-ca', join(partnerData, 'tls-cert.pem'), '--out', ptFile]));
  assert.equal(pt['issuer'], partner);
  assert.equal(pt['scope'], '3gpp:mc:ptt_group_management_service');
  assert.equal(statSync(ptFile).mode & 0o777, 0o600);
});
