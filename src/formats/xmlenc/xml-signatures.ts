/**
 * Integrity protection of XML MIME bodies, TS 33.180 §9.3.5: one XML HMAC signature per body,
 * all carried in a MIME body of their own (application/vnd.3gpp.mcptt-signed+xml, TS 24.379 §F.6),
 * each pointing at its body by the body's Content-ID as a cid: URL (RFC 2045, RFC 2392):
 *
 *   <signatures xmlns="urn:3gpp:ns:mcpttSignedDoc:1.0">
 *     <ds:Signature>
 *       <ds:SignedInfo>
 *         <ds:CanonicalizationMethod Algorithm="exc-c14n"/>          (C14N 1.0 read too)
 *         <ds:SignatureMethod Algorithm="...xmldsig-more#hmac-sha256"/>
 *         <ds:Reference URI="cid:body1@example.org">               (no Transforms)
 *           <ds:DigestMethod Algorithm="...xmlenc#sha256"/> <ds:DigestValue/>
 *       </ds:SignedInfo>
 *       <ds:SignatureValue>HMAC-SHA256(integrity key, canonical SignedInfo)</ds:SignatureValue>
 *       <ds:KeyInfo><ds:KeyName>base64(XPK-ID)</ds:KeyName></ds:KeyInfo>
 *     </ds:Signature> ...
 *   </signatures>
 *
 * The key is the §F.1.4 integrity key (FC 0x52) of the XPK the KeyName names. The Reference has
 * no Transforms, so its digest is SHA-256 over the body's octets as sent (XML Signature §4.4.3.2:
 * an octet stream). Each signature is checked by hand on xml-crypto's canonicalizers
 * (kms-xml/xml-signature.ts; no XPath). Verification requires every given body to carry exactly
 * one signature and every signature to point at a given body; any failure of a signature or that
 * coverage is a uniform CryptoError ERR_SIGNATURE.
 */
import { createHash, createHmac } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { CryptoError, ErrorCode, FormatError } from '../../errors/index.js';
import { equalBytes, fromBase64Canonical, toBase64, utf8 } from '../../util/index.js';
import { Children, parse, signatureInfo, text, documentText } from '../kms-xml/xml-read.js';
import { canonicalize } from '../kms-xml/xml-signature.js';
import { el, serialize, type Node } from '../kms-xml/xml-write.js';
import { XML_PROTECTION_MAX_OCTETS, XmlProtectionAlgorithm, XmlProtectionNamespace } from './constants.js';
import { encodeXpkId, decodeXpkId, receiverXmlKey, senderXmlKey, type XmlReceiverKeys, type XmlSenderKey } from './xpk.js';

const S935 = 'TS 33.180 §9.3.5';
const { XMLDSIG, MCPTT_SIGNED_DOC } = XmlProtectionNamespace;
const A = XmlProtectionAlgorithm;
const WHERE = 'signatures';

/** A MIME body and its Content-ID (the addr-spec, with or without the angle brackets). */
export interface XmlBody {
  readonly contentId: string;
  readonly content: string | Uint8Array;
}

const octets = (c: string | Uint8Array): Uint8Array => (typeof c === 'string' ? utf8(c) : c);
const bare = (contentId: string): string => (contentId.startsWith('<') && contentId.endsWith('>') ? contentId.slice(1, -1) : contentId);

/** The cid: URL of a Content-ID (RFC 2392: characters outside a URL's pchar set %-escaped). */
export function cidUrl(contentId: string): string {
  const id = bare(contentId);
  if (id.length === 0 || !/^[\x21-\x7e]+$/.test(id)) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field: 'contentId', rule: 'must be a non-empty addr-spec of printable ASCII', clause: 'RFC 2392' });
  }
  return `cid:${id.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)}`;
}

