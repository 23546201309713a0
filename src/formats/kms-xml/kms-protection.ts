/**
 * The security extension of TS 33.180 Annex D.1 / D.3.1 for KMS responses:
 *   - integrity: an enveloped XML signature over the SignedKmsResponse, HMAC-SHA256 with a
 *     256-bit output (D.1), keyed with the InK, or with the TrK when no InK is held (D.3.1);
 *     SignedInfo as in the D.3.4 examples (C14N 1.0, SHA-256 digest, one Reference to the root).
 *     The examples carry no Transforms element; an enveloped signature cannot be computed over
 *     its own SignatureValue, so a Reference without Transforms is read as enveloped-signature
 *     + C14N, and an explicit [enveloped-signature(, C14N | exc-C14N)] list is accepted too.
 *     Verification is xml-signature.ts's (xml-crypto's canonicalizers, no XPath); the HMAC is
 *     compared in constant time.
 *   - confidentiality of key material: xenc:EncryptedKey with kw-aes256, AES key wrap of
 *     RFC 3394 under the 256-bit TrK (§9.3.4.2, D.3.4); kw-aes-256-pad (RFC 5649, XML Encryption
 *     1.1) is accepted as well, since RFC 3394 cannot wrap keys whose length is not a multiple of
 *     8 octets (a 257-octet RSK, a 65-octet PVT).
 * The TrK and InK are used as given, as Annex D describes; §9.3.3 / Annex F.1.4 derivation of
 * per-user XML keys from them is left to the caller.
 * Failures are uniform: ERR_SIGNATURE for anything wrong with the signature, ERR_DECRYPT for any
 * unwrap failure, without saying which step failed.
 */
import { createDecipheriv, createHmac } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import type { Element, Node } from '@xmldom/xmldom';
import { CryptoError, ErrorCode } from '../../errors/index.js';
import { concatBytes, equalBytes, fromUtf8 } from '../../util/index.js';
import { checkEnvelopedDigest } from './xml-signature.js';
import {
  KmsNamespace,
  decodeKmsResponse,
  type KmsKeyContent,
  type KmsKeySet,
  type KmsMessage,
  type KmsNewKeys,
  type KmsResponse,
  type XmlEncryptedKey,
  type XmlSignatureInfo,
} from './kms-response.js';
import { KmsAlgorithm } from './xml-write.js';

export { KmsAlgorithm };


const D1 = 'TS 33.180 Annex D.1';
const D31 = 'TS 33.180 Annex D.3.1';
const SIG_FIELD = 'signedKmsResponse.Signature';

const signatureError = (field = SIG_FIELD): CryptoError =>
  new CryptoError(ErrorCode.SIGNATURE, { field, rule: 'must verify as HMAC-SHA256 over the message', clause: D1 });

const hmacSha256 = (key: Uint8Array, data: string): Uint8Array => new Uint8Array(createHmac('sha256', key).update(data).digest());

function checkProfile(s: XmlSignatureInfo | undefined, rootId: string | undefined, field: string): readonly string[] {
  if (s === undefined) {
    throw new CryptoError(ErrorCode.SIGNATURE, { field, rule: 'is required: the message is not signed', clause: D31 });
  }
  const ref = s.references[0];
  const transforms = ref?.transforms ?? [KmsAlgorithm.ENVELOPED_SIGNATURE];
  const ok =
    s.signatureMethod === KmsAlgorithm.HMAC_SHA256 &&
    (s.hmacOutputLength === undefined || s.hmacOutputLength === 256) &&
    s.signatureValue.length === 32 &&
    (s.canonicalizationMethod === KmsAlgorithm.C14N || s.canonicalizationMethod === KmsAlgorithm.EXC_C14N) &&
    s.references.length === 1 &&
    ref !== undefined &&
    ref.digestMethod === KmsAlgorithm.SHA256 &&
    (ref.uri === '' || (rootId !== undefined && ref.uri === `#${rootId}`)) &&
    transforms[0] === KmsAlgorithm.ENVELOPED_SIGNATURE &&
    transforms.length <= 2 &&
    (transforms[1] === undefined || transforms[1] === KmsAlgorithm.C14N || transforms[1] === KmsAlgorithm.EXC_C14N);
  if (!ok) throw signatureError(field);
  return ref?.transforms === undefined ? [KmsAlgorithm.ENVELOPED_SIGNATURE] : [];
}

/** The root's own ds:Signature. */
function outerSignature(root: Element): Element | undefined {
  for (const n of root.childNodes) {
    if (isElement(n) && n.namespaceURI === KmsNamespace.XMLDSIG && n.localName === 'Signature') return n;
  }
  return undefined;
}
const isElement = (n: Node): n is Element => n.nodeType === 1;

