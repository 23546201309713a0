/**
 * DOM helpers for XML protection (TS 33.180 §9.3.4): reading a body into a tree (size-capped, no
 * DOCTYPE or entities: kms-xml's xml-read.ts), serializing element content as the plaintext of
 * an EncryptedData of Type Content (XML Encryption §4.1), parsing decrypted octets back in the
 * context of the element they replace (the namespaces in scope there, as XML Encryption §4.4
 * step 3.2 requires), element paths for error fields, and a depth bound so that no recursive
 * serializer can run out of stack.
 */
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import type { Document, Element, Node } from '@xmldom/xmldom';
import { ErrorCode, FormatError } from '../../errors/index.js';
import { documentText, parse } from '../kms-xml/xml-read.js';
import { XML_PROTECTION_MAX_OCTETS } from './constants.js';

/** How deep elements may nest in a protected body. */
export const XML_PROTECTION_MAX_DEPTH = 128;

const XMLNS = 'http://www.w3.org/2000/xmlns/';
export const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_NODE = 4;
export const isElement = (n: Node | null | undefined): n is Element => n !== null && n !== undefined && n.nodeType === ELEMENT_NODE;
export const isSpace = (n: Node): boolean => (n.nodeType === TEXT_NODE || n.nodeType === CDATA_NODE) && /^[ \t\r\n]*$/.test(n.nodeValue ?? '');

/** The document of a body: size-capped, UTF-8, without DOCTYPE or entity declarations. */
export function readDocument(input: string | Uint8Array, field: string, clause: string): Document {
  const root = parse(documentText(input, field, XML_PROTECTION_MAX_OCTETS, clause), field, clause);
  const doc = root.ownerDocument;
  if (doc === null) throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'must be a document', clause });
  checkDepth(root, field, clause);
  return doc;
}

/** Refuses trees deeper than XML_PROTECTION_MAX_DEPTH (iteratively). */
export function checkDepth(root: Element, field: string, clause: string): void {
  const stack: [Node, number][] = [[root, 1]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [n, d] = top;
    if (d > XML_PROTECTION_MAX_DEPTH) {
      throw new FormatError(ErrorCode.TOO_LARGE, { field, rule: `must nest elements at most ${XML_PROTECTION_MAX_DEPTH} deep`, clause });
    }
    for (const c of n.childNodes) if (isElement(c)) stack.push([c, d + 1]);
  }
}

const serializer = new XMLSerializer();
/** The serialized form of a node (a document, an element, or any child). */
export const serializeNode = (n: Node): string => serializer.serializeToString(n);

/** The element's content serialized: the plaintext of Type Content (XML Encryption §4.1 step 3). */
export function contentOf(el: Element): string {
  let s = '';
  for (const c of el.childNodes) s += serializeNode(c);
  return s;
}

/** The namespace declarations in scope at `el` (nearest first wins), `xml` excepted. */
export function inScopeNamespaces(el: Element | null): Map<string, string> {
  const out = new Map<string, string>();
  for (let p: Node | null = el; isElement(p); p = p.parentNode) {
    for (const a of p.attributes) {
      const isDecl = a.namespaceURI === XMLNS || a.name === 'xmlns' || a.name.startsWith('xmlns:');
      if (!isDecl) continue;
      const prefix = a.name === 'xmlns' ? '' : a.name.slice(6);
      if (prefix !== 'xml' && !out.has(prefix)) out.set(prefix, a.value);
    }
  }
  return out;
}

const escAttr = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

/**
 * Parses decrypted octets as content of `context` (null: at document level) and returns the
 * nodes, imported into `doc`. Not well-formed (or not UTF-8) is a FormatError naming `field`.
 */
export function parseFragment(text: string, context: Element | null, doc: Document, field: string, clause: string): Node[] {
  const decls = [...inScopeNamespaces(context)].map(([p, v]) => ` ${p === '' ? 'xmlns' : `xmlns:${p}`}="${escAttr(v)}"`).join('');
  const bad = (): FormatError => new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'must decrypt to well-formed XML content', clause });
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw bad();
  let wrapper: Element | null;
  try {
    const parsed = new DOMParser({
      onError: () => {
        throw new Error('not well-formed');
      },
    }).parseFromString(`<mcsec-fragment${decls}>${text}</mcsec-fragment>`, 'application/xml');
    wrapper = parsed.documentElement;
  } catch {
    throw bad();
  }
  if (wrapper === null) throw bad();
  return Array.from(wrapper.childNodes).map((n) => doc.importNode(n, true));
}

/** Decoded UTF-8 of decrypted octets, or a FormatError naming `field`. */
export function utf8Text(bytes: Uint8Array, field: string, clause: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'must decrypt to UTF-8 text', clause });
  }
}
