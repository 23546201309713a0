/**
 * KMS responses of TS 33.180 Annex D.3: a KmsResponse, or a SignedKmsResponse wrapping one with
 * an XML signature (D.3.1), decoded to a frozen value against the D.3.5.1 schema:
 *
 *   SignedKmsResponse@Id? { KmsResponse@Version?, ds:Signature? }
 *   KmsResponse { UserUri, KmsUri, Time, KmsId?, ClientReqUrl, KmsMessage?, KmsError?, ##other* }
 *   KmsMessage  { KmsInit | KmsKeyProv | KmsCertCache }
 *   KmsInit     { SignedKmsCertificate | KmsCertificate, ##other*, NewTransportKey*, NewIntegrityKey* }
 *   KmsKeyProv  { KmsKeySet*, ##other*, NewTransportKey*, NewIntegrityKey* }
 *   KmsCertCache@CacheNum? { SignedKmsCertificate*, KmsCertificate*, ##other* }
 *
 * KmsCertificate (D.3.2.2) and KmsKeySet (D.3.3.2) fields are read in schema order; hexBinary in
 * either case; key content is either plain hex (KeyContentType) or an xenc:EncryptedKey
 * (EncKeyContentType), kept encrypted here (kms-protection.ts unwraps it with the TrK).
 * xsi:type is optional on KmsInit / KmsKeyProv / key content and checked when present. Elements
 * of other namespaces are skipped where the schema has `xsd:any ##other` (D.1: extensions use
 * their own namespace), except TrK-ID / Signature-ID of the D.3.5 extension namespace, which are read.
 * Input is capped at 1 MiB; DOCTYPE and entity declarations are refused before parsing (XXE).
 */
import { DOMParser } from '@xmldom/xmldom';
import type { Element, Node } from '@xmldom/xmldom';
import { ErrorCode, FormatError } from '../../errors/index.js';
import { fromBase64Canonical, fromHex, fromUtf8, utf8 } from '../../util/index.js';

/** The namespaces of Annex D and of the XML security standards it uses. */
export const KmsNamespace = Object.freeze({
  KMS: 'urn:3gpp:ns:mcsecKMSInterface:1.0',
  KMS_EXTENSIONS: 'urn:3gpp:ns:mcsecKMSInterface:extensions:1.0',
  XMLENC: 'http://www.w3.org/2001/04/xmlenc#',
  XMLDSIG: 'http://www.w3.org/2000/09/xmldsig#',
  XSI: 'http://www.w3.org/2001/XMLSchema-instance',
} as const);

/** The largest KMS response accepted, in octets. */
export const KMS_RESPONSE_MAX_OCTETS = 1 << 20;

/** An xenc:EncryptedKey carrying key material under the TrK (TS 33.180 Annex D.3.1, §9.3.4.2). */
export interface XmlEncryptedKey {
  readonly algorithm: string | undefined;
  readonly keyName: string | undefined;
  readonly cipherValue: Uint8Array;
  readonly carriedKeyName: string | undefined;
}
/** Key material in the clear (KeyContentType, or after unwrapping). */
export interface KmsPlainKey {
  readonly key: Uint8Array;
  readonly carriedKeyName: string | undefined;
}
/** Key content: plain, or still encrypted. */
export type KmsKeyContent = KmsPlainKey | { readonly encryptedKey: XmlEncryptedKey };

