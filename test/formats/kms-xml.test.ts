/**
 * KMS responses of TS 33.180 Annex D.3: the spec's own examples (D.3.4.1, D.3.4.2, and the
 * KmsCertCache example that follows them), conformant variants, typed rejections, the Annex D
 * security extension (RFC 3394 / 5649 unwrap with the TrK, HMAC-SHA256 XML signature with the InK)
 * and totality.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { SignedXml, type ErrorFirstCallback, type SignatureAlgorithm } from 'xml-crypto';
import type { BinaryLike, KeyLike } from 'node:crypto';
import { CryptoError, FormatError, McsecError } from '../../src/errors/index.js';
import {
  KMS_RESPONSE_MAX_OCTETS,
  KmsAlgorithm,
  decodeKmsResponse,
  openKmsResponse,
  unwrapKmsKey,
  unwrapKmsResponse,
  verifyKmsResponseSignature,
  type KmsKeyContent,
  type KmsResponse,
} from '../../src/formats/kms-xml/index.js';
import { fromHex, toHex, utf8 } from '../../src/util/index.js';

const fixture = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../fixtures/kms/${name}.xml`, import.meta.url)), 'utf8');
const d341 = fixture('d-3-4-1');
const d342 = fixture('d-3-4-2');

/** The D.3.4 KmsCertCache example (the third example of D.3.4, its heading lost in the text). */
const certCache = `<?xml version="1.0" encoding="UTF-8"?>
<SignedKmsResponse xmlns="urn:3gpp:ns:mcsecKMSInterface:1.0" 
                   xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                   xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
                   Id="xmldoc">
  <KmsResponse Version="1.0.0">
    <UserUri>example:user@example.org</UserUri>
    <KmsUri>kms.example.org</KmsUri>
    <Time>2014-01-26T10:14:12</Time>
    <KmsId>KMSProvider12345</KmsId>
    <ClientReqUrl>http://kms.example.org/keymanagement/identity/v1/certcache</ClientReqUrl>
    <KmsMessage>
      <KmsCertCache Version = "1.0.0">
        <SignedKmsCertificate Id = "cert1">
          <KmsCertificate Version = "1.1.0" Role = "External">
            <CertUri>cert2.kms.example.org</CertUri>
            <KmsUri>kms.example.org</KmsUri>
            <Issuer>www.example.org</Issuer>
            <ValidFrom>2000-01-26T00:00:00</ValidFrom>
            <ValidTo>2100-01-26T23:59:59</ValidTo>
            <Revoked>false</Revoked>
            <UserIdFormat>2</UserIdFormat>
            <UserKeyPeriod>2592000</UserKeyPeriod>
            <UserKeyOffset>0</UserKeyOffset>
            <PubEncKey>029A2F</PubEncKey>
            <PubAuthKey>029A2F</PubAuthKey>
            <ParameterSet>1</ParameterSet>
            <KmsDomainList>
              <KmsDomain>sec3.example.org</KmsDomain>
            </KmsDomainList>
          </KmsCertificate>
          <Signature xmlns="http://www.w3.org/2000/09/xmldsig#">
            <SignedInfo>
              <CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>
              <SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/>
              <Reference URI="#cert1">
                <DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
                <DigestValue>nnnn</DigestValue>
              </Reference>
            </SignedInfo>
            <SignatureValue>DEADBEEF</SignatureValue>
            <KeyInfo>
              <KeyName>cert1.kms.example.org</KeyName>
            </KeyInfo>
          </Signature>
        </SignedKmsCertificate>
        <SignedKmsCertificate Id="cert2">
          <KmsCertificate Version="1.1.0" Role="External">
            <CertUri>cert1.kms.another.example.org</CertUri>
            <KmsUri>kms.another.example.org</KmsUri>
            <Issuer>www.another.example.org</Issuer>
            <ValidFrom>2000-01-26T00:00:00</ValidFrom>
            <ValidTo>2100-01-26T23:59:59</ValidTo>
            <Revoked>false</Revoked>
            <UserIdFormat>2</UserIdFormat>
            <UserKeyPeriod>604800</UserKeyPeriod>
            <UserKeyOffset>432000</UserKeyOffset>
            <PubEncKey>029A2F</PubEncKey>
            <PubAuthKey>029A2F</PubAuthKey>
            <ParameterSet>1</ParameterSet>
            <KmsDomainList>
              <KmsDomain>another.example.org</KmsDomain>
            </KmsDomainList>
          </KmsCertificate>
        </SignedKmsCertificate>
      </KmsCertCache>
    </KmsMessage>
  </KmsResponse>
</SignedKmsResponse>
`;

const KW = 'http://www.w3.org/2001/04/xmlenc#kw-aes256';
const DEADBEEF = fromHex('0c4003044105'); // CipherValue "DEADBEEF" read as base64, as xenc defines it

function encrypted(c: KmsKeyContent): { algorithm?: string; keyName?: string; cipherValue: Uint8Array; carriedKeyName?: string } {
  assert.ok('encryptedKey' in c, 'the key content stays encrypted');
  return c.encryptedKey;
}

function throwsCode(f: () => unknown, code: string, field: string, cls: typeof McsecError = FormatError): void {
  assert.throws(f, (err: unknown) => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.field, field);
    return true;
  });
}

// --- the spec examples ---------------------------------------------------------------------------