const textOf = (input: string | Uint8Array): string =>
  (typeof input === 'string' ? input : fromUtf8(input, 'kmsResponse')).replace(/^\uFEFF/, '');

/**
 * Decodes a SignedKmsResponse and verifies its HMAC-SHA256 XML signature (TS 33.180 Annex D.1,
 * D.3.1) with `key`: the InK, or the TrK when no InK is held. Throws a FormatError when it does
 * not decode, a CryptoError ERR_SIGNATURE when the signature is absent, off-profile or wrong.
 */
export function verifyKmsResponseSignature(input: string | Uint8Array, key: Uint8Array): KmsResponse {
  const response = decodeKmsResponse(input);
  verifyXmlHmacSignature(textOf(input), response.signature, response.id, key, SIG_FIELD);
  return response;
}

/**
 * Verifies the enveloped HMAC-SHA256 XML signature of a decoded Annex D message (a
 * SignedKmsResponse or SignedKmsRequest, D.1 / D.2.2 / D.3.1): `signature` as the decoder read it,
 * `rootId` the root's Id, `key` the InK or else the TrK. Throws a CryptoError ERR_SIGNATURE naming
 * `field` when it is absent, off-profile or wrong (uniform: no hint which).
 */
export function verifyXmlHmacSignature(
  text: string,
  signature: XmlSignatureInfo | undefined,
  rootId: string | undefined,
  key: Uint8Array,
  field: string,
): void {
  let root: Element | null = null;
  try {
    root = new DOMParser({ onError: () => undefined }).parseFromString(text, 'application/xml').documentElement;
  } catch {
    root = null;
  }
  if (root === null) throw signatureError(field);
  verifyXmlHmacSignatureOn(root, signature, rootId, key, field);
}

/** As verifyXmlHmacSignature, on the root element of an already parsed document (left as it was). */
export function verifyXmlHmacSignatureOn(
  root: Element,
  signature: XmlSignatureInfo | undefined,
  rootId: string | undefined,
  key: Uint8Array,
  field: string,
): void {
  checkProfile(signature, rootId, field);
  if (key.length < 16) {
    throw new CryptoError(ErrorCode.INVALID_KEY, { field: 'signatureKey', rule: 'must be at least 128 bits', clause: D31 });
  }
  let valid = false;
  try {
    const element = outerSignature(root);
    const ref = signature?.references[0];
    if (element !== undefined && signature !== undefined && ref !== undefined) {
      const signedInfo = checkEnvelopedDigest(root, element, ref.transforms ?? [KmsAlgorithm.ENVELOPED_SIGNATURE], signature.canonicalizationMethod);
      valid = signedInfo !== undefined && equalBytes(hmacSha256(key, signedInfo), signature.signatureValue);
    }
  } catch {
    valid = false;
  }
  if (!valid) throw signatureError(field);
}

const decryptError = (field: string): CryptoError =>
  new CryptoError(ErrorCode.DECRYPT, { field, rule: 'does not unwrap with the TrK', clause: D31 });

/**
 * Unwraps one xenc:EncryptedKey with the 256-bit TrK: kw-aes256 (RFC 3394, the algorithm of
 * §9.3.4.2 and D.3.4, also assumed when EncryptionMethod is absent) or kw-aes-256-pad (RFC 5649).
 * Any failure, an unknown algorithm or a TrK of the wrong size included, is a CryptoError
 * (ERR_DECRYPT naming `field`, ERR_INVALID_KEY for the TrK).
 */
export function unwrapKmsKey(encrypted: XmlEncryptedKey, trk: Uint8Array, field = 'encryptedKey'): Uint8Array {
  if (trk.length !== 32) {
    throw new CryptoError(ErrorCode.INVALID_KEY, { field: 'trk', rule: 'must be 256 bits', clause: 'TS 33.180 §9.3.3' });
  }
  const algorithm = encrypted.algorithm ?? KmsAlgorithm.KW_AES256;
  const c = encrypted.cipherValue;
  let cipher: string;
  let iv: Uint8Array;
  if (algorithm === KmsAlgorithm.KW_AES256 && c.length >= 24 && c.length % 8 === 0) {
    [cipher, iv] = ['id-aes256-wrap', new Uint8Array(8).fill(0xa6)];
  } else if (algorithm === KmsAlgorithm.KW_AES256_PAD && c.length >= 16 && c.length % 8 === 0) {
    [cipher, iv] = ['id-aes256-wrap-pad', Uint8Array.of(0xa6, 0x59, 0x59, 0xa6)];
  } else {
    throw decryptError(field);
  }
  try {
    const d = createDecipheriv(cipher, trk, iv);
    const head = d.update(c);
    const tail = d.final();
    const key = concatBytes(head, tail);
    head.fill(0);
    tail.fill(0);
    return key;
  } catch {
    throw decryptError(field);
  }
}

