/** `mcsec decode mikey`: binary, base64 and SDP forms, text and --json, typed errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as c from '../../src/crypto/index.js';
import {
  CsIdMapType,
  DATA_TYPE_SAKKE,
  IdRole,
  IdType,
  PayloadType,
  SignType,
  TsType,
  encodeMikey,
  sakkePayload,
} from '../../src/formats/mikey/index.js';
import { toBase64, utf8 } from '../../src/util/index.js';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const mcsec = (args: string[], input?: string): { code: number | null; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'mcsec.js'), ...args], { cwd: root, encoding: 'utf8', input });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

const s = c.generateSakkeKmsKey();
const kms = new c.SakkePublicKey(s.zT);
const e = c.generateEccsiKmsKey();
const gms = new Uint8Array(randomBytes(32));
const bob = new Uint8Array(randomBytes(32));
const csbId = c.generateKeyId('GMK');
const message = encodeMikey(
  {
    hdr: { version: 1, dataType: DATA_TYPE_SAKKE, v: false, prfFunc: 1, csbId, csIdMapType: CsIdMapType.EMPTY, srtpIds: [], genericIds: [] },
    payloads: [
      { type: PayloadType.T, tsType: TsType.NTP_UTC, value: 0xe9d0_0000_0000_0000n },
      { type: PayloadType.RAND, rand: new Uint8Array(16).fill(7) },
      { type: PayloadType.IDR, role: IdRole.INITIATOR, idType: IdType.URI, data: utf8('sip:gms@example.org') },
      { type: PayloadType.IDR, role: IdRole.RESPONDER, idType: IdType.URI, data: utf8('sip:bob@example.org') },
      { type: PayloadType.IDR, role: IdRole.INITIATOR_KMS, idType: IdType.URI, data: utf8('kms.example.org') },
      { type: PayloadType.IDR, role: IdRole.RESPONDER_KMS, idType: IdType.URI, data: utf8('kms.example.org') },
      sakkePayload(c.encapsulateSsv(kms, bob, new Uint8Array(randomBytes(16)))),
    ],
  },
  { sType: SignType.ECCSI, signatureLength: 129, sign: (x) => c.signEccsi(x, { ...c.generateEccsiPair(e, gms), kpak: e.kpak, id: gms }) },
);
const dir = mkdtempSync(join(tmpdir(), 'mcsec-mikey-'));

test('binary file, base64 argument, SDP line on stdin: the same JSON description', () => {
  const bin = join(dir, 'm.bin');
  writeFileSync(bin, message);
  const a = mcsec(['decode', 'mikey', bin, '--json']);
  assert.equal(a.code, 0, a.stderr);
  const b = mcsec(['decode', 'mikey', toBase64(message), '--json']);
  const d = mcsec(['decode', 'mikey', '-', '--json'], `a=key-mgmt:mikey ${toBase64(message)}\n`);
  assert.equal(b.stdout, a.stdout);
  assert.equal(d.stdout, a.stdout);
  const j: unknown = JSON.parse(a.stdout);
  assert.ok(typeof j === 'object' && j !== null);
  const hdr = Reflect.get(j, 'hdr') as Record<string, unknown>;
  assert.equal(hdr['dataType'], 26);
  assert.equal(hdr['csbId'], `0x${csbId.toString(16).padStart(8, '0')}`);
  const payloads = Reflect.get(j, 'payloads') as Record<string, unknown>[];
  assert.deepEqual(payloads.map((p) => p['name']), ['T', 'RAND', 'IDR', 'IDR', 'IDR', 'IDR', 'SAKKE']);
  assert.deepEqual(payloads.map((p) => p['offset']), [10, 20, 38, 62, 86, 106, 126]);
  assert.equal(payloads[2]?.['id'], 'sip:gms@example.org');
  assert.equal(payloads[6]?.['length'], 273);
  const sign = Reflect.get(j, 'sign') as Record<string, unknown>;
  assert.equal(sign['sType'], 2);
  assert.equal(sign['length'], 129);
  assert.equal(sign['signedLength'], message.length - 129);
});

test('the text form names every payload with its offset', () => {
  const r = mcsec(['decode', 'mikey', `mikey ${toBase64(message)}`]);
  assert.equal(r.code, 0, r.stderr);
  for (const line of ['@0 HDR', '@10 T', '@20 RAND', '@38 IDR', '@126 SAKKE', `@${message.length - 131} SIGN`, '    id: sip:bob@example.org']) {
    assert.ok(r.stdout.includes(line), `missing ${line}`);
  }
});

test('a truncated message: exit 1, one line naming the code and field', () => {
  const r = mcsec(['decode', 'mikey', toBase64(message.subarray(0, 100))]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^mcsec: ERR_TRUNCATED mikey\.payload4\.idData: needs \d+ octets, \d+ left \[RFC 3830 §6\]\n$/);
});
