/**
 * Reading XML the way the Annex D schemas say (TS 33.180 D.3.5.1, D.4.4): element children in
 * schema order, attributes checked, simple values collapsed and typed, a ds:Signature read into
 * a plain value, and documents size-capped and refused with DOCTYPE / entity declarations (XXE)
 * before they are parsed. Shared by the KMS request, response and KRR decoders; every failure is
 * a FormatError naming the element path.
 */
import { DOMParser } from '@xmldom/xmldom';
import type { Element, Node } from '@xmldom/xmldom';
import { ErrorCode, FormatError } from '../../errors/index.js';
import { fromBase64Canonical, fromHex, fromUtf8, utf8 } from '../../util/index.js';

const D31 = 'TS 33.180 Annex D.3.1';
const D351 = 'TS 33.180 Annex D.3.5.1';
const XMLDSIG = 'http://www.w3.org/2000/09/xmldsig#';

/** What the ds:Signature declares (verified by kms-protection.ts). */
export interface XmlSignatureInfo {
  readonly canonicalizationMethod: string;
  readonly signatureMethod: string;
  readonly hmacOutputLength: number | undefined;
  readonly references: readonly {
    readonly uri: string | undefined;
    readonly transforms: readonly string[] | undefined;
    readonly digestMethod: string;
  }[];
  readonly signatureValue: Uint8Array;
  readonly keyName: string | undefined;
}
export const fail = (code: ErrorCode, field: string, rule: string, clause = D351): FormatError =>
  new FormatError(code, { field, rule, clause });
export const bad = (field: string, rule: string, clause = D351): FormatError => fail(ErrorCode.BAD_VALUE, field, rule, clause);

export const ELEMENT = 1;
export const TEXT = 3;
export const CDATA = 4;
export const isElement = (n: Node): n is Element => n.nodeType === ELEMENT;
const XML_SPACE = /^[ \t\r\n]*$/;

/** The element children of `el` in schema order, read one expected name at a time. */
export class Children {
  readonly #els: Element[] = [];
  readonly #path: string;
  readonly #ns: string;
  #at = 0;
  /** Skipped elements of other namespaces (`xsd:any ##other`). */
  readonly foreign: Element[] = [];
  constructor(el: Element, path: string, namespaces: readonly string[], foreign: boolean) {
    this.#path = path;
    this.#ns = namespaces[0] ?? '';
    for (const n of el.childNodes) {
      if (isElement(n)) {
        const ns = n.namespaceURI ?? '';
        if (namespaces.includes(ns)) this.#els.push(n);
        else if (foreign && ns !== '') this.foreign.push(n);
        else throw bad(`${path}.${n.localName ?? n.nodeName}`, `must be in the namespace ${namespaces[0] ?? ''}`);
      } else if ((n.nodeType === TEXT || n.nodeType === CDATA) && !XML_SPACE.test(n.nodeValue ?? '')) {
        throw bad(path, 'must not contain text between its elements');
      }
    }
  }
  optional(name: string, ns: string = this.#ns): Element | undefined {
    const el = this.#els[this.#at];
    if (el === undefined || el.localName !== name || el.namespaceURI !== ns) return undefined;
    this.#at += 1;
    return el;
  }
  one(name: string, ns: string = this.#ns): Element {
    const el = this.optional(name, ns);
    if (el === undefined) throw bad(`${this.#path}.${name}`, 'is required here');
    return el;
  }
  many(name: string, ns: string = this.#ns): Element[] {
    const out: Element[] = [];
    for (let el = this.optional(name, ns); el !== undefined; el = this.optional(name, ns)) out.push(el);
    return out;
  }
  done(): void {
    const el = this.#els[this.#at];
    if (el !== undefined) throw bad(`${this.#path}.${el.localName ?? el.nodeName}`, 'is not allowed here (out of order, repeated or unknown)');
  }
}

/** Checks the unqualified attributes of `el` against `allowed`; attributes of other namespaces pass. */
export function attributes(el: Element, path: string, allowed: readonly string[]): void {
  for (const a of el.attributes) {
    if ((a.namespaceURI === null || a.namespaceURI === '') && !allowed.includes(a.name)) {
      throw bad(`${path}@${a.name}`, 'is not an attribute of this element');
    }
  }
}

