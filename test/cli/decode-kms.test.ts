/** `mcsec decode kms`: the Annex D.3.4 examples as JSON and text, --trk / --ink, typed errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const fixture = (name: string): string => join(root, 'test', 'fixtures', 'kms', `${name}.xml`);
const mcsec = (args: string[], input?: string): { code: number | null; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'mcsec.js'), ...args], { cwd: root, encoding: 'utf8', input });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const json = (args: string[], input?: string): Record<string, unknown> => {
  const r = mcsec(args, input);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const v: unknown = JSON.parse(r.stdout);
  assert.ok(typeof v === 'object' && v !== null && !Array.isArray(v));
  return Object.fromEntries(Object.entries(v));
};

const encrypted = (keyName: string, carriedKeyName?: string): Record<string, unknown> => ({
  encryptedKey: {
    algorithm: 'http://www.w3.org/2001/04/xmlenc#kw-aes256',
    keyName,
    cipherValue: 'DEADBEEF',
    ...(carriedKeyName !== undefined ? { carriedKeyName } : {}),
  },
});

test('decode kms d-3-4-1.xml --json: the KmsInit example with the keys the issue names', () => {
  const out = json(['decode', 'kms', fixture('d-3-4-1'), '--json']);
  assert.deepEqual(out, {
    KmsUri: 'kms.example.org',
    UserUri: 'example:user@example.org',
    Time: '2014-01-26T10:05:52',
    KmsId: 'KMSProvider12345',
    ClientReqUrl: 'http://kms.example.org/keymanagement/identity/v1/init',
    signature: 'unverified',
    signatureKeyName: 'tk.11.user@example.org',
    kmsMessage: {
      init: {
        certificate: {
          version: '1.1.0',
          role: 'Root',
          certUri: 'cert1.kms.example.org',
          kmsUri: 'kms.example.org',
          issuer: 'www.example.org',
          validFrom: '2000-01-26T00:00:00',
          validTo: '2025-01-26T23:59:59',
          revoked: false,
          userIdFormat: '2',
          userKeyPeriod: 2592000,
          userKeyOffset: 0,
          pubEncKey: '029a2f',
          pubAuthKey: '029a2f',
          parameterSet: 1,
          kmsDomainList: ['sec1.example.org', 'sec2.example.org'],
          signed: false,
        },
        newTransportKeys: [encrypted('tk.11.user@example.org', 'tk.12.user@example.org')],
        newIntegrityKeys: [encrypted('tk.11.user@example.org', 'ink.12.user@example.org')],
      },
    },
  });
});

test('decode kms d-3-4-2.xml --json (and from stdin): two key sets, key material still encrypted', () => {
  const out = json(['decode', 'kms', fixture('d-3-4-2'), '--json']);
  assert.deepEqual(json(['decode', 'kms', '-', '--json'], readFileSync(fixture('d-3-4-2'), 'utf8')), out);
  assert.equal(out['ClientReqUrl'], 'http://kms.example.org/keymanagement/identity/v1/keyprov');
  assert.equal(out['Time'], '2014-01-26T10:07:14');
  const m = out['kmsMessage'];
  assert.ok(typeof m === 'object' && m !== null && 'keyProv' in m);
  const enc = encrypted('tk.12.user@example.org');
  const set = (userUri: string, userId: string): Record<string, unknown> => ({
    version: '1.1.0', kmsUri: 'kms.example.org', certUri: 'cert1.kms.example.org', issuer: 'www.example.org',
    userUri, userId, validFrom: '2015-12-30T00:00:00', validTo: '2016-03-29T23:59:59', keyPeriodNo: 1514,
    revoked: false, userDecryptKey: enc, userSigningKeySSK: enc, userPubTokenPVT: enc,
  });
  assert.deepEqual(m.keyProv, {
    keySets: [
      set('example:user@example.org', '0123456789ABCDEF0123456789ABCDEF'),
      set('example:user.pseudonym@example.org', '0011223344556677889900AABBCCDDEEFF'),
    ],
    newTransportKeys: [encrypted('tk.12.user@example.org', 'tk.13.user@example.org')],
    newIntegrityKeys: [],
  });
});

test('decode kms without --json prints the fields as text', () => {
  const r = mcsec(['decode', 'kms', fixture('d-3-4-2')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^SignedKmsResponse {2}signature: unverified, KeyName ink\.12\.user@example\.org$/m);
  assert.match(r.stdout, /^ {2}ClientReqUrl {2}http:\/\/kms\.example\.org\/keymanagement\/identity\/v1\/keyprov$/m);
  assert.match(r.stdout, /^ {4}KmsKeySet\[1\] \(version 1\.1\.0\)$/m);
  assert.match(r.stdout, /^ {6}UserID {12}0011223344556677889900AABBCCDDEEFF$/m);
  assert.match(r.stdout, /^ {4}NewTransportKey\[0\] {2}tk\.13\.user@example\.org: encrypted, kw-aes256 under tk\.12\.user@example\.org, 6 octets$/m);
});

// A signed KmsKeyProv with real key material: written canonically (C14N 1.0), so its digest is the
// SHA-256 of its text; signed with HMAC-SHA256 as the D.3.4 examples show.
const trk = randomBytes(32);
const ink = randomBytes(32);
const ssk = randomBytes(32);
const rsk = randomBytes(257);
const wrap = (key: Buffer, pad: boolean): string => {
  const c = pad ? createCipheriv('id-aes256-wrap-pad', trk, Buffer.from('a65959a6', 'hex')) : createCipheriv('id-aes256-wrap', trk, Buffer.alloc(8, 0xa6));
  return Buffer.concat([c.update(key), c.final()]).toString('base64');
};
const enc = (name: string, key: Buffer, pad: boolean): string =>
  `<${name}><EncryptedKey xmlns="http://www.w3.org/2001/04/xmlenc#"><EncryptionMethod Algorithm="http://www.w3.org/${pad ? '2009/xmlenc11#kw-aes-256-pad' : '2001/04/xmlenc#kw-aes256'}"></EncryptionMethod>` +
  `<CipherData><CipherValue>${wrap(key, pad)}</CipherValue></CipherData></EncryptedKey></${name}>`;
const unsigned =
  `<SignedKmsResponse xmlns="urn:3gpp:ns:mcsecKMSInterface:1.0" Id="r1"><KmsResponse><UserUri>sip:alice@example.org</UserUri>` +
  `<KmsUri>kms.example.org</KmsUri><Time>2024-05-01T10:07:14Z</Time><ClientReqUrl>https://kms.example.org/keymanagement/identity/v1/keyprov</ClientReqUrl>` +
  `<KmsMessage><KmsKeyProv><KmsKeySet><KmsUri>kms.example.org</KmsUri><UserUri>sip:alice@example.org</UserUri><UserID>dWlk</UserID>` +
  `<KeyPeriodNo>1514</KeyPeriodNo>${enc('UserDecryptKey', rsk, true)}${enc('UserSigningKeySSK', ssk, false)}<UserPubTokenPVT>04AB</UserPubTokenPVT>` +
  `</KmsKeySet></KmsKeyProv></KmsMessage></KmsResponse></SignedKmsResponse>`;
const digest = createHash('sha256').update(unsigned).digest('base64');
const signedInfo =
  `<SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"></CanonicalizationMethod>` +
  `<SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"><HMACOutputLength>256</HMACOutputLength></SignatureMethod>` +
  `<Reference URI="#r1"><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></DigestMethod><DigestValue>${digest}</DigestValue></Reference></SignedInfo>`;
const value = createHmac('sha256', ink)
  .update(signedInfo.replace('<SignedInfo>', '<SignedInfo xmlns="http://www.w3.org/2000/09/xmldsig#">'))
  .digest('base64');
const signed = unsigned.replace(
  '</SignedKmsResponse>',
  `<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">${signedInfo}<SignatureValue>${value}</SignatureValue>` +
    `<KeyInfo><KeyName>ink.12.alice</KeyName></KeyInfo></Signature></SignedKmsResponse>`,
);
const dir = mkdtempSync(join(tmpdir(), 'mcsec-kms-'));
const signedFile = join(dir, 'keyprov.xml');
writeFileSync(signedFile, signed);

test('--ink verifies the signature and --trk unwraps the key material into lowercase hex', () => {
  const out = json(['decode', 'kms', signedFile, '--json', '--trk', trk.toString('hex'), '--ink', ink.toString('hex').toUpperCase()]);
  assert.equal(out['signature'], 'valid');
  assert.deepEqual(out['kmsMessage'], {
    keyProv: {
      keySets: [
        {
          kmsUri: 'kms.example.org', userUri: 'sip:alice@example.org', userId: 'dWlk', keyPeriodNo: 1514,
          userDecryptKey: rsk.toString('hex'), userSigningKeySSK: ssk.toString('hex'), userPubTokenPVT: '04ab',
        },
      ],
      newTransportKeys: [],
      newIntegrityKeys: [],
    },
  });
  const text = mcsec(['decode', 'kms', signedFile, '--trk', trk.toString('hex'), '--ink', ink.toString('hex')]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^SignedKmsResponse {2}signature: valid, KeyName ink\.12\.alice$/m);
  assert.ok(text.stdout.includes(`UserSigningKeySSK ${ssk.toString('hex')}`));
});

test('errors are one line with code and field: bad signature, bad TrK, bad options, unreadable or malformed input', () => {
  const wrongInk = mcsec(['decode', 'kms', signedFile, '--ink', randomBytes(32).toString('hex')]);
  assert.equal(wrongInk.code, 1);
  assert.equal(wrongInk.stdout, '');
  assert.match(wrongInk.stderr, /^mcsec: ERR_SIGNATURE signedKmsResponse\.Signature: .* \[TS 33\.180 Annex D\.1\]\n$/);
  const wrongTrk = mcsec(['decode', 'kms', signedFile, '--ink', ink.toString('hex'), '--trk', randomBytes(32).toString('hex')]);
  assert.equal(wrongTrk.code, 1);
  assert.match(wrongTrk.stderr, /^mcsec: ERR_DECRYPT kmsResponse\.KmsMessage\.KmsKeyProv\.KmsKeySet\[0\]\.UserDecryptKey: /);
  const shortTrk = mcsec(['decode', 'kms', signedFile, '--trk', '0011']);
  assert.equal(shortTrk.code, 2);
  assert.match(shortTrk.stderr, /^mcsec: ERR_USAGE --trk: must be 256 bits/);
  assert.match(mcsec(['decode', 'kms', signedFile, '--ink', 'xyz']).stderr, /^mcsec: ERR_USAGE --ink: must be hex/);
  const missing = mcsec(['decode', 'kms', join(dir, 'nope.xml'), '--json']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^mcsec: ERR_IO /);
  const doctype = mcsec(['decode', 'kms', '-'], '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>');
  assert.equal(doctype.code, 1);
  assert.match(doctype.stderr, /^mcsec: ERR_UNSUPPORTED kmsResponse: must not contain a DOCTYPE/);
  const malformed = mcsec(['decode', 'kms', '-', '--json'], readFileSync(fixture('d-3-4-1'), 'utf8').replace('<PubEncKey>029A2F', '<PubEncKey>029A2'));
  assert.equal(malformed.code, 1);
  assert.match(malformed.stderr, /^mcsec: ERR_BAD_VALUE kmsResponse\.KmsMessage\.KmsInit\.KmsCertificate\.PubEncKey: .*\[TS 33\.180 Annex D\.3\.2\.2\]\n$/);
  // The spec's own placeholders (SignatureValue "DEADBEEF") cannot verify under any key.
  assert.match(mcsec(['decode', 'kms', fixture('d-3-4-1'), '--trk', trk.toString('hex')]).stderr, /^mcsec: ERR_SIGNATURE /);
});