/** A KMS certificate (TS 33.180 Annex D.3.2.2). */
export interface KmsCertificate {
  readonly version: string | undefined;
  readonly role: 'Root' | 'External' | undefined;
  readonly isSecurityGateway: boolean | undefined;
  readonly certUri: string | undefined;
  readonly kmsUri: string;
  readonly issuer: string | undefined;
  readonly validFrom: string | undefined;
  readonly validTo: string | undefined;
  readonly revoked: boolean | undefined;
  readonly userIdFormat: string;
  readonly userKeyPeriod: number;
  readonly userKeyOffset: number;
  readonly pubEncKey: Uint8Array;
  readonly pubAuthKey: Uint8Array;
  readonly parameterSet: number | undefined;
  readonly kmsDomainList: readonly string[] | undefined;
  /** It came as a SignedKmsCertificate with a ds:Signature (not verified here). */
  readonly signed: boolean;
}
/** A user key set (TS 33.180 Annex D.3.3.2). */
export interface KmsKeySet {
  readonly version: string | undefined;
  readonly kmsUri: string;
  readonly certUri: string | undefined;
  readonly issuer: string | undefined;
  readonly userUri: string;
  readonly userId: string;
  readonly validFrom: string | undefined;
  readonly validTo: string | undefined;
  readonly keyPeriodNo: number;
  readonly revoked: boolean | undefined;
  readonly userDecryptKey: KmsKeyContent;
  readonly userSigningKeySSK: KmsKeyContent;
  readonly userPubTokenPVT: KmsKeyContent;
}
/** New TrKs / InKs of a KmsInitTkIkType or KmsKeyProvTkIkType. */
export interface KmsNewKeys {
  readonly newTransportKeys: readonly KmsKeyContent[];
  readonly newIntegrityKeys: readonly KmsKeyContent[];
}
/** The KmsMessage: one of the response types of Annex D.3.1. */
export type KmsMessage =
  | { readonly init: { readonly certificate: KmsCertificate } & KmsNewKeys }
  | { readonly keyProv: { readonly keySets: readonly KmsKeySet[] } & KmsNewKeys }
  | { readonly certCache: { readonly cacheNum: number | undefined; readonly certificates: readonly KmsCertificate[] } };
/** What the ds:Signature of a SignedKmsResponse declares (verified by kms-protection.ts). */
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
/** A decoded KmsResponse (TS 33.180 Annex D.3.1). */
export interface KmsResponse {
  /** The root element was SignedKmsResponse; `id` is its Id attribute. */
  readonly signed: boolean;
  readonly id: string | undefined;
  readonly userUri: string;
  readonly kmsUri: string;
  readonly time: string;
  readonly kmsId: string | undefined;
  readonly clientReqUrl: string;
  readonly kmsMessage: KmsMessage | undefined;
  readonly kmsError: { readonly errorCode: number; readonly errorMsg: string } | undefined;
  readonly trkId: string | undefined;
  readonly signatureId: string | undefined;
  readonly signature: XmlSignatureInfo | undefined;
}

const D31 = 'TS 33.180 Annex D.3.1';
const D322 = 'TS 33.180 Annex D.3.2.2';
const D332 = 'TS 33.180 Annex D.3.3.2';
const D351 = 'TS 33.180 Annex D.3.5.1';
const { KMS, KMS_EXTENSIONS, XMLENC, XMLDSIG, XSI } = KmsNamespace;

const fail = (code: ErrorCode, field: string, rule: string, clause = D351): FormatError =>
  new FormatError(code, { field, rule, clause });
const bad = (field: string, rule: string, clause = D351): FormatError => fail(ErrorCode.BAD_VALUE, field, rule, clause);

const ELEMENT = 1;
const TEXT = 3;
const CDATA = 4;
const isElement = (n: Node): n is Element => n.nodeType === ELEMENT;
const XML_SPACE = /^[ \t\r\n]*$/;

