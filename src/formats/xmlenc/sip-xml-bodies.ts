/**
 * The XML MIME bodies of one SIP request or response, protected as a whole per TS 33.180 §9.3:
 * each XML body confidentiality protected (§9.3.4, `protectXml`) and, when integrity protection
 * is enabled, every XML body integrity protected by one signature in a signatures body of its own
 * (§9.3.5, `signXmlBodies`), each body carrying the Content-ID its signature points at (§9.3.5:
 * "the MC client and MCX server shall for each MIME body, include the Content-ID header field"):
 *
 *   multipart/mixed
 *     Content-Type: application/vnd.3gpp.mcptt-info+xml   Content-ID: <x1.…@host>   (encrypted)
 *     Content-Type: application/resource-lists+xml        Content-ID: <x2.…@host>   (encrypted)
 *     Content-Type: application/vnd.3gpp.mcptt-signed+xml                            (signatures)
 *
 * Encrypt, then sign: the signatures cover the bodies as sent (octets, no Transforms).
 *
 * `openSipXmlBodies` is the receiver's side, strict against signature wrapping:
 *   - at most one signatures body; with integrity `required`, it must be there when any XML body is
 *     (a stripped signature is PolicyError ERR_FORBIDDEN);
 *   - when a signatures body is there, every XML body must have a Content-ID, Content-IDs must be
 *     unique over all parts, every XML body must carry exactly one valid signature and every
 *     signature must point at one of them (`verifyXmlBodies`): any failure is the uniform
 *     CryptoError ERR_SIGNATURE; a signature whose key is unknown, of a purpose this link does not
 *     accept or expired is a PolicyError (ERR_UNKNOWN_KEY / ERR_EXPIRED), as for decryption;
 *   - only then is each XML body decrypted (`unprotectXml`), the exact octets that were verified,
 *     with `required` policies per content type (what they list must have arrived encrypted).
 * Parts that are not XML (application/mikey, EARs, SDP) are left to the caller.
 *
 * `reprotectSipXmlBodies` is the proxy's step (CR 11.1.X): opened with one link's keys, protected
 * and signed again with another's, the other parts (EARs) kept.
 */
import { randomBytes } from 'node:crypto';
import { CryptoError, ErrorCode, FormatError, PolicyError } from '../../errors/index.js';
import { toHex, utf8 } from '../../util/index.js';
import { headerValue, partMediaType, partOctets, type MimePart } from '../sip/index.js';
import { MCPTT_SIGNED_CONTENT_TYPE, type XmlProtectionPolicy } from './constants.js';
import { signXmlBodies, verifyXmlBodies } from './xml-signatures.js';
import { protectXml, unprotectXml } from './xml-protection.js';
import type { XmlReceiverKeys, XmlSenderKey } from './xpk.js';

const S935 = 'TS 33.180 §9.3.5';
const rngDefault = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

/** Whether a media type essence is XML (RFC 7303: `…/xml` or `…+xml`). */
export const isXmlEssence = (essence: string): boolean => essence.endsWith('+xml') || essence.endsWith('/xml');

/** An XML body to send, and what of it to encrypt. */
export interface SipXmlBodyInput {
  readonly contentType: string;
  readonly xml: string;
  /** What to encrypt in it (§9.3.2); none: nothing but what `wholeDocument` asks. */
  readonly policy?: XmlProtectionPolicy | undefined;
  /** Encrypt the whole document, naming its message type (§9.3.2). */
  readonly wholeDocument?: { readonly messageType: string } | undefined;
}

/** How to protect the XML bodies of one message. */
export interface ProtectSipXmlBodiesOptions {
  readonly key: XmlSenderKey;
  /** Add the §9.3.5 signatures body (integrity protection enabled; default true). */
  readonly sign?: boolean | undefined;
  /** The right-hand side of the Content-IDs (default the XPK-ID's hex + '.mcsec'). */
  readonly contentIdDomain?: string | undefined;
  readonly encryptionDomain?: string | undefined;
  readonly rng?: ((n: number) => Uint8Array) | undefined;
}

