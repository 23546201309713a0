/**
 * The KMS response encoder (TS 33.180 Annex D.3): every kind of response it emits is checked with
 * xmllint against the D.3.5 schemas (test/fixtures/kms/schema; a missing xmllint fails the run),
 * decodes back to the values given, verifies with the right InK / TrK only (D.1, D.3.1) and
 * unwraps with the TrK to the original key material; random values round-trip (fast-check).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { CryptoError, FormatError, McsecError } from '../../src/errors/index.js';
import {
  KmsAlgorithm,
  decodeKmsResponse,
  encodeKmsResponse,
  openKmsResponse,
  toXsdDateTime,
  unwrapKmsKey,
  verifyKmsResponseSignature,
  type KmsCertificate,
  type KmsKeyContent,
  type KmsKeySet,
  type KmsMessage,
  type KmsPlainKey,
  type KmsResponse,
  type KmsResponseEncodeOptions,
  type XmlEncryptedKey,
} from '../../src/formats/kms-xml/index.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const SCHEMA = here('../fixtures/kms/schema/kms-response.xsd');

/** Runs `xmllint --noout --schema` on the documents; xmllint missing is a failure, not a skip. */
function xmllint(docs: readonly string[]): { readonly status: number | null; readonly stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mcsec-kms-encode-'));
  try {
    const files = docs.map((d, i) => {
      const f = join(dir, `response-${i}.xml`);
      writeFileSync(f, d);
      return f;
    });
    const r = spawnSync('xmllint', ['--noout', '--schema', SCHEMA, ...files], { encoding: 'utf8' });
    if (r.error !== undefined) assert.fail(`xmllint did not run (${r.error.message}); install libxml2-utils`);
    return { status: r.status, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
function schemaValid(...docs: string[]): void {
  const r = xmllint(docs);
  assert.equal(r.status, 0, `xmllint (TS 33.180 Annex D.3.5): ${r.stderr}\n${docs.join('\n----\n')}`);
}

function throwsCode(f: () => unknown, code: string, field: string, cls: typeof McsecError = FormatError): void {
  assert.throws(f, (err: unknown) => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.field, field);
    return true;
  });
}

/** Deterministic test bytes. */
const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed * 17 + 7) & 0xff);
const trk = bytes(32, 1);
const ink = bytes(32, 2);
const otherKey = bytes(32, 3);

const rootCert: KmsCertificate = {
  version: '1.1.0', role: 'Root', isSecurityGateway: undefined, certUri: 'cert1.kms.example.org',
  kmsUri: 'kms.example.org', issuer: 'www.example.org', validFrom: '2000-01-26T00:00:00', validTo: '2025-01-26T23:59:59',
  revoked: false, userIdFormat: '2', userKeyPeriod: 2592000, userKeyOffset: 0,
  pubEncKey: bytes(257, 4), pubAuthKey: bytes(65, 5), parameterSet: 1,
  kmsDomainList: ['sec1.example.org', 'sec2.example.org'], migration: undefined, signed: false,
};
const externalCert = (kmsUri: string, n: number): KmsCertificate => ({
  ...rootCert, role: 'External', certUri: `cert${n}.${kmsUri}`, kmsUri, userKeyPeriod: 604800, userKeyOffset: 432000,
  validTo: '2100-01-26T23:59:59', kmsDomainList: [kmsUri.replace(/^kms\./, '')],
});
const plain = (key: Uint8Array, carriedKeyName?: string): KmsPlainKey => ({ key, carriedKeyName });
const keySet = (userUri: string, n: number): KmsKeySet => ({
  version: '1.1.0', kmsUri: 'kms.example.org', certUri: 'cert1.kms.example.org', issuer: 'www.example.org', userUri,
  userId: n === 0 ? '0123456789ABCDEF0123456789ABCDEF' : '0011223344556677889900AABBCCDDEEFF',
  validFrom: '2015-12-30T00:00:00', validTo: '2016-03-29T23:59:59', keyPeriodNo: 1514, revoked: false,
  userDecryptKey: plain(bytes(257, 10 + n)), // RSK: 257 octets, not a multiple of 8
  userSigningKeySSK: plain(bytes(32, 20 + n)), // SSK: 32 octets
  userPubTokenPVT: plain(bytes(65, 30 + n)), // PVT: 65 octets
});
const base = {
  userUri: 'example:user@example.org', kmsUri: 'kms.example.org', kmsId: 'KMSProvider12345', kmsError: undefined,
} as const;
const url = (r: string): string => `http://kms.example.org/keymanagement/identity/v1/${r}`;

