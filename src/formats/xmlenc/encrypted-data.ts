/**
 * The xenc:EncryptedData element of TS 33.180 §9.3.4.2 (XML Encryption Syntax 1.1):
 *
 *   <xenc:EncryptedData Type="...#Content | ...#Element" [MimeType]>
 *     [<xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes128-gcm"/>]
 *     [<ds:KeyInfo><ds:KeyName>base64(XPK-ID)</ds:KeyName></ds:KeyInfo>]
 *     <xenc:CipherData><xenc:CipherValue>base64(IV || ciphertext || tag)</xenc:CipherValue></xenc:CipherData>
 *     [<xenc:EncryptionProperties><xenc:EncryptionProperty Id="mc-message-type">name</...></...>]
 *   </xenc:EncryptedData>
 *
 * AES-GCM as XML Encryption 1.1 §5.2.4 defines it: a 96-bit random IV, a 128-bit tag, no
 * additional data, CipherValue = IV || ciphertext || tag. The clause writes "<KeyData><KeyInfo>";
 * its example (and XML Encryption) have ds:KeyInfo/ds:KeyName, which is what is read and written.
 * EncryptionMethod and KeyInfo may be absent (§9.3.4.2: then known "through other means"): the
 * algorithm follows the key length and the XPK-ID is the receiver's default. For a whole document
 * §9.3.2 wants the message "type" stated in the EncryptedData; XML Encryption has no attribute
 * for that, so it is the text of an EncryptionProperty with Id "mc-message-type" (mcsec's choice).
 * Opening fails uniformly with ERR_DECRYPT (bad base64, short value, wrong key, any change).
 */
import type { Document, Element } from '@xmldom/xmldom';
import { openAesGcm, sealAesGcm } from '../../crypto/index.js';
import { CryptoError, ErrorCode, FormatError } from '../../errors/index.js';
import { concatBytes, fromBase64Canonical, toBase64 } from '../../util/index.js';
import { Children, attr, attributes, text } from '../kms-xml/xml-read.js';
import { str } from '../kms-xml/xml-write.js';
import { EncryptedDataType, XmlProtectionAlgorithm, XmlProtectionNamespace } from './constants.js';
import { decodeXpkId, encodeXpkId } from './xpk.js';
import { isElement } from './xml-tree.js';

const { XMLENC, XMLDSIG } = XmlProtectionNamespace;
export const S9342 = 'TS 33.180 §9.3.4.2';
/** The EncryptionProperty Id that carries the §9.3.2 message type of a whole-document encryption. */
export const MESSAGE_TYPE_PROPERTY_ID = 'mc-message-type';
/** AES-GCM IV and tag lengths of XML Encryption 1.1 §5.2.4. */
export const GCM_IV_LENGTH = 12;
export const GCM_TAG_LENGTH = 16;

/** What an EncryptedData declares. */
export interface EncryptedDataInfo {
  /** Type, or undefined when absent. */
  readonly type: string | undefined;
  readonly algorithm: string | undefined;
  /** The XPK-ID of ds:KeyName, or undefined when absent. */
  readonly xpkId: number | undefined;
  /** IV || ciphertext || tag, or null when CipherValue is not base64 (a decryption failure). */
  readonly cipherValue: Uint8Array | null;
  readonly messageType: string | undefined;
  readonly mimeType: string | undefined;
}

/** Whether `el` is an xenc:EncryptedData. */
export const isEncryptedData = (el: Element): boolean => el.namespaceURI === XMLENC && el.localName === 'EncryptedData';

const unsupported = (field: string, rule: string): FormatError => new FormatError(ErrorCode.UNSUPPORTED, { field, rule, clause: S9342 });
const bad = (field: string, rule: string): FormatError => new FormatError(ErrorCode.BAD_VALUE, { field, rule, clause: S9342 });

/** Reads an EncryptedData strictly (children in schema order; CipherReference, Encoding unsupported). */
export function readEncryptedData(el: Element, path: string): EncryptedDataInfo {
  attributes(el, path, ['Id', 'Type', 'MimeType', 'Encoding']);
  if (attr(el, 'Encoding') !== undefined) throw unsupported(`${path}@Encoding`, 'is not supported (the plaintext is the XML itself)');
  const c = new Children(el, path, [XMLENC, XMLDSIG], false);
  const method = c.optional('EncryptionMethod', XMLENC);
  const keyInfo = c.optional('KeyInfo', XMLDSIG);
  const cipherData = c.one('CipherData', XMLENC);
  const properties = c.optional('EncryptionProperties', XMLENC);
  c.done();
  let algorithm: string | undefined;
  if (method !== undefined) {
    const p = `${path}.EncryptionMethod`;
    attributes(method, p, ['Algorithm']);
    algorithm = attr(method, 'Algorithm');
    if (algorithm === undefined) throw bad(`${p}@Algorithm`, 'is required');
    for (const n of method.childNodes) if (isElement(n)) throw bad(`${p}.${n.localName ?? n.nodeName}`, 'is not a parameter of AES-GCM');
  }
  let xpkId: number | undefined;
  if (keyInfo !== undefined) {
    const p = `${path}.KeyInfo`;
    const k = new Children(keyInfo, p, [XMLDSIG], false);
    const name = k.one('KeyName', XMLDSIG);
    k.done();
    xpkId = decodeXpkId(text(name, `${p}.KeyName`), `${p}.KeyName`, S9342);
  }
  const cd = new Children(cipherData, `${path}.CipherData`, [XMLENC], false);
  if (cd.optional('CipherReference', XMLENC) !== undefined) throw unsupported(`${path}.CipherData.CipherReference`, 'is not supported');
  const value = cd.one('CipherValue', XMLENC);
  cd.done();
  const cipherValue = fromBase64Canonical(text(value, `${path}.CipherData.CipherValue`).replace(/[ \t\r\n]+/g, ''));
  let messageType: string | undefined;
  if (properties !== undefined) {
    const p = `${path}.EncryptionProperties`;
    const pc = new Children(properties, p, [XMLENC], false);
    const list = pc.many('EncryptionProperty', XMLENC);
    pc.done();
    if (list.length === 0) throw bad(`${p}.EncryptionProperty`, 'is required');
    for (const e of list) {
      if (attr(e, 'Id') !== MESSAGE_TYPE_PROPERTY_ID) continue;
      if (messageType !== undefined) throw bad(`${p}.EncryptionProperty`, `Id ${MESSAGE_TYPE_PROPERTY_ID} must appear once`);
      messageType = text(e, `${p}.EncryptionProperty`);
    }
  }
  return Object.freeze({ type: attr(el, 'Type'), algorithm, xpkId, cipherValue, messageType, mimeType: attr(el, 'MimeType') });
}