/** The MIME parts of `bodies`, protected (and signed) with one key; put them in a multipart body. */
export function protectSipXmlBodies(bodies: readonly SipXmlBodyInput[], o: ProtectSipXmlBodiesOptions): readonly MimePart[] {
  if (bodies.length === 0) throw new FormatError(ErrorCode.BAD_VALUE, { field: 'bodies', rule: 'must hold at least one XML body', clause: 'TS 33.180 §9.3' });
  const rng = o.rng ?? rngDefault;
  const domain = o.contentIdDomain ?? 'mcsec.invalid';
  const stamp = toHex(rng(8));
  const parts = bodies.map((b, i) => {
    const essence = partMediaType({ headers: [{ name: 'Content-Type', value: b.contentType }] }, `bodies[${i}]`).essence;
    if (!isXmlEssence(essence) || essence === MCPTT_SIGNED_CONTENT_TYPE) {
      throw new FormatError(ErrorCode.BAD_VALUE, { field: `bodies[${i}].contentType`, rule: 'must be an XML media type other than the signatures body', clause: 'TS 33.180 §9.3' });
    }
    const xml = protectXml(b.xml, { key: o.key, policy: b.policy, wholeDocument: b.wholeDocument, encryptionDomain: o.encryptionDomain, rng });
    return { contentId: `x${i + 1}.${stamp}@${domain}`, contentType: b.contentType, body: utf8(xml) };
  });
  const out: MimePart[] = parts.map((p) =>
    Object.freeze({ headers: Object.freeze([{ name: 'Content-Type', value: p.contentType }, { name: 'Content-ID', value: `<${p.contentId}>` }]), body: p.body }),
  );
  if (o.sign !== false) {
    const sigs = signXmlBodies(parts.map((p) => ({ contentId: p.contentId, content: p.body })), { key: o.key });
    out.push(Object.freeze({ headers: Object.freeze([{ name: 'Content-Type', value: MCPTT_SIGNED_CONTENT_TYPE }]), body: utf8(sigs) }));
  }
  return Object.freeze(out);
}

/** How to open the XML bodies of one message. */
export interface OpenSipXmlBodiesOptions {
  readonly keys: XmlReceiverKeys;
  /** `required`: XML bodies must come signed (§9.3.5 enabled); `if-present`: verified when signed. */
  readonly integrity: 'required' | 'if-present';
  /** What must arrive encrypted, per content type essence (§9.3.2). */
  readonly required?: Readonly<Record<string, XmlProtectionPolicy>> | undefined;
  readonly encryptionDomain?: string | undefined;
}

/** One opened XML body. */
export interface OpenedSipXmlBody {
  /** Its index among the message's parts. */
  readonly index: number;
  readonly contentType: string;
  readonly contentId: string | undefined;
  readonly xml: string;
  readonly decryptedElements: readonly string[];
  readonly decryptedAttributes: readonly string[];
  readonly messageType: string | undefined;
  /** XPK-IDs that decrypted it, in the order met. */
  readonly xpkIds: readonly number[];
}

/** What opening found. */
export interface OpenedSipXmlBodies {
  readonly bodies: readonly OpenedSipXmlBody[];
  /** Whether a signatures body was there and verified over every XML body. */
  readonly signed: boolean;
}

const wrapped = (field: string): CryptoError =>
  new CryptoError(ErrorCode.SIGNATURE, { field, rule: 'every XML body must carry exactly one valid signature by its own Content-ID', clause: S935 });

/**
 * The addr-spec of a Content-ID header value (`<id>` or bare; RFC 2045 §7, RFC 2392): one pair of
 * angle brackets taken off, and nothing else may be a bracket or white space, so that no two
 * spellings name one body (`<<x>>` and `<x>` would both reach the signature check as `x`).
 */
export function mimeContentId(p: MimePart, where: string): string | undefined {
  const v = headerValue(p, 'Content-ID')?.trim();
  if (v === undefined || v === '') return undefined;
  const id = v.startsWith('<') && v.endsWith('>') ? v.slice(1, -1) : v;
  if (id === '' || /[<>\s]/.test(id)) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field: `${where}.headers.Content-ID`, rule: 'must be one addr-spec, in one pair of angle brackets at most', clause: 'RFC 2392' });
  }
  return id;
}

