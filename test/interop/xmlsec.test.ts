/**
 * xmlsec1 (Debian xmlsec1, libxmlsec1 on OpenSSL) as the independent peer of TS 33.180 §9.3 XML
 * protection, both ways, with the §F.1.4 derived keys given to it as raw key files named by the
 * base64 XPK-ID (xmlsec1 1.2 falls back to its only key when no name matches, so a key derived for
 * another MC service user ID is what shows that the derivation, not just the cipher, agrees):
 *   1. xmlsec1 decrypts what protectXml encrypts: element content (Type Content, aes128-gcm), a
 *      whole document (Type Element, with the message-type EncryptionProperty) and, with a 256-bit
 *      TrK, aes256-gcm; each EncryptedData in turn, until none is left; the result must be
 *      equivalent (C14N) to the original.
 *   2. unprotectXml decrypts what xmlsec1 encrypts with aes128-gcm from a template (content of
 *      several elements, then the whole document as Type Element).
 *   3. xmlsec1 verifies each signature signXmlBodies makes (HMAC-SHA256, the body reached through
 *      --url-map for its cid: URL), exclusive and inclusive C14N; and refuses a changed body.
 *   4. verifyXmlBodies verifies signatures xmlsec1 makes from a template; and refuses a changed body.
 *   5. §9.3.4.3 URI attribute encryption is not XML Encryption, so xmlsec1 cannot read an encrypted
 *      URI as such: its AES-128-GCM primitive (96-bit IV, ciphertext || tag, no AAD, the §F.1.4 key)
 *      is checked by handing xmlsec1 the same octets as an aes128-gcm EncryptedData.
 *   6. a whole SIP body as the MCX server and client send it (protectSipXmlBodies: XML bodies with
 *      Content-IDs and one signatures body): xmlsec1 verifies every signature and decrypts every
 *      body; and openSipXmlBodies opens bodies xmlsec1 encrypted and signed.
 * A missing xmlsec1 fails the run (install: apt-get install -y xmlsec1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import { deriveXmlKey } from '../../src/crypto/index.js';
import { canonicalize } from '../../src/formats/kms-xml/xml-signature.js';
import {
  MCPTT_INFO_POLICY,
  MemoryXpkResolver,
  PIDF_AFFILIATION_POLICY,
  XmlProtectionAlgorithm,
  decodeEncryptedUri,
  encodeXpkId,
  openSipXmlBodies,
  protectSipXmlBodies,
  protectXml,
  signXmlBodies,
  unprotectXml,
  verifyXmlBodies,
  type XmlReceiverKeys,
  type XmlSenderKey,
} from '../../src/formats/xmlenc/index.js';
import { concatBytes, fromHex, toBase64 } from '../../src/util/index.js';

const dir = mkdtempSync(join(tmpdir(), 'mcsec-xmlsec-'));
const user = 'sip:alice@example.org';
const csk = fromHex('000102030405060708090a0b0c0d0e0f');
const cskId = 0x2abc_def0;
const keyName = encodeXpkId(cskId);
const sender: XmlSenderKey = { xpk: csk, xpkId: cskId, purpose: 'CSK', mcServiceUserId: user };
const keys: XmlReceiverKeys = {
  resolver: new MemoryXpkResolver([[cskId, { key: csk, purpose: 'CSK' }]]),
  accept: ['CSK'],
  mcServiceUserId: user,
  now: () => new Date(),
};

const file = (name: string, content: string | Uint8Array): string => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const confKey = file('conf.bin', deriveXmlKey(csk, 'confidentiality', user, cskId));
const intKey = file('int.bin', deriveXmlKey(csk, 'integrity', user, cskId));

/** Runs xmlsec1; its exit status and output (stdout, stderr). A missing binary fails the test. */
function xmlsec1(args: readonly string[]): { ok: boolean; out: string; err: string } {
  try {
    const out = execFileSync('xmlsec1', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { ok: true, out, err: '' };
  } catch (e) {
    const err = e as { code?: string; status?: number; stdout?: string; stderr?: string };
    if (err.code === 'ENOENT') throw new Error('xmlsec1 unavailable: install it (apt-get install -y xmlsec1)');
    return { ok: false, out: String(err.stdout ?? ''), err: String(err.stderr ?? '') };
  }
}

function canonical(xml: string): string {
  const root = new DOMParser().parseFromString(xml, 'application/xml').documentElement;
  assert.ok(root !== null);
  return canonicalize(root);
}

const mcpttInfo = `<?xml version="1.0" encoding="UTF-8"?>
<mcpttinfo xmlns="urn:3gpp:ns:mcpttInfo:1.0" xmlns:x="urn:example:ext">
  <mcptt-Params>
    <mcptt-access-token><mcpttString>eyJhbGciOiJFUzI1NiJ9.e30.c2ln &amp; &lt;more&gt; é</mcpttString></mcptt-access-token>
    <mcptt-calling-user-id><mcpttURI>sip:alice@example.org</mcpttURI></mcptt-calling-user-id>
    <mcptt-called-party-id><mcpttURI>sip:bob@example.org</mcpttURI><x:note a="1">t</x:note></mcptt-called-party-id>
    <mcptt-calling-group-id><mcpttURI>sip:group@example.org</mcpttURI></mcptt-calling-group-id>
  </mcptt-Params>
</mcpttinfo>
`;

let decryptPasses = 0;
/** xmlsec1 decrypt, one EncryptedData per run, until the document holds none; returns the result. */
function xmlsecDecryptAll(xml: string, keyArgs: readonly string[], name: string): string {
  let current = xml;
  let passes = 0;
  for (; passes < 16 && current.includes('EncryptedData'); passes++) {
    const r = xmlsec1(['decrypt', ...keyArgs, file(`${name}-${passes}.xml`, current)]);
    assert.ok(r.ok, `xmlsec1 decrypt failed (pass ${passes}): ${r.err}`);
    current = r.out;
  }
  assert.ok(!current.includes('EncryptedData'), 'xmlsec1 left an EncryptedData');
  decryptPasses = passes;
  return current;
}

test('xmlsec1 decrypts protectXml output: element content (aes128-gcm) and the whole document (Type Element)', () => {
  const out = protectXml(mcpttInfo, { key: sender, policy: MCPTT_INFO_POLICY, wholeDocument: { messageType: 'Private call request' } });
  assert.equal((out.match(/<xenc:EncryptedData /g) ?? []).length, 1, 'the whole document hides the element encryptions');
  const plain = xmlsecDecryptAll(out, [`--aeskey:${keyName}`, confKey], 'ours');
  assert.equal(canonical(plain), canonical(mcpttInfo));
  assert.equal(decryptPasses, 5, 'the document, then four element contents');
  // The key derived for another MC service user ID (P0 of §F.1.4) does not decrypt.
  const other = file('conf-other.bin', deriveXmlKey(csk, 'confidentiality', 'sip:bob@example.org', cskId));
  const wrong = xmlsec1(['decrypt', `--aeskey:${keyName}`, other, file('ours-wrong.xml', out)]);
  assert.equal(wrong.ok, false, 'xmlsec1 decrypted with the key of another user');
});

test('xmlsec1 decrypts aes256-gcm made with a 256-bit TrK as XPK (256-bit derived key)', () => {
  const trk = new Uint8Array(randomBytes(32));
  const trkId = 0x0000_0102;
  const out = protectXml(mcpttInfo, { key: { xpk: trk, xpkId: trkId, purpose: 'TrK', mcServiceUserId: user }, policy: MCPTT_INFO_POLICY });
  assert.match(out, /xmlenc11#aes256-gcm/);
  const k = file('trk-conf.bin', deriveXmlKey(trk, 'confidentiality', user, trkId));
  assert.equal(canonical(xmlsecDecryptAll(out, [`--aeskey:${encodeXpkId(trkId)}`, k], 'trk')), canonical(mcpttInfo));
});

const template = (type: 'Content' | 'Element'): string => `<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#${type}">
  <xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes128-gcm"/>
  <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:KeyName>${keyName}</ds:KeyName></ds:KeyInfo>
  <xenc:CipherData><xenc:CipherValue/></xenc:CipherData>
</xenc:EncryptedData>
`;

test('unprotectXml decrypts what xmlsec1 encrypts with aes128-gcm (element contents, then the whole document)', () => {
  const content = file('tpl-content.xml', template('Content'));
  const element = file('tpl-element.xml', template('Element'));
  let current = mcpttInfo;
  const names = ['mcptt-access-token', 'mcptt-calling-user-id', 'mcptt-called-party-id', 'mcptt-calling-group-id'];
  for (const [i, name] of names.entries()) {
    const r = xmlsec1(['encrypt', `--aeskey:${keyName}`, confKey, '--xml-data', file(`theirs-${i}.xml`, current), '--node-name', `urn:3gpp:ns:mcpttInfo:1.0:${name}`, content]);
    assert.ok(r.ok, `xmlsec1 encrypt failed: ${r.err}`);
    current = r.out;
  }
  assert.doesNotMatch(current, /alice|bob|eyJ/);
  const opened = unprotectXml(current, { keys, required: MCPTT_INFO_POLICY });
  assert.equal(opened.decryptedElements.length, 4);
  assert.equal(canonical(opened.xml), canonical(mcpttInfo));
  const whole = xmlsec1(['encrypt', `--aeskey:${keyName}`, confKey, '--xml-data', file('theirs-whole.xml', current), '--node-name', 'urn:3gpp:ns:mcpttInfo:1.0:mcpttinfo', element]);
  assert.ok(whole.ok, `xmlsec1 encrypt (Element) failed: ${whole.err}`);
  assert.match(whole.out, /<xenc:EncryptedData[^>]*#Element/);
  const all = unprotectXml(whole.out, { keys });
  assert.equal(all.decryptedElements.length, 5);
  assert.equal(canonical(all.xml), canonical(mcpttInfo));
  // A changed octet in xmlsec1's CipherValue is refused.
  const tampered = whole.out.replace(/<xenc:CipherValue>(.)/, (_, c: string) => `<xenc:CipherValue>${c === 'A' ? 'B' : 'A'}`);
  assert.throws(() => unprotectXml(tampered, { keys }), { code: 'ERR_DECRYPT' });
});

const pidf = `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:somebody@mcptt.org"><tuple id="t"><status/></tuple></presence>
`;

test('xmlsec1 verifies each signXmlBodies signature (cid: via --url-map; exc-C14N and C14N) and refuses a changed body', () => {
  const info = protectXml(mcpttInfo, { key: sender, policy: MCPTT_INFO_POLICY });
  const bodies = [{ contentId: 'info@alice.example.org', content: info }, { contentId: 'pidf@alice.example.org', content: pidf }];
  const infoFile = file('body-info.xml', info);
  const pidfFile = file('body-pidf.xml', pidf);
  const maps = ['--url-map:cid:info@alice.example.org', infoFile, '--url-map:cid:pidf@alice.example.org', pidfFile];
  for (const canonicalization of [XmlProtectionAlgorithm.EXC_C14N, XmlProtectionAlgorithm.C14N]) {
    const sigs = file('ours-sigs.xml', signXmlBodies(bodies, { key: sender, canonicalization }));
    for (const n of [1, 2]) {
      const r = xmlsec1(['verify', `--hmackey:${keyName}`, intKey, ...maps, '--node-xpath', `(//*[local-name()='Signature'])[${n}]`, sigs]);
      assert.ok(r.ok, `xmlsec1 did not verify signature ${n} (${canonicalization}): ${r.err}`);
    }
    const changed = ['--url-map:cid:info@alice.example.org', file('body-info-changed.xml', `${info} `), '--url-map:cid:pidf@alice.example.org', pidfFile];
    const bad = xmlsec1(['verify', `--hmackey:${keyName}`, intKey, ...changed, '--node-xpath', "(//*[local-name()='Signature'])[1]", sigs]);
    assert.equal(bad.ok, false, 'xmlsec1 verified a signature over a changed body');
    const wrongKey = xmlsec1(['verify', `--hmackey:${keyName}`, confKey, ...maps, '--node-xpath', "(//*[local-name()='Signature'])[1]", sigs]);
    assert.equal(wrongKey.ok, false, 'xmlsec1 verified with the confidentiality key');
  }
});

test('verifyXmlBodies verifies signatures xmlsec1 makes (HMAC-SHA256 over cid: bodies) and refuses a changed body', () => {
  const info = protectXml(mcpttInfo, { key: sender, policy: MCPTT_INFO_POLICY });
  const sig = (cid: string, c14n: string): string => `  <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
    <ds:SignedInfo>
      <ds:CanonicalizationMethod Algorithm="${c14n}"/>
      <ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"/>
      <ds:Reference URI="cid:${cid}">
        <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
        <ds:DigestValue/>
      </ds:Reference>
    </ds:SignedInfo>
    <ds:SignatureValue/>
    <ds:KeyInfo><ds:KeyName>${keyName}</ds:KeyName></ds:KeyInfo>
  </ds:Signature>`;
  let current = `<?xml version="1.0" encoding="UTF-8"?>
<signatures xmlns="urn:3gpp:ns:mcpttSignedDoc:1.0">
${sig('info@alice.example.org', XmlProtectionAlgorithm.EXC_C14N)}
${sig('pidf@alice.example.org', XmlProtectionAlgorithm.C14N)}
</signatures>
`;
  const maps = ['--url-map:cid:info@alice.example.org', file('their-info.xml', info), '--url-map:cid:pidf@alice.example.org', file('their-pidf.xml', pidf)];
  for (const n of [1, 2]) {
    const r = xmlsec1(['sign', `--hmackey:${keyName}`, intKey, ...maps, '--node-xpath', `(//*[local-name()='Signature'])[${n}]`, file(`their-sigs-${n}.xml`, current)]);
    assert.ok(r.ok, `xmlsec1 sign failed: ${r.err}`);
    current = r.out;
  }
  const bodies = [{ contentId: 'info@alice.example.org', content: info }, { contentId: 'pidf@alice.example.org', content: pidf }];
  assert.deepEqual(verifyXmlBodies(current, bodies, { keys }), ['info@alice.example.org', 'pidf@alice.example.org']);
  assert.throws(() => verifyXmlBodies(current, [bodies[0]!, { contentId: 'pidf@alice.example.org', content: `${pidf} ` }], { keys }), { code: 'ERR_SIGNATURE' });
  assert.equal(readFileSync(join(dir, 'their-info.xml'), 'utf8'), info);
});

test('§9.3.4.3 URI attributes: no xmlsec1 counterpart (not XML Encryption); their AES-128-GCM octets decrypt in xmlsec1 as aes128-gcm', (t) => {
  t.diagnostic('xmlsec1 has no notion of the §9.3.4.3 encrypted-URI format; only its cipher (key, IV, ciphertext || tag, no AAD) is cross-checked here');
  const out = protectXml(pidf, { key: sender, policy: PIDF_AFFILIATION_POLICY });
  const uri = /entity="([^"]*)"/.exec(out)?.[1] ?? '';
  const e = decodeEncryptedUri(uri, 'entity');
  assert.ok(e.ciphertext !== null);
  const wrapped = `<?xml version="1.0" encoding="UTF-8"?>
<uri><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Content">
<xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes128-gcm"/>
<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:KeyName>${keyName}</ds:KeyName></ds:KeyInfo>
<xenc:CipherData><xenc:CipherValue>${toBase64(concatBytes(e.iv, e.ciphertext))}</xenc:CipherValue></xenc:CipherData>
</xenc:EncryptedData></uri>
`;
  const r = xmlsec1(['decrypt', `--aeskey:${keyName}`, confKey, file('uri.xml', wrapped)]);
  assert.ok(r.ok, `xmlsec1 decrypt failed: ${r.err}`);
  assert.match(r.out, /<uri>sip:somebody@mcptt\.org<\/uri>/);
});

// A whole SIP body as the MCX server and the client SDK send it (sip-xml-bodies.ts, §9.3.4 + §9.3.5):
// several XML bodies, each with a Content-ID, and one signatures body pointing at them.
const resourceLists = `<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list><entry uri="sip:bob@example.org"/></list></resource-lists>
`;

test('xmlsec1 verifies and decrypts the XML bodies of a protected SIP MESSAGE (protectSipXmlBodies): every signature by its cid:, every body', () => {
  const parts = protectSipXmlBodies(
    [
      { contentType: 'application/vnd.3gpp.mcptt-info+xml', xml: mcpttInfo, policy: MCPTT_INFO_POLICY },
      { contentType: 'application/resource-lists+xml', xml: resourceLists, wholeDocument: { messageType: 'MCPTT private call request' } },
    ],
    { key: sender, contentIdDomain: 'alice.example.org' },
  );
  assert.equal(parts.length, 3);
  const [infoPart, listPart, sigPart] = parts;
  assert.ok(infoPart !== undefined && listPart !== undefined && sigPart !== undefined);
  const cid = (p: { headers: readonly { name: string; value: string }[] }): string => (p.headers.find((h) => h.name === 'Content-ID')?.value ?? '').replace(/^<|>$/g, '');
  const infoFile = file('msg-info.xml', infoPart.body);
  const listFile = file('msg-list.xml', listPart.body);
  const maps = [`--url-map:cid:${cid(infoPart)}`, infoFile, `--url-map:cid:${cid(listPart)}`, listFile];
  const sigs = file('msg-sigs.xml', sigPart.body);
  for (const n of [1, 2]) {
    const r = xmlsec1(['verify', `--hmackey:${keyName}`, intKey, ...maps, '--node-xpath', `(//*[local-name()='Signature'])[${n}]`, sigs]);
    assert.ok(r.ok, `xmlsec1 did not verify signature ${n} of the MESSAGE: ${r.err}`);
  }
  // the signatures cover the bodies as sent: a body swapped for the other fails
  const swapped = [`--url-map:cid:${cid(infoPart)}`, listFile, `--url-map:cid:${cid(listPart)}`, infoFile];
  assert.equal(xmlsec1(['verify', `--hmackey:${keyName}`, intKey, ...swapped, '--node-xpath', "(//*[local-name()='Signature'])[1]", sigs]).ok, false);
  assert.equal(canonical(xmlsecDecryptAll(new TextDecoder().decode(infoPart.body), [`--aeskey:${keyName}`, confKey], 'msg-info')), canonical(mcpttInfo));
  assert.equal(canonical(xmlsecDecryptAll(new TextDecoder().decode(listPart.body), [`--aeskey:${keyName}`, confKey], 'msg-list')), canonical(resourceLists));
});

test('openSipXmlBodies opens a MESSAGE body xmlsec1 encrypted and signed (element contents, a whole document, HMAC signatures by cid:)', () => {
  const content = file('sip-tpl-content.xml', template('Content'));
  let info = mcpttInfo;
  for (const [i, name] of ['mcptt-access-token', 'mcptt-calling-user-id', 'mcptt-called-party-id', 'mcptt-calling-group-id'].entries()) {
    const r = xmlsec1(['encrypt', `--aeskey:${keyName}`, confKey, '--xml-data', file(`sip-theirs-${i}.xml`, info), '--node-name', `urn:3gpp:ns:mcpttInfo:1.0:${name}`, content]);
    assert.ok(r.ok, `xmlsec1 encrypt failed: ${r.err}`);
    info = r.out;
  }
  const whole = xmlsec1(['encrypt', `--aeskey:${keyName}`, confKey, '--xml-data', file('sip-theirs-list.xml', resourceLists), '--node-name', 'urn:ietf:params:xml:ns:resource-lists:resource-lists', file('sip-tpl-element.xml', template('Element'))]);
  assert.ok(whole.ok, `xmlsec1 encrypt (Element) failed: ${whole.err}`);
  const list = whole.out;
  const ids = ['info.1@alice.example.org', 'list.1@alice.example.org'];
  const sig = (id: string): string => `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="${XmlProtectionAlgorithm.EXC_C14N}"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"/><ds:Reference URI="cid:${id}"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:KeyName>${keyName}</ds:KeyName></ds:KeyInfo></ds:Signature>`;
  let sigs = `<?xml version="1.0" encoding="UTF-8"?>\n<signatures xmlns="urn:3gpp:ns:mcpttSignedDoc:1.0">${ids.map(sig).join('')}</signatures>\n`;
  const maps = [`--url-map:cid:${ids[0] ?? ''}`, file('sip-their-info.xml', info), `--url-map:cid:${ids[1] ?? ''}`, file('sip-their-list.xml', list)];
  for (const n of [1, 2]) {
    const r = xmlsec1(['sign', `--hmackey:${keyName}`, intKey, ...maps, '--node-xpath', `(//*[local-name()='Signature'])[${n}]`, file(`sip-their-sigs-${n}.xml`, sigs)]);
    assert.ok(r.ok, `xmlsec1 sign failed: ${r.err}`);
    sigs = r.out;
  }
  const part = (type: string, id: string | undefined, body: string): { headers: { name: string; value: string }[]; body: Uint8Array } => ({
    headers: [{ name: 'Content-Type', value: type }, ...(id === undefined ? [] : [{ name: 'Content-ID', value: `<${id}>` }])],
    body: new TextEncoder().encode(body),
  });
  const parts = [part('application/vnd.3gpp.mcptt-info+xml', ids[0], info), part('application/resource-lists+xml', ids[1], list), part('application/vnd.3gpp.mcptt-signed+xml', undefined, sigs)];
  const opened = openSipXmlBodies(parts, { keys, integrity: 'required', required: { 'application/vnd.3gpp.mcptt-info+xml': MCPTT_INFO_POLICY } });
  assert.equal(opened.signed, true);
  assert.equal(canonical(opened.bodies[0]?.xml ?? ''), canonical(mcpttInfo));
  assert.equal(canonical(opened.bodies[1]?.xml ?? ''), canonical(resourceLists));
  // xmlsec1's signature over the list does not vouch for a changed list
  assert.throws(() => openSipXmlBodies([parts[0]!, part('application/resource-lists+xml', ids[1], `${list} `), parts[2]!], { keys, integrity: 'required' }), { code: 'ERR_SIGNATURE' });
});
