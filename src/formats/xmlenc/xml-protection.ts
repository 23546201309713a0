/**
 * Confidentiality protection of XML bodies, TS 33.180 §9.3.4 (keys §9.3.3 / §F.1.4):
 *
 * - `protectXml` encrypts what a policy names (§9.3.2): the content of each listed element,
 *   replaced by an xenc:EncryptedData of Type Content (§9.3.4.2), each listed URI attribute
 *   rewritten as an encrypted URI (§9.3.4.3), and optionally the whole document, last, as an
 *   EncryptedData of Type Element carrying the message type (§9.3.2). Elements already holding
 *   an EncryptedData and URIs already encrypted are left as they are; an element inside one that
 *   is encrypted is covered by it.
 * - `unprotectXml` decrypts every EncryptedData (Type Content, or Element: the document root or
 *   an inner element) and every encrypted URI attribute it finds, each with the key its XPK-ID
 *   names, resolved and checked by the caller's resolver (xpk.ts); decrypted content may not
 *   itself hold an EncryptedData (mcsec never nests; a whole-document encryption is opened first
 *   and may contain element encryptions). With `required`, every element and URI attribute that
 *   policy lists must have arrived encrypted (PolicyError ERR_FORBIDDEN otherwise).
 * - `reprotectXml` is the IS proxy step of CR 11.1.X: opened with one link's keys (an internal
 *   CSK or SPK), protected again with another's (the inter-domain SPK).
 *
 * Failures: FormatError for XML that does not decode or an EncryptedData off the profile;
 * PolicyError for a key that is unknown, expired or of the wrong purpose; CryptoError ERR_DECRYPT,
 * uniform, for anything that does not decrypt.
 */
import { randomBytes } from 'node:crypto';
import type { Document, Element, Node } from '@xmldom/xmldom';
import { ErrorCode, FormatError, PolicyError } from '../../errors/index.js';
import { utf8 } from '../../util/index.js';
import { DEFAULT_ENCRYPTION_DOMAIN, EncryptedDataType, type XmlProtectionPolicy } from './constants.js';
import {
  S9342,
  algorithmFor,
  encryptedDataElement,
  isEncryptedData,
  openEncryptedData,
  readEncryptedData,
  sealCipherValue,
} from './encrypted-data.js';
import { checkEncryptionDomain, decodeEncryptedUri, decryptUri, encryptUri, isEncryptedUri, S9343 } from './uri-attribute.js';
import { receiverXmlKey, senderXmlKey, type XmlReceiverKeys, type XmlSenderKey } from './xpk.js';
import { checkDepth, contentOf, isElement, isSpace, parseFragment, readDocument, serializeNode, utf8Text } from './xml-tree.js';

const S934 = 'TS 33.180 §9.3.4';
const WHERE = 'xml';
const rngDefault = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

/** How to protect a body. */
export interface ProtectXmlOptions {
  readonly key: XmlSenderKey;
  /** The elements and URI attributes to encrypt (constants.ts has policies for mcpttinfo and PIDF). */
  readonly policy?: XmlProtectionPolicy | undefined;
  /** Encrypt the whole document too (§9.3.2), stating its message type (a TS 23.379 flow name). */
  readonly wholeDocument?: { readonly messageType: string; readonly mimeType?: string | undefined } | undefined;
  /** Leave out EncryptionMethod / ds:KeyInfo (§9.3.4.2 "may"; default: both written). */
  readonly omitEncryptionMethod?: boolean | undefined;
  readonly omitKeyName?: boolean | undefined;
  /** The §9.3.4.3 encryption domain (default mc1-encryption.3gppnetwork.org). */
  readonly encryptionDomain?: string | undefined;
  readonly rng?: ((n: number) => Uint8Array) | undefined;
}

const EMPTY_POLICY: XmlProtectionPolicy = Object.freeze({ elements: Object.freeze([]), uriAttributes: Object.freeze([]) });

const matchesElement = (el: Element, policy: XmlProtectionPolicy): boolean =>
  policy.elements.some((p) => p.localName === el.localName && p.namespace === (el.namespaceURI ?? ''));

/** The unqualified attributes of `el` that policy lists as URI attributes. */
const uriAttributesOf = (el: Element, policy: XmlProtectionPolicy): string[] =>
  policy.uriAttributes
    .filter((p) => p.elementLocalName === el.localName && p.elementNamespace === (el.namespaceURI ?? '') && el.hasAttribute(p.attribute))
    .map((p) => p.attribute);

