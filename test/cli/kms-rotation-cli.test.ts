// `mcsec kms rotate-client-keys` and `mcsec kms fetch` across a TrK / InK rotation (TS 33.180
// §5.3.3 step 2, Annex D.3): the operator schedules it, the next fetch applies the new keys and
// keeps them sealed in the client data folder (not the plain --client-keys file), the fetch after
// it uses them although it is given the old file, and the old keys are refused from then on.
// `kms serve --rotate-client-keys-after 30` leaves keys younger than 30 days alone.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { json, mcsec } from '../helpers/cli.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mcsec-kms-rot-cli-'));
const data = join(dir, 'kms');
const ALICE = 'sip:alice@example.org';

let server: ChildProcess | undefined;
after(() => server?.kill('SIGTERM'));

test('mcsec kms rotate-client-keys: the next fetch takes the new TrK / InK, keeps them sealed and uses them; the old file is refused by the KMS', async () => {
  const s = ['--data-dir', data, '--kms-uri', 'kms.example.org'];
  json(await mcsec(['kms', 'init-domain', ...s, '--user-key-period', '86400']));
  json(await mcsec(['kms', 'add-user', '--data-dir', data, ALICE]));
  const issued = json(await mcsec(['kms', 'issue-client-keys', '--data-dir', data, ALICE]));
  writeFileSync(join(dir, 'client-keys.json'), JSON.stringify(issued));
  const idms = await generateKeyPair('ES256');
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(idms.publicKey)), kid: 'k1', alg: 'ES256' }] }));
  const tok = await new SignJWT({ mcptt_id: ALICE, scope: 'openid 3gpp:mc:ptt_key_management_service' })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('https://idms.test').setAudience('kms').setExpirationTime('5m').sign(idms.privateKey);
  writeFileSync(join(dir, 'token'), tok);
  server = spawn(process.execPath, ['bin/mcsec.js', 'kms', 'serve', '--data-dir', data, '--port', '0', '--issuer', 'https://idms.test', '--audience', 'kms', '--jwks', join(dir, 'jwks.json'), '--rotate-client-keys-after', '30'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    server?.stdout?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /listening on (https:\/\/\S+)/.exec(out);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    server?.on('exit', (code) => reject(new Error(`kms serve exited ${code}`)));
  });
  const fetch = (client: string) => mcsec(['kms', 'fetch', '--kms', url, '--token', join(dir, 'token'), '--user', ALICE, '--kms-uri', 'kms.example.org', '--client-keys', join(dir, 'client-keys.json'), '--ca', join(data, 'tls-cert.pem'), '--data-dir', join(dir, client), '--no-next', '--json']);

  const before = json(await fetch('client'));
  assert.deepEqual(before['clientKeys'], { trkId: issued['trkId'], inkId: issued['inkId'], rotated: false });

  // Usage errors name the option; then the rotation of both keys (neither flag: both).
  const nobody = await mcsec(['kms', 'rotate-client-keys', '--data-dir', data, '--user', 'sip:nobody@example.org']);
  assert.equal(nobody.code, 1);
  assert.match(nobody.stderr, /^mcsec: ERR_CONFIG --user: must be a user of the domain/);
  const rotated = json(await mcsec(['kms', 'rotate-client-keys', '--data-dir', data, '--user', ALICE]));
  const [r] = rotated['rotations'] as { trkId: string; newTrkId: string; newInkId: string; created: boolean }[];
  assert.equal(r?.trkId, issued['trkId']);
  assert.match(r?.newTrkId ?? '', /^[0-9a-f]{8}$/);
  assert.match(r?.newInkId ?? '', /^[0-9a-f]{8}$/);
  assert.equal(r?.created, true);
  assert.doesNotMatch(JSON.stringify(rotated), /"(trk|ink)"/, 'IDs only, never keys');

  const during = json(await fetch('client'));
  assert.deepEqual(during['clientKeys'], { trkId: r?.newTrkId, inkId: r?.newInkId, rotated: true });
  // Sealed in the client data folder: no key in clear there.
  const [userDir] = readdirSync(join(dir, 'client', 'keys'));
  const held = readFileSync(join(dir, 'client', 'keys', userDir ?? '', 'client-keys.json'), 'utf8');
  assert.match(held, /"previousTrkIds": \[\s*"[0-9a-f]{8}"\s*\]/);
  assert.doesNotMatch(held, /[0-9a-f]{64}/i, 'no 256-bit key in hex');

  // Given the old file again, the client uses the keys it holds; the KMS retired the old ones.
  const afterwards = json(await fetch('client'));
  assert.deepEqual(afterwards['clientKeys'], { trkId: r?.newTrkId, inkId: r?.newInkId, rotated: false });
  const stale = await fetch('fresh-client');
  assert.equal(stale.code, 1);
  assert.match(stale.stderr, /^mcsec: ERR_FORBIDDEN kms\.init: the KMS answered HTTP 403: ERR_UNKNOWN_KEY kmsRequest\.TrK-ID/);
});
