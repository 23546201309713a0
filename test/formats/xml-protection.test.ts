/**
 * XML protection of TS 33.180 §9.3: content encryption (§9.3.4.2, XML Encryption 1.1 aes128-gcm
 * under the §F.1.4 confidentiality key named by XPK-ID), URI attribute encryption (§9.3.4.3),
 * whole-document encryption with its message type (§9.3.2), HMAC-SHA256 signatures over MIME
 * bodies by cid: (§9.3.5), key resolution (unknown, expired, wrong purpose, wrong purpose tag),
 * IS proxy re-protection (CR 11.1.X), uniform ERR_DECRYPT / ERR_SIGNATURE on tampering, strict
 * refusals with code and field, and fast-check totality and round trip.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import fc from 'fast-check';
import { deriveXmlKey } from '../../src/crypto/index.js';
import { CryptoError, McsecError } from '../../src/errors/index.js';
import { canonicalize } from '../../src/formats/kms-xml/xml-signature.js';
import {
  MCPTT_INFO_POLICY,
  MemoryXpkResolver,
  PIDF_AFFILIATION_POLICY,
  PROTECTED_CATEGORIES,
  XML_PROTECTION_MAX_OCTETS,
  XmlProtectionAlgorithm,
  cidUrl,
  contentIdOfCid,
  decodeEncryptedUri,
  fromBase64UrlCanonical,
  protectXml,
  reprotectXml,
  signXmlBodies,
  unprotectXml,
  verifyXmlBodies,
  type XmlProtectionPolicy,
  type XmlReceiverKeys,
  type XmlSenderKey,
  type XpkPurpose,
} from '../../src/formats/xmlenc/index.js';
import { fromHex, utf8 } from '../../src/util/index.js';

const user = 'sip:alice@example.org';
const csk = fromHex('00112233445566778899aabbccddeeff');
const cskId = 0x2123_4567; // purpose tag 2 (CSK)
const spk = fromHex('ffeeddccbbaa99887766554433221100');
const spkId = 0x3765_4321; // purpose tag 3 (SPK)
const now = new Date('2026-11-28T12:00:00Z');

const sender: XmlSenderKey = { xpk: csk, xpkId: cskId, purpose: 'CSK', mcServiceUserId: user };
const spkSender: XmlSenderKey = { xpk: spk, xpkId: spkId, purpose: 'SPK', mcServiceUserId: user };
const resolver = new MemoryXpkResolver([
  [cskId, { key: csk, purpose: 'CSK' }],
  [spkId, { key: spk, purpose: 'SPK' }],
]);
const receiver = (accept: readonly XpkPurpose[] = ['CSK'], extra: Partial<XmlReceiverKeys> = {}): XmlReceiverKeys => ({
  resolver,
  accept,
  mcServiceUserId: user,
  now: () => now,
  ...extra,
});

const mcpttInfo = `<?xml version="1.0" encoding="UTF-8"?>
<mcpttinfo xmlns="urn:3gpp:ns:mcpttInfo:1.0" xmlns:x="urn:example:ext">
  <mcptt-Params>
    <mcptt-access-token><mcpttString>eyJhbGciOiJFUzI1NiJ9.e30.sig &amp; more</mcpttString></mcptt-access-token>
    <session-type>private</session-type>
    <mcptt-calling-user-id><mcpttURI>sip:alice@example.org</mcpttURI></mcptt-calling-user-id>
    <mcptt-called-party-id><mcpttURI>sip:bob@example.org</mcpttURI><x:note a="1">t</x:note></mcptt-called-party-id>
    <alert-ind><mcpttBoolean>true</mcpttBoolean></alert-ind>
  </mcptt-Params>
</mcpttinfo>`;

const pidf = `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:somebody@mcptt.org">
  <tuple id="acD4rhU87bK">
    <status>
      <affiliation xmlns="urn:3gpp:ns:mcpttPresInfo:1.0" group="sip:thegroup@mcptt.org" />
    </status>
  </tuple>
</presence>`;

/** C14N 1.0 of a document's root: equal for equivalent XML. */
function canonical(xml: string): string {
  const root = new DOMParser().parseFromString(xml, 'application/xml').documentElement;
  assert.ok(root !== null);
  return canonicalize(root);
}