test('D.3.4.1 KmsInit example decodes to the values printed in it', () => {
  const r = decodeKmsResponse(d341);
  assert.ok(Object.isFrozen(r));
  assert.equal(r.signed, true);
  assert.equal(r.id, 'xmldoc');
  assert.equal(r.userUri, 'example:user@example.org');
  assert.equal(r.kmsUri, 'kms.example.org');
  assert.equal(r.time, '2014-01-26T10:05:52');
  assert.equal(r.kmsId, 'KMSProvider12345');
  assert.equal(r.clientReqUrl, 'http://kms.example.org/keymanagement/identity/v1/init');
  assert.ok(r.kmsMessage !== undefined && 'init' in r.kmsMessage);
  const { certificate: c, newTransportKeys, newIntegrityKeys } = r.kmsMessage.init;
  assert.deepEqual(
    { ...c, pubEncKey: toHex(c.pubEncKey), pubAuthKey: toHex(c.pubAuthKey) },
    {
      version: '1.1.0', role: 'Root', isSecurityGateway: undefined, certUri: 'cert1.kms.example.org',
      kmsUri: 'kms.example.org', issuer: 'www.example.org', validFrom: '2000-01-26T00:00:00',
      validTo: '2025-01-26T23:59:59', revoked: false, userIdFormat: '2', userKeyPeriod: 2592000,
      userKeyOffset: 0, pubEncKey: '029a2f', pubAuthKey: '029a2f', parameterSet: 1,
      kmsDomainList: ['sec1.example.org', 'sec2.example.org'], migration: undefined, signed: false,
    },
  );
  assert.equal(newTransportKeys.length, 1);
  assert.equal(newIntegrityKeys.length, 1);
  const tk = encrypted(newTransportKeys[0] as KmsKeyContent);
  assert.deepEqual({ ...tk }, { algorithm: KW, keyName: 'tk.11.user@example.org', cipherValue: DEADBEEF, carriedKeyName: 'tk.12.user@example.org' });
  const ik = encrypted(newIntegrityKeys[0] as KmsKeyContent);
  assert.deepEqual({ ...ik }, { algorithm: KW, keyName: 'tk.11.user@example.org', cipherValue: DEADBEEF, carriedKeyName: 'ink.12.user@example.org' });
  const s = r.signature;
  assert.ok(s !== undefined);
  assert.equal(s.signatureMethod, KmsAlgorithm.HMAC_SHA256);
  assert.equal(s.canonicalizationMethod, KmsAlgorithm.C14N);
  assert.equal(s.hmacOutputLength, 256);
  assert.deepEqual(s.references, [{ uri: '#xmldoc', transforms: undefined, digestMethod: KmsAlgorithm.SHA256 }]);
  assert.equal(s.keyName, 'tk.11.user@example.org');
});

test('D.3.4.2 KmsKeyProv example decodes to the values printed in it, key material still encrypted', () => {
  const r = decodeKmsResponse(utf8(d342));
  assert.equal(r.time, '2014-01-26T10:07:14');
  assert.equal(r.clientReqUrl, 'http://kms.example.org/keymanagement/identity/v1/keyprov');
  assert.ok(r.kmsMessage !== undefined && 'keyProv' in r.kmsMessage);
  const { keySets, newTransportKeys, newIntegrityKeys } = r.kmsMessage.keyProv;
  assert.equal(keySets.length, 2);
  const expected = [
    { userUri: 'example:user@example.org', userId: '0123456789ABCDEF0123456789ABCDEF' },
    { userUri: 'example:user.pseudonym@example.org', userId: '0011223344556677889900AABBCCDDEEFF' },
  ];
  keySets.forEach((s, i) => {
    assert.deepEqual(
      { version: s.version, kmsUri: s.kmsUri, certUri: s.certUri, issuer: s.issuer, userUri: s.userUri, userId: s.userId,
        validFrom: s.validFrom, validTo: s.validTo, keyPeriodNo: s.keyPeriodNo, revoked: s.revoked },
      { version: '1.1.0', kmsUri: 'kms.example.org', certUri: 'cert1.kms.example.org', issuer: 'www.example.org',
        ...expected[i], validFrom: '2015-12-30T00:00:00', validTo: '2016-03-29T23:59:59', keyPeriodNo: 1514, revoked: false },
    );
    for (const k of [s.userDecryptKey, s.userSigningKeySSK, s.userPubTokenPVT]) {
      assert.deepEqual({ ...encrypted(k) }, { algorithm: KW, keyName: 'tk.12.user@example.org', cipherValue: DEADBEEF, carriedKeyName: undefined });
    }
  });
  assert.equal(newIntegrityKeys.length, 0);
  assert.equal(encrypted(newTransportKeys[0] as KmsKeyContent).carriedKeyName, 'tk.13.user@example.org');
  assert.equal(r.signature?.keyName, 'ink.12.user@example.org');
});

test('the D.3.4 KmsCertCache example decodes: two External certificates, the signed one marked', () => {
  const r = decodeKmsResponse(certCache);
  assert.ok(r.kmsMessage !== undefined && 'certCache' in r.kmsMessage);
  const [a, b] = r.kmsMessage.certCache.certificates;
  assert.equal(r.kmsMessage.certCache.certificates.length, 2);
  assert.deepEqual([a?.certUri, a?.role, a?.signed, a?.kmsDomainList], ['cert2.kms.example.org', 'External', true, ['sec3.example.org']]);
  assert.deepEqual([b?.kmsUri, b?.userKeyPeriod, b?.userKeyOffset, b?.signed], ['kms.another.example.org', 604800, 432000, false]);
  assert.equal(r.signature, undefined);
});

