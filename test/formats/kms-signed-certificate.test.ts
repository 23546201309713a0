/**
 * SignedKmsCertificate (TS 33.180 Annex D.3.5.1, example D.3.4.3) and the Migration KMS mark:
 * kms-encode.ts signs External certificates with the home KMS's KSAK as an ECDSA P-256 key
 * (crypto/kms-signing-key.ts), inside a response that may itself carry the D.3.1 HMAC signature;
 * verifyCertificateSignatures checks them with the PubAuthKey of the certificate the KeyName names.
 * Cross-checks: xmllint validates against the D.3.5 schema, xmlsec1 verifies the ECDSA signature
 * with the KPAK as a PEM public key (a missing tool fails the run).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateEccsiKmsKey, generateSakkeKmsKey, kmsSigningKey, p256PublicKey } from '../../src/crypto/index.js';
import { McsecError } from '../../src/errors/index.js';
import {
  decodeKmsResponse,
  encodeKmsResponse,
  verifyCertificateSignatures,
  verifyKmsResponseSignature,
  type KmsCertificateInput,
} from '../../src/formats/kms-xml/index.js';

const SCHEMA = fileURLToPath(new URL('../fixtures/kms/schema/kms-response.xsd', import.meta.url));
const home = generateEccsiKmsKey();
const other = generateEccsiKmsKey();
const HOME_CERT = 'kms.home.example.org/cert';
const signer = { privateKey: kmsSigningKey(home.ksak, home.kpak), keyName: HOME_CERT };
const ink = new Uint8Array(32).fill(7);

const external = (kmsUri: string, extra: Partial<KmsCertificateInput> = {}): KmsCertificateInput => {
  const ecc = generateEccsiKmsKey();
  return {
    version: '1.1.0', role: 'External', certUri: `${kmsUri}/cert`, kmsUri, issuer: kmsUri,
    validFrom: '2026-01-01T00:00:00Z', validTo: '2036-01-01T00:00:00Z', revoked: false, userIdFormat: '2',
    userKeyPeriod: 2_592_000, userKeyOffset: 0, pubEncKey: generateSakkeKmsKey().zT, pubAuthKey: ecc.kpak, parameterSet: 1,
    kmsDomainList: [kmsUri.replace(/^kms\./, '')],
    ...extra,
  };
};

const certCache = (certificates: readonly KmsCertificateInput[], signed: boolean): string =>
  encodeKmsResponse(
    {
      userUri: 'sip:alice@home.example.org', kmsUri: 'kms.home.example.org', clientReqUrl: 'https://kms.home.example.org/keymanagement/identity/v1/certcache',
      kmsMessage: { certCache: { cacheNum: 3, certificates } },
      ...(signed ? { signatureId: 'ink.1' } : {}),
    },
    signed ? { ink } : {},
  );

const trusting = (name: string): Uint8Array | undefined => (name === HOME_CERT ? home.kpak : undefined);
const refused = (code: string) => (e: unknown): boolean => e instanceof McsecError && e.code === code;

function schemaValid(doc: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'mcsec-signed-cert-'));
  try {
    writeFileSync(join(dir, 'r.xml'), doc);
    const r = spawnSync('xmllint', ['--noout', '--schema', SCHEMA, join(dir, 'r.xml')], { encoding: 'utf8' });
    if (r.error !== undefined) assert.fail(`xmllint did not run (${r.error.message}); install libxml2-utils`);
    assert.equal(r.status, 0, `xmllint (D.3.5): ${r.stderr}\n${doc}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a KmsCertCache of signed External certificates in an InK-signed response: both signature layers verify, the schema accepts it (D.3.4.3)', () => {
  const xml = certCache([external('kms.partner.example.org', { signer: { ...signer, id: 'cert1' } }), external('kms.other.example.org', { signer }), external('kms.plain.example.org')], true);
  schemaValid(xml);
  verifyKmsResponseSignature(xml, ink);
  const r = decodeKmsResponse(xml);
  const m = r.kmsMessage;
  assert.ok(m !== undefined && 'certCache' in m);
  assert.deepEqual(m.certCache.certificates.map((c) => [c.kmsUri, c.signed]), [
    ['kms.partner.example.org', true],
    ['kms.other.example.org', true],
    ['kms.plain.example.org', false],
  ]);
  const checks = verifyCertificateSignatures(xml, trusting);
  assert.deepEqual(checks.map((c) => [c.kmsUri, c.keyName]), [
    ['kms.partner.example.org', HOME_CERT],
    ['kms.other.example.org', HOME_CERT],
  ]);
  assert.match(xml, /<SignedKmsCertificate Id="cert1">/);
});

test('a signed Root certificate in a KmsInit, unsigned response, verifies too', () => {
  const xml = encodeKmsResponse({
    userUri: 'sip:alice@home.example.org', kmsUri: 'kms.home.example.org', clientReqUrl: 'https://kms.home.example.org/keymanagement/identity/v1/init',
    kmsMessage: { init: { certificate: { ...external('kms.home.example.org'), role: 'Root', pubAuthKey: home.kpak, signer } } },
  });
  schemaValid(xml);
  assert.equal(verifyCertificateSignatures(xml, trusting).length, 1);
});

test('the Migration mark: mcsec:Migration in mcsec\'s namespace round-trips, validates (##other attribute), and is signed with the rest', () => {
  const xml = certCache([external('kms.migration.example.org', { migration: true, signer }), external('kms.partner.example.org', { migration: false })], false);
  schemaValid(xml);
  const m = decodeKmsResponse(xml).kmsMessage;
  assert.ok(m !== undefined && 'certCache' in m);
  assert.deepEqual(m.certCache.certificates.map((c) => c.migration), [true, false]);
  verifyCertificateSignatures(xml, trusting);
  // the mark is covered by the signature: dropping it breaks it
  const stripped = xml.replace(/ mcsec:Migration="true"/, '');
  assert.notEqual(stripped, xml);
  assert.throws(() => verifyCertificateSignatures(stripped, trusting), refused('ERR_SIGNATURE'));
});

test('refused: a changed key, another signer, an unknown KeyName, a stripped signature, a reference to another element', () => {
  const xml = certCache([external('kms.partner.example.org', { signer: { ...signer, id: 'c1' } }), external('kms.other.example.org', { signer: { ...signer, id: 'c2' } })], false);
  // one hex digit of the partner's PubAuthKey
  const changed = xml.replace(/(<PubAuthKey>04)([0-9A-F])/, (_, a: string, d: string) => `${a}${d === '0' ? '1' : '0'}`);
  assert.notEqual(changed, xml);
  assert.throws(() => verifyCertificateSignatures(changed, trusting), refused('ERR_SIGNATURE'));
  // signed by another KMS but naming the home certificate
  const forged = certCache([external('kms.partner.example.org', { signer: { privateKey: kmsSigningKey(other.ksak, other.kpak), keyName: HOME_CERT } })], false);
  assert.throws(() => verifyCertificateSignatures(forged, trusting), refused('ERR_SIGNATURE'));
  assert.throws(() => verifyCertificateSignatures(xml, () => undefined), refused('ERR_UNKNOWN_KEY'));
  // the Signature element removed (the schema allows none): not verified, decoded as unsigned,
  // so a client requiring signed certificates refuses it (KmsClient.certCache)
  const stripped = xml.replace(/<ds:Signature>[\s\S]*?<\/ds:Signature>/, '');
  assert.deepEqual(verifyCertificateSignatures(stripped, trusting).map((c) => c.kmsUri), ['kms.other.example.org']);
  const sm = decodeKmsResponse(stripped).kmsMessage;
  assert.ok(sm !== undefined && 'certCache' in sm);
  assert.deepEqual(sm.certCache.certificates.map((c) => c.signed), [false, true]);
  // signature wrapping: c2's signature pointed at c1 (a valid signature, of another element)
  const wrapped = xml.replace(/<SignedKmsCertificate Id="c2">/, '<SignedKmsCertificate Id="c3">');
  assert.throws(() => verifyCertificateSignatures(wrapped, trusting), refused('ERR_SIGNATURE'));
});

test('the signing key must be the KSAK of the KPAK; a certificate marked signed cannot be re-encoded without a signer', () => {
  assert.throws(() => kmsSigningKey(other.ksak, home.kpak), refused('ERR_INVALID_KEY'));
  assert.throws(() => certCache([{ ...external('kms.partner.example.org'), signed: true }], false), refused('ERR_UNSUPPORTED'));
});

test('xmlsec1 verifies the ECDSA signature of a SignedKmsCertificate with the KPAK as its public key', () => {
  const xml = certCache([external('kms.partner.example.org', { signer: { ...signer, id: 'cert1' } })], false);
  const dir = mkdtempSync(join(tmpdir(), 'mcsec-signed-cert-xmlsec-'));
  try {
    writeFileSync(join(dir, 'r.xml'), xml);
    writeFileSync(join(dir, 'kpak.pem'), p256PublicKey(home.kpak).export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(dir, 'other.pem'), p256PublicKey(other.kpak).export({ type: 'spki', format: 'pem' }));
    const run = (key: string): boolean => {
      try {
        execFileSync('xmlsec1', ['--verify', '--pubkey-pem', join(dir, key), '--id-attr:Id', 'urn:3gpp:ns:mcsecKMSInterface:1.0:SignedKmsCertificate', join(dir, 'r.xml')], { stdio: ['ignore', 'pipe', 'pipe'] });
        return true;
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOENT') assert.fail('xmlsec1 unavailable: install it (apt-get install -y xmlsec1)');
        return false;
      }
    };
    assert.equal(run('kpak.pem'), true, 'xmlsec1 verifies with the home KPAK');
    assert.equal(run('other.pem'), false, 'and refuses another key (the check is live)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