/** The element children of `el` in schema order, read one expected name at a time. */
class Children {
  readonly #els: Element[] = [];
  readonly #path: string;
  #at = 0;
  /** Skipped elements of other namespaces (`xsd:any ##other`). */
  readonly foreign: Element[] = [];
  constructor(el: Element, path: string, namespaces: readonly string[], foreign: boolean) {
    this.#path = path;
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
  optional(name: string, ns: string = KMS): Element | undefined {
    const el = this.#els[this.#at];
    if (el === undefined || el.localName !== name || el.namespaceURI !== ns) return undefined;
    this.#at += 1;
    return el;
  }
  one(name: string, ns: string = KMS): Element {
    const el = this.optional(name, ns);
    if (el === undefined) throw bad(`${this.#path}.${name}`, 'is required here');
    return el;
  }
  many(name: string, ns: string = KMS): Element[] {
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
function attributes(el: Element, path: string, allowed: readonly string[]): void {
  for (const a of el.attributes) {
    if ((a.namespaceURI === null || a.namespaceURI === '') && !allowed.includes(a.name)) {
      throw bad(`${path}@${a.name}`, 'is not an attribute of this element');
    }
  }
}

const attr = (el: Element, name: string): string | undefined =>
  el.hasAttribute(name) ? (el.getAttribute(name) ?? '') : undefined;
/** An attribute value with XML white space trimmed (token-typed attributes). */
const tokenAttr = (el: Element, name: string): string | undefined => {
  const v = attr(el, name);
  return v === undefined ? undefined : collapse(v);
};

function fixedVersion(el: Element, path: string, allowed: readonly string[], clause: string): string | undefined {
  const v = tokenAttr(el, 'Version');
  if (v !== undefined && !allowed.includes(v)) {
    throw fail(ErrorCode.UNSUPPORTED, `${path}@Version`, `must be ${allowed.join(' or ')}`, clause);
  }
  return v;
}

/** The xsi:type of `el` resolved to a local name in the KMS namespace, checked against `allowed`. */
function xsiType(el: Element, path: string, allowed: readonly string[]): string | undefined {
  const qname = el.getAttributeNS(XSI, 'type');
  if (qname === null) return undefined;
  const m = /^\s*(?:([A-Za-z_][\w.-]*):)?([A-Za-z_][\w.-]*)\s*$/.exec(qname);
  const ns = m === null ? null : el.lookupNamespaceURI(m[1] ?? '');
  if (m === null || ns !== KMS || m[2] === undefined || !allowed.includes(m[2])) {
    throw fail(ErrorCode.UNSUPPORTED, `${path}@xsi:type`, `must be ${allowed.join(' or ')} of ${KMS}`);
  }
  return m[2];
}

/** The character content of a simple-typed element, trimmed (whiteSpace collapse). */
function text(el: Element, path: string): string {
  let s = '';
  for (const n of el.childNodes) {
    if (isElement(n)) throw bad(`${path}.${n.localName ?? n.nodeName}`, 'is not allowed: the element holds a simple value');
    if (n.nodeType === TEXT || n.nodeType === CDATA) s += n.nodeValue ?? '';
  }
  return collapse(s);
}

const isXmlSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
/** Leading and trailing XML white space removed (a linear scan: no regex backtracking). */
function collapse(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isXmlSpace(s.charCodeAt(a))) a += 1;
  while (b > a && isXmlSpace(s.charCodeAt(b - 1))) b -= 1;
  return s.slice(a, b);
}

function nonEmpty(el: Element, path: string, clause: string): string {
  const s = text(el, path);
  if (s.length === 0) throw bad(path, 'must not be empty', clause);
  return s;
}

function hexBinary(el: Element, path: string, clause: string): Uint8Array {
  const s = text(el, path);
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(s)) throw bad(path, 'must be non-empty hexBinary (an even number of hex digits)', clause);
  return fromHex(s, path);
}

function base64Binary(el: Element, path: string, clause: string): Uint8Array {
  const bytes = fromBase64Canonical(text(el, path).replace(/[ \t\r\n]+/g, ''));
  if (bytes === null) throw bad(path, 'must be base64', clause);
  return bytes;
}

function integer(el: Element, path: string, clause: string, min = 0): number {
  const s = text(el, path);
  const n = /^[+-]?\d{1,16}$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw bad(path, `must be an integer of at least ${min}`, clause);
  return n;
}

function boolean(el: Element, path: string, clause: string): boolean {
  const s = text(el, path);
  if (s === 'true' || s === '1') return true;
  if (s === 'false' || s === '0') return false;
  throw bad(path, 'must be an xsd:boolean (true, false, 1, 0)', clause);
}

const DATE_TIME = /^-?\d{4,}-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|[+-](\d{2}):(\d{2}))?$/;
function dateTime(el: Element, path: string, clause: string): string {
  const s = text(el, path);
  const m = DATE_TIME.exec(s);
  const [mo, d, h, mi, sec, zh, zm] = (m ?? []).slice(1).map((x) => (x === undefined ? 0 : Number(x)));
  const ok = m !== null && mo !== undefined && mo >= 1 && mo <= 12 && d !== undefined && d >= 1 && d <= 31 &&
    h !== undefined && h <= 24 && mi !== undefined && mi <= 59 && sec !== undefined && sec <= 59 && (zh ?? 0) <= 14 && (zm ?? 0) <= 59;
  if (!ok) throw bad(path, 'must be an xsd:dateTime', clause);
  return s;
}

