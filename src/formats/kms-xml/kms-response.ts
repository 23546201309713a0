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
import type { Element } from '@xmldom/xmldom';
import { ErrorCode } from '../../errors/index.js';
import {
  Children, attr, attributes, bad, base64Binary, boolean, dateTime, documentText, fail, hexBinary, integer, isElement,
  nonEmpty, opt, parse, signatureInfo, text, tokenAttr,
  type XmlSignatureInfo,
} from './xml-read.js';

export type { XmlSignatureInfo };

/** The namespaces of Annex D and of the XML security standards it uses. */
export const KmsNamespace = Object.freeze({
  KMS: 'urn:3gpp:ns:mcsecKMSInterface:1.0',
  KMS_EXTENSIONS: 'urn:3gpp:ns:mcsecKMSInterface:extensions:1.0',
  KRR: 'urn:3gpp:ns:mcsecKMSKRR:1.0',
  XMLENC: 'http://www.w3.org/2001/04/xmlenc#',
  XMLDSIG: 'http://www.w3.org/2000/09/xmldsig#',
  XSI: 'http://www.w3.org/2001/XMLSchema-instance',
  /**
   * mcsec's own extension namespace (D.1: extensions use their own namespace; KmsCertificateType
   * takes `anyAttribute namespace="##other"`): `Migration="true"` marks the certificate of a
   * Migration KMS (§5.3.1), for which D.3.2.2 has no field.
   */
  MCSEC: 'urn:mcsec:ns:kms:1.0',
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
  /** The certificate of a Migration KMS (§5.3.1): the mcsec:Migration attribute (KmsNamespace.MCSEC). */
  readonly migration: boolean | undefined;
  /** It came as a SignedKmsCertificate with a ds:Signature (checked by verifyCertificateSignatures). */
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
const { KMS, KMS_EXTENSIONS, XMLENC, XMLDSIG, XSI } = KmsNamespace;

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


function certificate(el: Element, path: string, signed: boolean): KmsCertificate {
  attributes(el, path, ['Id', 'Version', 'Role', 'IsSecurityGateway']);
  const version = fixedVersion(el, path, ['1.1.0', '1.2.0'], D322);
  const role = tokenAttr(el, 'Role');
  if (role !== undefined && role !== 'Root' && role !== 'External') throw bad(`${path}@Role`, 'must be Root or External', D322);
  const gw = tokenAttr(el, 'IsSecurityGateway');
  if (gw !== undefined && !['true', 'false', '1', '0'].includes(gw)) throw bad(`${path}@IsSecurityGateway`, 'must be an xsd:boolean', D322);
  const isSecurityGateway = gw === undefined ? undefined : gw === 'true' || gw === '1';
  if (gw !== undefined && version !== '1.2.0') throw bad(`${path}@Version`, "must be '1.2.0' when IsSecurityGateway is present", D322);
  const mig = el.hasAttributeNS(KmsNamespace.MCSEC, 'Migration') ? (el.getAttributeNS(KmsNamespace.MCSEC, 'Migration') ?? '').trim() : undefined;
  if (mig !== undefined && !['true', 'false', '1', '0'].includes(mig)) throw bad(`${path}@mcsec:Migration`, 'must be an xsd:boolean', D322);
  const migration = mig === undefined ? undefined : mig === 'true' || mig === '1';
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
    userKeyPeriod, userKeyOffset, pubEncKey, pubAuthKey, parameterSet, kmsDomainList, migration, signed,
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

/**
 * Decodes a KmsResponse or SignedKmsResponse (TS 33.180 Annex D.3) from XML text or UTF-8 bytes.
 * Throws a FormatError naming the element (`kmsResponse.KmsMessage.KmsKeyProv.KmsKeySet[0]…`).
 */
export function decodeKmsResponse(input: string | Uint8Array): KmsResponse {
  const root = parse(documentText(input, 'kmsResponse', KMS_RESPONSE_MAX_OCTETS, D31), 'kmsResponse', D31);
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