/** The response as decoded, without what only the signature check reads. */
function body(r: KmsResponse): Omit<KmsResponse, 'signature'> {
  const { signature, ...rest } = r;
  void signature;
  return rest;
}
function expected(r: Omit<KmsResponse, 'signature' | 'signed' | 'id' | 'trkId' | 'signatureId'> & Partial<KmsResponse>): Omit<KmsResponse, 'signature'> {
  return { signed: false, id: undefined, trkId: undefined, signatureId: undefined, ...r };
}
function encrypted(c: KmsKeyContent): XmlEncryptedKey {
  assert.ok('encryptedKey' in c, 'the key content is an xenc:EncryptedKey');
  return c.encryptedKey;
}

// --- the schema check itself ---------------------------------------------------------------------

test('the D.3.5 schemas (with the W3C xmldsig / xenc schemas) accept the spec examples and refuse broken ones', () => {
  const d341 = readFileSync(here('../fixtures/kms/d-3-4-1.xml'), 'utf8');
  const d342 = readFileSync(here('../fixtures/kms/d-3-4-2.xml'), 'utf8');
  schemaValid(d341, d342);
  // An abstract key content type without xsi:type, odd hex, a ds:KeyInfo child xmldsig does not define.
  for (const broken of [
    d342.replace(' xsi:type="EncKeyContentType"', ''),
    d341.replace('<PubEncKey>029A2F', '<PubEncKey>029A2'),
    d342.replace(/ds:KeyName>/g, 'ds:KeyLabel>'),
  ]) {
    assert.notEqual(xmllint([broken]).status, 0, 'xmllint must refuse it');
  }
});

// --- KmsInit --------------------------------------------------------------------------------------

test('KmsInit, plain and unsigned: a KmsResponse root that validates and decodes back (D.3.2.2)', () => {
  const value = { ...base, time: '2014-01-26T10:05:52', clientReqUrl: url('init'), kmsMessage: { init: { certificate: rootCert, newTransportKeys: [], newIntegrityKeys: [] } } };
  const xml = encodeKmsResponse(value);
  schemaValid(xml);
  assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<KmsResponse xmlns="urn:3gpp:ns:mcsecKMSInterface:1.0"/);
  assert.doesNotMatch(xml, /xsi:type|Signature|EncryptedKey/);
  const r = decodeKmsResponse(xml);
  assert.deepEqual(body(r), expected(value));
  assert.equal(r.signature, undefined);
});

