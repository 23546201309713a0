/**
 * The KMS side of TS 33.180 Annex D.3: a KmsResponse encoded as XML text that the D.3.5.1 schema
 * accepts and that decodeKmsResponse (kms-response.ts) reads back to the same values.
 *
 *   SignedKmsResponse@Id { KmsResponse@Version=1.0.0 { UserUri, KmsUri, Time, KmsId?, ClientReqUrl,
 *     KmsMessage?, KmsError?, ext:TrK-ID?, ext:Signature-ID? }, ds:Signature? }
 *   (a bare KmsResponse root when the response is neither signed nor asked to be wrapped)
 *
 * Security extension (D.1, D.3.1), the profile kms-protection.ts verifies:
 *   - key material (key set keys, NewTransportKey, NewIntegrityKey) is wrapped under the 256-bit
 *     TrK as xenc:EncryptedKey: kw-aes256 (RFC 3394, as §9.3.4.2 and the D.3.4 examples) when the
 *     key is a multiple of 8 octets, kw-aes-256-pad (RFC 5649, XML Encryption 1.1) otherwise,
 *     since RFC 3394 cannot wrap the 257-octet RSK or the 65-octet PVT;
 *   - the whole response is signed with HMAC-SHA256 (256-bit output) under the InK, or the TrK when
 *     no InK is given: C14N 1.0, one Reference to the root Id with explicit enveloped-signature +
 *     C14N transforms, SHA-256 digest, ds:KeyName = Signature-ID. The D.3.4 examples omit the
 *     Transforms, which XML Signature reads as "digest the element with its own signature" and
 *     no signer can produce; the decoder accepts both forms.
 * Hex is upper case as in the examples; a generated Time is UTC xsd:dateTime with a 'Z'. The
 * signature is computed by hand (xml-crypto's C14N) because xml-crypto's signer cannot emit
 * HMACOutputLength.
 */
