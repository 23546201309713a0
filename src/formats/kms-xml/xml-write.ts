/**
 * Writing XML the Annex D way (TS 33.180 D.3.5.1, D.4.4): a small element tree serialized with
 * escaping that every parser reads back unchanged, values checked so that the decoders
 * (xml-read.ts) return them as given, and the enveloped HMAC-SHA256 XML signature of D.1 / D.3.1
 * (C14N 1.0, SHA-256, one Reference to the root Id, ds:KeyName) computed by hand: xml-crypto's
 * signer cannot emit HMACOutputLength, its canonicalizer is used.
 * Shared by the KMS request and response encoders and by the KRR encoder.
 */
import { createHash, createHmac } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import type { Element } from '@xmldom/xmldom';
import { C14nCanonicalization } from 'xml-crypto';
import { ancestorNamespaces } from './xml-signature.js';
import { ErrorCode, FormatError, McsecError } from '../../errors/index.js';
import { toBase64, toHex } from '../../util/index.js';

const D31 = 'TS 33.180 Annex D.3.1';
/** Algorithm identifiers of the Annex D security extension. */
export const KmsAlgorithm = Object.freeze({
  KW_AES256: 'http://www.w3.org/2001/04/xmlenc#kw-aes256',
  KW_AES256_PAD: 'http://www.w3.org/2009/xmlenc11#kw-aes-256-pad',
  HMAC_SHA256: 'http://www.w3.org/2001/04/xmldsig-more#hmac-sha256',
  /** ECDSA-SHA256 (RFC 6931 §2.3.6; the r ‖ s value of XML Signature 1.1 §6.4.3): KRRs (D.4.3), SignedKmsCertificate (D.3.5.1). */
  ECDSA_SHA256: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
  SHA256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  C14N: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  EXC_C14N: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  ENVELOPED_SIGNATURE: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
} as const);
export const bad = (field: string, rule: string, clause = D31): FormatError => new FormatError(ErrorCode.BAD_VALUE, { field, rule, clause });
export const opt = <T, U>(v: T | undefined, f: (v: T) => U): U | undefined => (v === undefined ? undefined : f(v));

// --- values -------------------------------------------------------------------------------------

const XML_CHARS = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;
const EDGE_SPACE = /^[ \t\r\n]|[ \t\r\n]$/;

/** A string the decoder reads back unchanged: XML characters, no leading or trailing space. */
export function str(s: string, field: string, clause: string, nonEmpty = false): string {
  if (!XML_CHARS.test(s)) throw bad(field, 'must hold XML characters only', clause);
  if (EDGE_SPACE.test(s)) throw bad(field, 'must not begin or end with white space (it is collapsed)', clause);
  if (nonEmpty && s.length === 0) throw bad(field, 'must not be empty', clause);
  return s;
}
export function int(n: number, field: string, clause: string, min = 0, max = Number.MAX_SAFE_INTEGER): string {
  if (!Number.isSafeInteger(n) || n < min || n > max) throw bad(field, `must be an integer from ${min} to ${max}`, clause);
  return String(n);
}
export function hex(b: Uint8Array, field: string, clause: string): string {
  if (b.length === 0) throw bad(field, 'must not be empty', clause);
  return toHex(b).toUpperCase();
}
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|[+-](\d{2}):(\d{2}))?$/;
/** An xsd:dateTime that both the decoder and a schema validator accept. */
export function dateTime(s: string, field: string, clause: string): string {
  const n = (DATE_TIME.exec(s) ?? []).slice(1).map((x) => (x === undefined ? 0 : Number(x)));
  const [y = 0, mo = 0, d = 0, h = 99, mi = 99, sec = 99, zh = 99, zm = 99] = n;
  const days = new Date(Date.UTC(2000, mo, 0)).getUTCDate() - (mo === 2 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)) ? 1 : 0);
  const ok = n.length > 0 && y >= 1 && mo >= 1 && mo <= 12 && d >= 1 && d <= days && h <= 23 && mi <= 59 && sec <= 59 &&
    (zh < 14 || (zh === 14 && zm === 0)) && zm <= 59;
  if (!ok) throw bad(field, 'must be an xsd:dateTime (YYYY-MM-DDThh:mm:ss[.s][zone])', clause);
  return s;
}
/** `date` as an xsd:dateTime in UTC, to the second. */
export const toXsdDateTime = (date: Date): string => date.toISOString().replace(/\.\d+Z$/, 'Z');

// --- a small XML tree ---------------------------------------------------------------------------