test('the spec examples cannot be verified or unwrapped: placeholder values give typed crypto errors', () => {
  const key = new Uint8Array(32).fill(7);
  // SignatureValue "DEADBEEF" is 6 octets, not the 32 of HMAC-SHA256; DigestValue "nnnn" is no digest.
  throwsCode(() => verifyKmsResponseSignature(d341, key), 'ERR_SIGNATURE', 'signedKmsResponse.Signature', CryptoError);
  throwsCode(() => openKmsResponse(d342, { ink: key }), 'ERR_SIGNATURE', 'signedKmsResponse.Signature', CryptoError);
  // CipherValue "DEADBEEF" is 6 octets; RFC 3394 output is at least 24 octets, a multiple of 8.
  throwsCode(() => unwrapKmsResponse(decodeKmsResponse(d342), key), 'ERR_DECRYPT',
    'kmsResponse.KmsMessage.KmsKeyProv.KmsKeySet[0].UserDecryptKey', CryptoError);
  throwsCode(() => unwrapKmsResponse(decodeKmsResponse(d341), key), 'ERR_DECRYPT',
    'kmsResponse.KmsMessage.KmsInit.NewTransportKey[0]', CryptoError);
});

// --- conformant variants -------------------------------------------------------------------------

const withoutSignature = (xml: string): string => xml.replace(/<Signature xmlns="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#">[\s\S]*<\/Signature>\n/, '');

test('variants decode the same: hex case, xsi:type forms, prefixes, KmsUri without a scheme, no declaration', () => {
  const base = decodeKmsResponse(d341);
  const same = (xml: string): void => assert.deepEqual(decodeKmsResponse(xml), base);
  same(d341.replace(/029A2F/g, '029a2f'));
  same(d341.replace(' xsi:type="KmsInitTkIkType"', ''));
  same(d341.replace(' xsi:type="KmsInitTkIkType"', ' xmlns:k="urn:3gpp:ns:mcsecKMSInterface:1.0" xsi:type="k:KmsInitTkIkType"'));
  same(d341.replace('<?xml version="1.0" encoding="UTF-8"?>\n', ''));
  same(d341.replace(/>\s+</g, '><'));
  same(`\uFEFF${d341}`);
  // Every element of the KMS namespace written with a prefix instead of the default namespace.
  same(
    d341
      .replace('<SignedKmsResponse xmlns="urn:3gpp:ns:mcsecKMSInterface:1.0"', '<kms:SignedKmsResponse xmlns:kms="urn:3gpp:ns:mcsecKMSInterface:1.0"')
      .replace(/<(\/?)(SignedKmsResponse|KmsResponse|UserUri|KmsUri|Time|KmsId|ClientReqUrl|KmsMessage|KmsInit|KmsCertificate|CertUri|Issuer|ValidFrom|ValidTo|Revoked|UserIdFormat|UserKeyPeriod|UserKeyOffset|PubEncKey|PubAuthKey|ParameterSet|KmsDomainList|KmsDomain|NewTransportKey|NewIntegrityKey)([ >])/g, '<$1kms:$2$3')
      .replace(/<kms:(NewTransportKey|NewIntegrityKey) xmlns="urn:3gpp:ns:mcsecKMSInterface:1.0">/g, '<kms:$1>')
      .replace('xsi:type="KmsInitTkIkType"', 'xsi:type="kms:KmsInitTkIkType"'),
  );
  const scheme = decodeKmsResponse(d341.replace(/<KmsUri>kms\.example\.org<\/KmsUri>/g, '<KmsUri>https://kms.example.org</KmsUri>'));
  assert.equal(scheme.kmsUri, 'https://kms.example.org');
  assert.ok(scheme.kmsMessage !== undefined && 'init' in scheme.kmsMessage);
  assert.equal(scheme.kmsMessage.init.certificate.kmsUri, 'https://kms.example.org');
  const keyProv = decodeKmsResponse(d342);
  assert.deepEqual(decodeKmsResponse(d342.replace(/ xsi:type="EncKeyContentType"/g, '').replace(' xsi:type="KmsKeyProvTkIkType"', '')), keyProv);
  assert.deepEqual(decodeKmsResponse(d342.replace(' xsi:type="KmsKeyProvTkIkType"', ' xsi:type="KmsKeyProvType"')), keyProv);
});

test('a plain KmsResponse root, plain key sets (KeyContentType, either hex case), TrK-ID / Signature-ID extensions', () => {
  const rsk = randomBytes(257);
  const plain = (name: string, hex: string, type = ' xsi:type="KeyContentType"'): string => `<${name}${type}>${hex}</${name}>`;
  const xml = (decryptHex: string, type?: string): string => `<KmsResponse xmlns="urn:3gpp:ns:mcsecKMSInterface:1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:ext="urn:3gpp:ns:mcsecKMSInterface:extensions:1.0" Version="1.0.0">
  <UserUri>sip:alice@example.org</UserUri><KmsUri>kms.example.org</KmsUri><Time>2024-05-01T12:00:00Z</Time>
  <ClientReqUrl>https://kms.example.org/keymanagement/identity/v1/keyprov</ClientReqUrl>
  <KmsMessage><KmsKeyProv Version="1.0.0"><KmsKeySet Version="1.1.0">
    <KmsUri>kms.example.org</KmsUri><UserUri>sip:alice@example.org</UserUri><UserID>dWlk</UserID><KeyPeriodNo>1514</KeyPeriodNo>
    ${plain('UserDecryptKey', decryptHex, type)}${plain('UserSigningKeySSK', 'AB'.repeat(32))}${plain('UserPubTokenPVT', '04' + 'cd'.repeat(64))}
  </KmsKeySet></KmsKeyProv></KmsMessage>
  <ext:TrK-ID>tk.12</ext:TrK-ID><ext:Signature-ID>ink.12</ext:Signature-ID>
</KmsResponse>`;
  const upper = decodeKmsResponse(xml(toHex(rsk).toUpperCase()));
  assert.equal(upper.signed, false);
  assert.equal(upper.signature, undefined);
  assert.equal(upper.trkId, 'tk.12');
  assert.equal(upper.signatureId, 'ink.12');
  assert.equal(upper.kmsId, undefined);
  assert.ok(upper.kmsMessage !== undefined && 'keyProv' in upper.kmsMessage);
  const set = upper.kmsMessage.keyProv.keySets[0];
  assert.deepEqual(set?.userDecryptKey, { key: new Uint8Array(rsk), carriedKeyName: undefined });
  assert.deepEqual(set?.userSigningKeySSK, { key: new Uint8Array(32).fill(0xab), carriedKeyName: undefined });
  assert.deepEqual(decodeKmsResponse(xml(toHex(rsk))), upper);
  assert.deepEqual(decodeKmsResponse(xml(toHex(rsk), '')), upper); // xsi:type left out
  assert.deepEqual(unwrapKmsResponse(upper, new Uint8Array(32)), upper); // nothing to unwrap
  const { response, signature } = openKmsResponse(xml(toHex(rsk)), { trk: new Uint8Array(32) });
  assert.equal(signature, 'absent');
  assert.deepEqual(response, upper);
  throwsCode(() => openKmsResponse(xml(toHex(rsk)), { requireSignature: true }), 'ERR_SIGNATURE', 'signedKmsResponse.Signature', CryptoError);
});