const opt = <T>(el: Element | undefined, f: (el: Element) => T): T | undefined => (el === undefined ? undefined : f(el));

function encryptedKey(el: Element, path: string): XmlEncryptedKey {
  attributes(el, path, ['Id', 'Type', 'MimeType', 'Encoding', 'Recipient']);
  const c = new Children(el, path, [XMLENC, XMLDSIG], false);
  const method = c.optional('EncryptionMethod', XMLENC);
  const keyInfo = c.optional('KeyInfo', XMLDSIG);
  const cipherData = c.one('CipherData', XMLENC);
  c.optional('EncryptionProperties', XMLENC);
  c.optional('ReferenceList', XMLENC);
  const carried = c.optional('CarriedKeyName', XMLENC);
  c.done();
  const algorithm = opt(method, (m) => attr(m, 'Algorithm'));
  if (method !== undefined && (algorithm === undefined || algorithm.length === 0)) {
    throw bad(`${path}.EncryptionMethod@Algorithm`, 'is required', D31);
  }
  let keyName: string | undefined;
  for (const n of keyInfo?.childNodes ?? []) {
    if (keyName === undefined && isElement(n) && n.namespaceURI === XMLDSIG && n.localName === 'KeyName') {
      keyName = text(n, `${path}.KeyInfo.KeyName`);
    }
  }
  const cd = new Children(cipherData, `${path}.CipherData`, [XMLENC], false);
  if (cd.optional('CipherReference', XMLENC) !== undefined) {
    throw fail(ErrorCode.UNSUPPORTED, `${path}.CipherData.CipherReference`, 'is not supported: the key must be inline', D31);
  }
  const value = cd.one('CipherValue', XMLENC);
  cd.done();
  return Object.freeze({
    algorithm,
    keyName,
    cipherValue: base64Binary(value, `${path}.CipherData.CipherValue`, D31),
    carriedKeyName: opt(carried, (e) => text(e, `${path}.CarriedKeyName`)),
  });
}

/** abstractKeyContentType: hexBinary (KeyContentType) or one xenc:EncryptedKey (EncKeyContentType). */
function keyContent(el: Element, path: string, clause: string, plainAllowed = true): KmsKeyContent {
  attributes(el, path, []);
  const type = xsiType(el, path, plainAllowed ? ['KeyContentType', 'EncKeyContentType'] : ['EncKeyContentType']);
  const hasElement = Array.from(el.childNodes).some(isElement);
  if (!hasElement) {
    if (plainAllowed && type !== 'EncKeyContentType') return Object.freeze({ key: hexBinary(el, path, clause), carriedKeyName: undefined });
    throw bad(path, 'must hold an xenc:EncryptedKey (EncKeyContentType)', clause);
  }
  if (type === 'KeyContentType') throw bad(path, 'must hold hexBinary as its xsi:type says', clause);
  const c = new Children(el, path, [XMLENC], false);
  const enc = c.one('EncryptedKey', XMLENC);
  c.done();
  return Object.freeze({ encryptedKey: encryptedKey(enc, `${path}.EncryptedKey`) });
}