export interface Node {
  readonly name: string;
  readonly attrs: readonly (readonly [string, string])[];
  readonly content: readonly Node[] | string;
  /** Already-encoded XML spliced in unchanged (an embedded signed element). */
  readonly raw?: string | undefined;
}
export const el = (name: string, attrs: Record<string, string | undefined>, content: readonly (Node | undefined)[] | string = []): Node => ({
  name,
  attrs: Object.entries(attrs).flatMap(([k, v]) => (v === undefined ? [] : [[k, v] as const])),
  content: typeof content === 'string' ? content : content.filter((c): c is Node => c !== undefined),
});
export const leaf = (name: string, value: string | undefined): Node | undefined => (value === undefined ? undefined : el(name, {}, value));

/** Markup escaped; CR, NEL, LS and PS as character references, which no parser line-end-normalizes
 *  (xmldom turns literal U+0085 / U+2028 / U+2029 into LF as XML 1.1 would; libxml2 does not, so
 *  a literal one would also canonicalize differently for the two); U+FFFD too, since xmldom warns
 *  on a literal one and the decoder refuses any parser warning. */
const escText = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/[\r\u0085\u2028\u2029\uFFFD]/g, (c) => `&#x${(c.codePointAt(0) ?? 0).toString(16).toUpperCase()};`);
const escAttr = (s: string): string =>
  escText(s).replace(/"/g, '&quot;').replace(/\t/g, '&#x9;').replace(/\n/g, '&#xA;');

export function serialize(n: Node, indent = ''): string {
  if (n.raw !== undefined) return `${indent}${n.raw}`;
  const open = `${indent}<${n.name}${n.attrs.map(([k, v]) => ` ${k}="${escAttr(v)}"`).join('')}`;
  if (typeof n.content === 'string') return `${open}>${escText(n.content)}</${n.name}>`;
  if (n.content.length === 0) return `${open}/>`;
  const inner = n.content.map((c) => serialize(c, `${indent}  `)).join('\n');
  return `${open}>\n${inner}\n${indent}</${n.name}>`;
}

// --- the signature ------------------------------------------------------------------------------

export const NCNAME = /^[A-Za-z_][A-Za-z0-9._-]*$/;

/** What a generated ds:Signature declares. */
export interface SignatureTemplate {
  /** The root Id the one Reference points to. */
  readonly id: string;
  readonly signatureMethod: string;
  /** HMACOutputLength, for an HMAC method. */
  readonly hmacOutputLength?: number | undefined;
  /** The ds:KeyInfo content. */
  readonly keyInfo: readonly Node[];
  /** The element name of the Signature itself (the KRR schema puts it in its own namespace). */
  readonly name?: string | undefined;
}

/** A ds:Signature: C14N 1.0, one Reference to the root with enveloped-signature + C14N, SHA-256. */
export function signatureNode(t: SignatureTemplate, digest: string, value: string): Node {
  const length = t.hmacOutputLength === undefined ? [] : [el('ds:HMACOutputLength', {}, String(t.hmacOutputLength))];
  return el(t.name ?? 'ds:Signature', {}, [
    el('ds:SignedInfo', {}, [
      el('ds:CanonicalizationMethod', { Algorithm: KmsAlgorithm.C14N }),
      el('ds:SignatureMethod', { Algorithm: t.signatureMethod }, length),
      el('ds:Reference', { URI: `#${t.id}` }, [
        el('ds:Transforms', {}, [
          el('ds:Transform', { Algorithm: KmsAlgorithm.ENVELOPED_SIGNATURE }),
          el('ds:Transform', { Algorithm: KmsAlgorithm.C14N }),
        ]),
        el('ds:DigestMethod', { Algorithm: KmsAlgorithm.SHA256 }),
        el('ds:DigestValue', {}, digest),
      ]),
    ]),
    el('ds:SignatureValue', {}, value),
    el('ds:KeyInfo', {}, t.keyInfo),
  ]);
}

/** The HMAC-SHA256 signature of D.1 / D.3.1 (256-bit output), its key named by ds:KeyName. */
export const hmacSignatureTemplate = (id: string, keyName: string): SignatureTemplate => ({
  id,
  signatureMethod: KmsAlgorithm.HMAC_SHA256,
  hmacOutputLength: 256,
  keyInfo: [el('ds:KeyName', {}, keyName)],
});

/** HMAC-SHA256 over the canonical SignedInfo, base64. */
export const hmacSigner = (key: Uint8Array) => (signedInfo: string): string =>
  createHmac('sha256', key).update(signedInfo).digest('base64');

const internal = (rule: string): McsecError => new McsecError(ErrorCode.INTERNAL, { field: 'xml.Signature', rule, clause: D31 });

/** The root and its ds:Signature, in a document this module has just written. */
function parseOwn(text: string): { readonly root: Element; readonly signature: Element } {
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  const root = doc.documentElement;
  const signature = root === null ? undefined : Array.from(root.childNodes).find((n) => n.nodeType === 1 && (n.nodeName === 'ds:Signature' || n.nodeName === 'Signature'));
  if (root === null || signature === undefined || !isElement(signature)) throw internal('template did not parse');
  return { root, signature };
}
const isElement = (n: { readonly nodeType: number }): n is Element => n.nodeType === 1;

// --- canonical form of our own trees -------------------------------------------------------------

const canonText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
const canonAttr = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/\t/g, '&#x9;').replace(/\n/g, '&#xA;').replace(/\r/g, '&#xD;');
const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const hasRaw = (n: Node): boolean => n.raw !== undefined || (typeof n.content !== 'string' && n.content.some(hasRaw));