test('KmsInit with a new TrK and InK, signed with the TrK as D.3.4.1: KmsInitTkIkType, verifies, unwraps', () => {
  const newTrk = plain(bytes(32, 40), 'tk.12.user@example.org');
  const newInk = plain(bytes(32, 41), 'ink.12.user@example.org');
  const value = {
    ...base, time: '2014-01-26T10:05:52Z', clientReqUrl: url('init'), id: 'xmldoc',
    trkId: 'tk.11.user@example.org', signatureId: 'tk.11.user@example.org',
    kmsMessage: { init: { certificate: rootCert, newTransportKeys: [newTrk], newIntegrityKeys: [newInk] } },
  };
  const xml = encodeKmsResponse(value, { trk });
  schemaValid(xml);
  assert.match(xml, /<KmsInit Version="1.0.0" xsi:type="KmsInitTkIkType">/);
  const decoded = verifyKmsResponseSignature(xml, trk); // D.3.1: no InK, so the TrK signs
  assert.equal(decoded.signature?.keyName, 'tk.11.user@example.org');
  assert.equal(decoded.signature?.hmacOutputLength, 256);
  assert.ok(decoded.kmsMessage !== undefined && 'init' in decoded.kmsMessage);
  const wrapped = encrypted(decoded.kmsMessage.init.newTransportKeys[0] ?? plain(new Uint8Array(0)));
  assert.equal(wrapped.algorithm, KmsAlgorithm.KW_AES256);
  assert.equal(wrapped.keyName, 'tk.11.user@example.org');
  assert.equal(wrapped.carriedKeyName, 'tk.12.user@example.org');
  assert.deepEqual(unwrapKmsKey(wrapped, trk), newTrk.key);
  const opened = openKmsResponse(xml, { trk, requireSignature: true });
  assert.equal(opened.signature, 'valid');
  assert.deepEqual(body(opened.response), expected({ ...value, signed: true }));
  throwsCode(() => verifyKmsResponseSignature(xml, otherKey), 'ERR_SIGNATURE', 'signedKmsResponse.Signature', CryptoError);
});

// --- KmsKeyProv -----------------------------------------------------------------------------------

const keySets = [keySet('example:user@example.org', 0), keySet('example:user.pseudonym@example.org', 1)];

test('KmsKeyProv, plain and unsigned: hexBinary key content typed KeyContentType, upper-case hex', () => {
  const value = { ...base, time: '2014-01-26T10:07:14', clientReqUrl: url('keyprov'), kmsMessage: { keyProv: { keySets, newTransportKeys: [], newIntegrityKeys: [] } } };
  const xml = encodeKmsResponse(value);
  schemaValid(xml);
  assert.equal((xml.match(/xsi:type="KeyContentType"/g) ?? []).length, 6);
  const ssk = /<UserSigningKeySSK xsi:type="KeyContentType">([0-9A-F]+)</.exec(xml)?.[1];
  assert.equal(ssk?.length, 64);
  assert.deepEqual(body(decodeKmsResponse(xml)), expected(value));
});

test('KmsKeyProv wrapped under the TrK and signed with the InK as D.3.4.2: RFC 3394 / 5649, verify, unwrap', () => {
  const newTrk = plain(bytes(32, 42), 'tk.13.user@example.org');
  const value = {
    ...base, time: '2014-01-26T10:07:14Z', clientReqUrl: url('keyprov'), id: 'xmldoc',
    trkId: 'tk.12.user@example.org', signatureId: 'ink.12.user@example.org',
    kmsMessage: { keyProv: { keySets, newTransportKeys: [newTrk], newIntegrityKeys: [] } },
  };
  const xml = encodeKmsResponse(value, { trk, ink });
  schemaValid(xml);
  assert.match(xml, /<KmsKeyProv Version="1.0.0" xsi:type="KmsKeyProvTkIkType">/);
  assert.doesNotMatch(xml, /"KeyContentType"/);
  const decoded = verifyKmsResponseSignature(xml, ink);
  assert.equal(decoded.signature?.keyName, 'ink.12.user@example.org');
  assert.equal(decoded.trkId, 'tk.12.user@example.org');
  assert.ok(decoded.kmsMessage !== undefined && 'keyProv' in decoded.kmsMessage);
  const set = decoded.kmsMessage.keyProv.keySets[0];
  assert.ok(set !== undefined);
  // 257- and 65-octet keys cannot be RFC 3394-wrapped: kw-aes-256-pad; the 32-octet SSK: kw-aes256.
  const rsk = encrypted(set.userDecryptKey);
  const ssk = encrypted(set.userSigningKeySSK);
  const pvt = encrypted(set.userPubTokenPVT);
  assert.deepEqual([rsk.algorithm, ssk.algorithm, pvt.algorithm], [KmsAlgorithm.KW_AES256_PAD, KmsAlgorithm.KW_AES256, KmsAlgorithm.KW_AES256_PAD]);
  assert.deepEqual([rsk.keyName, ssk.keyName, pvt.keyName], Array(3).fill('tk.12.user@example.org'));
  assert.deepEqual(unwrapKmsKey(rsk, trk), bytes(257, 10));
  assert.deepEqual(unwrapKmsKey(ssk, trk), bytes(32, 20));
  assert.deepEqual(unwrapKmsKey(pvt, trk), bytes(65, 30));
  const opened = openKmsResponse(xml, { trk, ink, requireSignature: true });
  assert.equal(opened.signature, 'valid');
  assert.deepEqual(body(opened.response), expected({ ...value, signed: true }));
  // The wrong InK, the TrK where an InK signed, a changed field: ERR_SIGNATURE. The wrong TrK: ERR_DECRYPT.
  const sig = (f: () => unknown): void => throwsCode(f, 'ERR_SIGNATURE', 'signedKmsResponse.Signature', CryptoError);
  sig(() => openKmsResponse(xml, { ink: otherKey }));
  sig(() => openKmsResponse(xml, { trk }));
  sig(() => openKmsResponse(xml.replace('<KeyPeriodNo>1514', '<KeyPeriodNo>1515'), { ink }));
  throwsCode(() => openKmsResponse(xml, { trk: otherKey, ink }), 'ERR_DECRYPT', 'kmsResponse.KmsMessage.KmsKeyProv.KmsKeySet[0].UserDecryptKey', CryptoError);
});