function signatureInfo(el: Element, path: string): XmlSignatureInfo {
  const c = new Children(el, path, [XMLDSIG], false);
  const si = c.one('SignedInfo', XMLDSIG);
  const value = c.one('SignatureValue', XMLDSIG);
  const keyInfo = c.optional('KeyInfo', XMLDSIG);
  c.many('Object', XMLDSIG);
  c.done();
  const s = new Children(si, `${path}.SignedInfo`, [XMLDSIG], false);
  const algorithm = (e: Element, p: string): string => {
    const a = attr(e, 'Algorithm');
    if (a === undefined || a.length === 0) throw bad(`${p}@Algorithm`, 'is required', D31);
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
  if (refs.length === 0) throw bad(`${path}.SignedInfo.Reference`, 'is required', D31);
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
    base64Binary(rc.one('DigestValue', XMLDSIG), `${rPath}.DigestValue`, D31);
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
    signatureValue: base64Binary(value, `${path}.SignatureValue`, D31),
    keyName,
  });
}

function certificate(el: Element, path: string, signed: boolean): KmsCertificate {
  attributes(el, path, ['Id', 'Version', 'Role', 'IsSecurityGateway']);
  const version = fixedVersion(el, path, ['1.1.0', '1.2.0'], D322);
  const role = tokenAttr(el, 'Role');
  if (role !== undefined && role !== 'Root' && role !== 'External') throw bad(`${path}@Role`, 'must be Root or External', D322);
  const gw = tokenAttr(el, 'IsSecurityGateway');
  if (gw !== undefined && !['true', 'false', '1', '0'].includes(gw)) throw bad(`${path}@IsSecurityGateway`, 'must be an xsd:boolean', D322);
  const isSecurityGateway = gw === undefined ? undefined : gw === 'true' || gw === '1';
  if (gw !== undefined && version !== '1.2.0') throw bad(`${path}@Version`, "must be '1.2.0' when IsSecurityGateway is present", D322);
  const c = new Children(el, path, [KMS], true);
  const p = (name: string): string => `${path}.${name}`;
  const certUri = opt(c.optional('CertUri'), (e) => text(e, p('CertUri')));
  const kmsUri = nonEmpty(c.one('KmsUri'), p('KmsUri'), D322);
  const issuer = opt(c.optional('Issuer'), (e) => text(e, p('Issuer')));
  const validFrom = opt(c.optional('ValidFrom'), (e) => dateTime(e, p('ValidFrom'), D322));
  const validTo = opt(c.optional('ValidTo'), (e) => dateTime(e, p('ValidTo'), D322));
  const revoked = opt(c.optional('Revoked'), (e) => boolean(e, p('Revoked'), D322));
  // The schema and the examples spell it UserIdFormat; Table D.3.2.2-1 spells it UserIDFormat.
  const formatEl = c.optional('UserIdFormat') ?? c.optional('UserIDFormat');
  if (formatEl === undefined) throw bad(p('UserIdFormat'), 'is required here', D322);
  const userIdFormat = text(formatEl, p(formatEl.localName ?? 'UserIdFormat'));
  if (userIdFormat !== '2') {
    throw fail(ErrorCode.UNSUPPORTED, p('UserIdFormat'), "must be '2' (the UID of §F.2.1)", 'TS 33.180 Annex D.3.2.3');
  }
  const userKeyPeriod = integer(c.one('UserKeyPeriod'), p('UserKeyPeriod'), D322, 1);
  const userKeyOffset = integer(c.one('UserKeyOffset'), p('UserKeyOffset'), D322);
  const pubEncKey = hexBinary(c.one('PubEncKey'), p('PubEncKey'), D322);
  const pubAuthKey = hexBinary(c.one('PubAuthKey'), p('PubAuthKey'), D322);
  const parameterSet = opt(c.optional('ParameterSet'), (e) => integer(e, p('ParameterSet'), D322));
  const kmsDomainList = opt(c.optional('KmsDomainList'), (e) => {
    const dc = new Children(e, p('KmsDomainList'), [KMS], false);
    const list = dc.many('KmsDomain').map((d, i) => text(d, `${p('KmsDomainList')}.KmsDomain[${i}]`));
    dc.done();
    if (list.length === 0) throw bad(`${p('KmsDomainList')}.KmsDomain`, 'is required', D322);
    return Object.freeze(list);
  });
  c.done();
  return Object.freeze({
    version, role, isSecurityGateway, certUri, kmsUri, issuer, validFrom, validTo, revoked, userIdFormat,
    userKeyPeriod, userKeyOffset, pubEncKey, pubAuthKey, parameterSet, kmsDomainList, signed,
  });
}