/** Opens the XML parts of a message (see the module comment); nothing else of it is looked at. */
export function openSipXmlBodies(parts: readonly MimePart[], o: OpenSipXmlBodiesOptions): OpenedSipXmlBodies {
  const xml: { index: number; essence: string; contentId: string | undefined; octets: Uint8Array }[] = [];
  const signatures: Uint8Array[] = [];
  const ids: string[] = [];
  parts.forEach((p, index) => {
    const where = `sip.body.part${index}`;
    const essence = partMediaType(p, where).essence;
    const contentId = mimeContentId(p, where);
    if (contentId !== undefined) ids.push(contentId);
    if (essence === MCPTT_SIGNED_CONTENT_TYPE) signatures.push(partOctets(p, where));
    else if (isXmlEssence(essence)) xml.push({ index, essence, contentId, octets: partOctets(p, where) });
  });
  if (signatures.length > 1) throw wrapped('sip.body');
  const [sigs] = signatures;
  if (sigs === undefined && o.integrity === 'required' && xml.length > 0) {
    throw new PolicyError(ErrorCode.FORBIDDEN, { field: 'sip.body', rule: `must carry the ${MCPTT_SIGNED_CONTENT_TYPE} body: integrity protection is enabled`, clause: S935 });
  }
  if (sigs !== undefined) {
    // Unique Content-IDs over all parts, each XML body named: a signature cannot be made to
    // vouch for another part than the one opened (signature wrapping).
    if (new Set(ids).size !== ids.length) throw wrapped('sip.body');
    const bodies = xml.map((x) => {
      if (x.contentId === undefined) throw wrapped(`sip.body.part${x.index}.headers.Content-ID`);
      return { contentId: x.contentId, content: x.octets };
    });
    if (bodies.length === 0) throw wrapped('sip.body');
    verifyXmlBodies(sigs, bodies, { keys: o.keys });
  }
  const bodies = xml.map((x) => {
    const opened = unprotectXml(x.octets, { keys: o.keys, required: o.required?.[x.essence], encryptionDomain: o.encryptionDomain });
    return Object.freeze({
      index: x.index,
      contentType: x.essence,
      contentId: x.contentId,
      xml: opened.xml,
      decryptedElements: opened.decryptedElements,
      decryptedAttributes: opened.decryptedAttributes,
      messageType: opened.messageType,
      xpkIds: opened.xpkIds,
    });
  });
  return Object.freeze({ bodies: Object.freeze(bodies), signed: sigs !== undefined });
}

/** How a proxy re-protects the XML bodies of a message (the IS proxy of CR 11.1.X). */
export interface ReprotectSipXmlBodiesOptions {
  /** The incoming link: its keys, integrity and required policies. */
  readonly from: OpenSipXmlBodiesOptions;
  /** The outgoing link: its key, signing, and what to encrypt per content type (default: `from.required`). */
  readonly to: ProtectSipXmlBodiesOptions & { readonly policies?: Readonly<Record<string, XmlProtectionPolicy>> | undefined };
}

/**
 * The parts of a message with its XML bodies opened with the incoming link's keys (verified and
 * decrypted, as `openSipXmlBodies`) and protected again with the outgoing link's (CR 11.1.X: the
 * IS proxy strips the internal protection and applies the inter-domain SPK). Other parts (EARs,
 * application/mikey, SDP) stay as they are, in their place (§9.6.2.1: EARs are copied on); the old
 * signatures body is dropped and a new one, over the new bodies, ends the list. A whole-document
 * encryption keeps its message type (§9.3.2). Nothing is returned for a body that does not open.
 */
export function reprotectSipXmlBodies(parts: readonly MimePart[], o: ReprotectSipXmlBodiesOptions): readonly MimePart[] {
  const opened = openSipXmlBodies(parts, o.from);
  if (opened.bodies.length === 0) return Object.freeze(parts.filter((p) => partMediaType(p).essence !== MCPTT_SIGNED_CONTENT_TYPE));
  const policies = o.to.policies ?? o.from.required ?? {};
  const again = protectSipXmlBodies(
    opened.bodies.map((b) => ({ contentType: b.contentType, xml: b.xml, policy: policies[b.contentType], wholeDocument: b.messageType === undefined ? undefined : { messageType: b.messageType } })),
    o.to,
  );
  const byIndex = new Map(opened.bodies.map((b, i) => [b.index, again[i]]));
  const out: MimePart[] = [];
  parts.forEach((p, i) => {
    const replaced = byIndex.get(i);
    if (replaced !== undefined) out.push(replaced);
    else if (partMediaType(p).essence !== MCPTT_SIGNED_CONTENT_TYPE) out.push(p);
  });
  out.push(...again.slice(opened.bodies.length));
  return Object.freeze(out);
}