/** Path segments of an element's element children: the local name, indexed among same-named siblings when repeated (one pass). */
function childSteps(kids: readonly Element[]): string[] {
  const total = new Map<string, number>();
  for (const k of kids) total.set(k.localName ?? k.nodeName, (total.get(k.localName ?? k.nodeName) ?? 0) + 1);
  const seen = new Map<string, number>();
  return kids.map((k) => {
    const name = k.localName ?? k.nodeName;
    const i = seen.get(name) ?? 0;
    seen.set(name, i + 1);
    return (total.get(name) ?? 0) > 1 ? `${name}[${i}]` : name;
  });
}

/** The path segment of one element under its parent. */
function step(el: Element): string {
  const parent = el.parentNode;
  if (!isElement(parent)) return el.localName ?? el.nodeName;
  const kids = Array.from(parent.childNodes).filter(isElement);
  return childSteps(kids)[kids.indexOf(el)] ?? (el.localName ?? el.nodeName);
}

/** Elements under `root` in document order with their paths, not descending where `stop` says. */
function* walk(root: Element, path: string, stop: (el: Element) => boolean): Generator<[Element, string]> {
  const stack: [Element, string][] = [[root, path]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [el, p] = top;
    yield [el, p];
    if (stop(el)) continue;
    const kids = Array.from(el.childNodes).filter(isElement);
    const steps = childSteps(kids);
    for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i] as Element, `${p}.${steps[i] ?? ''}`]);
  }
}

const holdsEncryptedData = (el: Element): boolean => {
  const kids = Array.from(el.childNodes).filter(isElement);
  return kids.length === 1 && isEncryptedData(kids[0] as Element);
};

/** Encrypts what `options` says in an XML body and returns the protected body (§9.3.4). */
export function protectXml(input: string | Uint8Array, options: ProtectXmlOptions): string {
  const doc = readDocument(input, WHERE, S934);
  const root = doc.documentElement;
  if (root === null) throw new FormatError(ErrorCode.BAD_VALUE, { field: WHERE, rule: 'must have a root element', clause: S934 });
  const key = senderXmlKey(options.key, 'confidentiality');
  try {
    const policy = options.policy ?? EMPTY_POLICY;
    const rng = options.rng ?? rngDefault;
    const domain = checkEncryptionDomain(options.encryptionDomain ?? DEFAULT_ENCRYPTION_DOMAIN);
    const xpkId = options.omitKeyName === true ? undefined : options.key.xpkId;
    const algorithm = options.omitEncryptionMethod === true ? undefined : algorithmFor(key);
    const encrypted = (type: string, plaintext: string, extra: { messageType?: string; mimeType?: string | undefined } = {}): Element =>
      encryptedDataElement(doc, { type, cipherValue: sealCipherValue(key, utf8(plaintext), rng), algorithm, xpkId, ...extra });

    const targets: Element[] = [];
    for (const [el] of walk(root, WHERE, (e) => isEncryptedData(e) || matchesElement(e, policy))) {
      if (isEncryptedData(el)) continue;
      for (const name of uriAttributesOf(el, policy)) {
        const value = el.getAttribute(name) ?? '';
        if (!isEncryptedUri(value, domain)) el.setAttribute(name, encryptUri(value, key, options.key.xpkId, rng, domain));
      }
      if (matchesElement(el, policy) && !holdsEncryptedData(el)) targets.push(el);
    }
    for (const el of targets) {
      const plaintext = contentOf(el);
      while (el.firstChild !== null) el.removeChild(el.firstChild);
      el.appendChild(encrypted(EncryptedDataType.CONTENT, plaintext));
    }
    if (options.wholeDocument !== undefined) {
      const w = options.wholeDocument;
      doc.replaceChild(encrypted(EncryptedDataType.ELEMENT, serializeNode(root), { messageType: w.messageType, mimeType: w.mimeType }), root);
    }
    return serializeNode(doc);
  } finally {
    key.fill(0);
  }
}

/** How to open a body. */
export interface UnprotectXmlOptions {
  readonly keys: XmlReceiverKeys;
  /** When given, everything this policy lists must have arrived encrypted. */
  readonly required?: XmlProtectionPolicy | undefined;
  readonly encryptionDomain?: string | undefined;
}