/** A SignedKmsCertificate or KmsCertificate element. */
function anyCertificate(el: Element, path: string): KmsCertificate {
  if (el.localName === 'KmsCertificate') return certificate(el, path, false);
  attributes(el, path, ['Id']);
  const c = new Children(el, path, [KMS, XMLDSIG], false);
  const cert = c.one('KmsCertificate');
  const sig = c.optional('Signature', XMLDSIG);
  c.done();
  if (sig !== undefined) signatureInfo(sig, `${path}.Signature`);
  return certificate(cert, `${path}.KmsCertificate`, sig !== undefined);
}

function keySet(el: Element, path: string): KmsKeySet {
  attributes(el, path, ['Id', 'Version']);
  const version = fixedVersion(el, path, ['1.1.0'], D332);
  const c = new Children(el, path, [KMS], false);
  const p = (name: string): string => `${path}.${name}`;
  const kmsUri = nonEmpty(c.one('KmsUri'), p('KmsUri'), D332);
  const certUri = opt(c.optional('CertUri'), (e) => text(e, p('CertUri')));
  const issuer = opt(c.optional('Issuer'), (e) => text(e, p('Issuer')));
  const userUri = nonEmpty(c.one('UserUri'), p('UserUri'), D332);
  const userId = nonEmpty(c.one('UserID'), p('UserID'), D332);
  const validFrom = opt(c.optional('ValidFrom'), (e) => dateTime(e, p('ValidFrom'), D332));
  const validTo = opt(c.optional('ValidTo'), (e) => dateTime(e, p('ValidTo'), D332));
  const keyPeriodNo = integer(c.one('KeyPeriodNo'), p('KeyPeriodNo'), D332);
  const revoked = opt(c.optional('Revoked'), (e) => boolean(e, p('Revoked'), D332));
  const userDecryptKey = keyContent(c.one('UserDecryptKey'), p('UserDecryptKey'), D332);
  const userSigningKeySSK = keyContent(c.one('UserSigningKeySSK'), p('UserSigningKeySSK'), D332);
  const userPubTokenPVT = keyContent(c.one('UserPubTokenPVT'), p('UserPubTokenPVT'), D332);
  c.done();
  return Object.freeze({
    version, kmsUri, certUri, issuer, userUri, userId, validFrom, validTo, keyPeriodNo, revoked,
    userDecryptKey, userSigningKeySSK, userPubTokenPVT,
  });
}

function newKeys(c: Children, path: string): KmsNewKeys {
  const list = (name: string): readonly KmsKeyContent[] =>
    Object.freeze(c.many(name).map((e, i) => keyContent(e, `${path}.${name}[${i}]`, D31, false)));
  const newTransportKeys = list('NewTransportKey');
  const newIntegrityKeys = list('NewIntegrityKey');
  return { newTransportKeys, newIntegrityKeys };
}