/**
 * C14N 1.0 (inclusive, without comments) of a tree exactly as serialize() writes it and a parser
 * reads it back, computed from the tree: namespace declarations first (the default, then by
 * prefix), rendered where they change what the nearest output ancestor rendered (on the apex: all
 * in scope), other attributes by namespace URI then local name, empty elements as start and end
 * tags, the white space serialize() puts between elements, C14N escaping. `skip` is left out with
 * the white space before it kept (the enveloped-signature transform). Checked against xml-crypto's
 * canonicalizer by the encoders' tests (every signature made here is verified by xml-signature.ts).
 */
export function canonicalTree(
  n: Node,
  indent: string,
  declared: ReadonlyMap<string, string>,
  rendered: ReadonlyMap<string, string> | undefined,
  skip?: Node,
): string {
  const decl = new Map(declared);
  const own: [string, string][] = [];
  for (const [k, v] of n.attrs) {
    if (k === 'xmlns') own.push(['', v]);
    else if (k.startsWith('xmlns:')) own.push([k.slice(6), v]);
  }
  for (const [p, v] of own) decl.set(p, v);
  const out = new Map(rendered ?? []);
  const ns: [string, string][] = [];
  if (rendered === undefined) {
    for (const [p, v] of decl) if (!(p === '' && v === '')) ns.push([p, v]);
  } else {
    for (const [p, v] of own) {
      if (p === '' && v === '' ? (rendered.get('') ?? '') !== '' : rendered.get(p) !== v) ns.push([p, v]);
    }
  }
  for (const [p, v] of ns) out.set(p, v);
  ns.sort((a, b) => byCodePoint(a[0], b[0]));
  const attrs = n.attrs
    .filter(([k]) => k !== 'xmlns' && !k.startsWith('xmlns:'))
    .map(([k, v]) => {
      const i = k.indexOf(':');
      return { uri: i < 0 ? '' : (decl.get(k.slice(0, i)) ?? ''), local: i < 0 ? k : k.slice(i + 1), k, v };
    })
    .sort((a, b) => byCodePoint(a.uri, b.uri) || byCodePoint(a.local, b.local));
  const open = `<${n.name}${ns.map(([p, v]) => ` ${p === '' ? 'xmlns' : `xmlns:${p}`}="${canonAttr(v)}"`).join('')}${attrs.map((a) => ` ${a.k}="${canonAttr(a.v)}"`).join('')}>`;
  if (typeof n.content === 'string') return `${open}${canonText(n.content)}</${n.name}>`;
  if (n.content.length === 0) return `${open}</${n.name}>`;
  let inner = '';
  for (const c of n.content) inner += `\n${indent}  ${c === skip ? '' : canonicalTree(c, `${indent}  `, decl, out)}`;
  return `${open}${inner}\n${indent}</${n.name}>`;
}

/** The declarations in scope inside `parent` (its own and `declared`). */
function declarationsOf(parent: Node, declared: ReadonlyMap<string, string>): Map<string, string> {
  const m = new Map(declared);
  for (const [k, v] of parent.attrs) {
    if (k === 'xmlns') m.set('', v);
    else if (k.startsWith('xmlns:')) m.set(k.slice(6), v);
  }
  return m;
}

const isSignatureNode = (c: Node): boolean => c.name === 'ds:Signature' || c.name === 'Signature';

/**
 * Signs a tree with the enveloped signature its root carries as a child (a signatureNode
 * template), computing digest and SignedInfo canonical forms from the tree itself (no parse);
 * trees holding raw XML fall back to `sign`. Returns the document text.
 */
