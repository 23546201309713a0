// `mcsec decode sip | krr | kms-request` as a user runs them: a SIP MESSAGE whose multipart body
// carries an application/mikey I_MESSAGE and an SDP with a=key-mgmt:mikey, a signed nested KRR
// (with --verify), and a signed KMS request; errors as one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { SakkePublicKey, deriveUid, generateEccsiKmsKey, generateEccsiPair, generateKeyId, generateSakkeKmsKey, keyPeriodNoAt } from '../../src/crypto/index.js';
import { createSelfSignedCertificate } from '../../src/crypto/x509.js';
import { createIMessage } from '../../src/formats/mikey/index.js';
import { createEar } from '../../src/formats/ear/index.js';
import { encodeKmsRequest, encodeKrr } from '../../src/formats/kms-xml/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mcsec-decode-more-'));
const run = (args: string[]): { code: number | null; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, ['bin/mcsec.js', ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const file = (name: string, data: string | Uint8Array): string => {
  const f = join(dir, name);
  writeFileSync(f, data);
  return f;
};

function iMessage(): Uint8Array {
  const periods = { userKeyPeriod: 2_592_000, userKeyOffset: 0 };
  const kmsUri = 'kms.example.org';
  const now = new Date();
  const no = keyPeriodNoAt(now, periods.userKeyPeriod, periods.userKeyOffset);
  const uid = (uri: string): Uint8Array => deriveUid({ uri, kmsUri, ...periods, keyPeriodNo: no });
  const sakke = generateSakkeKmsKey();
  const eccsi = generateEccsiKmsKey();
  const pair = generateEccsiPair(eccsi, uid('sip:alice@example.org'));
  return createIMessage({
    keyType: 'CSK', key: new Uint8Array(randomBytes(16)), keyId: generateKeyId('CSK'), time: now,
    initiator: { uri: 'sip:alice@example.org', kmsUri, ...periods, kpak: eccsi.kpak, ...pair },
    responder: { uri: 'sip:mcptt.example.org', kmsUri, ...periods, kms: new SakkePublicKey(sakke.zT) },
  });
}

test('decode sip --json: headers, parts, and the MIKEY payloads of an application/mikey part and an SDP key-mgmt line', () => {
  const mikey = Buffer.from(iMessage()).toString('base64');
  const sdp = `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\na=key-mgmt:mikey ${mikey}\r\nm=audio 4000 RTP/AVP 96\r\n`;
  const body = `--b1\r\nContent-Type: application/mikey\r\n\r\n${mikey}\r\n--b1\r\nContent-Type: application/sdp\r\n\r\n${sdp}\r\n--b1--\r\n`;
  const msg = `MESSAGE sip:mcptt.example.org SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\nMax-Forwards: 70\r\n` +
    `f: <sip:alice@example.org>;tag=1\r\nt: <sip:mcptt.example.org>\r\ni: call-1@x\r\nCSeq: 1 MESSAGE\r\n` +
    `c: multipart/mixed;boundary=b1\r\nl: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const r = run(['decode', 'sip', file('m.sip', msg), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { method: string; headers: { name: string }[]; parts: { contentType: string; mikey?: unknown[] }[] };
  assert.equal(out.method, 'MESSAGE');
  assert.ok(out.headers.some((h) => h.name === 'Call-ID'), 'compact forms are named in full');
  assert.equal(out.parts.length, 2);
  assert.equal(out.parts[0]?.mikey?.length, 1);
  assert.equal(out.parts[1]?.mikey?.length, 1);
  assert.doesNotMatch(r.stdout, /"key"/);
  const text = run(['decode', 'sip', file('m2.sip', msg)]);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^MESSAGE sip:mcptt\.example\.org SIP\/2\.0/);
  assert.match(text.stdout, /part 0: application\/mikey/);
  const bad = run(['decode', 'sip', file('bad.sip', 'MESSAGE sip:x SIP/2.0\r\nContent-Length: 99\r\n\r\nx')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^mcsec: ERR_\w+ sip/);
});

test('decode krr --verify --json: a nested signed KRR with both signers; tampering is ERR_SIGNATURE', async () => {
  const a = await createSelfSignedCertificate({ commonName: 'processor.1' });
  const b = await createSelfSignedCertificate({ commonName: 'processor.2' });
  const base = { initiatorUri: 'sip:i@x', initiatorKmsUri: 'kms.i', receiverUri: 'sip:r@x', receiverKmsUri: 'kms.bad', initiatorKmsList: 'ANY' as const, receiverKmsList: ['kms.ok'] };
  const inner = encodeKrr({ ...base, krrCreatorUri: 'sip:p1@x', id: 'i1' }, a);
  const outer = encodeKrr({ ...base, krrCreatorUri: 'sip:p2@x', id: 'o1', received: inner }, b);
  const r = run(['decode', 'krr', file('k.xml', outer), '--verify', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { signature: string; signers: { krrCreatorUri: string }[]; received: { krrCreatorUri: string } };
  assert.equal(out.signature, 'valid');
  assert.deepEqual(out.signers.map((s) => s.krrCreatorUri), ['sip:p2@x', 'sip:p1@x']);
  assert.equal(out.received.krrCreatorUri, 'sip:p1@x');
  const t = run(['decode', 'krr', file('t.xml', outer.replace('kms.ok', 'kms.evil')), '--verify']);
  assert.equal(t.code, 1);
  assert.match(t.stderr, /^mcsec: ERR_SIGNATURE krr\.Signature/);
});

test('decode kms-request --json: the D.2.2 fields under their Annex D names', () => {
  const xml = encodeKmsRequest({ userUri: 'sip:alice@example.org', kmsUri: 'kms.example.org', clientReqUrl: 'https://k/keymanagement/identity/v1/init', trkId: '01020304', signatureId: '0a0b0c0d' }, new Uint8Array(32).fill(9));
  const r = run(['decode', 'kms-request', file('r.xml', xml), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual([out['UserUri'], out['KmsUri'], out['TrK-ID'], out['Signature-ID'], out['signed']], ['sip:alice@example.org', 'kms.example.org', '01020304', '0a0b0c0d', true]);
});

test('decode ear --json: the Annex J fields, the signer, the signature not claimed verified; truncated is one error line', () => {
  const periods = { userKeyPeriod: 2_592_000, userKeyOffset: 0 };
  const kmsUri = 'kms.example.org';
  const at = new Date('2026-11-29T10:00:00Z');
  const uid = deriveUid({ uri: 'sip:dispatcher@example.org', kmsUri, ...periods, keyPeriodNo: keyPeriodNoAt(at, periods.userKeyPeriod, periods.userKeyOffset) });
  const eccsi = generateEccsiKmsKey();
  const pair = generateEccsiPair(eccsi, uid);
  const ear = createEar(
    { dateTime: at, sourceRole: 1, sourceId: 'sip:dispatcher@example.org', targetRole: 1, targetId: 'sip:bob@example.org', request: { requestType: 1, requestId: 0x0102 } },
    { uri: 'sip:dispatcher@example.org', kmsUri, ...periods, kpak: eccsi.kpak, ...pair },
  );
  const r = run(['decode', 'ear', file('e.bin', ear), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { sourceId: string; targetId: string; dateTime: string; request: { requestId: number }; signature: { signingKmsUri: string; verified: boolean; octets: number } };
  assert.deepEqual([out.sourceId, out.targetId, out.dateTime, out.request.requestId], ['sip:dispatcher@example.org', 'sip:bob@example.org', '2026-11-29T10:00:00.000Z', 0x0102]);
  assert.deepEqual([out.signature.signingKmsUri, out.signature.verified, out.signature.octets], [kmsUri, false, 129]);
  const bad = run(['decode', 'ear', file('t.bin', ear.subarray(0, 20))]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^mcsec: ERR_\w+ ear/);
});