function kmsMessage(el: Element, path: string): KmsMessage | undefined {
  const all = Array.from(el.childNodes).filter(isElement);
  const own = all.filter((e) => e.namespaceURI === KMS);
  new Children(el, path, [KMS], true); // text and no-namespace elements are refused
  const first = own[0];
  if (first === undefined) {
    const enc = all.find((e) => e.namespaceURI === XMLENC);
    if (enc !== undefined) {
      throw fail(ErrorCode.UNSUPPORTED, `${path}.${enc.localName ?? 'EncryptedData'}`, 'a KmsMessage encrypted as a whole is not supported', D31);
    }
    return undefined;
  }
  const p = `${path}.${first.localName ?? ''}`;
  if (all.length !== 1) throw bad(path, 'must hold exactly one of KmsInit, KmsKeyProv, KmsCertCache');
  if (first.localName === 'KmsInit') {
    attributes(first, p, ['Id', 'Version']);
    xsiType(first, p, ['KmsInitType', 'KmsInitTkIkType']);
    const c = new Children(first, p, [KMS], true);
    const certEl = c.optional('SignedKmsCertificate') ?? c.one('KmsCertificate');
    const certificate = anyCertificate(certEl, `${p}.${certEl.localName ?? ''}`);
    const keys = newKeys(c, p);
    c.done();
    return Object.freeze({ init: Object.freeze({ certificate, ...keys }) });
  }
  if (first.localName === 'KmsKeyProv') {
    attributes(first, p, ['Id', 'Version']);
    fixedVersion(first, p, ['1.0.0'], D31);
    xsiType(first, p, ['KmsKeyProvType', 'KmsKeyProvTkIkType']);
    const c = new Children(first, p, [KMS], true);
    const keySets = Object.freeze(c.many('KmsKeySet').map((e, i) => keySet(e, `${p}.KmsKeySet[${i}]`)));
    const keys = newKeys(c, p);
    c.done();
    return Object.freeze({ keyProv: Object.freeze({ keySets, ...keys }) });
  }
  if (first.localName === 'KmsCertCache') {
    attributes(first, p, ['Id', 'Version', 'CacheNum']);
    fixedVersion(first, p, ['1.0.0'], D31);
    const n = tokenAttr(first, 'CacheNum');
    const cacheNum = n === undefined ? undefined : /^\+?\d{1,15}$/.test(n) ? Number(n) : NaN;
    if (cacheNum !== undefined && Number.isNaN(cacheNum)) throw bad(`${p}@CacheNum`, 'must be a non-negative integer', D31);
    const c = new Children(first, p, [KMS], true);
    const signed = c.many('SignedKmsCertificate').map((e, i) => anyCertificate(e, `${p}.SignedKmsCertificate[${i}]`));
    const plain = c.many('KmsCertificate').map((e, i) => anyCertificate(e, `${p}.KmsCertificate[${i}]`));
    c.done();
    return Object.freeze({ certCache: Object.freeze({ cacheNum, certificates: Object.freeze([...signed, ...plain]) }) });
  }
  throw fail(ErrorCode.UNSUPPORTED, p, 'is not a KmsMessage type of the D.3.5.1 schema (KmsInit, KmsKeyProv, KmsCertCache)', D31);
}