test('already wrapped key content is emitted as given; plain new keys need the TrK', () => {
  const wrappedElsewhere: XmlEncryptedKey = { algorithm: KmsAlgorithm.KW_AES256, keyName: 'tk.1', cipherValue: bytes(40, 50), carriedKeyName: 'tk.2' };
  const value = {
    ...base, time: '2014-01-26T10:07:14Z', clientReqUrl: url('keyprov'),
    kmsMessage: { keyProv: { keySets: [], newTransportKeys: [{ encryptedKey: wrappedElsewhere }], newIntegrityKeys: [] } },
  };
  const xml = encodeKmsResponse(value);
  schemaValid(xml);
  assert.deepEqual(body(decodeKmsResponse(xml)), expected(value));
  const bare = { ...value, kmsMessage: { keyProv: { keySets: [], newIntegrityKeys: [plain(bytes(32, 1))] } } };
  throwsCode(() => encodeKmsResponse(bare), 'ERR_BAD_VALUE', 'kmsResponse.KmsMessage.KmsKeyProv.NewIntegrityKey[0]');
});

// --- KmsCertCache, KmsError -----------------------------------------------------------------------

test('KmsCertCache with CacheNum, signed with the InK and unsigned', () => {
  const certificates = [externalCert('kms.example.org', 2), externalCert('kms.another.example.org', 1)];
  const value = { ...base, time: '2014-01-26T10:14:12', clientReqUrl: url('certcache'), kmsMessage: { certCache: { cacheNum: 12345, certificates } } };
  const signed = encodeKmsResponse({ ...value, signatureId: 'ink.12.user@example.org' }, { ink, rng: (n) => new Uint8Array(n).fill(0xab) });
  const unsigned = encodeKmsResponse(value);
  const empty = encodeKmsResponse({ ...value, kmsMessage: { certCache: { certificates: [] } } });
  schemaValid(signed, unsigned, empty);
  assert.match(signed, /<KmsCertCache Version="1.0.0" CacheNum="12345">/);
  const r = verifyKmsResponseSignature(signed, ink);
  assert.equal(r.id, 'kms-abababababababab'); // generated with rng: the Reference needs an Id
  assert.deepEqual(body(r), expected({ ...value, signed: true, id: 'kms-abababababababab', signatureId: 'ink.12.user@example.org' }));
  assert.deepEqual(body(decodeKmsResponse(unsigned)), expected(value));
  assert.deepEqual(body(decodeKmsResponse(empty)), expected({ ...value, kmsMessage: { certCache: { cacheNum: undefined, certificates: [] } } }));
});

