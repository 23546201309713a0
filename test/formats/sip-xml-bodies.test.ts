/**
 * The XML bodies of one SIP message under TS 33.180 §9.3 (formats/xmlenc/sip-xml-bodies.ts): each
 * XML body encrypted per its policy with a Content-ID, one signatures body over all of them
 * (§9.3.5); opening verifies first, strictly against signature wrapping, then decrypts; the IS
 * proxy's re-protection from one link's key to another's (CR 11.1.X), EARs kept. Round trip,
 * the refusals with code and field, and fast-check: round trip for any text, totality on mutated
 * parts (a result or an McsecError, nothing else), and a mutated signed body never opens.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { McsecError } from '../../src/errors/index.js';
import { multipartBody, decodeMultipart, type MimePart } from '../../src/formats/sip/index.js';
import {
  MCPTT_INFO_POLICY,
  MCPTT_SIGNED_CONTENT_TYPE,
  MemoryXpkResolver,
  isXmlEssence,
  openSipXmlBodies,
  protectSipXmlBodies,
  reprotectSipXmlBodies,
  verifyXmlBodies,
  type XmlReceiverKeys,
  type XmlSenderKey,
} from '../../src/formats/xmlenc/index.js';
import { fromHex, utf8 } from '../../src/util/index.js';

const user = 'sip:alice@example.org';
const csk = fromHex('000102030405060708090a0b0c0d0e0f');
const cskId = 0x2abc_def0;
const key: XmlSenderKey = { xpk: csk, xpkId: cskId, purpose: 'CSK', mcServiceUserId: user };
const keys: XmlReceiverKeys = { resolver: new MemoryXpkResolver([[cskId, { key: csk, purpose: 'CSK' }]]), accept: ['CSK'], mcServiceUserId: user, now: () => new Date() };
const INFO_TYPE = 'application/vnd.3gpp.mcptt-info+xml';
const info = (token: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?><mcpttinfo xmlns="urn:3gpp:ns:mcpttInfo:1.0"><mcptt-Params><mcptt-access-token><mcpttString>${token}</mcpttString></mcptt-access-token><mcptt-calling-user-id><mcpttURI>${user}</mcpttURI></mcptt-calling-user-id></mcptt-Params></mcpttinfo>`;
const lists = '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list><entry uri="sip:bob@example.org"/></list></resource-lists>';
const bodies = [
  { contentType: INFO_TYPE, xml: info('tok'), policy: MCPTT_INFO_POLICY },
  { contentType: 'application/resource-lists+xml', xml: lists, wholeDocument: { messageType: 'MCPTT private call request' } },
];
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

test('protectSipXmlBodies: one part per body with a unique Content-ID, then the signatures part; opened back, signed', () => {
  const parts = protectSipXmlBodies(bodies, { key, contentIdDomain: 'alice.example.org' });
  assert.equal(parts.length, 3);
  const ids = parts.slice(0, 2).map((p) => p.headers.find((h) => h.name === 'Content-ID')?.value);
  assert.match(ids[0] ?? '', /^<x1\.[0-9a-f]{16}@alice\.example\.org>$/);
  assert.notEqual(ids[0], ids[1]);
  assert.equal(parts[2]?.headers[0]?.value, MCPTT_SIGNED_CONTENT_TYPE);
  assert.ok(!text(parts[0]?.body ?? new Uint8Array(0)).includes('tok<'), 'the token is encrypted');
  // through a real multipart body and back
  const mp = multipartBody(parts, 'b1');
  const back = decodeMultipart(mp.body, 'b1');
  const opened = openSipXmlBodies(back, { keys, integrity: 'required', required: { [INFO_TYPE]: MCPTT_INFO_POLICY } });
  assert.equal(opened.signed, true);
  assert.deepEqual(opened.bodies.map((b) => [b.index, b.contentType]), [[0, INFO_TYPE], [1, 'application/resource-lists+xml']]);
  assert.match(opened.bodies[0]?.xml ?? '', /<mcpttString[^>]*>tok<\/mcpttString>/);
  assert.equal(opened.bodies[1]?.messageType, 'MCPTT private call request');
  assert.deepEqual([...new Set(opened.bodies.flatMap((b) => b.xpkIds))], [cskId]);
  // unsigned: opened with integrity if-present, refused with required
  const unsigned = protectSipXmlBodies(bodies, { key, sign: false });
  assert.equal(unsigned.length, 2);
  assert.equal(openSipXmlBodies(unsigned, { keys, integrity: 'if-present' }).signed, false);
  assert.throws(() => openSipXmlBodies(unsigned, { keys, integrity: 'required' }), { code: 'ERR_FORBIDDEN', field: 'sip.body' });
  // parts that are not XML are left alone; no XML at all needs no signature
  const mikey: MimePart = { headers: [{ name: 'Content-Type', value: 'application/mikey' }], body: new Uint8Array([1, 2, 3]) };
  assert.deepEqual(openSipXmlBodies([mikey], { keys, integrity: 'required' }).bodies, []);
  assert.equal(openSipXmlBodies([mikey, ...parts], { keys, integrity: 'required' }).bodies[0]?.index, 1);
});

test('refusals: not XML, the signatures type, no bodies; wrapping variants are one uniform ERR_SIGNATURE', () => {
  assert.throws(() => protectSipXmlBodies([], { key }), { code: 'ERR_BAD_VALUE', field: 'bodies' });
  assert.throws(() => protectSipXmlBodies([{ contentType: 'text/plain', xml: lists }], { key }), { code: 'ERR_BAD_VALUE', field: 'bodies[0].contentType' });
  assert.throws(() => protectSipXmlBodies([{ contentType: MCPTT_SIGNED_CONTENT_TYPE, xml: lists }], { key }), { code: 'ERR_BAD_VALUE' });
  const [a, b, sig] = protectSipXmlBodies(bodies, { key });
  assert.ok(a !== undefined && b !== undefined && sig !== undefined);
  const open = (parts: MimePart[]): unknown => openSipXmlBodies(parts, { keys, integrity: 'required' });
  const noCid = (p: MimePart): MimePart => ({ headers: p.headers.filter((h) => h.name !== 'Content-ID'), body: p.body });
  // A forged body whose Content-ID is the genuine one in a second pair of brackets, put first: both
  // must not reach the signature check as one ID (the review's F1; it opened as signed before).
  const cidOf = (p: MimePart): string => p.headers.find((h) => h.name === 'Content-ID')?.value ?? '';
  const forged: MimePart = { headers: [{ name: 'Content-Type', value: 'application/resource-lists+xml' }, { name: 'Content-ID', value: `<${cidOf(a)}>` }], body: utf8(lists) };
  assert.throws(() => open([forged, a, b, sig]), (e: unknown) => e instanceof McsecError && e.code === 'ERR_BAD_VALUE' && e.field === 'sip.body.part0.headers.Content-ID', 'a doubly bracketed Content-ID');
  assert.throws(() => verifyXmlBodies(sig.body, [{ contentId: `<${cidOf(a)}>`, content: utf8(lists) }, { contentId: cidOf(a), content: a.body }, { contentId: cidOf(b), content: b.body }], { keys }), { code: 'ERR_SIGNATURE' });
  for (const [name, parts] of [
    ['two signatures bodies', [a, b, sig, sig]],
    ['a repeated Content-ID', [a, { headers: a.headers, body: b.body }, b, sig]],
    ['an XML body without Content-ID', [noCid(a), b, sig]],
    ['an extra unsigned XML body', [a, b, { headers: [{ name: 'Content-Type', value: INFO_TYPE }, { name: 'Content-ID', value: '<z@x>' }], body: a.body }, sig]],
    ['a signed body left out', [a, sig]],
    ['the bodies swapped under their Content-IDs', [{ headers: a.headers, body: b.body }, { headers: b.headers, body: a.body }, sig]],
    ['a signatures body and no XML', [sig]],
  ] as const) {
    assert.throws(() => open([...parts]), (e: unknown) => e instanceof McsecError && e.code === 'ERR_SIGNATURE', name);
  }
  // a key the receiver does not hold is named, not hidden behind ERR_SIGNATURE
  const other = protectSipXmlBodies(bodies, { key: { ...key, xpkId: 0x2000_0001 } });
  assert.throws(() => openSipXmlBodies([...other], { keys, integrity: 'required' }), { code: 'ERR_UNKNOWN_KEY', field: 'signatures.Signature[0].KeyInfo.KeyName' });
  assert.ok(isXmlEssence('application/pidf+xml') && isXmlEssence('text/xml') && !isXmlEssence('application/mikey'));
});

test('reprotectSipXmlBodies (IS proxy, CR 11.1.X): CSK protection off, SPK protection on, message type and EAR part kept', () => {
  const spk = fromHex('f0e0d0c0b0a090807060504030201000');
  const spkId = 0x3a1b_2c3d;
  const partner = 'sip:alice@example.org';
  const spkKeys: XmlReceiverKeys = { resolver: new MemoryXpkResolver([[spkId, { key: spk, purpose: 'SPK' }]]), accept: ['SPK'], mcServiceUserId: partner, now: () => new Date() };
  const ear: MimePart = { headers: [{ name: 'Content-Type', value: 'application/vnd.3gpp.mc-signalling-ear' }], body: new Uint8Array([9, 8, 7]) };
  const [a, b, sig] = protectSipXmlBodies(bodies, { key });
  assert.ok(a !== undefined && b !== undefined && sig !== undefined);
  const incoming = [a, ear, b, sig];
  const out = reprotectSipXmlBodies(incoming, {
    from: { keys, integrity: 'required', required: { [INFO_TYPE]: MCPTT_INFO_POLICY } },
    to: { key: { xpk: spk, xpkId: spkId, purpose: 'SPK', mcServiceUserId: partner }, contentIdDomain: 'isp.example.org' },
  });
  assert.equal(out.length, 4);
  assert.deepEqual(out[1], ear, 'the EAR is copied on unchanged, in its place');
  assert.equal(out[3]?.headers[0]?.value, MCPTT_SIGNED_CONTENT_TYPE);
  const opened = openSipXmlBodies(out, { keys: spkKeys, integrity: 'required', required: { [INFO_TYPE]: MCPTT_INFO_POLICY } });
  assert.match(opened.bodies[0]?.xml ?? '', /<mcpttString[^>]*>tok<\/mcpttString>/);
  assert.equal(opened.bodies[1]?.messageType, 'MCPTT private call request');
  assert.deepEqual([...new Set(opened.bodies.flatMap((x) => x.xpkIds))], [spkId]);
  // each side's protection opens only with its own link's keys
  assert.throws(() => openSipXmlBodies(out, { keys, integrity: 'required' }), { code: 'ERR_UNKNOWN_KEY' });
  assert.throws(() => openSipXmlBodies(incoming, { keys: spkKeys, integrity: 'required' }), { code: 'ERR_UNKNOWN_KEY' });
  // a tampered incoming body is refused, nothing made
  const bad = [a, ear, { headers: b.headers, body: utf8(`${text(b.body)} `) }, sig];
  assert.throws(() => reprotectSipXmlBodies(bad, { from: { keys, integrity: 'required' }, to: { key: { xpk: spk, xpkId: spkId, purpose: 'SPK', mcServiceUserId: partner } } }), { code: 'ERR_SIGNATURE' });
});

const tokenArb = fc.string({ unit: 'grapheme', maxLength: 30 }).filter((s) => /^[\u0020-\uD7FF\uE000-\uFFFD]*$/u.test(s) && s.trim() === s);
const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

test('property: protect then open gives back the token, for any text', () => {
  fc.assert(
    fc.property(tokenArb, fc.boolean(), (token, sign) => {
      const parts = protectSipXmlBodies([{ contentType: INFO_TYPE, xml: info(escapeXml(token)), policy: MCPTT_INFO_POLICY }], { key, sign });
      const opened = openSipXmlBodies(parts, { keys, integrity: sign ? 'required' : 'if-present' });
      const m = /<mcpttString[^>]*?(?:\/>|>([^<]*)<\/mcpttString>)/.exec(opened.bodies[0]?.xml ?? '');
      assert.ok(m !== null);
      const unescaped = (m[1] ?? '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
      assert.equal(unescaped, token);
    }),
    { numRuns: 40 },
  );
});

test('property: openSipXmlBodies is total on mutated parts (a result or an McsecError), and a changed signed octet never opens', () => {
  const parts = protectSipXmlBodies(bodies, { key });
  fc.assert(
    fc.property(fc.nat({ max: 2 }), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean(), (which, at, xor, cut) => {
      const p = parts[which] as MimePart;
      const body = p.body.slice(0, cut ? at % (p.body.length + 1) : p.body.length);
      if (!cut && body.length > 0) body[at % body.length] = (body[at % body.length] ?? 0) ^ xor;
      const mutated = parts.map((q, i) => (i === which ? { headers: q.headers, body } : q));
      // a cut at the full length changes nothing: that message must open
      const unchanged = body.length === p.body.length && body.every((b, i) => b === p.body[i]);
      try {
        openSipXmlBodies(mutated, { keys, integrity: 'required' });
        // only a change the signatures body does not protect may still open: whitespace or an
        // equivalent spelling inside the signatures body outside SignedInfo
        if (!unchanged) assert.equal(which, 2, 'a changed signed body opened');
      } catch (err) {
        assert.ok(!unchanged, `the unchanged message was refused: ${String(err)}`);
        assert.ok(err instanceof McsecError, String(err));
      }
    }),
    { numRuns: 300 },
  );
  assert.equal(text(utf8('x')), 'x');
});