import { createCipheriv, randomBytes, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { CryptoError, ErrorCode, FormatError } from '../../errors/index.js';
import { concatBytes, toBase64, toHex } from '../../util/index.js';
import {
  KmsAlgorithm, NCNAME, bad, declaredBy, hmacSignatureTemplate, hmacSigner, dateTime, el, hex, int, leaf, opt, serialize, signNested, signTree, signatureNode,
  str, toXsdDateTime, type NestedSignature, type Node,
} from './xml-write.js';
import { KmsNamespace, type KmsCertificate, type KmsKeySet, type XmlEncryptedKey } from './kms-response.js';

/** Fields that may be undefined become optional: decoded values are valid inputs. */
type Loose<T> = { readonly [K in keyof T as undefined extends T[K] ? K : never]?: T[K] } & {
  readonly [K in keyof T as undefined extends T[K] ? never : K]: T[K];
};
/** Key material to emit: plain (wrapped when a TrK is given) or already wrapped. */
export type KmsKeyContentInput =
  | { readonly key: Uint8Array; readonly carriedKeyName?: string | undefined }
  | { readonly encryptedKey: XmlEncryptedKey };
/**
 * Who signs a KMS certificate as a SignedKmsCertificate (D.3.5.1, example D.3.4.3): an ECDSA
 * P-256 key (the signing KMS's KSAK, crypto/kms-signing-key.ts) and the ds:KeyName naming the
 * certificate whose PubAuthKey checks it (the signing KMS's Root certificate CertUri).
 */
export interface KmsCertificateSigner {
  readonly privateKey: KeyObject;
  readonly keyName: string;
  /** SignedKmsCertificate@Id (the Reference target); generated when absent. */
  readonly id?: string | undefined;
}
/** A KMS certificate to emit (D.3.2.2); Version defaults to 1.1.0, or 1.2.0 for a gateway; signed with `signer`. */
export type KmsCertificateInput = Loose<Omit<KmsCertificate, 'signed'>> & {
  readonly signed?: boolean | undefined;
  readonly signer?: KmsCertificateSigner | undefined;
};
/** A user key set to emit (D.3.3.2); Version defaults to 1.1.0. */
export type KmsKeySetInput = Loose<Omit<KmsKeySet, 'userDecryptKey' | 'userSigningKeySSK' | 'userPubTokenPVT'>> & {
  readonly userDecryptKey: KmsKeyContentInput;
  readonly userSigningKeySSK: KmsKeyContentInput;
  readonly userPubTokenPVT: KmsKeyContentInput;
};
/** New TrKs / InKs (KmsInitTkIkType, KmsKeyProvTkIkType): always emitted wrapped. */
export interface KmsNewKeysInput {
  readonly newTransportKeys?: readonly KmsKeyContentInput[] | undefined;
  readonly newIntegrityKeys?: readonly KmsKeyContentInput[] | undefined;
}
/** The KmsMessage to emit. */
export type KmsMessageInput =
  | { readonly init: { readonly certificate: KmsCertificateInput } & KmsNewKeysInput }
  | { readonly keyProv: { readonly keySets: readonly KmsKeySetInput[] } & KmsNewKeysInput }
  | { readonly certCache: { readonly cacheNum?: number | undefined; readonly certificates: readonly KmsCertificateInput[] } };
/** A KmsResponse to emit (D.3.1); a decoded KmsResponse is one. */
export interface KmsResponseInput {
  /** Root SignedKmsResponse even when no signature is applied. */
  readonly signed?: boolean | undefined;
  /** SignedKmsResponse@Id; generated with `rng` when a signature is applied without one. */
  readonly id?: string | undefined;
  readonly userUri: string;
  readonly kmsUri: string;
  /** xsd:dateTime; `now()` when absent. */
  readonly time?: string | undefined;
  readonly kmsId?: string | undefined;
  readonly clientReqUrl: string;
  readonly kmsMessage?: KmsMessageInput | undefined;
  readonly kmsError?: { readonly errorCode: number; readonly errorMsg: string } | undefined;
  /** TrK-ID; also the ds:KeyName of every key wrapped here. */
  readonly trkId?: string | undefined;
  /** Signature-ID, required when a signature is applied (D.3.1); also the signature's ds:KeyName. */
  readonly signatureId?: string | undefined;
}
/** Keys, randomness and time for encodeKmsResponse. */
export interface KmsResponseEncodeOptions {
  /** The 256-bit TrK: wraps plain key material, and signs when no InK is given (D.3.1). */
  readonly trk?: Uint8Array | undefined;
  /** The InK: signs the response (D.3.1). */
  readonly ink?: Uint8Array | undefined;
  /** Apply a signature when a key is given (default true). */
  readonly sign?: boolean | undefined;
  readonly rng?: ((n: number) => Uint8Array) | undefined;
  readonly now?: (() => Date) | undefined;
}

const D31 = 'TS 33.180 Annex D.3.1';
const D322 = 'TS 33.180 Annex D.3.2.2';
const D332 = 'TS 33.180 Annex D.3.3.2';
const { KMS, KMS_EXTENSIONS, MCSEC, XMLENC, XMLDSIG, XSI } = KmsNamespace;

// --- key material -------------------------------------------------------------------------------

/** Wraps `key` under the TrK: RFC 3394 when it can, RFC 5649 otherwise (see the header). */
function wrap(key: Uint8Array, trk: Uint8Array): { readonly algorithm: string; readonly cipherValue: Uint8Array } {
  const plain = key.length >= 16 && key.length % 8 === 0;
  const c = plain
    ? createCipheriv('id-aes256-wrap', trk, new Uint8Array(8).fill(0xa6))
    : createCipheriv('id-aes256-wrap-pad', trk, Uint8Array.of(0xa6, 0x59, 0x59, 0xa6));
  const head = c.update(key);
  const tail = c.final();
  const cipherValue = concatBytes(head, tail);
  head.fill(0);
  tail.fill(0);
  return { algorithm: plain ? KmsAlgorithm.KW_AES256 : KmsAlgorithm.KW_AES256_PAD, cipherValue };
}

interface Ctx {
  readonly trk: Uint8Array | undefined;
  readonly trkId: string | undefined;
  usesXenc: boolean;
  /** SignedKmsCertificate elements to sign once the document is built (signNested). */
  readonly nested: Map<Node, NestedSignature>;
  readonly rng: (n: number) => Uint8Array;
}

function encryptedKey(k: XmlEncryptedKey, path: string): Node {
  const p = `${path}.EncryptedKey`;
  if (k.algorithm !== undefined) str(k.algorithm, `${p}.EncryptionMethod@Algorithm`, D31, true);
  return el('xenc:EncryptedKey', {}, [
    k.algorithm === undefined ? undefined : el('xenc:EncryptionMethod', { Algorithm: k.algorithm }),
    k.keyName === undefined ? undefined : el('ds:KeyInfo', {}, [el('ds:KeyName', {}, str(k.keyName, `${p}.KeyInfo.KeyName`, D31))]),
    el('xenc:CipherData', {}, [el('xenc:CipherValue', {}, toBase64(k.cipherValue))]),
    leaf('xenc:CarriedKeyName', opt(k.carriedKeyName, (s) => str(s, `${p}.CarriedKeyName`, D31))),
  ]);
}

/** Key content: hexBinary (KeyContentType) or EncryptedKey (EncKeyContentType, always for new keys). */
function keyContent(name: string, k: KmsKeyContentInput, ctx: Ctx, path: string, clause: string, typed: boolean): Node {
  const xsiType = (t: string): Record<string, string | undefined> => ({ 'xsi:type': typed ? t : undefined });
  if ('encryptedKey' in k) {
    ctx.usesXenc = true;
    return el(name, xsiType('EncKeyContentType'), [encryptedKey(k.encryptedKey, path)]);
  }
  const carried = opt(k.carriedKeyName, (s) => str(s, `${path}.CarriedKeyName`, clause));
  if (ctx.trk === undefined) {
    if (!typed) throw bad(path, 'must be wrapped as an xenc:EncryptedKey: give the TrK', D31);
    if (carried !== undefined) throw bad(`${path}.CarriedKeyName`, 'needs an xenc:EncryptedKey: give the TrK', clause);
    return el(name, xsiType('KeyContentType'), hex(k.key, path, clause));
  }
  if (k.key.length === 0) throw bad(path, 'must not be empty', clause);
  ctx.usesXenc = true;
  const { algorithm, cipherValue } = wrap(k.key, ctx.trk);
  const encrypted = { algorithm, keyName: ctx.trkId, cipherValue, carriedKeyName: carried };
  return el(name, xsiType('EncKeyContentType'), [encryptedKey(encrypted, path)]);
}

// --- the message --------------------------------------------------------------------------------

const bool = (b: boolean | undefined): string | undefined => opt(b, String);

/**
 * A SignedKmsCertificate { KmsCertificate, ds:Signature } (D.3.5.1): ECDSA-SHA256 (XML Signature
 * 1.1 §6.4.3, r ‖ s), C14N 1.0, one Reference to its own Id with enveloped-signature + C14N,
 * SHA-256, ds:KeyName; signed by signNested once the whole document is built.
 */
function signedCertificate(c: KmsCertificateInput, signer: KmsCertificateSigner, ctx: Ctx, path: string): Node {
  const id = signer.id ?? `cert-${toHex(ctx.rng(8))}`;
  if (!NCNAME.test(id)) throw bad(`${path}@Id`, 'must be an NCName to be referenced by the signature', D322);
  const keyName = str(signer.keyName, `${path}.Signature.KeyInfo.KeyName`, D322, true);
  const details = signer.privateKey.asymmetricKeyDetails;
  if (signer.privateKey.type !== 'private' || details?.namedCurve !== 'prime256v1') {
    throw new CryptoError(ErrorCode.INVALID_KEY, { field: `${path}.signer`, rule: 'must be a P-256 private key', clause: D322 });
  }
  const template = { id, signatureMethod: KmsAlgorithm.ECDSA_SHA256, keyInfo: [el('ds:KeyName', {}, keyName)] };
  const node = el('SignedKmsCertificate', { Id: id }, [certificate({ ...c, signer: undefined, signed: undefined }, ctx, `${path}.KmsCertificate`), signatureNode(template, '', '')]);
  ctx.nested.set(node, {
    template,
    signer: (si) => toBase64(new Uint8Array(cryptoSign('sha256', new TextEncoder().encode(si), { key: signer.privateKey, dsaEncoding: 'ieee-p1363' }))),
  });
  return node;
}

function certificate(c: KmsCertificateInput, ctx: Ctx, path: string): Node {
  const p = (f: string): string => `${path}.${f}`;
  if (c.signer !== undefined) return signedCertificate(c, c.signer, ctx, path);
  if (c.signed === true) {
    throw new FormatError(ErrorCode.UNSUPPORTED, { field: path, rule: 'a SignedKmsCertificate needs its signer (the KMS signing key) to be encoded', clause: D322 });
  }
  if (c.version !== undefined && c.version !== '1.1.0' && c.version !== '1.2.0') throw bad(`${path}@Version`, "must be '1.1.0' or '1.2.0'", D322);
  if (c.isSecurityGateway !== undefined && c.version === '1.1.0') throw bad(`${path}@Version`, "must be '1.2.0' when IsSecurityGateway is present", D322);
  if (c.role !== undefined && c.role !== 'Root' && c.role !== 'External') throw bad(`${path}@Role`, 'must be Root or External', D322);
  if (c.userIdFormat !== '2') {
    throw new FormatError(ErrorCode.UNSUPPORTED, { field: p('UserIdFormat'), rule: "must be '2' (the UID of §F.2.1)", clause: 'TS 33.180 Annex D.3.2.3' });
  }
  const domains = opt(c.kmsDomainList, (list) => {
    if (list.length === 0) throw bad(p('KmsDomainList'), 'must hold at least one KmsDomain', D322);
    return el('KmsDomainList', {}, list.map((d, i) => el('KmsDomain', {}, str(d, `${p('KmsDomainList')}.KmsDomain[${i}]`, D322))));
  });
  const version = c.version ?? (c.isSecurityGateway === undefined ? '1.1.0' : '1.2.0');
  const migration = bool(c.migration);
  return el('KmsCertificate', { Version: version, Role: c.role, IsSecurityGateway: bool(c.isSecurityGateway), 'xmlns:mcsec': migration === undefined ? undefined : MCSEC, 'mcsec:Migration': migration }, [
    leaf('CertUri', opt(c.certUri, (s) => str(s, p('CertUri'), D322))),
    leaf('KmsUri', str(c.kmsUri, p('KmsUri'), D322, true)),
    leaf('Issuer', opt(c.issuer, (s) => str(s, p('Issuer'), D322))),
    leaf('ValidFrom', opt(c.validFrom, (s) => dateTime(s, p('ValidFrom'), D322))),
    leaf('ValidTo', opt(c.validTo, (s) => dateTime(s, p('ValidTo'), D322))),
    leaf('Revoked', bool(c.revoked)),
    leaf('UserIdFormat', c.userIdFormat),
    leaf('UserKeyPeriod', int(c.userKeyPeriod, p('UserKeyPeriod'), D322, 1)),
    leaf('UserKeyOffset', int(c.userKeyOffset, p('UserKeyOffset'), D322)),
    leaf('PubEncKey', hex(c.pubEncKey, p('PubEncKey'), D322)),
    leaf('PubAuthKey', hex(c.pubAuthKey, p('PubAuthKey'), D322)),
    leaf('ParameterSet', opt(c.parameterSet, (n) => int(n, p('ParameterSet'), D322))),
    domains,
  ]);
}

function keySet(s: KmsKeySetInput, ctx: Ctx, path: string): Node {
  const p = (f: string): string => `${path}.${f}`;
  if (s.version !== undefined && s.version !== '1.1.0') throw bad(`${path}@Version`, "must be '1.1.0'", D332);
  return el('KmsKeySet', { Version: '1.1.0' }, [
    leaf('KmsUri', str(s.kmsUri, p('KmsUri'), D332, true)),
    leaf('CertUri', opt(s.certUri, (v) => str(v, p('CertUri'), D332))),
    leaf('Issuer', opt(s.issuer, (v) => str(v, p('Issuer'), D332))),
    leaf('UserUri', str(s.userUri, p('UserUri'), D332, true)),
    leaf('UserID', str(s.userId, p('UserID'), D332, true)),
    leaf('ValidFrom', opt(s.validFrom, (v) => dateTime(v, p('ValidFrom'), D332))),
    leaf('ValidTo', opt(s.validTo, (v) => dateTime(v, p('ValidTo'), D332))),
    leaf('KeyPeriodNo', int(s.keyPeriodNo, p('KeyPeriodNo'), D332)),
    leaf('Revoked', bool(s.revoked)),
    keyContent('UserDecryptKey', s.userDecryptKey, ctx, p('UserDecryptKey'), D332, true),
    keyContent('UserSigningKeySSK', s.userSigningKeySSK, ctx, p('UserSigningKeySSK'), D332, true),
    keyContent('UserPubTokenPVT', s.userPubTokenPVT, ctx, p('UserPubTokenPVT'), D332, true),
  ]);
}

function newKeys(k: KmsNewKeysInput, ctx: Ctx, path: string): Node[] {
  const list = (name: string, keys: readonly KmsKeyContentInput[] = []): Node[] =>
    keys.map((c, i) => keyContent(name, c, ctx, `${path}.${name}[${i}]`, D31, false));
  return [...list('NewTransportKey', k.newTransportKeys), ...list('NewIntegrityKey', k.newIntegrityKeys)];
}

function kmsMessage(m: KmsMessageInput, ctx: Ctx, path: string): Node {
  if ('init' in m) {
    const p = `${path}.KmsInit`;
    const keys = newKeys(m.init, ctx, p);
    const type = keys.length > 0 ? 'KmsInitTkIkType' : undefined;
    return el('KmsMessage', {}, [el('KmsInit', { Version: '1.0.0', 'xsi:type': type }, [certificate(m.init.certificate, ctx, `${p}.KmsCertificate`), ...keys])]);
  }
  if ('keyProv' in m) {
    const p = `${path}.KmsKeyProv`;
    const sets = m.keyProv.keySets.map((s, i) => keySet(s, ctx, `${p}.KmsKeySet[${i}]`));
    const keys = newKeys(m.keyProv, ctx, p);
    const type = keys.length > 0 ? 'KmsKeyProvTkIkType' : undefined;
    return el('KmsMessage', {}, [el('KmsKeyProv', { Version: '1.0.0', 'xsi:type': type }, [...sets, ...keys])]);
  }
  const p = `${path}.KmsCertCache`;
  const cacheNum = opt(m.certCache.cacheNum, (n) => int(n, `${p}@CacheNum`, D31, 0, 999_999_999_999_999));
  // Schema order: every SignedKmsCertificate before the plain ones (KmsCertCacheType).
  const signed = m.certCache.certificates.flatMap((c, i) => (c.signer === undefined ? [] : [certificate(c, ctx, `${p}.SignedKmsCertificate[${i}]`)]));
  const plainCerts = m.certCache.certificates.flatMap((c, i) => (c.signer === undefined ? [certificate(c, ctx, `${p}.KmsCertificate[${i}]`)] : []));
  return el('KmsMessage', {}, [el('KmsCertCache', { Version: '1.0.0', CacheNum: cacheNum }, [...signed, ...plainCerts])]);
}

// --- the response -------------------------------------------------------------------------------

/**
 * Encodes a KmsResponse (TS 33.180 Annex D.3) as XML text. With the TrK, plain key material is
 * wrapped under it; with the InK (else the TrK) the response is signed as a SignedKmsResponse
 * (D.1, D.3.1). Throws a FormatError naming the field that cannot be encoded so that it decodes
 * back unchanged, a CryptoError ERR_INVALID_KEY for a TrK that is not 256 bits or an InK under 128.
 */
export function encodeKmsResponse(value: KmsResponseInput, options: KmsResponseEncodeOptions = {}): string {
  const { trk, ink, rng = (n: number) => new Uint8Array(randomBytes(n)), now = () => new Date() } = options;
  if (trk !== undefined && trk.length !== 32) {
    throw new CryptoError(ErrorCode.INVALID_KEY, { field: 'trk', rule: 'must be 256 bits', clause: 'TS 33.180 §9.3.3' });
  }
  const signingKey = options.sign === false ? undefined : (ink ?? trk);
  if (signingKey !== undefined && signingKey.length < 16) {
    throw new CryptoError(ErrorCode.INVALID_KEY, { field: 'ink', rule: 'must be at least 128 bits', clause: D31 });
  }
  const p = (f: string): string => `kmsResponse.${f}`;
  const trkId = opt(value.trkId, (s) => str(s, p('TrK-ID'), 'TS 33.180 Annex D.3.5', true));
  const signatureId = opt(value.signatureId, (s) => str(s, p('Signature-ID'), 'TS 33.180 Annex D.3.5', true));
  if (signingKey !== undefined && signatureId === undefined) throw bad(p('Signature-ID'), 'is required when a signature is applied');
  const ctx: Ctx = { trk, trkId, usesXenc: false, nested: new Map(), rng };
  const kmsError = opt(value.kmsError, (e) =>
    el('KmsError', {}, [
      el('ErrorCode', {}, int(e.errorCode, p('KmsError.ErrorCode'), D31, Number.MIN_SAFE_INTEGER)),
      el('ErrorMsg', {}, str(e.errorMsg, p('KmsError.ErrorMsg'), D31)),
    ]),
  );
  const ext = (name: string, v: string | undefined): Node | undefined => opt(v, (s) => el(name, { xmlns: KMS_EXTENSIONS }, s));
  const children = [
    leaf('UserUri', str(value.userUri, p('UserUri'), D31, true)),
    leaf('KmsUri', str(value.kmsUri, p('KmsUri'), D31, true)),
    leaf('Time', dateTime(value.time ?? toXsdDateTime(now()), p('Time'), D31)),
    leaf('KmsId', opt(value.kmsId, (s) => str(s, p('KmsId'), D31))),
    leaf('ClientReqUrl', str(value.clientReqUrl, p('ClientReqUrl'), D31, true)),
    opt(value.kmsMessage, (m) => kmsMessage(m, ctx, p('KmsMessage'))),
    kmsError,
    ext('TrK-ID', trkId),
    ext('Signature-ID', signatureId),
  ];
  const namespaces = { xmlns: KMS, 'xmlns:xsi': XSI, 'xmlns:ds': XMLDSIG, 'xmlns:xenc': ctx.usesXenc ? XMLENC : undefined };
  const header = '<?xml version="1.0" encoding="UTF-8"?>\n';
  if (signingKey === undefined && value.signed !== true) {
    return `${header}${serialize(signNested(el('KmsResponse', { ...namespaces, Version: '1.0.0' }, children), '', new Map(), ctx.nested))}\n`;
  }
  const id = value.id ?? (signingKey === undefined ? undefined : `kms-${toHex(rng(8))}`);
  if (id !== undefined && signingKey !== undefined && !NCNAME.test(id)) throw bad('signedKmsResponse@Id', 'must be an NCName to be referenced by the signature');
  if (id !== undefined) str(id, 'signedKmsResponse@Id', D31);
  const response = signNested(el('KmsResponse', { Version: '1.0.0' }, children), '  ', declaredBy(namespaces), ctx.nested);
  const build = (digest: string, sigValue: string): Node => {
    const sig = signatureId === undefined || id === undefined ? undefined : signatureNode(hmacSignatureTemplate(id, signatureId), digest, sigValue);
    return el('SignedKmsResponse', { ...namespaces, Id: id }, [response, sig]);
  };
  return signingKey === undefined ? `${header}${serialize(build('', ''))}\n` : signTree(build, hmacSigner(signingKey), header);
}

export { toXsdDateTime };