test('a KmsError, a response without KmsMessage, and a SignedKmsResponse root carrying no signature', () => {
  const value = { ...base, time: '2014-01-26T10:14:12.5+01:00', clientReqUrl: url('keyprov'), kmsError: { errorCode: 403, errorMsg: 'Forbidden & <refused>' } };
  const a = encodeKmsResponse(value);
  const b = encodeKmsResponse({ ...value, kmsError: undefined, signed: true, id: 'r1' }, { ink, sign: false });
  schemaValid(a, b);
  assert.deepEqual(body(decodeKmsResponse(a)), expected({ ...value, kmsMessage: undefined }));
  const rb = decodeKmsResponse(b);
  assert.deepEqual(body(rb), expected({ ...value, kmsError: undefined, kmsMessage: undefined, signed: true, id: 'r1' }));
  assert.equal(rb.signature, undefined);
  assert.equal(openKmsResponse(b, { ink }).signature, 'absent');
});

test('Time defaults to now() as a UTC xsd:dateTime; the same inputs give the same text', () => {
  const now = (): Date => new Date(Date.UTC(2014, 0, 26, 10, 5, 52, 123));
  assert.equal(toXsdDateTime(now()), '2014-01-26T10:05:52Z');
  const value = { ...base, clientReqUrl: url('init'), signatureId: 'ink.1', kmsMessage: { init: { certificate: rootCert, newTransportKeys: [plain(bytes(32, 9))] } } };
  const options: KmsResponseEncodeOptions = { trk, ink, now, rng: (n) => bytes(n, 7) };
  const xml = encodeKmsResponse(value, options);
  assert.equal(decodeKmsResponse(xml).time, '2014-01-26T10:05:52Z');
  assert.equal(encodeKmsResponse(value, options), xml);
  schemaValid(xml);
});

test('values that would not decode back, or keys of the wrong size, are refused with code and field', () => {
  const ok = { ...base, time: '2014-01-26T10:14:12Z', clientReqUrl: url('init'), kmsMessage: { init: { certificate: rootCert } } };
  const cert = 'kmsResponse.KmsMessage.KmsInit.KmsCertificate';
  const withCert = (c: Partial<KmsCertificate>): typeof ok => ({ ...ok, kmsMessage: { init: { certificate: { ...rootCert, ...c } } } });
  throwsCode(() => encodeKmsResponse(ok, { ink }), 'ERR_BAD_VALUE', 'kmsResponse.Signature-ID'); // D.3.1: shall be present
  throwsCode(() => encodeKmsResponse(withCert({ userIdFormat: '1' })), 'ERR_UNSUPPORTED', `${cert}.UserIdFormat`);
  throwsCode(() => encodeKmsResponse(withCert({ signed: true })), 'ERR_UNSUPPORTED', cert);
  throwsCode(() => encodeKmsResponse(withCert({ isSecurityGateway: true })), 'ERR_BAD_VALUE', `${cert}@Version`);
  throwsCode(() => encodeKmsResponse(withCert({ kmsDomainList: [] })), 'ERR_BAD_VALUE', `${cert}.KmsDomainList`);
  throwsCode(() => encodeKmsResponse(withCert({ userKeyPeriod: 0 })), 'ERR_BAD_VALUE', `${cert}.UserKeyPeriod`);
  throwsCode(() => encodeKmsResponse(withCert({ pubAuthKey: new Uint8Array(0) })), 'ERR_BAD_VALUE', `${cert}.PubAuthKey`);
  throwsCode(() => encodeKmsResponse(withCert({ validTo: '2015-02-29T00:00:00' })), 'ERR_BAD_VALUE', `${cert}.ValidTo`);
  throwsCode(() => encodeKmsResponse(withCert({ issuer: ' www.example.org' })), 'ERR_BAD_VALUE', `${cert}.Issuer`);
  throwsCode(() => encodeKmsResponse({ ...ok, kmsId: 'a\u0000b' }), 'ERR_BAD_VALUE', 'kmsResponse.KmsId');
  throwsCode(() => encodeKmsResponse({ ...ok, userUri: '' }), 'ERR_BAD_VALUE', 'kmsResponse.UserUri');
  throwsCode(() => encodeKmsResponse({ ...ok, signatureId: 's', id: 'not an id' }, { ink }), 'ERR_BAD_VALUE', 'signedKmsResponse@Id');
  const keyProv = { ...ok, kmsMessage: { keyProv: { keySets: [{ ...keySet('u', 0), userSigningKeySSK: plain(bytes(32, 1), 'carried') }] } } };
  throwsCode(() => encodeKmsResponse(keyProv), 'ERR_BAD_VALUE', 'kmsResponse.KmsMessage.KmsKeyProv.KmsKeySet[0].UserSigningKeySSK.CarriedKeyName');
  throwsCode(() => encodeKmsResponse(ok, { trk: bytes(16, 1) }), 'ERR_INVALID_KEY', 'trk', CryptoError);
  throwsCode(() => encodeKmsResponse({ ...ok, signatureId: 's' }, { ink: bytes(8, 1) }), 'ERR_INVALID_KEY', 'ink', CryptoError);
});

