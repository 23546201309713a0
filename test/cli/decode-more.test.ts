// `mcsec decode sip | krr | kms-request` as a user runs them: a SIP MESSAGE whose multipart body
// carries an application/mikey I_MESSAGE and an SDP with a=key-mgmt:mikey, a protected and signed
// MESSAGE opened with --csk/--user (TS 33.180 §9.3) and refused with a wrong key, a signed nested
// KRR (with --verify), and a signed KMS request; errors as one line.
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
import { MCPTT_INFO_POLICY, MCPTT_SIGNED_CONTENT_TYPE, protectXml, signXmlBodies } from '../../src/formats/xmlenc/index.js';

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
  // The same KRR as the body of a 488 (Annex D.4.1), read by decode sip.
  const res = `SIP/2.0 488 Not Acceptable Here\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK9\r\nFrom: <sip:i@x>;tag=1\r\nTo: <sip:i@x>;tag=2\r\n` +
    `Call-ID: c9@x\r\nCSeq: 1 REGISTER\r\nContent-Type: application/vnd.3gpp.kmsredirectresponse+xml\r\nContent-Length: ${Buffer.byteLength(outer)}\r\n\r\n${outer}`;
  const s = run(['decode', 'sip', file('488.sip', res), '--json']);
  assert.equal(s.code, 0, s.stderr);
  const sip = JSON.parse(s.stdout) as { status: number; parts: { krr?: { krrCreatorUri: string; receiverKmsList: string[] } }[] };
  assert.deepEqual([sip.status, sip.parts[0]?.krr?.krrCreatorUri, sip.parts[0]?.krr?.receiverKmsList], [488, 'sip:p2@x', ['kms.ok']]);
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

// A MESSAGE as a client sends it to its MCX server: mcpttinfo with what MCPTT_INFO_POLICY lists
// encrypted under the CSK (§9.3.4), an application/mikey part, and an HMAC signature over the
// mcpttinfo part by Content-ID (§9.3.5). All made here, at test time.
const cskHex = '00112233445566778899aabbccddeeff';
const cskIdHex = '2123abcd';
const alice = 'sip:alice@example.org';
const mcpttInfo = `<?xml version="1.0" encoding="UTF-8"?>
<mcpttinfo xmlns="urn:3gpp:ns:mcpttInfo:1.0">
  <mcptt-Params>
    <mcptt-access-token><mcpttString>token-plaintext-42</mcpttString></mcptt-access-token>
    <session-type>private</session-type>
    <mcptt-calling-user-id><mcpttURI>sip:alice@example.org</mcpttURI></mcptt-calling-user-id>
  </mcptt-Params>
</mcpttinfo>`;

