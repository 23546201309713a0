// KMS Redirect Responses (TS 33.180 Annex D.4): encode, sign (D.4.3 ECDSA-SHA256 + X.509),
// verify, nest, refuse tampering, and validate against the D.4.4 schema with xmllint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSelfSignedCertificate } from '../../src/crypto/x509.js';
import { decodeKrr, encodeKrr, verifyKrr } from '../../src/formats/kms-xml/krr.js';
import { McsecError } from '../../src/errors/index.js';

const base = {
  krrCreatorUri: 'sip:processor.1@example.org',
  initiatorUri: 'sip:initiator@example.org',
  initiatorKmsUri: 'kms.init.example.org',
  receiverUri: 'sip:receiver@example.org',
  receiverKmsUri: 'kms.reject.example.org',
  initiatorKmsList: 'ANY' as const,
  receiverKmsList: ['kms.option1.example.org', 'kms.option2.example.org'],
  time: '2018-01-26T11:15:40Z',
};
const dir = mkdtempSync(join(tmpdir(), 'mcsec-krr-'));
const schema = join(import.meta.dirname, '..', 'fixtures', 'kms', 'schema', 'krr.xsd');
function xmllint(xml: string): void {
  const f = join(dir, `k${Math.random().toString(16).slice(2)}.xml`);
  writeFileSync(f, xml);
  execFileSync('xmllint', ['--noout', '--schema', schema, f], { stdio: 'pipe' });
}
const code = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof McsecError, String(e));
    return e.code;
  }
  return 'no error';
};

test('D.4: a signed KRR verifies, decodes to its values and validates against the D.4.4 schema', async () => {
  const signer = await createSelfSignedCertificate({ commonName: 'processor.1' });
  const xml = encodeKrr({ ...base, id: 'k001122' }, signer);
  xmllint(xml);
  const v = verifyKrr(xml);
  assert.equal(v.krr.receiverKmsUri, 'kms.reject.example.org');
  assert.deepEqual(v.krr.receiverKmsList, ['kms.option1.example.org', 'kms.option2.example.org']);
  assert.equal(v.krr.initiatorKmsList, 'ANY');
  assert.equal(v.signers.length, 1);
  assert.deepEqual(v.signers[0]?.certificate, signer.certificate);
  assert.equal(decodeKrr(xml).id, 'k001122');
});

test('D.4: a KRR embedding a received KRR keeps both signatures valid (D.4.2 example flow)', async () => {
  const first = await createSelfSignedCertificate({ commonName: 'processor.1' });
  const second = await createSelfSignedCertificate({ commonName: 'processor.2' });
  const inner = encodeKrr({ ...base, id: 'inner1' }, first);
  const outer = encodeKrr({ ...base, id: 'outer1', krrCreatorUri: 'sip:processor.2@example.org', receiverKmsList: ['kms.option1.example.org'], received: inner }, second);
  xmllint(outer);
  const v = verifyKrr(outer);
  assert.deepEqual(v.signers.map((s) => s.krrCreatorUri), ['sip:processor.2@example.org', 'sip:processor.1@example.org']);
  assert.deepEqual(v.krr.received?.receiverKmsList, ['kms.option1.example.org', 'kms.option2.example.org']);
  // Tampering with the embedded KRR breaks both signatures; the error names the outer one first.
  const bad = outer.replace('kms.option2.example.org', 'kms.evil.example.org');
  assert.equal(code(() => verifyKrr(bad)), 'ERR_SIGNATURE');
});

test('D.4.3: tampered, unsigned, wrongly keyed and off-profile KRRs are refused with ERR_SIGNATURE', async () => {
  const signer = await createSelfSignedCertificate({ commonName: 'p' });
  const other = await createSelfSignedCertificate({ commonName: 'q' });
  const xml = encodeKrr({ ...base, id: 'k1' }, signer);
  assert.equal(code(() => verifyKrr(xml.replace('kms.option1', 'kms.optionX'))), 'ERR_SIGNATURE');
  assert.equal(code(() => verifyKrr(encodeKrr({ ...base, id: 'k1' }))), 'ERR_SIGNATURE');
  const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');
  assert.equal(code(() => verifyKrr(xml.replace(b64(signer.certificate), b64(other.certificate)))), 'ERR_SIGNATURE');
  assert.equal(code(() => verifyKrr(xml.replace('xmldsig-more#ecdsa-sha256', 'xmldsig-more#hmac-sha256'))), 'ERR_SIGNATURE');
  assert.equal(code(() => encodeKrr({ ...base }, { privateKey: other.privateKey, certificate: signer.certificate })), 'ERR_INVALID_KEY');
});

test('D.4.4: the decoder is strict (order, required fields, namespace, DOCTYPE, nesting depth)', () => {
  const xml = encodeKrr({ ...base, id: 'k2' });
  assert.equal(code(() => decodeKrr(xml.replace(/<KRRCreatorUri>.*<\/KRRCreatorUri>/, ''))), 'ERR_BAD_VALUE');
  assert.equal(code(() => decodeKrr(xml.replace('urn:3gpp:ns:mcsecKMSKRR:1.0', 'urn:other'))), 'ERR_BAD_VALUE');
  assert.equal(code(() => decodeKrr(`<!DOCTYPE x [<!ENTITY a "b">]>${xml.replace(/^<\?xml[^>]*>/, '')}`)), 'ERR_UNSUPPORTED');
  assert.equal(code(() => decodeKrr(xml.replace('Version="1.0.0"', 'Version="2.0.0"'))), 'ERR_UNSUPPORTED');
  assert.equal(code(() => decodeKrr(xml.replace('<Time>', '<Time>x'))), 'ERR_BAD_VALUE');
  let nested = encodeKrr({ ...base, id: 'n0' });
  for (let i = 1; i <= 8; i++) nested = encodeKrr({ ...base, id: `n${i}`, received: nested });
  assert.equal(decodeKrr(nested).received?.id, 'n7');
  const deeper = nested.replace(/<KmsRedirectResponse [^>]*Id="n8">/, (m) => `${m.replace('n8', 'n9')}`).replace(
    '<ReceivedKmsRedirectResponse>', `<ReceivedKmsRedirectResponse>${nested.replace(/^<\?xml[^>]*>\s*/, '')}</ReceivedKmsRedirectResponse><Dummy xmlns="urn:x"/><ReceivedKmsRedirectResponse>`);
  assert.equal(code(() => decodeKrr(deeper)), 'ERR_BAD_VALUE'); // a second ReceivedKmsRedirectResponse
  assert.equal(code(() => encodeKrr({ ...base, id: 'n9', received: nested })), 'ERR_TOO_LARGE');
});