// --- random values --------------------------------------------------------------------------------

const XML_TEXT = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;
/** Strings the decoder reads back unchanged: XML characters, markup characters included, trimmed. */
const anyText = fc
  .oneof(
    fc.string({ maxLength: 24, unit: 'grapheme' }),
    fc.string({ maxLength: 24, unit: fc.constantFrom('a', 'Z', '0', '&', '<', '>', '"', "'", '\t', '\n', '\r', '\r\n', '\u0085', '\u2028', '\u2029', '\uFFFD', '\u00A0', ' ', ':', '/', '@', '.', '-', 'é', '€', '𝄞', ']]>') }),
  )
  .map((s) => s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, ''))
  .filter((s) => XML_TEXT.test(s));
/** URIs for the schema check: libxml2 parses xsd:anyURI values as RFC 2396 URI references. */
const uriText = fc
  .tuple(fc.constantFrom('', 'sip:', 'example:', 'https://'), fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,8}$/), fc.boolean(), fc.stringMatching(/^[a-z0-9]{1,8}$/))
  .map(([scheme, user, at, host]) => (scheme === '' ? `${host}.example.org` : `${scheme}${at ? `${user}@` : ''}${host}.example.org`));
const dateTimeText = fc
  .tuple(
    fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
    fc.constantFrom('', 'Z', '+05:30', '-14:00'),
    fc.boolean(),
  )
  .map(([d, zone, fraction]) => toXsdDateTime(d).replace(/Z$/, fraction ? '.25' : '') + zone);
const ncName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9._-]{0,12}$/);
const some = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });
const key = fc.uint8Array({ minLength: 1, maxLength: 300 });