function protectedMessage(o: { tamperSignature?: boolean } = {}): string {
  const key = { xpk: Buffer.from(cskHex, 'hex'), xpkId: Number.parseInt(cskIdHex, 16), purpose: 'CSK' as const, mcServiceUserId: alice };
  const info = protectXml(mcpttInfo, { key, policy: MCPTT_INFO_POLICY });
  const signed = signXmlBodies([{ contentId: 'info@alice.example.org', content: info }], { key });
  const sigs = o.tamperSignature === true ? signed.replace(/<ds:DigestValue>(.)/, (_m, c: string) => `<ds:DigestValue>${c === 'A' ? 'B' : 'A'}`) : signed;
  const mikey = Buffer.from(iMessage()).toString('base64');
  const body =
    `--b2\r\nContent-Type: application/vnd.3gpp.mcptt-info+xml\r\nContent-ID: <info@alice.example.org>\r\n\r\n${info}\r\n` +
    `--b2\r\nContent-Type: application/mikey\r\n\r\n${mikey}\r\n` +
    `--b2\r\nContent-Type: ${MCPTT_SIGNED_CONTENT_TYPE}\r\n\r\n${sigs}\r\n--b2--\r\n`;
  return `MESSAGE sip:mcptt.example.org SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK2\r\nMax-Forwards: 70\r\n` +
    `From: <${alice}>;tag=2\r\nTo: <sip:mcptt.example.org>\r\nCall-ID: call-2@x\r\nCSeq: 1 MESSAGE\r\n` +
    `Content-Type: multipart/mixed;boundary=b2\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

test('decode sip --csk --csk-id --user: the protected parts decrypted (plaintext shown), the signature verified, MIKEY kept (§9.3)', () => {
  const f = file('p.sip', protectedMessage());
  assert.doesNotMatch(protectedMessage(), /token-plaintext-42/, 'the fixture is protected');
  const keyArgs = ['--csk', cskHex, '--csk-id', cskIdHex, '--user', alice];
  const r = run(['decode', 'sip', f, '--json', ...keyArgs]);
  assert.equal(r.code, 0, r.stderr);
  type Xml = { protection: string; decryptedElements: string[]; decryptedAttributes: string[]; xpkIds: string[]; plaintext?: string; signature?: { by: number; verified: boolean }; covers?: string[]; verified?: boolean };
  const out = JSON.parse(r.stdout) as { parts: { contentType: string; mikey?: unknown[]; xml?: Xml }[] };
  const [info, mikey, sigs] = out.parts;
  assert.equal(info?.xml?.protection, 'opened');
  assert.deepEqual(info.xml.decryptedElements, ['xml.mcpttinfo.mcptt-Params.mcptt-access-token', 'xml.mcpttinfo.mcptt-Params.mcptt-calling-user-id']);
  assert.deepEqual(info.xml.xpkIds, [cskIdHex]);
  assert.match(info.xml.plaintext ?? '', /<mcpttString[^>]*>token-plaintext-42<\/mcpttString>/);
  assert.deepEqual(info.xml.signature, { by: 2, verified: true });
  assert.equal(mikey?.mikey?.length, 1, 'the application/mikey part is still decoded');
  assert.deepEqual([sigs?.xml?.covers, sigs?.xml?.verified], [['info@alice.example.org'], true]);
  assert.ok(!r.stdout.includes(cskHex), 'the key is not printed');
  // --csk @file: the key read from a file (not in the process list)
  const fromFile = run(['decode', 'sip', f, '--json', '--csk', `@${file('csk.hex', `${cskHex}\n`)}`, '--csk-id', cskIdHex, '--user', alice]);
  assert.equal(fromFile.code, 0, fromFile.stderr);
  assert.equal((JSON.parse(fromFile.stdout) as { parts: { xml?: { protection: string } }[] }).parts[0]?.xml?.protection, 'opened');
  assert.match(run(['decode', 'sip', f, '--csk', '@/nonexistent/csk.hex', '--csk-id', cskIdHex, '--user', alice]).stderr, /ERR_IO --csk/);

  const text = run(['decode', 'sip', f, ...keyArgs]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /decrypted with XPK-ID 2123abcd:\n\s+element xml\.mcpttinfo\.mcptt-Params\.mcptt-access-token/);
  assert.match(text.stdout, /signed \(part 2\): verified/);
  assert.match(text.stdout, /token-plaintext-42/);

  const noKey = run(['decode', 'sip', f, '--json']);
  assert.equal(noKey.code, 0, noKey.stderr);
  const plain = JSON.parse(noKey.stdout) as { parts: { xml?: Xml }[] };
  assert.equal(plain.parts[0]?.xml?.protection, 'not-opened');
  assert.deepEqual(plain.parts[0]?.xml?.signature, { by: 2, verified: false });
  assert.doesNotMatch(noKey.stdout, /token-plaintext-42/);
});

test('decode sip refuses a wrong CSK, an unknown CSK-ID, a broken signature and a key without --user: one line with code, field, clause', () => {
  const f = file('p2.sip', protectedMessage());
  const wrong = run(['decode', 'sip', f, '--csk', 'ffeeddccbbaa99887766554433221100', '--csk-id', cskIdHex, '--user', alice]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /^mcsec: ERR_SIGNATURE sip\.body\.part2\.signatures\.Signature\[0\]: .*\[TS 33\.180 §9\.3\.5\]\n$/);
  const wrongUser = run(['decode', 'sip', file('p3.sip', protectedMessage()), '--csk', cskHex, '--csk-id', cskIdHex, '--user', 'sip:bob@example.org']);
  assert.equal(wrongUser.code, 1, 'P0 is part of the key (§F.1.4)');
  assert.match(wrongUser.stderr, /^mcsec: ERR_SIGNATURE sip\.body\.part2/);
  const unknown = run(['decode', 'sip', f, '--csk', cskHex, '--csk-id', '2000beef', '--user', alice]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^mcsec: ERR_UNKNOWN_KEY sip\.body\.part2\.signatures\.Signature\[0\]\.KeyInfo\.KeyName: .*\[TS 33\.180 §9\.3\.3\]\n$/);
  const broken = run(['decode', 'sip', file('p4.sip', protectedMessage({ tamperSignature: true })), '--csk', cskHex, '--csk-id', cskIdHex, '--user', alice]);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /^mcsec: ERR_SIGNATURE sip\.body\.part2\.signatures\.Signature\[0\]/);
  const noUser = run(['decode', 'sip', f, '--csk', cskHex, '--csk-id', cskIdHex]);
  assert.equal(noUser.code, 2);
  assert.match(noUser.stderr, /^mcsec: ERR_USAGE --user: .*\[TS 33\.180 §F\.1\.4\]\n$/);
});

test('decode sip: an encrypted part without a signature, wrong key → ERR_DECRYPT in that part', () => {
  const key = { xpk: Buffer.from(cskHex, 'hex'), xpkId: Number.parseInt(cskIdHex, 16), purpose: 'CSK' as const, mcServiceUserId: alice };
  const info = protectXml(mcpttInfo, { key, policy: MCPTT_INFO_POLICY });
  const msg = `MESSAGE sip:mcptt.example.org SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK3\r\nMax-Forwards: 70\r\n` +
    `From: <${alice}>;tag=3\r\nTo: <sip:mcptt.example.org>\r\nCall-ID: call-3@x\r\nCSeq: 1 MESSAGE\r\n` +
    `Content-Type: application/vnd.3gpp.mcptt-info+xml\r\nContent-Length: ${Buffer.byteLength(info)}\r\n\r\n${info}`;
  const f = file('p5.sip', msg);
  const ok = run(['decode', 'sip', f, '--csk', cskHex, '--csk-id', cskIdHex, '--user', alice]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /not signed/);
  const r = run(['decode', 'sip', f, '--csk', 'ffeeddccbbaa99887766554433221100', '--csk-id', cskIdHex, '--user', alice]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^mcsec: ERR_DECRYPT sip\.body\.part0\.xml\.mcpttinfo\.mcptt-Params\.mcptt-access-token\.EncryptedData: .*\[TS 33\.180 §9\.3\.4\.2\]\n$/);
});

test('decode sip --spk --spk-id --user: a server-to-server body under an SPK (§9.2.3); an ID of another purpose is a usage error', () => {
  const spkHex = 'ffeeddccbbaa99887766554433221100';
  const key = { xpk: Buffer.from(spkHex, 'hex'), xpkId: 0x3765_4321, purpose: 'SPK' as const, mcServiceUserId: alice };
  const info = protectXml(mcpttInfo, { key, policy: MCPTT_INFO_POLICY, wholeDocument: { messageType: 'GROUP CALL REQUEST' } });
  const msg = `MESSAGE sip:mcx.partner.example SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK4\r\nMax-Forwards: 70\r\n` +
    `From: <sip:mcx.example.org>;tag=4\r\nTo: <sip:mcx.partner.example>\r\nCall-ID: call-4@x\r\nCSeq: 1 MESSAGE\r\n` +
    `Content-Type: application/vnd.3gpp.mcptt-info+xml\r\nContent-Length: ${Buffer.byteLength(info)}\r\n\r\n${info}`;
  const f = file('s.sip', msg);
  const r = run(['decode', 'sip', f, '--json', '--spk', spkHex, '--spk-id', '37654321', '--user', alice]);
  assert.equal(r.code, 0, r.stderr);
  const x = (JSON.parse(r.stdout) as { parts: { xml: { decryptedElements: string[]; messageType: string; xpkIds: string[]; plaintext: string } }[] }).parts[0]?.xml;
  assert.deepEqual([x?.decryptedElements[0], x?.messageType, x?.xpkIds], ['xml', 'GROUP CALL REQUEST', ['37654321']]);
  assert.match(x?.plaintext ?? '', /token-plaintext-42/);
  const asCsk = run(['decode', 'sip', f, '--csk', spkHex, '--csk-id', '37654321', '--user', alice]);
  assert.equal(asCsk.code, 2);
  assert.match(asCsk.stderr, /^mcsec: ERR_USAGE --csk-id: must carry the purpose tag of a CSK \[TS 33\.180 Annex G\]\n$/);
});