const cipherValues = (xml: string): string[] => [...xml.matchAll(/<xenc:CipherValue>([^<]*)<\/xenc:CipherValue>/g)].map((m) => m[1] ?? '');
const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

function assertCode(fn: () => unknown, code: string, field?: string | RegExp): McsecError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof McsecError, `expected ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (typeof field === 'string') assert.equal(caught.field, field);
  else if (field !== undefined) assert.match(caught.field, field);
  return caught;
}

test('§9.3.2 categories are data, in the clause order; the mcpttinfo policy uses only them', () => {
  assert.deepEqual(PROTECTED_CATEGORIES, [
    'mc-service-user-id', 'mc-group-id', 'location', 'alerts', 'access-token', 'kms-key-material', 'functional-alias',
  ]);
  for (const e of MCPTT_INFO_POLICY.elements) assert.ok(PROTECTED_CATEGORIES.includes(e.category), e.localName);
  assert.ok(Object.isFrozen(MCPTT_INFO_POLICY) && Object.isFrozen(MCPTT_INFO_POLICY.elements));
});

test('§9.3.4.2: listed element content becomes EncryptedData (Type Content, aes128-gcm, KeyName = base64 XPK-ID); round trip', () => {
  const out = protectXml(mcpttInfo, { key: sender, policy: MCPTT_INFO_POLICY });
  assert.doesNotMatch(out, /alice|bob|eyJ|mcpttBoolean/);
  assert.match(out, /<session-type>private<\/session-type>/, 'unlisted elements stay in clear');
  const eds = [...out.matchAll(/<xenc:EncryptedData Type="http:\/\/www\.w3\.org\/2001\/04\/xmlenc#Content"/g)];
  assert.equal(eds.length, 4);
  assert.match(out, /<xenc:EncryptionMethod Algorithm="http:\/\/www\.w3\.org\/2009\/xmlenc11#aes128-gcm"\/>/);
  assert.match(out, /<ds:KeyInfo xmlns:ds="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#"><ds:KeyName>ISNFZw==<\/ds:KeyName><\/ds:KeyInfo>/);
  const opened = unprotectXml(out, { keys: receiver(), required: MCPTT_INFO_POLICY });
  assert.equal(canonical(opened.xml), canonical(mcpttInfo));
  assert.deepEqual(opened.decryptedElements, [
    'xml.mcpttinfo.mcptt-Params.mcptt-access-token',
    'xml.mcpttinfo.mcptt-Params.mcptt-calling-user-id',
    'xml.mcpttinfo.mcptt-Params.mcptt-called-party-id',
    'xml.mcpttinfo.mcptt-Params.alert-ind',
  ]);
  assert.deepEqual(opened.xpkIds, [cskId, cskId, cskId, cskId]);
  assert.ok(Object.isFrozen(opened) && Object.isFrozen(opened.decryptedElements));
});

test('§F.1.4: the CipherValue is IV (12) || AES-128-GCM || tag (16) under KDF(XPK, 0x51, user ID, XPK-ID), no AAD', () => {
  const out = protectXml(mcpttInfo, { key: sender, policy: { elements: [MCPTT_INFO_POLICY.elements[2]!], uriAttributes: [] } });
  const [value] = cipherValues(out);
  assert.ok(value !== undefined);
  const c = b64(value);
  const key = deriveXmlKey(csk, 'confidentiality', user, cskId);
  const d = createDecipheriv('aes-128-gcm', key, c.subarray(0, 12));
  d.setAuthTag(c.subarray(c.length - 16));
  const plain = Buffer.concat([d.update(c.subarray(12, c.length - 16)), d.final()]).toString('utf8');
  assert.match(plain, /^<mcpttURI( xmlns="urn:3gpp:ns:mcpttInfo:1\.0")?>sip:alice@example\.org<\/mcpttURI>$/);
  // Another user's key (P0) or the integrity key (FC 0x52) does not open it.
  assertCode(() => unprotectXml(out, { keys: receiver(['CSK'], { mcServiceUserId: 'sip:mallory@example.org' }) }), 'ERR_DECRYPT');
});

test('§9.3.2 whole document: root EncryptedData of Type Element with the message type; element encryptions inside it too', () => {
  const out = protectXml(mcpttInfo, { key: sender, policy: MCPTT_INFO_POLICY, wholeDocument: { messageType: 'Private call request' } });
  assert.match(out, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<xenc:EncryptedData Type="http:\/\/www\.w3\.org\/2001\/04\/xmlenc#Element"/);
  assert.match(out, /<xenc:EncryptionProperty Id="mc-message-type">Private call request<\/xenc:EncryptionProperty>/);
  const opened = unprotectXml(out, { keys: receiver() });
  assert.equal(opened.messageType, 'Private call request');
  assert.equal(opened.decryptedElements[0], 'xml');
  assert.equal(opened.decryptedElements.length, 5);
  assert.equal(canonical(opened.xml), canonical(mcpttInfo));
});

test('§9.3.4.3: URI attributes become sip:<C>;iv=<IV>;key-id=<XPK-ID>;alg=128-aes-gcm@mc1-encryption.3gppnetwork.org', () => {
  const out = protectXml(pidf, { key: sender, policy: PIDF_AFFILIATION_POLICY });
  const uris = [...out.matchAll(/(?:entity|group)="([^"]*)"/g)].map((m) => m[1] ?? '');
  assert.equal(uris.length, 2);
  for (const [i, uri] of uris.entries()) {
    assert.match(uri, /^sip:[A-Za-z0-9_-]+;iv=[A-Za-z0-9_-]{16};key-id=ISNFZw;alg=128-aes-gcm@mc1-encryption\.3gppnetwork\.org$/);
    const e = decodeEncryptedUri(uri, 'u');
    assert.equal(e.iv.length, 12);
    assert.equal(e.xpkId, cskId);
    // Independently: AES-128-GCM, no AAD, ciphertext || tag, key of §F.1.4.
    const c = e.ciphertext as Uint8Array;
    const d = createDecipheriv('aes-128-gcm', deriveXmlKey(csk, 'confidentiality', user, cskId), e.iv);
    d.setAuthTag(c.subarray(c.length - 16));
    const plain = Buffer.concat([d.update(c.subarray(0, c.length - 16)), d.final()]).toString('utf8');
    assert.equal(plain, i === 0 ? 'sip:somebody@mcptt.org' : 'sip:thegroup@mcptt.org');
  }
  const opened = unprotectXml(out, { keys: receiver(), required: PIDF_AFFILIATION_POLICY });
  assert.equal(canonical(opened.xml), canonical(pidf));
  assert.deepEqual(opened.decryptedAttributes, ['xml.presence@entity', 'xml.presence.tuple.status.affiliation@group']);
  // Protecting again leaves encrypted values as they are.
  assert.equal(protectXml(out, { key: sender, policy: PIDF_AFFILIATION_POLICY }).match(/key-id=/g)?.length, 2);
});

test('§9.3.4.3 example values parse as unpadded base64url (16-character IV = 96 bits, 6-character key-id = 32 bits)', () => {
  assert.equal(fromBase64UrlCanonical('FGD567kjhfH7d4-D')?.length, 12);
  assert.equal(fromBase64UrlCanonical('45RtfVgHY23k8Ihy')?.length, 12);
  // eV9kl7 is not canonical base64url (its last character carries a set bit beyond 32 bits), b7UJv9 neither:
  // the examples are illustrations; the lengths are what they fix.
  assert.equal('eV9kl7'.length, 6);
  assert.equal(fromBase64UrlCanonical('eV9klw')?.length, 4);
  const e = assertCode(
    () => decodeEncryptedUri('sip:98yudFG45tx_89TYGedb4ujF;iv=FGD567kjhfH7d4-D;key-id=eV9kl7;alg=128-aes-gcm@mc1-encryption.3gppnetwork.org', 'xml.presence@entity'),
    'ERR_BAD_VALUE',
    'xml.presence@entity',
  );
  assert.match(e.rule, /key-id/);
});

test('receiver keys: unknown → ERR_UNKNOWN_KEY, expired → ERR_EXPIRED, wrong purpose / purpose tag / InK for confidentiality → ERR_UNKNOWN_KEY', () => {
  const out = protectXml(mcpttInfo, { key: sender, policy: MCPTT_INFO_POLICY });
  const field = 'xml.mcpttinfo.mcptt-Params.mcptt-access-token.EncryptedData.KeyInfo.KeyName';
  const keysWith = (entry: { key: Uint8Array; purpose: XpkPurpose; notBefore?: Date; notAfter?: Date }, accept: XpkPurpose[] = ['CSK']): XmlReceiverKeys =>
    receiver(accept, { resolver: new MemoryXpkResolver([[cskId, entry]]) });
  assertCode(() => unprotectXml(out, { keys: receiver(['CSK'], { resolver: new MemoryXpkResolver() }) }), 'ERR_UNKNOWN_KEY', field);
  assertCode(() => unprotectXml(out, { keys: keysWith({ key: csk, purpose: 'CSK', notAfter: new Date(now.getTime() - 1) }) }), 'ERR_EXPIRED', field);
  assertCode(() => unprotectXml(out, { keys: keysWith({ key: csk, purpose: 'CSK', notBefore: new Date(now.getTime() + 1) }) }), 'ERR_EXPIRED', field);
  assertCode(() => unprotectXml(out, { keys: receiver(['SPK']) }), 'ERR_UNKNOWN_KEY', field);
  assertCode(() => unprotectXml(out, { keys: keysWith({ key: csk, purpose: 'SPK' }, ['SPK']) }), 'ERR_UNKNOWN_KEY', field); // tag 2 is not an SPK-ID
  assertCode(() => unprotectXml(out, { keys: keysWith({ key: csk, purpose: 'InK' }, ['InK']) }), 'ERR_UNKNOWN_KEY', field);
  assertCode(() => unprotectXml(out, { keys: keysWith({ key: csk, purpose: 'TrK' }, ['TrK']) }), 'ERR_BAD_LENGTH', field); // a TrK is 256 bits
  // The sender is checked the same way.
  assertCode(() => protectXml(mcpttInfo, { key: { ...sender, xpkId: spkId }, policy: MCPTT_INFO_POLICY }), 'ERR_UNKNOWN_KEY', 'key.xpk');
  assertCode(() => protectXml(mcpttInfo, { key: { ...sender, xpk: new Uint8Array(32) }, policy: MCPTT_INFO_POLICY }), 'ERR_BAD_LENGTH', 'key.xpk');
});

test('§9.3.4.2 "may": without EncryptionMethod and KeyName the receiver uses its default XPK-ID, or refuses', () => {
  const out = protectXml(mcpttInfo, { key: sender, policy: MCPTT_INFO_POLICY, omitKeyName: true, omitEncryptionMethod: true });
  assert.doesNotMatch(out, /KeyInfo|EncryptionMethod/);
  assert.equal(canonical(unprotectXml(out, { keys: receiver(['CSK'], { defaultXpkId: cskId }) }).xml), canonical(mcpttInfo));
  assertCode(() => unprotectXml(out, { keys: receiver() }), 'ERR_UNKNOWN_KEY', /KeyName$/);
});

test('256-bit XPK (TrK): aes256-gcm with the 256-bit derived key; URI encryption refuses it', () => {
  const trk = new Uint8Array(randomBytes(32));
  const trkId = 0x0bad_cafe;
  const key: XmlSenderKey = { xpk: trk, xpkId: trkId, purpose: 'TrK', mcServiceUserId: user };
  const out = protectXml(mcpttInfo, { key, policy: MCPTT_INFO_POLICY });
  assert.match(out, /xmlenc11#aes256-gcm/);
  const keys = receiver(['TrK'], { resolver: new MemoryXpkResolver([[trkId, { key: trk, purpose: 'TrK' }]]) });
  assert.equal(canonical(unprotectXml(out, { keys }).xml), canonical(mcpttInfo));
  assertCode(() => protectXml(pidf, { key, policy: PIDF_AFFILIATION_POLICY }), 'ERR_UNSUPPORTED', 'key');
});

test('tampering: any changed CipherValue octet, truncation, bad base64 or a moved URI ciphertext is one uniform ERR_DECRYPT', () => {
  const out = protectXml(mcpttInfo, { key: sender, policy: { elements: [MCPTT_INFO_POLICY.elements[2]!], uriAttributes: [] } });
  const [value] = cipherValues(out);
  assert.ok(value !== undefined);
  const raw = b64(value);
  const errors: McsecError[] = [];
  const withValue = (v: string): string => out.replace(value, v);
  for (let i = 0; i < raw.length; i += 7) {
    const t = raw.slice();
    t[i] = (t[i] ?? 0) ^ 0x01;
    errors.push(assertCode(() => unprotectXml(withValue(Buffer.from(t).toString('base64')), { keys: receiver() }), 'ERR_DECRYPT'));
  }
  errors.push(assertCode(() => unprotectXml(withValue(Buffer.from(raw.subarray(0, 27)).toString('base64')), { keys: receiver() }), 'ERR_DECRYPT'));
  errors.push(assertCode(() => unprotectXml(withValue(`${value.slice(0, -4)}@@@@`), { keys: receiver() }), 'ERR_DECRYPT'));
  const shapes = new Set(errors.map((e) => `${e.constructor.name}|${e.field}|${e.rule}|${e.clause ?? ''}`));
  assert.equal(shapes.size, 1, [...shapes].join('\n'));
  assert.ok(errors[0] instanceof CryptoError);

  const p = protectXml(pidf, { key: sender, policy: PIDF_AFFILIATION_POLICY });
  const entity = /entity="sip:([A-Za-z0-9_-]+);/.exec(p)?.[1] ?? '';
  const flipped = entity.slice(0, 5) + (entity[5] === 'A' ? 'B' : 'A') + entity.slice(6);
  const uriErr = assertCode(() => unprotectXml(p.replace(entity, flipped), { keys: receiver() }), 'ERR_DECRYPT', 'xml.presence@entity');
  const group = /group="sip:([A-Za-z0-9_-]+);/.exec(p)?.[1] ?? '';
  const swapped = assertCode(() => unprotectXml(p.replace(entity, group), { keys: receiver() }), 'ERR_DECRYPT', 'xml.presence@entity');
  assert.equal(uriErr.rule, swapped.rule);
  assertCode(() => unprotectXml(p.replace(/;iv=[^;]*;/, ';iv=AAAAAAAAAAAAAAAA;'), { keys: receiver() }), 'ERR_DECRYPT', 'xml.presence@entity');
});

test('strict EncryptedData: unsupported forms and misplaced content are typed refusals naming the element', () => {
  const out = protectXml(mcpttInfo, { key: sender, policy: { elements: [MCPTT_INFO_POLICY.elements[2]!], uriAttributes: [] } });
  const ed = 'xml.mcpttinfo.mcptt-Params.mcptt-calling-user-id.EncryptedData';
  const k = { keys: receiver() };
  assertCode(() => unprotectXml(out.replace('xmlenc11#aes128-gcm', 'xmlenc#aes128-cbc'), k), 'ERR_UNSUPPORTED', `${ed}.EncryptionMethod@Algorithm`);
  assertCode(() => unprotectXml(out.replace('xmlenc11#aes128-gcm', 'xmlenc11#aes256-gcm'), k), 'ERR_DECRYPT', ed);
  assertCode(() => unprotectXml(out.replace('xmlenc#Content', 'xmlenc#EncryptedKey'), k), 'ERR_UNSUPPORTED', `${ed}@Type`);
  assertCode(() => unprotectXml(out.replace('<xenc:EncryptedData ', '<xenc:EncryptedData Encoding="b64" '), k), 'ERR_UNSUPPORTED', `${ed}@Encoding`);
  assertCode(() => unprotectXml(out.replace(/<xenc:CipherValue>[^<]*<\/xenc:CipherValue>/, '<xenc:CipherReference URI="x"/>'), k), 'ERR_UNSUPPORTED', `${ed}.CipherData.CipherReference`);
  assertCode(() => unprotectXml(out.replace('</xenc:EncryptedData>', '</xenc:EncryptedData>text'), k), 'ERR_BAD_VALUE', ed);
  assertCode(() => unprotectXml(out.replace('<ds:KeyName>ISNFZw==', '<ds:KeyName>ISNF'), k), 'ERR_BAD_VALUE', `${ed}.KeyInfo.KeyName`);
  assertCode(() => unprotectXml(out.replace('<xenc:CipherData>', '<xenc:Bogus/><xenc:CipherData>'), k), 'ERR_BAD_VALUE', `${ed}.CipherData`);
  assertCode(() => unprotectXml(`<!DOCTYPE a [<!ENTITY e "x">]>${out.replace(/^<\?xml[^>]*>/, '')}`, k), 'ERR_UNSUPPORTED', 'xml');
  assertCode(() => unprotectXml('<a>', k), 'ERR_BAD_VALUE', 'xml');
  const deep = `${'<a>'.repeat(200)}${'</a>'.repeat(200)}`;
  assertCode(() => unprotectXml(deep, k), 'ERR_TOO_LARGE', 'xml');
  assertCode(() => protectXml(deep, { key: sender }), 'ERR_TOO_LARGE', 'xml');
  assertCode(() => unprotectXml(`<a>${'x'.repeat(XML_PROTECTION_MAX_OCTETS)}</a>`, k), 'ERR_TOO_LARGE', 'xml');
  assertCode(() => verifyXmlBodies(`<a>${'x'.repeat(XML_PROTECTION_MAX_OCTETS)}</a>`, [], k), 'ERR_TOO_LARGE', 'signatures');
});

test('decrypted content holding another EncryptedData is refused; an unencrypted required element is ERR_FORBIDDEN', () => {
  const inner = protectXml(mcpttInfo, { key: sender, policy: { elements: [MCPTT_INFO_POLICY.elements[2]!], uriAttributes: [] } });
  // Encrypt the parent of the already encrypted element: its content now hides an EncryptedData.
  const outer = protectXml(inner, { key: sender, policy: { elements: [{ namespace: 'urn:3gpp:ns:mcpttInfo:1.0', localName: 'mcptt-Params', category: 'mc-service-user-id' }], uriAttributes: [] } });
  assertCode(() => unprotectXml(outer, { keys: receiver() }), 'ERR_UNSUPPORTED', 'xml.mcpttinfo.mcptt-Params.EncryptedData');
  assertCode(() => unprotectXml(mcpttInfo, { keys: receiver(), required: MCPTT_INFO_POLICY }), 'ERR_FORBIDDEN', 'xml.mcpttinfo.mcptt-Params.mcptt-access-token');
  assertCode(() => unprotectXml(pidf, { keys: receiver(), required: PIDF_AFFILIATION_POLICY }), 'ERR_FORBIDDEN', 'xml.presence@entity');
  // Plain XML without anything encrypted opens to itself.
  assert.equal(canonical(unprotectXml(mcpttInfo, { keys: receiver() }).xml), canonical(mcpttInfo));
});

test('IS proxy (CR 11.1.X): internal CSK protection removed, inter-domain SPK protection applied; message type kept', () => {
  const internal = protectXml(mcpttInfo, { key: sender, policy: MCPTT_INFO_POLICY, wholeDocument: { messageType: 'Group call request' } });
  const external = reprotectXml(internal, { from: { keys: receiver(['CSK']) }, to: { key: spkSender, policy: MCPTT_INFO_POLICY } });
  assert.match(external, /<ds:KeyName>N2VDIQ==<\/ds:KeyName>/); // the SPK-ID
  assertCode(() => unprotectXml(external, { keys: receiver(['CSK']) }), 'ERR_UNKNOWN_KEY');
  const opened = unprotectXml(external, { keys: receiver(['SPK']) });
  assert.equal(opened.messageType, 'Group call request');
  assert.equal(canonical(opened.xml), canonical(mcpttInfo));
});

test('§9.3.5: one HMAC-SHA256 signature per body by cid:, integrity key of §F.1.4 (FC 0x52), verified both canonicalizations', () => {
  const body1 = protectXml(mcpttInfo, { key: sender, policy: MCPTT_INFO_POLICY });
  const body2 = pidf;
  const bodies = [{ contentId: '<info@alice.example.org>', content: body1 }, { contentId: 'pidf%1@alice.example.org', content: utf8(body2) }];
  for (const canonicalization of [XmlProtectionAlgorithm.EXC_C14N, XmlProtectionAlgorithm.C14N]) {
    const sigs = signXmlBodies(bodies, { key: sender, canonicalization });
    assert.match(sigs, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<signatures xmlns="urn:3gpp:ns:mcpttSignedDoc:1\.0">/);
    assert.match(sigs, /URI="cid:info@alice\.example\.org"/);
    assert.match(sigs, /URI="cid:pidf%251@alice\.example\.org"/);
    const digest = createHash('sha256').update(body1).digest('base64');
    assert.ok(sigs.includes(`<ds:DigestValue>${digest}</ds:DigestValue>`), 'the digest is over the body octets');
    assert.deepEqual(verifyXmlBodies(sigs, bodies, { keys: receiver() }), ['info@alice.example.org', 'pidf%1@alice.example.org']);
    // The SignatureValue is HMAC-SHA256 under the integrity key over the canonical SignedInfo.
    const root = new DOMParser().parseFromString(sigs, 'application/xml').documentElement;
    const si = root?.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'SignedInfo')[0];
    assert.ok(si !== undefined && si !== null);
    const value = createHmac('sha256', deriveXmlKey(csk, 'integrity', user, cskId)).update(canonicalize(si, canonicalization)).digest('base64');
    assert.ok(sigs.includes(`<ds:SignatureValue>${value}</ds:SignatureValue>`));
  }
  assert.equal(cidUrl('<a%b"c@x>'), 'cid:a%25b%22c@x');
  assert.equal(contentIdOfCid('CID:a%25b%22c@x'), 'a%b"c@x');
  assert.equal(contentIdOfCid('http://x'), undefined);
  assertCode(() => cidUrl('<a b@x>'), 'ERR_BAD_VALUE', 'contentId');
});

test('§9.3.5 refusals: changed body, value or digest, a body without signature, an unknown reference, off-profile → ERR_SIGNATURE', () => {
  const bodies = [{ contentId: 'a@x', content: mcpttInfo }, { contentId: 'b@x', content: pidf }];
  const sigs = signXmlBodies(bodies, { key: sender });
  const k = { keys: receiver() };
  const s0 = 'signatures.Signature[0]';
  assertCode(() => verifyXmlBodies(sigs, [{ contentId: 'a@x', content: `${mcpttInfo} ` }, bodies[1]!], k), 'ERR_SIGNATURE', s0);
  const value = /<ds:SignatureValue>([^<]*)</.exec(sigs)?.[1] ?? '';
  const other = Buffer.from(b64(value).map((b, i) => (i === 0 ? b ^ 1 : b))).toString('base64');
  assertCode(() => verifyXmlBodies(sigs.replace(value, other), bodies, k), 'ERR_SIGNATURE', s0);
  assertCode(() => verifyXmlBodies(sigs.replace('URI="cid:a@x"', 'URI="cid:c@x"'), bodies, k), 'ERR_SIGNATURE', s0);
  assertCode(() => verifyXmlBodies(sigs, [...bodies, { contentId: 'c@x', content: '<c/>' }], k), 'ERR_SIGNATURE', 'signatures[cid:c@x]');
  assertCode(() => verifyXmlBodies(sigs, [bodies[0]!], k), 'ERR_SIGNATURE', 'signatures.Signature[1]');
  assertCode(() => verifyXmlBodies(sigs.replace('xmldsig-more#hmac-sha256"/>', 'xmldsig-more#hmac-sha256"><ds:HMACOutputLength>128</ds:HMACOutputLength></ds:SignatureMethod>'), bodies, k), 'ERR_SIGNATURE', s0);
  assertCode(() => verifyXmlBodies(sigs.replace('<ds:DigestMethod', '<ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod'), bodies, k), 'ERR_SIGNATURE', s0);
  assertCode(() => verifyXmlBodies(sigs, bodies, { keys: receiver(['SPK']) }), 'ERR_UNKNOWN_KEY', `${s0}.KeyInfo.KeyName`);
  assertCode(() => verifyXmlBodies('<signatures xmlns="urn:other"/>', bodies, k), 'ERR_BAD_VALUE', 'signatures');
  // InK is for integrity (§9.3.3): accepted here.
  const ink = new Uint8Array(randomBytes(32));
  const inkSigs = signXmlBodies(bodies, { key: { xpk: ink, xpkId: 7, purpose: 'InK', mcServiceUserId: user } });
  assert.deepEqual(verifyXmlBodies(inkSigs, bodies, { keys: receiver(['InK'], { resolver: new MemoryXpkResolver([[7, { key: ink, purpose: 'InK' }]]) }) }), ['a@x', 'b@x']);
});

const textArb = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => /^[\t\n\u0020-\uD7FF\uE000-\uFFFD]*$/u.test(s) && s.trim() === s);
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

test('property: protect then unprotect gives back an equivalent document (any text and attribute values)', () => {
  const policy: XmlProtectionPolicy = { elements: MCPTT_INFO_POLICY.elements, uriAttributes: [{ elementNamespace: 'urn:3gpp:ns:mcpttInfo:1.0', elementLocalName: 'mcpttinfo', attribute: 'ref', category: 'mc-service-user-id' }] };
  fc.assert(
    fc.property(textArb, textArb, textArb, fc.boolean(), (a, b, c, whole) => {
      const doc = `<mcpttinfo xmlns="urn:3gpp:ns:mcpttInfo:1.0" ref="${esc(c)}"><mcptt-Params><mcptt-access-token><mcpttString>${esc(a)}</mcpttString></mcptt-access-token><mc-org>${esc(b)}</mc-org></mcptt-Params></mcpttinfo>`;
      const out = protectXml(doc, { key: sender, policy, ...(whole ? { wholeDocument: { messageType: 'x' } } : {}) });
      assert.equal(canonical(unprotectXml(out, { keys: receiver() }).xml), canonical(doc));
    }),
    { numRuns: 200 },
  );
});

test('property: unprotectXml is total on mutated protected bodies: a result or an McsecError, nothing else', () => {
  const out = protectXml(pidf, { key: sender, policy: PIDF_AFFILIATION_POLICY });
  const full = protectXml(mcpttInfo, { key: sender, policy: MCPTT_INFO_POLICY, wholeDocument: { messageType: 'm' } });
  fc.assert(
    fc.property(fc.constantFrom(out, full), fc.nat(), fc.integer({ min: 0, max: 127 }), fc.boolean(), (src, at, ch, cut) => {
      const i = at % src.length;
      const mutated = cut ? src.slice(0, i) : src.slice(0, i) + String.fromCharCode(ch) + src.slice(i + 1);
      try {
        unprotectXml(mutated, { keys: receiver() });
      } catch (err) {
        assert.ok(err instanceof McsecError, String(err));
      }
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (s) => {
      try {
        unprotectXml(s, { keys: receiver() });
      } catch (err) {
        assert.ok(err instanceof McsecError, String(err));
      }
    }),
    { numRuns: 300 },
  );
});