function arbResponse(text: fc.Arbitrary<string>, uri: fc.Arbitrary<string>) {
  const nonEmpty = (a: fc.Arbitrary<string>): fc.Arbitrary<string> => a.filter((s) => s.length > 0);
  const certificate: fc.Arbitrary<KmsCertificate> = fc
    .record({
      version: fc.constantFrom('1.1.0', '1.2.0'), role: some(fc.constantFrom('Root' as const, 'External' as const)),
      isSecurityGateway: some(fc.boolean()), certUri: some(uri), kmsUri: nonEmpty(uri), issuer: some(text),
      validFrom: some(dateTimeText), validTo: some(dateTimeText), revoked: some(fc.boolean()), userIdFormat: fc.constant('2'),
      userKeyPeriod: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), userKeyOffset: fc.maxSafeNat(),
      pubEncKey: key, pubAuthKey: key, parameterSet: some(fc.maxSafeNat()),
      kmsDomainList: some(fc.array(uri, { minLength: 1, maxLength: 3 })), migration: some(fc.boolean()), signed: fc.constant(false),
    }, { noNullPrototype: true })
    .map((c) => (c.isSecurityGateway === undefined ? c : { ...c, version: '1.2.0' }));
  return fc.boolean().chain((withTrk) => {
    const content: fc.Arbitrary<KmsKeyContent> = fc.record({ key, carriedKeyName: withTrk ? some(text) : fc.constant(undefined) }, { noNullPrototype: true });
    const newKeys = fc.array(content, { maxLength: withTrk ? 2 : 0 });
    const set: fc.Arbitrary<KmsKeySet> = fc.record({
      version: fc.constant('1.1.0'), kmsUri: nonEmpty(uri), certUri: some(uri), issuer: some(text), userUri: nonEmpty(uri),
      userId: nonEmpty(text), validFrom: some(dateTimeText), validTo: some(dateTimeText), keyPeriodNo: fc.maxSafeNat(),
      revoked: some(fc.boolean()), userDecryptKey: content, userSigningKeySSK: content, userPubTokenPVT: content,
    }, { noNullPrototype: true });
    const message: fc.Arbitrary<KmsMessage> = fc.oneof(
      fc.record({ init: fc.record({ certificate, newTransportKeys: newKeys, newIntegrityKeys: newKeys }, { noNullPrototype: true }) }, { noNullPrototype: true }),
      fc.record({ keyProv: fc.record({ keySets: fc.array(set, { maxLength: 2 }), newTransportKeys: newKeys, newIntegrityKeys: newKeys }, { noNullPrototype: true }) }, { noNullPrototype: true }),
      fc.record({ certCache: fc.record({ cacheNum: some(fc.integer({ min: 0, max: 999_999_999_999_999 })), certificates: fc.array(certificate, { maxLength: 2 }) }, { noNullPrototype: true }) }, { noNullPrototype: true }),
    );
    return fc.record({
      withTrk: fc.constant(withTrk), withInk: fc.boolean(), wrapUnsigned: fc.boolean(), id: ncName,
      userUri: nonEmpty(uri), kmsUri: nonEmpty(uri), time: dateTimeText, kmsId: some(text), clientReqUrl: nonEmpty(uri),
      kmsMessage: some(message),
      kmsError: some(fc.record({ errorCode: fc.maxSafeInteger(), errorMsg: text }, { noNullPrototype: true })),
      trkId: some(nonEmpty(text)), signatureId: nonEmpty(text),
    }, { noNullPrototype: true });
  });
}
type Arb = ReturnType<typeof arbResponse> extends fc.Arbitrary<infer T> ? T : never;

/** Encodes a random case: wrapped under the TrK or plain; signed (InK, else TrK) or not. */
function encodeCase(c: Arb): { readonly xml: string; readonly value: Omit<KmsResponse, 'signature'>; readonly signingKey: Uint8Array | undefined } {
  const { withTrk, withInk, wrapUnsigned, ...fields } = c;
  const signingKey = withInk ? ink : withTrk ? trk : undefined;
  const signed = signingKey !== undefined || wrapUnsigned;
  const value = { ...fields, signed, id: signed ? fields.id : undefined, signatureId: signingKey === undefined ? undefined : fields.signatureId };
  const xml = encodeKmsResponse(value, { trk: withTrk ? trk : undefined, ink: withInk ? ink : undefined });
  return { xml, value, signingKey };
}

test('round trip on random values: decode, verify and unwrap give back what was encoded', () => {
  fc.assert(
    fc.property(arbResponse(anyText, anyText), (c) => {
      const { xml, value, signingKey } = encodeCase(c);
      const opened = openKmsResponse(xml, { trk: c.withTrk ? trk : undefined, ink: c.withInk ? ink : undefined });
      assert.equal(opened.signature, signingKey === undefined ? 'absent' : 'valid');
      assert.deepEqual(body(opened.response), value);
      if (signingKey !== undefined) throwsCode(() => verifyKmsResponseSignature(xml, otherKey), 'ERR_SIGNATURE', 'signedKmsResponse.Signature', CryptoError);
    }),
    { numRuns: 150 },
  );
});

test('random responses of every kind validate against the D.3.5 schema (one xmllint run)', () => {
  const docs = fc.sample(arbResponse(anyText, uriText), { numRuns: 60 }).map((c) => encodeCase(c).xml);
  schemaValid(...docs);
});