// --- rejections ----------------------------------------------------------------------------------

test('malformed, oversized, DOCTYPE and wrong-namespace inputs give FormatErrors with code and field', () => {
  const KP = 'kmsResponse.KmsMessage.KmsKeyProv';
  const cases: [string, string | Uint8Array, string, string][] = [
    ['not XML', 'hello', 'ERR_BAD_VALUE', 'kmsResponse'],
    ['unclosed', d341.slice(0, -30), 'ERR_BAD_VALUE', 'kmsResponse'],
    ['unbound prefix', d341.replace('<KmsId>', '<x:KmsId>').replace('</KmsId>', '</x:KmsId>'), 'ERR_BAD_VALUE', 'kmsResponse'],
    ['empty', '', 'ERR_BAD_VALUE', 'kmsResponse'],
    ['oversized', `<a>${' '.repeat(KMS_RESPONSE_MAX_OCTETS)}</a>`, 'ERR_TOO_LARGE', 'kmsResponse'],
    ['oversized bytes', new Uint8Array(KMS_RESPONSE_MAX_OCTETS + 1).fill(0x20), 'ERR_TOO_LARGE', 'kmsResponse'],
    ['DOCTYPE', d341.replace('<SignedKmsResponse', '<!DOCTYPE SignedKmsResponse>\n<SignedKmsResponse'), 'ERR_UNSUPPORTED', 'kmsResponse'],
    ['XXE', `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>`, 'ERR_UNSUPPORTED', 'kmsResponse'],
    ['invalid UTF-8', Uint8Array.of(0x3c, 0x61, 0xff, 0x3e), 'ERR_BAD_VALUE', 'kmsResponse'],
    ['UTF-16 declared', utf8('<?xml version="1.0" encoding="UTF-16"?><a/>'), 'ERR_UNSUPPORTED', 'kmsResponse'],
    ['root namespace', d341.replace('xmlns="urn:3gpp:ns:mcsecKMSInterface:1.0"\n', 'xmlns="urn:3gpp:ns:other:1.0"\n'), 'ERR_BAD_VALUE', 'kmsResponse'],
    ['root in no namespace', '<KmsResponse><UserUri>u</UserUri></KmsResponse>', 'ERR_BAD_VALUE', 'kmsResponse'],
    ['child in no namespace', d341.replace('<UserUri>', '<UserUri xmlns="">'), 'ERR_BAD_VALUE', 'kmsResponse.UserUri'],
    ['key set child in another namespace', d342.replace(/(<\/Issuer>\s*)<UserUri>/, '$1<UserUri xmlns="urn:other">'), 'ERR_BAD_VALUE', `${KP}.KmsKeySet[0].UserUri`],
    ['EncryptedKey in the wrong namespace', d342.replace('<EncryptedKey xmlns="http://www.w3.org/2001/04/xmlenc#">', '<EncryptedKey xmlns="http://www.w3.org/2009/xmlenc11#">'), 'ERR_BAD_VALUE', `${KP}.KmsKeySet[0].UserDecryptKey.EncryptedKey`],
    ['missing ClientReqUrl', d341.replace(/<ClientReqUrl>.*<\/ClientReqUrl>/, ''), 'ERR_BAD_VALUE', 'kmsResponse.ClientReqUrl'],
    ['out of order', d341.replace('<KmsId>KMSProvider12345</KmsId>', '').replace('<KmsMessage>', '<KmsId>K</KmsId><KmsMessage>'), 'ERR_BAD_VALUE', 'kmsResponse.KmsId'],
    ['bad Time', d341.replace('2014-01-26T10:05:52', '2014-13-26T10:05:52'), 'ERR_BAD_VALUE', 'kmsResponse.Time'],
    ['bad hex', d341.replace('<PubEncKey>029A2F', '<PubEncKey>029A2G'), 'ERR_BAD_VALUE', 'kmsResponse.KmsMessage.KmsInit.KmsCertificate.PubEncKey'],
    ['odd hex', d341.replace('<PubAuthKey>029A2F', '<PubAuthKey>029A2'), 'ERR_BAD_VALUE', 'kmsResponse.KmsMessage.KmsInit.KmsCertificate.PubAuthKey'],
    ['UserIdFormat 1', d341.replace('<UserIdFormat>2', '<UserIdFormat>1'), 'ERR_UNSUPPORTED', 'kmsResponse.KmsMessage.KmsInit.KmsCertificate.UserIdFormat'],
    ['negative period', d341.replace('<UserKeyPeriod>2592000', '<UserKeyPeriod>-1'), 'ERR_BAD_VALUE', 'kmsResponse.KmsMessage.KmsInit.KmsCertificate.UserKeyPeriod'],
    ['Role', d341.replace('Role="Root"', 'Role="Boss"'), 'ERR_BAD_VALUE', 'kmsResponse.KmsMessage.KmsInit.KmsCertificate@Role'],
    ['certificate version', d341.replace('<KmsCertificate Version="1.1.0"', '<KmsCertificate Version="9.9"'), 'ERR_UNSUPPORTED', 'kmsResponse.KmsMessage.KmsInit.KmsCertificate@Version'],
    ['gateway needs 1.2.0', d341.replace('Role="Root"', 'Role="Root" IsSecurityGateway="true"'), 'ERR_BAD_VALUE', 'kmsResponse.KmsMessage.KmsInit.KmsCertificate@Version'],
    ['response version', d341.replace('<KmsResponse Version="1.0.0">', '<KmsResponse Version="2.0.0">'), 'ERR_UNSUPPORTED', 'kmsResponse@Version'],
    ['unknown attribute', d341.replace('<KmsResponse Version="1.0.0">', '<KmsResponse Version="1.0.0" Colour="red">'), 'ERR_BAD_VALUE', 'kmsResponse@Colour'],
    ['unknown xsi:type', d341.replace('xsi:type="KmsInitTkIkType"', 'xsi:type="KmsKeyProvTkIkType"'), 'ERR_UNSUPPORTED', 'kmsResponse.KmsMessage.KmsInit@xsi:type'],
    ['xsi:type of another namespace', d341.replace('xsi:type="KmsInitTkIkType"', 'xsi:type="ds:KmsInitTkIkType"'), 'ERR_UNSUPPORTED', 'kmsResponse.KmsMessage.KmsInit@xsi:type'],
    ['key set version', d342.replace('<KmsKeySet Version = "1.1.0">', '<KmsKeySet Version="1.0.0">'), 'ERR_UNSUPPORTED', `${KP}.KmsKeySet[0]@Version`],
    ['bad CipherValue', d342.replace('<CipherValue>DEADBEEF', '<CipherValue>DEAD*BEEF'), 'ERR_BAD_VALUE', `${KP}.KmsKeySet[0].UserDecryptKey.EncryptedKey.CipherData.CipherValue`],
    ['plain key declared encrypted', d342.replace(/<UserDecryptKey xsi:type="EncKeyContentType">[\s\S]*?<\/UserDecryptKey>/, '<UserDecryptKey xsi:type="EncKeyContentType">ABCD</UserDecryptKey>'), 'ERR_BAD_VALUE', `${KP}.KmsKeySet[0].UserDecryptKey`],
    ['bad plain key', d342.replace(/<UserDecryptKey xsi:type="EncKeyContentType">[\s\S]*?<\/UserDecryptKey>/, '<UserDecryptKey>AB CD</UserDecryptKey>'), 'ERR_BAD_VALUE', `${KP}.KmsKeySet[0].UserDecryptKey`],
    ['missing key', d342.replace(/<UserPubTokenPVT xsi:type="EncKeyContentType">[\s\S]*?<\/UserPubTokenPVT>/, ''), 'ERR_BAD_VALUE', `${KP}.KmsKeySet[0].UserPubTokenPVT`],
    ['plain NewTransportKey', d341.replace(/<NewTransportKey xmlns="urn:3gpp:ns:mcsecKMSInterface:1.0">[\s\S]*?<\/NewTransportKey>/, '<NewTransportKey>00112233</NewTransportKey>'), 'ERR_BAD_VALUE', 'kmsResponse.KmsMessage.KmsInit.NewTransportKey[0]'],
    ['CipherReference', d342.replace('<CipherValue>DEADBEEF</CipherValue>', '<CipherReference URI="http://x"/>'), 'ERR_UNSUPPORTED', `${KP}.KmsKeySet[0].UserDecryptKey.EncryptedKey.CipherData.CipherReference`],
    ['text between elements', d341.replace('<KmsId>', 'stray<KmsId>'), 'ERR_BAD_VALUE', 'kmsResponse'],
    ['element in a simple value', d341.replace('<KmsId>KMSProvider12345', '<KmsId><b/>KMSProvider12345'), 'ERR_BAD_VALUE', 'kmsResponse.KmsId.b'],
    ['KmsLookup', d341.replace(/<KmsInit [\s\S]*<\/KmsInit>/, '<KmsLookup/>'), 'ERR_UNSUPPORTED', 'kmsResponse.KmsMessage.KmsLookup'],
    ['two message types', d341.replace('</KmsInit>', '</KmsInit><KmsKeyProv/>'), 'ERR_BAD_VALUE', 'kmsResponse.KmsMessage'],
    ['KmsMessage encrypted whole', d341.replace(/<KmsInit [\s\S]*<\/KmsInit>/, '<EncryptedData xmlns="http://www.w3.org/2001/04/xmlenc#"/>'), 'ERR_UNSUPPORTED', 'kmsResponse.KmsMessage.EncryptedData'],
    ['two signatures', d341.replace('</SignedKmsResponse>', `${/<Signature[\s\S]*<\/Signature>/.exec(d341)?.[0] ?? ''}</SignedKmsResponse>`), 'ERR_BAD_VALUE', 'signedKmsResponse.Signature'],
    ['signature without SignedInfo', d341.replace(/<SignedInfo>[\s\S]*<\/SignedInfo>/, ''), 'ERR_BAD_VALUE', 'signedKmsResponse.Signature.SignedInfo'],
  ];
  for (const [name, input, code, field] of cases) {
    assert.throws(() => decodeKmsResponse(input), (err: unknown) => {
      assert.ok(err instanceof FormatError, `${name}: ${String(err)}`);
      assert.deepEqual([err.code, err.field], [code, field], `${name}: ${err.message}`);
      assert.match(err.clause ?? '', /^TS 33\.180 Annex D\.3/, name);
      return true;
    });
  }
});