function kmsResponse(el: Element, path: string, signed: boolean, id: string | undefined, sig: XmlSignatureInfo | undefined): KmsResponse {
  attributes(el, path, ['Id', 'Version']);
  fixedVersion(el, path, ['1.0.0'], D31);
  const c = new Children(el, path, [KMS], true);
  const p = (name: string): string => `${path}.${name}`;
  const userUri = nonEmpty(c.one('UserUri'), p('UserUri'), D31);
  const kmsUri = nonEmpty(c.one('KmsUri'), p('KmsUri'), D31);
  const time = dateTime(c.one('Time'), p('Time'), D31);
  const kmsId = opt(c.optional('KmsId'), (e) => text(e, p('KmsId')));
  const clientReqUrl = nonEmpty(c.one('ClientReqUrl'), p('ClientReqUrl'), D31);
  const message = opt(c.optional('KmsMessage'), (e) => kmsMessage(e, p('KmsMessage')));
  const kmsError = opt(c.optional('KmsError'), (e) => {
    const ec = new Children(e, p('KmsError'), [KMS], true);
    const errorCode = integer(ec.one('ErrorCode'), p('KmsError.ErrorCode'), D31, Number.MIN_SAFE_INTEGER);
    const errorMsg = text(ec.one('ErrorMsg'), p('KmsError.ErrorMsg'));
    ec.done();
    return Object.freeze({ errorCode, errorMsg });
  });
  c.done();
  const extension = (name: string): string | undefined => {
    const found = c.foreign.filter((e) => e.namespaceURI === KMS_EXTENSIONS && e.localName === name);
    if (found.length > 1) throw bad(p(name), 'must occur at most once', 'TS 33.180 Annex D.3.5');
    return opt(found[0], (e) => nonEmpty(e, p(name), 'TS 33.180 Annex D.3.5'));
  };
  return Object.freeze({
    signed, id, userUri, kmsUri, time, kmsId, clientReqUrl, kmsMessage: message, kmsError,
    trkId: extension('TrK-ID'), signatureId: extension('Signature-ID'), signature: sig,
  });
}

/** The document text: size-capped, UTF-8, without DOCTYPE or entity declarations. */
function documentText(input: string | Uint8Array): string {
  const tooLarge = (): FormatError => fail(ErrorCode.TOO_LARGE, 'kmsResponse', `must be at most ${KMS_RESPONSE_MAX_OCTETS} octets`, D31);
  let s: string;
  if (typeof input === 'string') {
    if (input.length > KMS_RESPONSE_MAX_OCTETS || utf8(input).length > KMS_RESPONSE_MAX_OCTETS) throw tooLarge();
    s = input;
  } else {
    if (input.length > KMS_RESPONSE_MAX_OCTETS) throw tooLarge();
    try {
      s = fromUtf8(input, 'kmsResponse');
    } catch {
      throw bad('kmsResponse', 'must be valid UTF-8', D31);
    }
    const enc = /^\uFEFF?<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']/.exec(s)?.[1];
    if (enc !== undefined && !/^utf-?8$/i.test(enc)) throw fail(ErrorCode.UNSUPPORTED, 'kmsResponse', 'must be encoded in UTF-8', D31);
  }
  if (/<!DOCTYPE|<!ENTITY/i.test(s)) {
    throw fail(ErrorCode.UNSUPPORTED, 'kmsResponse', 'must not contain a DOCTYPE or entity declaration (XXE)', D31);
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

function parse(s: string): Element {
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
    throw bad('kmsResponse', `must be well-formed, namespace-well-formed XML${where}`, D31);
  }
  if (root === null) throw bad('kmsResponse', 'must have a root element', D31);
  return root;
}

/**
 * Decodes a KmsResponse or SignedKmsResponse (TS 33.180 Annex D.3) from XML text or UTF-8 bytes.
 * Throws a FormatError naming the element (`kmsResponse.KmsMessage.KmsKeyProv.KmsKeySet[0]…`).
 */
export function decodeKmsResponse(input: string | Uint8Array): KmsResponse {
  const root = parse(documentText(input));
  if (root.namespaceURI !== KMS || (root.localName !== 'SignedKmsResponse' && root.localName !== 'KmsResponse')) {
    throw bad('kmsResponse', `the root element must be SignedKmsResponse or KmsResponse in the namespace ${KMS}`, D31);
  }
  if (root.localName === 'KmsResponse') return kmsResponse(root, 'kmsResponse', false, undefined, undefined);
  attributes(root, 'signedKmsResponse', ['Id']);
  const c = new Children(root, 'signedKmsResponse', [KMS, XMLDSIG], false);
  const response = c.one('KmsResponse');
  const sig = c.optional('Signature', XMLDSIG);
  c.done();
  const info = opt(sig, (e) => signatureInfo(e, 'signedKmsResponse.Signature'));
  return kmsResponse(response, 'kmsResponse', true, attr(root, 'Id'), info);
}