/** The XML Encryption 1.1 algorithm for a derived key of this length. */
export const algorithmFor = (key: Uint8Array): string => (key.length === 32 ? XmlProtectionAlgorithm.AES256_GCM : XmlProtectionAlgorithm.AES128_GCM);

const decryptError = (field: string): CryptoError =>
  new CryptoError(ErrorCode.DECRYPT, { field, rule: 'does not decrypt', clause: S9342 });

/** IV || AES-GCM(key, IV, plaintext) (XML Encryption 1.1 §5.2.4). */
export function sealCipherValue(key: Uint8Array, plaintext: Uint8Array, rng: (n: number) => Uint8Array): Uint8Array {
  const iv = rng(GCM_IV_LENGTH);
  if (iv.length !== GCM_IV_LENGTH) throw bad('rng', `must return ${GCM_IV_LENGTH} octets`);
  return concatBytes(iv, sealAesGcm(key, iv, new Uint8Array(0), plaintext));
}

/** The plaintext of an EncryptedData under `key`; any failure is ERR_DECRYPT naming `field`. */
export function openEncryptedData(info: EncryptedDataInfo, key: Uint8Array, field: string): Uint8Array {
  const algorithm = info.algorithm ?? algorithmFor(key);
  if (algorithm !== XmlProtectionAlgorithm.AES128_GCM && algorithm !== XmlProtectionAlgorithm.AES256_GCM) {
    throw unsupported(`${field}.EncryptionMethod@Algorithm`, 'must be aes128-gcm (or aes256-gcm for a 256-bit XPK)');
  }
  const c = info.cipherValue;
  if (algorithm !== algorithmFor(key) || c === null || c.length < GCM_IV_LENGTH + GCM_TAG_LENGTH) throw decryptError(field);
  try {
    return openAesGcm(key, c.subarray(0, GCM_IV_LENGTH), new Uint8Array(0), c.subarray(GCM_IV_LENGTH), field);
  } catch {
    throw decryptError(field);
  }
}

/** What to write into a new EncryptedData. */
export interface EncryptedDataOutput {
  readonly type: string;
  readonly cipherValue: Uint8Array;
  readonly algorithm: string | undefined;
  readonly xpkId: number | undefined;
  readonly messageType?: string | undefined;
  readonly mimeType?: string | undefined;
}

/** A new EncryptedData element in `doc` (prefixes xenc and ds, declared where serialized). */
export function encryptedDataElement(doc: Document, o: EncryptedDataOutput): Element {
  const x = (name: string): Element => doc.createElementNS(XMLENC, `xenc:${name}`);
  const ed = x('EncryptedData');
  ed.setAttribute('Type', o.type);
  if (o.mimeType !== undefined) ed.setAttribute('MimeType', o.mimeType);
  if (o.algorithm !== undefined) {
    const m = x('EncryptionMethod');
    m.setAttribute('Algorithm', o.algorithm);
    ed.appendChild(m);
  }
  if (o.xpkId !== undefined) {
    const ki = doc.createElementNS(XMLDSIG, 'ds:KeyInfo');
    const kn = doc.createElementNS(XMLDSIG, 'ds:KeyName');
    kn.appendChild(doc.createTextNode(encodeXpkId(o.xpkId)));
    ki.appendChild(kn);
    ed.appendChild(ki);
  }
  const cd = x('CipherData');
  const cv = x('CipherValue');
  cv.appendChild(doc.createTextNode(toBase64(o.cipherValue)));
  cd.appendChild(cv);
  ed.appendChild(cd);
  if (o.messageType !== undefined) {
    str(o.messageType, 'wholeDocument.messageType', 'TS 33.180 §9.3.2', true);
    const ps = x('EncryptionProperties');
    const p = x('EncryptionProperty');
    p.setAttribute('Id', MESSAGE_TYPE_PROPERTY_ID);
    p.appendChild(doc.createTextNode(o.messageType));
    ps.appendChild(p);
    ed.appendChild(ps);
  }
  return ed;
}

export { EncryptedDataType };
