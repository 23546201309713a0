/**
 * The §E.6 key parameters on the command line: `mcsec mikey create --case` with a keyParameters
 * object, `mcsec mikey open --case` printing them as JSON (lowercase hex, ISO times), and
 * `mcsec decode mikey` describing the extension's Protected Payload header without secrets.
 */
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
const dir = mkdtempSync(join(tmpdir(), 'mcsec-key-parameters-'));
let files = 0;
const write = (value: unknown): string => {
  const path = join(dir, `case-${(files += 1)}.json`);
  writeFileSync(path, JSON.stringify(value));
  return path;
};

const time = '2026-11-28T12:00:00.000Z';
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
const keyParameters = {
  status: { securityGateway: true },
  activationTime: '2026-11-28T13:00:00.000Z',
  expiryTime: null,
  text: 'Fire A',
  mcGroupIds: ['sip:fire@example.org', { iei: 122, id: 'sip:rescue@example.org' }],
  reserved: { iei: 5, value: 'CAFE' },
};

function create(extra: Record<string, unknown>): { code: number | null; stdout: string; stderr: string } {
  return run([
    'mikey',
    'create',
    '--case',
    write({
      kms,
      initiator: { uri: gms, userSigningKeySSK: toHex(gmsPair.ssk), userPubTokenPVT: toHex(gmsPair.pvt) },
      responder: { uri: bob },
      keyType: 'GMK',
      key,
      keyId: '01234567',
      time,
      ...extra,
    }),
  ]);
}

const imessage = ((): string => {
  const r = create({ keyParameters });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
})();

test('create with keyParameters, then open: keyParameters is a JSON object with hex and ISO times', () => {
  const r = run(['mikey', 'open', '--case', write({ kms, receiver: { uri: bob, userDecryptKey: toHex(extractRsk(sakke.z, uid(bob))) }, imessage, at: 'message' })]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const out = JSON.parse(r.stdout) as { keyParameters: Record<string, unknown>; gukId: string };
  const kp = out.keyParameters;
  const pp = kp['protectedPayload'] as Record<string, unknown>;
  assert.equal(pp['dppkId'], `0x${out.gukId}`);
  assert.match(String(pp['iv']), /^[0-9a-f]{32}$/);
  assert.deepEqual(kp, {
    format: 'current',
    keyType: 'GMK',
    status: { revoked: false, securityGateway: true, undefinedBits: 0 },
    activationTime: '2026-11-28T13:00:00.000Z',
    expiryTime: null,
    text: 'Fire A',
    mcGroupIds: [
      { iei: 0, id: 'sip:fire@example.org' },
      { iei: 122, id: 'sip:rescue@example.org' },
    ],
    reserved: { iei: 5, value: 'cafe' },
    iei: 0,
    protectedPayload: {
      messageType: '0x43',
      protected: true,
      authenticated: false,
      dateTime: time,
      payloadId: 0,
      payloadSequenceNumber: 0,
      payloadAlgorithm: 'DP_AES_128_GCM',
      iv: pp['iv'],
      dppkId: pp['dppkId'],
      payload: { iei: 0, length: (pp['payload'] as { length: number }).length },
      iMessage: null,
    },
  });
});

test('decode mikey describes the extension header: algorithm, DPPK-ID = CSB-ID, Payload length; no plaintext, no key', () => {
  const r = run(['decode', 'mikey', imessage, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout) as { hdr: { csbId: string }; payloads: Record<string, unknown>[] };
  const ext = d.payloads[d.payloads.length - 1] as Record<string, unknown>;
  assert.equal(ext['extTypeName'], 'KEY_PARAMETERS');
  assert.equal(ext['data'], undefined);
  const kp = ext['keyParameters'] as Record<string, unknown>;
  assert.equal(kp['format'], 'current');
  assert.equal(kp['dppkIdIsCsbId'], true);
  const pp = kp['protectedPayload'] as Record<string, unknown>;
  assert.equal(pp['dppkId'], d.hdr.csbId);
  assert.equal(pp['payloadAlgorithm'], 'DP_AES_128_GCM');
  assert.equal(pp['dateTime'], time);
  assert.ok(!r.stdout.includes('Fire A') && !r.stdout.includes(key), 'no plaintext parameters, no key');
  const text = run(['decode', 'mikey', imessage]);
  assert.match(text.stdout, /@\d+ GENERAL_EXT\n(.*\n)*    keyParameters: \{"format":"current"/);
});

test('case-file keyParameters are checked: unknown member, wrong key type, groups for a PCK', () => {
  const unknown = create({ keyParameters: { colour: 'red' } });
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^mcsec: ERR_BAD_VALUE case\.keyParameters\.colour: is not a known member\n$/);
  const wrongType = create({ keyParameters: { keyType: 'PCK' } });
  assert.match(wrongType.stderr, /^mcsec: ERR_BAD_VALUE case\.keyParameters\.keyType: /);
  const pck = create({ keyType: 'PCK', keyId: '11234567', keyParameters: { mcGroupIds: ['sip:g@x'] } });
  assert.equal(pck.code, 1);
  assert.match(pck.stderr, /^mcsec: ERR_BAD_VALUE mikey\.keyParameters\.mcGroupIds: .*\[TS 33\.180 §E\.6\.3\]\n$/);
});