export const attr = (el: Element, name: string): string | undefined =>
  el.hasAttribute(name) ? (el.getAttribute(name) ?? '') : undefined;
/** An attribute value with XML white space trimmed (token-typed attributes). */
export const tokenAttr = (el: Element, name: string): string | undefined => {
  const v = attr(el, name);
  return v === undefined ? undefined : collapse(v);
};

/** The character content of a simple-typed element, trimmed (whiteSpace collapse). */
export function text(el: Element, path: string): string {
  let s = '';
  for (const n of el.childNodes) {
    if (isElement(n)) throw bad(`${path}.${n.localName ?? n.nodeName}`, 'is not allowed: the element holds a simple value');
    if (n.nodeType === TEXT || n.nodeType === CDATA) s += n.nodeValue ?? '';
  }
  return collapse(s);
}

const isXmlSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
/** Leading and trailing XML white space removed (a linear scan: no regex backtracking). */
export function collapse(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isXmlSpace(s.charCodeAt(a))) a += 1;
  while (b > a && isXmlSpace(s.charCodeAt(b - 1))) b -= 1;
  return s.slice(a, b);
}

export function nonEmpty(el: Element, path: string, clause: string): string {
  const s = text(el, path);
  if (s.length === 0) throw bad(path, 'must not be empty', clause);
  return s;
}

export function hexBinary(el: Element, path: string, clause: string): Uint8Array {
  const s = text(el, path);
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(s)) throw bad(path, 'must be non-empty hexBinary (an even number of hex digits)', clause);
  return fromHex(s, path);
}

export function base64Binary(el: Element, path: string, clause: string): Uint8Array {
  const bytes = fromBase64Canonical(text(el, path).replace(/[ \t\r\n]+/g, ''));
  if (bytes === null) throw bad(path, 'must be base64', clause);
  return bytes;
}

export function integer(el: Element, path: string, clause: string, min = 0): number {
  const s = text(el, path);
  const n = /^[+-]?\d{1,16}$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw bad(path, `must be an integer of at least ${min}`, clause);
  return n;
}

export function boolean(el: Element, path: string, clause: string): boolean {
  const s = text(el, path);
  if (s === 'true' || s === '1') return true;
  if (s === 'false' || s === '0') return false;
  throw bad(path, 'must be an xsd:boolean (true, false, 1, 0)', clause);
}

const DATE_TIME = /^-?\d{4,}-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|[+-](\d{2}):(\d{2}))?$/;
export function dateTime(el: Element, path: string, clause: string): string {
  const s = text(el, path);
  const m = DATE_TIME.exec(s);
  const [mo, d, h, mi, sec, zh, zm] = (m ?? []).slice(1).map((x) => (x === undefined ? 0 : Number(x)));
  const ok = m !== null && mo !== undefined && mo >= 1 && mo <= 12 && d !== undefined && d >= 1 && d <= 31 &&
    h !== undefined && h <= 24 && mi !== undefined && mi <= 59 && sec !== undefined && sec <= 59 && (zh ?? 0) <= 14 && (zm ?? 0) <= 59;
  if (!ok) throw bad(path, 'must be an xsd:dateTime', clause);
  return s;
}

export const opt = <T>(el: Element | undefined, f: (el: Element) => T): T | undefined => (el === undefined ? undefined : f(el));

