/** `mcsec mikey create` and `mcsec mikey open` with case files: a round trip and explained refusals. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  deriveUid,
  extractRsk,
  generateEccsiKmsKey,
  generateEccsiPair,
  generateSakkeKmsKey,
  keyPeriodNoAt,
} from '../../src/crypto/index.js';
import { toHex } from '../../src/util/index.js';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const run = (args: string[]): { code: number | null; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'mcsec.js'), ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const dir = mkdtempSync(join(tmpdir(), 'mcsec-mikey-case-'));
const write = (name: string, value: unknown): string => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
};

const time = '2026-11-28T12:00:00Z';
const periods = { userKeyPeriod: 2_592_000, userKeyOffset: 0 };
const kmsUri = 'kms.example.org';
const sakke = generateSakkeKmsKey();
const eccsi = generateEccsiKmsKey();
const period = keyPeriodNoAt(new Date(time), periods.userKeyPeriod, periods.userKeyOffset);
const uid = (uri: string): Uint8Array => deriveUid({ uri, kmsUri, ...periods, keyPeriodNo: period });
const gms = 'sip:gms@example.org';
const bob = 'sip:bob@example.org';
const gmsPair = generateEccsiPair(eccsi, uid(gms));
const kms = { uri: kmsUri, ...periods, pubEncKey: toHex(sakke.zT), pubAuthKey: toHex(eccsi.kpak) };
const key = '00112233445566778899aabbccddeeff';

function created(extra: Record<string, unknown> = {}): string {
  const casePath = write(`create-${Math.random()}.json`, {
    kms,
    initiator: { uri: gms, userSigningKeySSK: toHex(gmsPair.ssk), userPubTokenPVT: toHex(gmsPair.pvt) },
    responder: { uri: bob },
    keyType: 'GMK',
    key,
    keyId: '01234567',
    time,
    ...extra,
  });
  const r = run(['mikey', 'create', '--case', casePath]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^mikey [A-Za-z0-9+/]+=*\n$/);
  return r.stdout.trim();
}

test('create then open: the GMK, its GMK-ID from the GUK-ID, and the identities come back', () => {
  const imessage = created();
  const openPath = write('open.json', { kms, receiver: { uri: bob, userDecryptKey: toHex(extractRsk(sakke.z, uid(bob))) }, imessage, at: 'message' });
  const r = run(['mikey', 'open', '--case', openPath]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const out: unknown = JSON.parse(r.stdout);
  assert.ok(typeof out === 'object' && out !== null);
  const o = out as Record<string, unknown>;
  assert.equal(o['keyType'], 'GMK');
  assert.equal(o['key'], key);
  assert.equal(o['keyId'], '01234567');
  assert.equal(typeof o['gukId'], 'string');
  assert.notEqual(o['gukId'], '01234567');
  assert.equal(o['initiatorUri'], gms);
  assert.equal(o['responderUri'], bob);
  assert.equal(o['signature'], 'valid');
  assert.equal(o['keyParameters'], null);
});

test("open with another user's RSK explains the failure as JSON and exits 1", () => {
  const imessage = created();
  const openPath = write('open-bad.json', {
    kms,
    receiver: { uri: bob, userDecryptKey: toHex(extractRsk(sakke.z, uid('sip:carol@example.org'))) },
    imessage,
    at: 'message',
  });
  const r = run(['mikey', 'open', '--case', openPath]);
  assert.equal(r.code, 1);
  assert.deepEqual(JSON.parse(r.stdout), {
    error: {
      code: 'ERR_INVALID_KEY',
      field: 'sakke.rsk',
      rule: '<[b]P + Z, RSK> must equal g',
      message: 'sakke.rsk <[b]P + Z, RSK> must equal g (RFC 6508 §6.1.2)',
    },
  });
});

test('open at a time outside the window is ERR_EXPIRED', () => {
  const imessage = created();
  const openPath = write('open-late.json', {
    kms,
    receiver: { uri: bob, userDecryptKey: toHex(extractRsk(sakke.z, uid(bob))) },
    imessage,
    at: '2026-11-28T13:00:00Z',
  });
  const r = run(['mikey', 'open', '--case', openPath]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /"code":"ERR_EXPIRED"/);
});

test('a malformed case file is one ERR_BAD_VALUE line naming the member', () => {
  const bad = write('bad.json', { kms, initiator: {}, responder: { uri: bob }, keyType: 'GMK', key, keyId: '01234567' });
  const r = run(['mikey', 'create', '--case', bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^mcsec: ERR_BAD_VALUE case\.initiator\.uri: is required\n$/);
});