test('elements of other namespaces are skipped where the schema has xsd:any ##other (D.1 extensions)', () => {
  const ext = '<x:Extra xmlns:x="urn:example:ext"><x:Deep><x:Deeper/></x:Deep></x:Extra>';
  const base = decodeKmsResponse(d341);
  assert.deepEqual(decodeKmsResponse(d341.replace('</KmsResponse>', `${ext}</KmsResponse>`)), base);
  assert.deepEqual(decodeKmsResponse(d341.replace('</KmsDomainList>', `</KmsDomainList>${ext}`)), base);
  // KmsKeySet has no xsd:any: a foreign element there is refused.
  throwsCode(() => decodeKmsResponse(d342.replace('<Revoked>false</Revoked>', `<Revoked>false</Revoked>${ext}`)), 'ERR_BAD_VALUE',
    'kmsResponse.KmsMessage.KmsKeyProv.KmsKeySet[0].Extra');
});

// --- the security extension: unwrap with the TrK, verify with the InK ----------------------------

test('RFC 3394 §4.6: 256 bits of key data wrapped with a 256-bit KEK unwrap', () => {
  const kek = fromHex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
  const cipherValue = fromHex('28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43bfb988b9b7a02dd21');
  const key = unwrapKmsKey({ algorithm: KW, keyName: undefined, cipherValue, carriedKeyName: undefined }, kek);
  assert.equal(toHex(key), '00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f');
  // No EncryptionMethod: kw-aes256 is what §9.3.4.2 says to assume.
  assert.deepEqual(unwrapKmsKey({ algorithm: undefined, keyName: undefined, cipherValue, carriedKeyName: undefined }, kek), key);
  const flipped = cipherValue.slice();
  flipped[5] = (flipped[5] ?? 0) ^ 1;
  throwsCode(() => unwrapKmsKey({ algorithm: KW, keyName: undefined, cipherValue: flipped, carriedKeyName: undefined }, kek, 'k'), 'ERR_DECRYPT', 'k', CryptoError);
  throwsCode(() => unwrapKmsKey({ algorithm: 'http://www.w3.org/2001/04/xmlenc#aes256-cbc', keyName: undefined, cipherValue, carriedKeyName: undefined }, kek, 'k'), 'ERR_DECRYPT', 'k', CryptoError);
  throwsCode(() => unwrapKmsKey({ algorithm: KW, keyName: undefined, cipherValue, carriedKeyName: undefined }, kek.subarray(0, 16)), 'ERR_INVALID_KEY', 'trk', CryptoError);
});