/** The Content-ID a cid: URL names, or undefined when it is not one. */
export function contentIdOfCid(url: string): string | undefined {
  if (!/^cid:/i.test(url)) return undefined;
  try {
    const id = decodeURIComponent(url.slice(4));
    return id.length > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());
const hmac = (key: Uint8Array, s: string): Uint8Array => new Uint8Array(createHmac('sha256', key).update(s).digest());

/** How to sign. */
export interface SignXmlBodiesOptions {
  readonly key: XmlSenderKey;
  /** SignedInfo canonicalization: exclusive C14N (default) or C14N 1.0. */
  readonly canonicalization?: typeof A.EXC_C14N | typeof A.C14N | undefined;
  /** Leave out ds:KeyInfo (§9.3.5 "may"). */
  readonly omitKeyName?: boolean | undefined;
  /** The root's namespace (default urn:3gpp:ns:mcpttSignedDoc:1.0). */
  readonly namespace?: string | undefined;
}

/** The signatures body for `bodies` (one ds:Signature each, in order). */
export function signXmlBodies(bodies: readonly XmlBody[], options: SignXmlBodiesOptions): string {
  if (bodies.length === 0) throw new FormatError(ErrorCode.BAD_VALUE, { field: 'bodies', rule: 'must name at least one body', clause: S935 });
  const ids = bodies.map((b) => bare(b.contentId));
  if (new Set(ids).size !== ids.length) throw new FormatError(ErrorCode.BAD_VALUE, { field: 'bodies', rule: 'Content-IDs must be unique', clause: S935 });
  const method = options.canonicalization ?? A.EXC_C14N;
  const key = senderXmlKey(options.key, 'integrity');
  try {
    const keyInfo = options.omitKeyName === true ? undefined : el('ds:KeyInfo', {}, [el('ds:KeyName', {}, encodeXpkId(options.key.xpkId))]);
    const signedInfos = bodies.map((b) =>
      el('ds:SignedInfo', {}, [
        el('ds:CanonicalizationMethod', { Algorithm: method }),
        el('ds:SignatureMethod', { Algorithm: A.HMAC_SHA256 }),
        el('ds:Reference', { URI: cidUrl(b.contentId) }, [
          el('ds:DigestMethod', { Algorithm: A.SHA256 }),
          el('ds:DigestValue', {}, toBase64(sha256(octets(b.content)))),
        ]),
      ]),
    );
    const build = (values: readonly string[]): string => {
      const signatures: Node[] = signedInfos.map((si, i) =>
        el('ds:Signature', { 'xmlns:ds': XMLDSIG }, [si, el('ds:SignatureValue', {}, values[i] ?? ''), keyInfo]),
      );
      return `<?xml version="1.0" encoding="UTF-8"?>\n${serialize(el('signatures', { xmlns: options.namespace ?? MCPTT_SIGNED_DOC }, signatures))}\n`;
    };
    const draft = parse(build([]), WHERE, S935);
    const values = signatureElements(draft).map((sig) => {
      const si = child(sig, 'SignedInfo');
      if (si === undefined) throw new FormatError(ErrorCode.INTERNAL, { field: WHERE, rule: 'template has no SignedInfo', clause: S935 });
      return toBase64(hmac(key, canonicalize(si, method)));
    });
    return build(values);
  } finally {
    key.fill(0);
  }
}

const isEl = (n: { readonly nodeType: number }): n is Element => n.nodeType === 1;
const child = (e: Element, name: string): Element | undefined =>
  Array.from(e.childNodes).find((n): n is Element => isEl(n) && n.namespaceURI === XMLDSIG && n.localName === name);
const signatureElements = (root: Element): Element[] =>
  Array.from(root.childNodes).filter((n): n is Element => isEl(n) && n.namespaceURI === XMLDSIG && n.localName === 'Signature');

/** How to verify. */
export interface VerifyXmlBodiesOptions {
  readonly keys: XmlReceiverKeys;
  /** The root's namespace (default urn:3gpp:ns:mcpttSignedDoc:1.0). */
  readonly namespace?: string | undefined;
}

const failed = (field: string): CryptoError =>
  new CryptoError(ErrorCode.SIGNATURE, { field, rule: 'must verify as an HMAC-SHA256 XML signature over the body', clause: S935 });

/**
 * Verifies the signatures body against the MIME bodies it covers: every body exactly one valid
 * signature, every signature a given body. Returns the Content-IDs verified, in signature order.
 */
export function verifyXmlBodies(signatures: string | Uint8Array, bodies: readonly XmlBody[], options: VerifyXmlBodiesOptions): readonly string[] {
  const ns = options.namespace ?? MCPTT_SIGNED_DOC;
  const root = parse(documentText(signatures, WHERE, XML_PROTECTION_MAX_OCTETS, S935), WHERE, S935);
  if (root.localName !== 'signatures' || root.namespaceURI !== ns) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field: WHERE, rule: `root must be signatures in ${ns}`, clause: 'TS 24.379 §F.6' });
  }
  const c = new Children(root, WHERE, [XMLDSIG, ns], true);
  const sigs = c.many('Signature', XMLDSIG);
  c.optional('anyExt', ns);
  c.done();
  if (sigs.length === 0) throw new FormatError(ErrorCode.BAD_VALUE, { field: `${WHERE}.Signature`, rule: 'is required', clause: S935 });

  // One body per Content-ID, compared in one form: two bodies answering one cid: would let a
  // signature vouch for one while the other is opened (signature wrapping).
  const byId = new Map<string, Uint8Array>();
  for (const b of bodies) {
    const id = bare(b.contentId);
    if (id === '' || /[<>\s]/.test(id) || byId.has(id)) {
      throw new CryptoError(ErrorCode.SIGNATURE, { field: `${WHERE}.contentId`, rule: 'every body must have its own Content-ID, one addr-spec', clause: S935 });
    }
    byId.set(id, octets(b.content));
  }
  const verified: string[] = [];
  sigs.forEach((sig, i) => {
    const path = `${WHERE}.Signature[${i}]`;
    const info = signatureInfo(sig, path, S935);
    const ref = info.references[0];
    const id = ref?.uri === undefined ? undefined : contentIdOfCid(ref.uri);
    const body = id === undefined ? undefined : byId.get(id);
    const onProfile =
      info.signatureMethod === A.HMAC_SHA256 &&
      (info.hmacOutputLength === undefined || info.hmacOutputLength === 256) &&
      info.signatureValue.length === 32 &&
      (info.canonicalizationMethod === A.C14N || info.canonicalizationMethod === A.EXC_C14N) &&
      info.references.length === 1 &&
      ref !== undefined &&
      ref.transforms === undefined &&
      ref.digestMethod === A.SHA256;
    if (!onProfile || id === undefined || body === undefined || verified.includes(id)) throw failed(path);
    const keyName = info.keyName === undefined ? undefined : decodeXpkId(info.keyName, `${path}.KeyInfo.KeyName`, S935);
    const key = receiverXmlKey(options.keys, keyName, 'integrity', `${path}.KeyInfo.KeyName`);
    let valid = false;
    try {
      const si = child(sig, 'SignedInfo');
      const r = si === undefined ? undefined : child(si, 'Reference');
      const dv = r === undefined ? undefined : child(r, 'DigestValue');
      const digest = dv === undefined ? null : fromBase64Canonical(text(dv, `${path}.SignedInfo.Reference.DigestValue`).replace(/[ \t\r\n]+/g, ''));
      valid =
        si !== undefined &&
        digest !== null &&
        equalBytes(sha256(body), digest) &&
        equalBytes(hmac(key, canonicalize(si, info.canonicalizationMethod)), info.signatureValue);
    } catch {
      valid = false;
    } finally {
      key.fill(0);
    }
    if (!valid) throw failed(path);
    verified.push(id);
  });
  for (const id of byId.keys()) if (!verified.includes(id)) throw failed(`${WHERE}[cid:${id}]`);
  return Object.freeze(verified);
}

/**
 * The Content-IDs a signatures body points at (its References' cid: URLs, in order), read without
 * verifying anything: what `verifyXmlBodies` must be given. A Reference that is not a cid: URL
 * is skipped here (verification refuses it).
 */
export function signedContentIds(signatures: string | Uint8Array, namespace: string = MCPTT_SIGNED_DOC): readonly string[] {
  const root = parse(documentText(signatures, WHERE, XML_PROTECTION_MAX_OCTETS, S935), WHERE, S935);
  if (root.localName !== 'signatures' || root.namespaceURI !== namespace) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field: WHERE, rule: `root must be signatures in ${namespace}`, clause: 'TS 24.379 §F.6' });
  }
  const ids = signatureElements(root).flatMap((sig, i) =>
    signatureInfo(sig, `${WHERE}.Signature[${i}]`, S935).references.map((r) => (r.uri === undefined ? undefined : contentIdOfCid(r.uri))),
  );
  return Object.freeze(ids.filter((id): id is string => id !== undefined));
}