function unwrapContent(content: KmsKeyContent, trk: Uint8Array, field: string): KmsKeyContent {
  if (!('encryptedKey' in content)) return content;
  const key = unwrapKmsKey(content.encryptedKey, trk, field);
  return Object.freeze({ key, carriedKeyName: content.encryptedKey.carriedKeyName });
}

function unwrapNewKeys(k: KmsNewKeys, trk: Uint8Array, path: string): KmsNewKeys {
  return {
    newTransportKeys: Object.freeze(k.newTransportKeys.map((c, i) => unwrapContent(c, trk, `${path}.NewTransportKey[${i}]`))),
    newIntegrityKeys: Object.freeze(k.newIntegrityKeys.map((c, i) => unwrapContent(c, trk, `${path}.NewIntegrityKey[${i}]`))),
  };
}

function unwrapKeySet(s: KmsKeySet, trk: Uint8Array, path: string): KmsKeySet {
  return Object.freeze({
    ...s,
    userDecryptKey: unwrapContent(s.userDecryptKey, trk, `${path}.UserDecryptKey`),
    userSigningKeySSK: unwrapContent(s.userSigningKeySSK, trk, `${path}.UserSigningKeySSK`),
    userPubTokenPVT: unwrapContent(s.userPubTokenPVT, trk, `${path}.UserPubTokenPVT`),
  });
}

/**
 * The response with every xenc:EncryptedKey (key set keys, NewTransportKey, NewIntegrityKey)
 * replaced by the key it carries, unwrapped with the TrK (TS 33.180 Annex D.3.1). All or nothing:
 * the first key that does not unwrap throws a CryptoError ERR_DECRYPT naming its element.
 */
export function unwrapKmsResponse(response: KmsResponse, trk: Uint8Array): KmsResponse {
  const m = response.kmsMessage;
  if (m === undefined || 'certCache' in m) return response;
  let kmsMessage: KmsMessage;
  if ('init' in m) {
    const p = 'kmsResponse.KmsMessage.KmsInit';
    kmsMessage = Object.freeze({ init: Object.freeze({ certificate: m.init.certificate, ...unwrapNewKeys(m.init, trk, p) }) });
  } else {
    const p = 'kmsResponse.KmsMessage.KmsKeyProv';
    const keySets = Object.freeze(m.keyProv.keySets.map((s, i) => unwrapKeySet(s, trk, `${p}.KmsKeySet[${i}]`)));
    kmsMessage = Object.freeze({ keyProv: Object.freeze({ keySets, ...unwrapNewKeys(m.keyProv, trk, p) }) });
  }
  return Object.freeze({ ...response, kmsMessage });
}

/** How the signature of an opened response stands. */
export type KmsSignatureStatus = 'absent' | 'unverified' | 'valid';

/** Keys for opening a KMS response: the TrK unwraps and, without an InK, signs (D.3.1). */
export interface KmsResponseKeys {
  readonly trk?: Uint8Array | undefined;
  readonly ink?: Uint8Array | undefined;
  /** Refuse (ERR_SIGNATURE) a response that is unsigned, or whose signature no key was given to verify. */
  readonly requireSignature?: boolean | undefined;
}

/**
 * Decodes a KMS response, verifies its signature when a key is given (the InK, else the TrK:
 * D.3.1), then unwraps its key material when the TrK is given. Decode and verify come first.
 */
export function openKmsResponse(
  input: string | Uint8Array,
  keys: KmsResponseKeys = {},
): { readonly response: KmsResponse; readonly signature: KmsSignatureStatus } {
  const signingKey = keys.ink ?? keys.trk;
  let response = decodeKmsResponse(input);
  let signature: KmsSignatureStatus = response.signature === undefined ? 'absent' : 'unverified';
  if (keys.requireSignature === true && (signature === 'absent' || signingKey === undefined)) {
    throw new CryptoError(ErrorCode.SIGNATURE, { field: SIG_FIELD, rule: 'is required and must be verified with the InK or TrK', clause: D31 });
  }
  if (signature === 'unverified' && signingKey !== undefined) {
    response = verifyKmsResponseSignature(input, signingKey);
    signature = 'valid';
  }
  if (keys.trk !== undefined) response = unwrapKmsResponse(response, keys.trk);
  return Object.freeze({ response, signature });
}