/** An opened body and what was encrypted in it. */
export interface UnprotectedXml {
  readonly xml: string;
  /** Paths of the elements whose content was encrypted ('xml' for a whole document). */
  readonly decryptedElements: readonly string[];
  /** Paths of the URI attributes that were encrypted (`path@name`). */
  readonly decryptedAttributes: readonly string[];
  /** The §9.3.2 message type of a whole-document encryption. */
  readonly messageType: string | undefined;
  /** The XPK-IDs used, in the order met. */
  readonly xpkIds: readonly number[];
}

interface OpenState {
  readonly doc: Document;
  readonly keys: XmlReceiverKeys;
  readonly xpkIds: number[];
}

/** Decrypts one EncryptedData and returns its plaintext and declared type. */
function openOne(s: OpenState, ed: Element, path: string): { text: string; info: ReturnType<typeof readEncryptedData> } {
  const info = readEncryptedData(ed, path);
  if (info.type === EncryptedDataType.ENCRYPTED_KEY) {
    throw new FormatError(ErrorCode.UNSUPPORTED, { field: `${path}@Type`, rule: 'key material (EncryptedKey) is opened by the KMS XML codec (Annex D)', clause: S9342 });
  }
  if (info.type !== undefined && info.type !== EncryptedDataType.CONTENT && info.type !== EncryptedDataType.ELEMENT) {
    throw new FormatError(ErrorCode.UNSUPPORTED, { field: `${path}@Type`, rule: 'must be Content or Element', clause: S9342 });
  }
  const key = receiverXmlKey(s.keys, info.xpkId, 'confidentiality', `${path}.KeyInfo.KeyName`);
  try {
    const plain = openEncryptedData(info, key, path);
    s.xpkIds.push(info.xpkId ?? (s.keys.defaultXpkId as number));
    return { text: utf8Text(plain, path, S9342), info };
  } finally {
    key.fill(0);
  }
}

const nested = (path: string): FormatError =>
  new FormatError(ErrorCode.UNSUPPORTED, { field: path, rule: 'decrypted content must not hold another EncryptedData', clause: S9342 });

function containsEncryptedData(nodes: readonly Node[]): boolean {
  const stack = nodes.filter(isElement);
  for (let el = stack.pop(); el !== undefined; el = stack.pop()) {
    if (isEncryptedData(el)) return true;
    for (const c of el.childNodes) if (isElement(c)) stack.push(c);
  }
  return false;
}

/** The single element of decrypted Type Element content. */
function oneElement(nodes: readonly Node[], path: string): Element {
  const els = nodes.filter(isElement);
  const only = els[0];
  if (els.length !== 1 || only === undefined || nodes.some((n) => !isElement(n) && !isSpace(n))) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field: path, rule: 'an EncryptedData of Type Element must decrypt to one element', clause: S9342 });
  }
  return only;
}