const trk = new Uint8Array(randomBytes(32));
const ink = new Uint8Array(randomBytes(32));
const rsk = new Uint8Array(randomBytes(257));
const ssk = new Uint8Array(randomBytes(32));
const pvt = new Uint8Array(randomBytes(65));
const newTrk = new Uint8Array(randomBytes(32));

/** RFC 3394 (or RFC 5649 with `pad`) wrap by node:crypto directly, independent of the unwrap code. */
function wrap(key: Uint8Array, pad: boolean, kek = trk): string {
  const c = pad
    ? createCipheriv('id-aes256-wrap-pad', kek, Buffer.from('a65959a6', 'hex'))
    : createCipheriv('id-aes256-wrap', kek, Buffer.alloc(8, 0xa6));
  return Buffer.concat([c.update(key), c.final()]).toString('base64');
}

const encKey = (name: string, key: Uint8Array, pad: boolean, carried = ''): string =>
  `<${name} xsi:type="EncKeyContentType"><EncryptedKey xmlns="http://www.w3.org/2001/04/xmlenc#">` +
  `<EncryptionMethod Algorithm="${pad ? KmsAlgorithm.KW_AES256_PAD : KW}"></EncryptionMethod>` +
  `<ds:KeyInfo><ds:KeyName>tk.12.user@example.org</ds:KeyName></ds:KeyInfo>` +
  `<CipherData><CipherValue>${wrap(key, pad)}</CipherValue></CipherData>${carried}</EncryptedKey></${name}>`;

/**
 * A SignedKmsResponse (D.3.4.2 shape) written in canonical form (C14N 1.0: expanded empty
 * elements, sorted namespace declarations), so that its digest is SHA-256 of the text itself.
 */
const unsignedKeyProv =
  `<SignedKmsResponse xmlns="urn:3gpp:ns:mcsecKMSInterface:1.0" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" Id="xmldoc">\n` +
  `<KmsResponse Version="1.0.0"><UserUri>example:user@example.org</UserUri><KmsUri>kms.example.org</KmsUri>` +
  `<Time>2024-05-01T10:07:14</Time><KmsId>KMSProvider12345</KmsId>` +
  `<ClientReqUrl>https://kms.example.org/keymanagement/identity/v1/keyprov</ClientReqUrl>` +
  `<KmsMessage><KmsKeyProv Version="1.0.0" xsi:type="KmsKeyProvTkIkType"><KmsKeySet Version="1.1.0">` +
  `<KmsUri>kms.example.org</KmsUri><UserUri>example:user@example.org</UserUri><UserID>dWlk</UserID><KeyPeriodNo>1514</KeyPeriodNo>` +
  encKey('UserDecryptKey', rsk, true) + encKey('UserSigningKeySSK', ssk, false) + encKey('UserPubTokenPVT', pvt, true) +
  `</KmsKeySet><NewTransportKey>` +
  encKey('x', newTrk, false, '<CarriedKeyName>tk.13.user@example.org</CarriedKeyName>').replace(/^<x xsi:type="EncKeyContentType">|<\/x>$/g, '') +
  `</NewTransportKey></KmsKeyProv></KmsMessage></KmsResponse>\n</SignedKmsResponse>`;