export function signatureInfo(el: Element, path: string, clause = D31): XmlSignatureInfo {
  const c = new Children(el, path, [XMLDSIG], false);
  const si = c.one('SignedInfo', XMLDSIG);
  const value = c.one('SignatureValue', XMLDSIG);
  const keyInfo = c.optional('KeyInfo', XMLDSIG);
  c.many('Object', XMLDSIG);
  c.done();
  const s = new Children(si, `${path}.SignedInfo`, [XMLDSIG], false);
  const algorithm = (e: Element, p: string): string => {
    const a = attr(e, 'Algorithm');
    if (a === undefined || a.length === 0) throw bad(`${p}@Algorithm`, 'is required', clause);
    return a;
  };
  const canonicalizationMethod = algorithm(s.one('CanonicalizationMethod', XMLDSIG), `${path}.SignedInfo.CanonicalizationMethod`);
  const sm = s.one('SignatureMethod', XMLDSIG);
  const smPath = `${path}.SignedInfo.SignatureMethod`;
  const smc = new Children(sm, smPath, [XMLDSIG], true);
  const hmacOutputLength = opt(smc.optional('HMACOutputLength', XMLDSIG), (e) => integer(e, `${smPath}.HMACOutputLength`, D31, 1));
  smc.done();
  const refs = s.many('Reference', XMLDSIG);
  s.done();
  if (refs.length === 0) throw bad(`${path}.SignedInfo.Reference`, 'is required', clause);
  const references = refs.map((r, i) => {
    const rPath = `${path}.SignedInfo.Reference[${i}]`;
    const rc = new Children(r, rPath, [XMLDSIG], false);
    const transforms = opt(rc.optional('Transforms', XMLDSIG), (t) => {
      const tc = new Children(t, `${rPath}.Transforms`, [XMLDSIG], false);
      const list = tc.many('Transform', XMLDSIG).map((x, j) => algorithm(x, `${rPath}.Transforms.Transform[${j}]`));
      tc.done();
      return Object.freeze(list);
    });
    const digestMethod = algorithm(rc.one('DigestMethod', XMLDSIG), `${rPath}.DigestMethod`);
    base64Binary(rc.one('DigestValue', XMLDSIG), `${rPath}.DigestValue`, clause);
    rc.done();
    return Object.freeze({ uri: attr(r, 'URI'), transforms, digestMethod });
  });
  let keyName: string | undefined;
  for (const n of keyInfo?.childNodes ?? []) {
    if (keyName === undefined && isElement(n) && n.namespaceURI === XMLDSIG && n.localName === 'KeyName') {
      keyName = text(n, `${path}.KeyInfo.KeyName`);
    }
  }
  return Object.freeze({
    canonicalizationMethod,
    signatureMethod: algorithm(sm, smPath),
    hmacOutputLength,
    references: Object.freeze(references),
    signatureValue: base64Binary(value, `${path}.SignatureValue`, clause),
    keyName,
  });
}

/** The document text: size-capped, UTF-8, without DOCTYPE or entity declarations. */
export function documentText(input: string | Uint8Array, field: string, maxOctets: number, clause: string): string {
  const tooLarge = (): FormatError => fail(ErrorCode.TOO_LARGE, field, `must be at most ${maxOctets} octets`, clause);
  let s: string;
  if (typeof input === 'string') {
    if (input.length > maxOctets || utf8(input).length > maxOctets) throw tooLarge();
    s = input;
  } else {
    if (input.length > maxOctets) throw tooLarge();
    try {
      s = fromUtf8(input, field);
    } catch {
      throw bad(field, 'must be valid UTF-8', clause);
    }
    const enc = /^\uFEFF?<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']/.exec(s)?.[1];
    if (enc !== undefined && !/^utf-?8$/i.test(enc)) throw fail(ErrorCode.UNSUPPORTED, field, 'must be encoded in UTF-8', clause);
  }
  if (/<!DOCTYPE|<!ENTITY/i.test(s)) {
    throw fail(ErrorCode.UNSUPPORTED, field, 'must not contain a DOCTYPE or entity declaration (XXE)', clause);
  }
  return s.replace(/^\uFEFF/, '');
}

/** Where the parser stopped, from the locator xmldom passes to onError. */
function position(context: unknown): string {
  const locator: unknown = typeof context === 'object' && context !== null ? Reflect.get(context, 'locator') : undefined;
  const line: unknown = typeof locator === 'object' && locator !== null ? Reflect.get(locator, 'lineNumber') : undefined;
  const column: unknown = typeof locator === 'object' && locator !== null ? Reflect.get(locator, 'columnNumber') : undefined;
  return typeof line === 'number' && typeof column === 'number' ? ` (line ${line}, column ${column})` : '';
}

export function parse(s: string, field: string, clause: string): Element {
  let where = '';
  let root: Element | null;
  try {
    const doc = new DOMParser({
      onError: (_level, _msg, context: unknown) => {
        where = position(context);
        throw new Error('not well-formed');
      },
    }).parseFromString(s, 'application/xml');
    if (doc.doctype !== null) throw new Error('doctype');
    root = doc.documentElement;
  } catch {
    throw bad(field, `must be well-formed, namespace-well-formed XML${where}`, clause);
  }
  if (root === null) throw bad(field, 'must have a root element', clause);
  return root;
}