export function signTree(
  build: (digest: string, value: string) => Node,
  signer: (canonicalSignedInfo: string) => string,
  header: string,
): string {
  const text = (root: Node): string => `${header}${serialize(root)}\n`;
  const first = build('', '');
  if (hasRaw(first)) return sign((d, v) => text(build(d, v)), signer);
  const sig0 = typeof first.content === 'string' ? undefined : first.content.find(isSignatureNode);
  if (sig0 === undefined) throw internal('template has no Signature');
  const digest = toBase64(new Uint8Array(createHash('sha256').update(canonicalTree(first, '', new Map(), undefined, sig0)).digest()));
  const second = build(digest, '');
  const sig = typeof second.content === 'string' ? undefined : second.content.find(isSignatureNode);
  const signedInfo = sig === undefined || typeof sig.content === 'string' ? undefined : sig.content.find((c) => c.name === 'ds:SignedInfo');
  if (sig === undefined || signedInfo === undefined) throw internal('template has no SignedInfo');
  const inScope = declarationsOf(sig, declarationsOf(second, new Map()));
  const value = signer(canonicalTree(signedInfo, '    ', inScope, undefined));
  return text(build(digest, value));
}

/** An enveloped signature to make on an element nested in a document (a SignedKmsCertificate). */
export interface NestedSignature {
  readonly template: SignatureTemplate;
  /** Signs the canonical SignedInfo; returns the base64 SignatureValue. */
  readonly signer: (canonicalSignedInfo: string) => string;
}

/**
 * Fills in the nested enveloped signatures of `pending` (keyed by the element node, whose last
 * child is its signatureNode template) inside the tree `n`, serialized at `indent` with the
 * namespace declarations `declared` in scope from its ancestors: the digest and the SignedInfo are
 * the C14N 1.0 forms of the element in its place in the document (inclusive C14N renders every
 * namespace in scope on the apex, so the context matters). Call before signing the whole document.
 */
export function signNested(n: Node, indent: string, declared: ReadonlyMap<string, string>, pending: ReadonlyMap<Node, NestedSignature>): Node {
  if (pending.size === 0 || n.raw !== undefined || typeof n.content === 'string') return n;
  const decl = declarationsOf(n, declared);
  const content = n.content.map((c) => signNested(c, `${indent}  `, decl, pending));
  const p = pending.get(n);
  const node: Node = content.every((c, i) => c === n.content[i]) ? n : { ...n, content };
  if (p === undefined) return node;
  const withSig = (sig: Node): Node => ({ ...node, content: [...content.slice(0, -1), sig] });
  const sig0 = content[content.length - 1];
  if (sig0 === undefined || !isSignatureNode(sig0)) throw internal('nested template has no Signature as last child');
  const digest = toBase64(new Uint8Array(createHash('sha256').update(canonicalTree(node, indent, declared, undefined, sig0)).digest()));
  const sig1 = signatureNode(p.template, digest, '');
  const signedInfo = typeof sig1.content === 'string' ? undefined : sig1.content.find((c) => c.name === 'ds:SignedInfo');
  if (signedInfo === undefined) throw internal('template has no SignedInfo');
  const inScope = declarationsOf(sig1, declarationsOf(node, declared));
  const value = p.signer(canonicalTree(signedInfo, `${indent}    `, inScope, undefined));
  return withSig(signatureNode(p.template, digest, value));
}

/** The declarations of an element's attributes (`xmlns`, `xmlns:p`) as a map. */
export const declaredBy = (attrs: Record<string, string | undefined>): Map<string, string> => {
  const m = new Map<string, string>();
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    if (k === 'xmlns') m.set('', v);
    else if (k.startsWith('xmlns:')) m.set(k.slice(6), v);
  }
  return m;
};

/** Fills in the DigestValue and SignatureValue of a signatureNode template (see the header). */
export function sign(build: (digest: string, value: string) => string, signer: (canonicalSignedInfo: string) => string): string {
  const c14n = new C14nCanonicalization();
  const first = parseOwn(build('', ''));
  first.root.removeChild(first.signature); // the enveloped-signature transform
  const digest = toBase64(new Uint8Array(createHash('sha256').update(c14n.process(first.root, {})).digest()));
  const second = parseOwn(build(digest, ''));
  const signedInfo = Array.from(second.signature.childNodes).find((n): n is Element => isElement(n) && n.nodeName === 'ds:SignedInfo');
  if (signedInfo === undefined) throw internal('template has no SignedInfo');
  const value = signer(c14n.process(signedInfo, { ancestorNamespaces: ancestorNamespaces(signedInfo) }));
  return build(digest, value);
}