/**
 * Signs as the D.3.4 examples show (no Transforms, C14N, HMAC-SHA256, HMACOutputLength 256),
 * computing digest and HMAC by hand: the document minus its Signature is `unsigned`, already
 * canonical, and the canonical SignedInfo is its text with the in-scope namespaces added.
 */
function signAsSpec(unsigned: string, key: Uint8Array, keyName: string, edit = (s: string): string => s): string {
  const digest = createHash('sha256').update(unsigned).digest('base64');
  const signedInfo = edit(
    `<SignedInfo><CanonicalizationMethod Algorithm="${KmsAlgorithm.C14N}"></CanonicalizationMethod>` +
      `<SignatureMethod Algorithm="${KmsAlgorithm.HMAC_SHA256}"><HMACOutputLength>256</HMACOutputLength></SignatureMethod>` +
      `<Reference URI="#xmldoc"><DigestMethod Algorithm="${KmsAlgorithm.SHA256}"></DigestMethod><DigestValue>${digest}</DigestValue></Reference></SignedInfo>`,
  );
  const canonical = signedInfo.replace('<SignedInfo>',
    '<SignedInfo xmlns="http://www.w3.org/2000/09/xmldsig#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">');
  const value = createHmac('sha256', key).update(canonical).digest('base64');
  const signature = `<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">${signedInfo}<SignatureValue>${value}</SignatureValue>` +
    `<KeyInfo><KeyName>${keyName}</KeyName></KeyInfo></Signature>`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${unsigned.replace(/<\/SignedKmsResponse>$/, `${signature}</SignedKmsResponse>`)}\n`;
}

const signedKeyProv = signAsSpec(unsignedKeyProv, ink, 'ink.12.user@example.org');

test('a response signed with the InK as in D.3.4 verifies, and its key material unwraps with the TrK', () => {
  const { response, signature } = openKmsResponse(signedKeyProv, { trk, ink });
  assert.equal(signature, 'valid');
  assert.ok(response.kmsMessage !== undefined && 'keyProv' in response.kmsMessage);
  const set = response.kmsMessage.keyProv.keySets[0];
  assert.deepEqual(set?.userDecryptKey, { key: rsk, carriedKeyName: undefined }); // 257 octets: RFC 5649
  assert.deepEqual(set?.userSigningKeySSK, { key: ssk, carriedKeyName: undefined }); // RFC 3394
  assert.deepEqual(set?.userPubTokenPVT, { key: pvt, carriedKeyName: undefined });
  assert.deepEqual(response.kmsMessage.keyProv.newTransportKeys, [{ key: newTrk, carriedKeyName: 'tk.13.user@example.org' }]);
  assert.ok(Object.isFrozen(response.kmsMessage.keyProv.keySets[0]));
  // Decoding alone keeps it encrypted; bytes in, the same.
  assert.equal(openKmsResponse(utf8(signedKeyProv)).signature, 'unverified');
  assert.deepEqual(openKmsResponse(utf8(signedKeyProv), { trk, ink }).response, response);
  assert.equal(verifyKmsResponseSignature(signedKeyProv, ink).signature?.keyName, 'ink.12.user@example.org');
  assert.equal(openKmsResponse(signedKeyProv, { ink, requireSignature: true }).signature, 'valid');
  throwsCode(() => openKmsResponse(signedKeyProv, { requireSignature: true }), 'ERR_SIGNATURE', 'signedKmsResponse.Signature', CryptoError);
});

test('without an InK the TrK verifies the signature (D.3.1), as in the D.3.4.1 example', () => {
  const byTrk = signAsSpec(unsignedKeyProv, trk, 'tk.12.user@example.org');
  assert.equal(openKmsResponse(byTrk, { trk }).signature, 'valid');
  throwsCode(() => openKmsResponse(byTrk, { trk, ink }), 'ERR_SIGNATURE', 'signedKmsResponse.Signature', CryptoError);
});

test('tampering, a wrong key, a truncated HMAC or a foreign reference fail as ERR_SIGNATURE; a wrong TrK as ERR_DECRYPT', () => {
  const sig = (f: () => unknown): void => throwsCode(f, 'ERR_SIGNATURE', 'signedKmsResponse.Signature', CryptoError);
  sig(() => openKmsResponse(signedKeyProv.replace('KMSProvider12345', 'KMSProvider12346'), { ink }));
  sig(() => openKmsResponse(signedKeyProv.replace('<KeyPeriodNo>1514', '<KeyPeriodNo>1515'), { ink }));
  sig(() => openKmsResponse(signedKeyProv, { ink: new Uint8Array(32) }));
  sig(() => openKmsResponse(signAsSpec(unsignedKeyProv, ink, 'i', (s) => s.replace('>256<', '>128<')), { ink }));
  sig(() => openKmsResponse(signAsSpec(unsignedKeyProv, ink, 'i', (s) => s.replace('#xmldoc', '#other')), { ink }));
  sig(() => openKmsResponse(signAsSpec(unsignedKeyProv, ink, 'i', (s) => s.replace(KmsAlgorithm.HMAC_SHA256, 'http://www.w3.org/2000/09/xmldsig#hmac-sha1')), { ink }));
  sig(() => openKmsResponse(signedKeyProv.replace('Id="xmldoc"', 'Id="xmldoc2"'), { ink }));
  // A second element claiming the referenced Id (signature wrapping) is refused.
  sig(() => openKmsResponse(signedKeyProv.replace('<KmsResponse Version="1.0.0">', '<KmsResponse Version="1.0.0" Id="xmldoc">'), { ink }));
  sig(() => verifyKmsResponseSignature(withoutSignature(d342), ink)); // not signed at all
  throwsCode(() => openKmsResponse(signedKeyProv, { ink, trk: new Uint8Array(32) }), 'ERR_DECRYPT',
    'kmsResponse.KmsMessage.KmsKeyProv.KmsKeySet[0].UserDecryptKey', CryptoError);
});

/** HMAC-SHA256 for xml-crypto's signer, written here independently of the verifier's. */
class TestHmacSha256 implements SignatureAlgorithm {
  getSignature(signedInfo: BinaryLike, key: KeyLike): string;
  getSignature(signedInfo: BinaryLike, key: KeyLike, callback?: ErrorFirstCallback<string>): void;
  getSignature(signedInfo: BinaryLike, key: KeyLike, callback?: ErrorFirstCallback<string>): string | undefined {
    const v = createHmac('sha256', key).update(signedInfo).digest('base64');
    if (callback === undefined) return v;
    callback(null, v);
    return undefined;
  }
  verifySignature(): boolean;
  verifySignature(material: string, key: KeyLike, value: string, callback?: ErrorFirstCallback<boolean>): void;
  verifySignature(): boolean | undefined {
    return false;
  }
  getAlgorithmName(): string {
    return KmsAlgorithm.HMAC_SHA256;
  }
}

test('a signature made by xml-crypto with explicit enveloped-signature + C14N transforms verifies too', () => {
  for (const c14n of [KmsAlgorithm.C14N, KmsAlgorithm.EXC_C14N]) {
    const signer = new SignedXml({ privateKey: Buffer.from(ink), signatureAlgorithm: KmsAlgorithm.HMAC_SHA256, canonicalizationAlgorithm: c14n });
    signer.SignatureAlgorithms = { [KmsAlgorithm.HMAC_SHA256]: TestHmacSha256 };
    signer.addReference({ xpath: '/*', transforms: [KmsAlgorithm.ENVELOPED_SIGNATURE, c14n], digestAlgorithm: KmsAlgorithm.SHA256 });
    signer.computeSignature(withoutSignature(d342));
    const signed = signer.getSignedXml();
    const { signature, response } = openKmsResponse(signed, { ink });
    assert.equal(signature, 'valid');
    assert.deepEqual(response.signature?.references[0]?.transforms, [KmsAlgorithm.ENVELOPED_SIGNATURE, c14n]);
    throwsCode(() => openKmsResponse(signed.replace('KMSProvider12345', 'KMSProvider'), { ink }), 'ERR_SIGNATURE', 'signedKmsResponse.Signature', CryptoError);
  }
});

// --- totality ------------------------------------------------------------------------------------

const isTyped = (err: unknown, classes: readonly (typeof McsecError)[]): boolean => classes.some((c) => err instanceof c);

function total(input: string | Uint8Array): KmsResponse | undefined {
  try {
    return decodeKmsResponse(input);
  } catch (err) {
    assert.ok(isTyped(err, [FormatError]), String(err));
    return undefined;
  }
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 40 }) }, { noNullPrototype: true }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), s: fc.string({ maxLength: 12 }) }, { noNullPrototype: true }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), s: fc.constantFrom('<', '>', '&', '"', '<!--', ']]>', '<a>', '</KmsKeySet>', 'xsi:type="x"', '&amp;', '<![CDATA[', '\u0000', '\uFFFE') }, { noNullPrototype: true }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 200 }) }, { noNullPrototype: true }),
  fc.record({ kind: fc.constant('text' as const), pick: fc.nat(), s: fc.constantFrom('', ' ', 'x', '-1', '99999999999999999999', 'DEADBEEF', 'zz', '1.0.0', 'true', '2014-01-26T10:05:52Z', '0'.repeat(300)) }, { noNullPrototype: true }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(xml: string, ms: readonly Mutation[]): string {
  let s = xml;
  for (const m of ms) {
    const at = s.length === 0 ? 0 : m.kind === 'text' ? 0 : m.at % s.length;
    if (m.kind === 'delete') s = s.slice(0, at) + s.slice(at + m.n);
    else if (m.kind === 'insert') s = s.slice(0, at) + m.s + s.slice(at);
    else if (m.kind === 'duplicate') s = s.slice(0, at) + s.slice(at, at + m.n) + s.slice(at);
    else {
      const values = [...s.matchAll(/>([^<]+)</g)];
      const v = values[m.pick % Math.max(values.length, 1)];
      if (v?.index !== undefined) s = s.slice(0, v.index + 1) + m.s + s.slice(v.index + 1 + (v[1]?.length ?? 0));
    }
  }
  return s;
}

test('decodeKmsResponse is total: random text and bytes give a value or a FormatError', () => {
  fc.assert(fc.property(fc.string({ maxLength: 2000 }), (s) => void total(s)), { numRuns: 300 });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (b) => void total(b)), { numRuns: 300 });
});

test('decodeKmsResponse is total on mutated spec examples; opening with keys adds only CryptoErrors', () => {
  const sources = [d341, d342, certCache, signedKeyProv];
  fc.assert(
    fc.property(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 4 }), (pick, ms) => {
      const xml = mutate(sources[pick % sources.length] ?? d341, ms);
      const r = total(xml);
      if (r !== undefined) assert.ok(Object.isFrozen(r));
      try {
        openKmsResponse(xml, { trk, ink });
      } catch (err) {
        assert.ok(isTyped(err, [FormatError, CryptoError]), String(err));
      }
    }),
    { numRuns: 400 },
  );
});

test('the signed response with any byte flipped opens or fails only with typed errors', () => {
  const bytes = utf8(signedKeyProv);
  fc.assert(
    fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), (at, x) => {
      const b = bytes.slice();
      const i = at % b.length;
      b[i] = (b[i] ?? 0) ^ x;
      try {
        openKmsResponse(b, { trk, ink });
      } catch (err) {
        assert.ok(isTyped(err, [FormatError, CryptoError]), String(err));
      }
    }),
    { numRuns: 300 },
  );
});