/** Decrypts every EncryptedData and encrypted URI attribute of a body (§9.3.4). */
export function unprotectXml(input: string | Uint8Array, options: UnprotectXmlOptions): UnprotectedXml {
  const doc = readDocument(input, WHERE, S934);
  const domain = checkEncryptionDomain(options.encryptionDomain ?? DEFAULT_ENCRYPTION_DOMAIN);
  const s: OpenState = { doc, keys: options.keys, xpkIds: [] };
  const decryptedElements: string[] = [];
  const decryptedAttributes: string[] = [];
  let messageType: string | undefined;
  let root = doc.documentElement;
  if (root === null) throw new FormatError(ErrorCode.BAD_VALUE, { field: WHERE, rule: 'must have a root element', clause: S934 });

  // A whole-document encryption first (§9.3.2).
  if (isEncryptedData(root)) {
    const path = `${WHERE}.EncryptedData`;
    const { text, info } = openOne(s, root, path);
    if (info.type === EncryptedDataType.CONTENT) {
      throw new FormatError(ErrorCode.BAD_VALUE, { field: `${path}@Type`, rule: 'must be Element for the document root', clause: S9342 });
    }
    const el = oneElement(parseFragment(text, null, doc, path, S9342), path);
    if (isEncryptedData(el)) throw nested(path);
    doc.replaceChild(el, root);
    root = el;
    messageType = info.messageType;
    decryptedElements.push(WHERE);
  }

  // Element encryptions (Type Content or Element), in document order.
  const opened = new Set<Element>();
  const rootPath = `${WHERE}.${root.localName ?? root.nodeName}`;
  const encryptedData = [...walk(root, rootPath, isEncryptedData)].filter(([el]) => isEncryptedData(el));
  for (const [ed, path] of encryptedData) {
    const parent = ed.parentNode;
    if (!isElement(parent)) throw new FormatError(ErrorCode.BAD_VALUE, { field: path, rule: 'must be inside an element', clause: S9342 });
    const { text, info } = openOne(s, ed, path);
    const nodes = parseFragment(text, parent, doc, path, S9342);
    if (containsEncryptedData(nodes)) throw nested(path);
    const parentPath = path.slice(0, path.lastIndexOf('.'));
    if (info.type === EncryptedDataType.ELEMENT) {
      const el = oneElement(nodes, path);
      parent.replaceChild(el, ed);
      opened.add(el);
      decryptedElements.push(`${parentPath}.${step(el)}`);
      continue;
    }
    if (Array.from(parent.childNodes).some((n) => n !== ed && !isSpace(n))) {
      throw new FormatError(ErrorCode.BAD_VALUE, { field: path, rule: 'an EncryptedData of Type Content must be the whole content of its element', clause: S9342 });
    }
    for (const n of Array.from(parent.childNodes)) parent.removeChild(n);
    for (const n of nodes) parent.appendChild(n);
    opened.add(parent);
    decryptedElements.push(parentPath);
  }

  // URI attributes (§9.3.4.3), decrypted content included.
  for (const [el, p] of walk(root, rootPath, () => false)) {
    for (const a of Array.from(el.attributes)) {
      if (!isEncryptedUri(a.value, domain)) continue;
      const field = `${p}@${a.name}`;
      const e = decodeEncryptedUri(a.value, field, domain);
      const key = receiverXmlKey(options.keys, e.xpkId, 'confidentiality', field);
      try {
        el.setAttributeNS(a.namespaceURI, a.name, decryptUri(e, key, field));
      } finally {
        key.fill(0);
      }
      s.xpkIds.push(e.xpkId);
      decryptedAttributes.push(field);
    }
  }
  checkDepth(root, WHERE, S934);
  if (options.required !== undefined) checkRequired(root, options.required, opened, new Set(decryptedAttributes));
  return Object.freeze({
    xml: serializeNode(doc),
    decryptedElements: Object.freeze(decryptedElements),
    decryptedAttributes: Object.freeze(decryptedAttributes),
    messageType,
    xpkIds: Object.freeze([...s.xpkIds]),
  });
}

/** Everything `policy` lists arrived encrypted (content opened, URI attributes decrypted). */
function checkRequired(root: Element, policy: XmlProtectionPolicy, opened: ReadonlySet<Element>, attrs: ReadonlySet<string>): void {
  for (const [el, p] of walk(root, `${WHERE}.${root.localName ?? root.nodeName}`, (e) => matchesElement(e, policy))) {
    if (matchesElement(el, policy) && !opened.has(el)) {
      throw new PolicyError(ErrorCode.FORBIDDEN, { field: p, rule: 'must arrive confidentiality protected (policy)', clause: S9342 });
    }
    for (const name of uriAttributesOf(el, policy)) {
      if (!attrs.has(`${p}@${name}`)) {
        throw new PolicyError(ErrorCode.FORBIDDEN, { field: `${p}@${name}`, rule: 'must arrive confidentiality protected (policy)', clause: S9343 });
      }
    }
  }
}

/**
 * The IS proxy's re-protection (TS 33.180 CR 11.1.X, §9.2.3): the body opened with the incoming
 * link's keys and protected again with the outgoing link's key and policy.
 */
export function reprotectXml(
  input: string | Uint8Array,
  options: { readonly from: UnprotectXmlOptions; readonly to: ProtectXmlOptions },
): string {
  const opened = unprotectXml(input, options.from);
  const wholeDocument =
    options.to.wholeDocument ?? (opened.messageType !== undefined ? { messageType: opened.messageType } : undefined);
  return protectXml(opened.xml, { ...options.to, wholeDocument });
}
