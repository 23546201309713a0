/**
 * KMS Redirect Responses (TS 33.180 Annex D.4; use in §5.2.8): the XML an entity returns in a SIP
 * 488 body (application/vnd.3gpp.kmsredirectresponse+xml) when a KMS URI of an I_MESSAGE is not
 * acceptable, and that clients upload to their KMS for audit (D.2.8).
 *
 *   KmsRedirectResponse@Version=1.0.0@Id { Time, KRRCreatorUri, InitiatorUri, InitiatorKmsUri,
 *     ReceiverUri, ReceiverKmsUri, InitiatorKmsList, ReceiverKmsList,
 *     ReceivedKmsRedirectResponse? { KmsRedirectResponse }, ##other*, Signature? }
 *   KmsUriList { ANY | KmsUri* }
 *
 * Signature profile (D.4.3): XML Signature 1.1, C14N 1.0, SHA-256 digest, ECDSA-SHA256 (the
 * r ‖ s value of XML Signature 1.1 §6.4.3), X.509 certificate in KeyInfo; "verification of the
 * X509 certificate is out of scope" (D.4.3): verifyKrr checks the signature with the key of the
 * certificate it carries and returns that certificate, so that the caller decides whether it
 * trusts it. The D.4.4 schema declares Signature in the KRR namespace (elementFormDefault
 * qualified) while the D.4.2 example writes one in the XML Signature namespace: both are read;
 * the encoder writes the schema's form. The example has no Transforms: read, as for KMS
 * responses, as enveloped-signature + C14N; the encoder writes them explicitly.
 */
import { X509Certificate, createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { CryptoError, ErrorCode } from '../../errors/index.js';
import { toBase64, toHex } from '../../util/index.js';
import { checkEnvelopedDigest, ecdsaEnvelopedTransforms } from './xml-signature.js';
import { KmsNamespace } from './kms-response.js';
import {
  Children, attr, attributes, bad, base64Binary, dateTime, documentText, fail, isElement, nonEmpty, parse, signatureInfo, tokenAttr,
  type XmlSignatureInfo,
} from './xml-read.js';
import { KmsAlgorithm, NCNAME, el, leaf, serialize, signTree, signatureNode, str, dateTime as checkDateTime, toXsdDateTime, type Node } from './xml-write.js';

const D43 = 'TS 33.180 Annex D.4.3';
const D44 = 'TS 33.180 Annex D.4.4';
const { KRR, XMLDSIG } = KmsNamespace;
export const KRR_CONTENT_TYPE = 'application/vnd.3gpp.kmsredirectresponse+xml';
export const ECDSA_SHA256 = KmsAlgorithm.ECDSA_SHA256;
/** The largest KRR document accepted, and how deep KRRs may nest. */
export const KRR_MAX_OCTETS = 256 * 1024;
export const KRR_MAX_DEPTH = 8;

/** A list of acceptable KMS URIs: any, or these. */
export type KmsUriList = 'ANY' | readonly string[];

/** A decoded KMS Redirect Response. */
export interface KmsRedirectResponse {
  readonly id: string | undefined;
  readonly time: string;
  readonly krrCreatorUri: string;
  readonly initiatorUri: string;
  readonly initiatorKmsUri: string;
  readonly receiverUri: string;
  readonly receiverKmsUri: string;
  readonly initiatorKmsList: KmsUriList;
  readonly receiverKmsList: KmsUriList;
  readonly received: KmsRedirectResponse | undefined;
  readonly signature: (XmlSignatureInfo & { readonly x509Certificates: readonly Uint8Array[] }) | undefined;
}

function uriList(e: Element, path: string): KmsUriList {
  const c = new Children(e, path, [KRR], true);
  if (c.optional('ANY') !== undefined) {
    c.done();
    return 'ANY';
  }
  const list = c.many('KmsUri').map((u, i) => nonEmpty(u, `${path}.KmsUri[${i}]`, D44));
  c.done();
  return Object.freeze(list);
}

function x509Certificates(sig: Element, path: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const ki of Array.from(sig.childNodes).filter(isElement)) {
    if (ki.localName !== 'KeyInfo' || ki.namespaceURI !== XMLDSIG) continue;
    for (const x of Array.from(ki.childNodes).filter(isElement)) {
      if (x.localName !== 'X509Data' || x.namespaceURI !== XMLDSIG) continue;
      for (const c of Array.from(x.childNodes).filter(isElement)) {
        if (c.localName === 'X509Certificate' && c.namespaceURI === XMLDSIG) {
          out.push(base64Binary(c, `${path}.KeyInfo.X509Data.X509Certificate`, D43));
        }
      }
    }
  }
  return out;
}

/** The KRR's own Signature element (KRR namespace per D.4.4, or XML Signature's per D.4.2). */
const ownSignature = (e: Element): Element | undefined =>
  Array.from(e.childNodes).filter(isElement).find((n) => n.localName === 'Signature' && (n.namespaceURI === KRR || n.namespaceURI === XMLDSIG));

/** Decodes one KmsRedirectResponse element (also the KrrList of a KMS request, D.2.2). */
export function decodeKrrElement(e: Element, path: string, depth = 0): KmsRedirectResponse {
  if (depth > KRR_MAX_DEPTH) throw fail(ErrorCode.TOO_LARGE, path, `must nest at most ${KRR_MAX_DEPTH} KRRs`, D44);
  attributes(e, path, ['Id', 'Version']);
  const version = tokenAttr(e, 'Version');
  if (version !== undefined && version !== '1.0.0') throw fail(ErrorCode.UNSUPPORTED, `${path}@Version`, "must be '1.0.0'", D44);
  const sigEl = ownSignature(e);
  const next = sigEl?.nextSibling ?? null;
  if (sigEl !== undefined) e.removeChild(sigEl); // Children reads the rest in schema order
  const c = new Children(e, path, [KRR], true);
  if (sigEl !== undefined) e.insertBefore(sigEl, next);
  const p = (n: string): string => `${path}.${n}`;
  const time = dateTime(c.one('Time'), p('Time'), D44);
  const krrCreatorUri = nonEmpty(c.one('KRRCreatorUri'), p('KRRCreatorUri'), D44);
  const initiatorUri = nonEmpty(c.one('InitiatorUri'), p('InitiatorUri'), D44);
  const initiatorKmsUri = nonEmpty(c.one('InitiatorKmsUri'), p('InitiatorKmsUri'), D44);
  const receiverUri = nonEmpty(c.one('ReceiverUri'), p('ReceiverUri'), D44);
  const receiverKmsUri = nonEmpty(c.one('ReceiverKmsUri'), p('ReceiverKmsUri'), D44);
  const initiatorKmsList = uriList(c.one('InitiatorKmsList'), p('InitiatorKmsList'));
  const receiverKmsList = uriList(c.one('ReceiverKmsList'), p('ReceiverKmsList'));
  const receivedEl = c.optional('ReceivedKmsRedirectResponse');
  c.done();
  let received: KmsRedirectResponse | undefined;
  if (receivedEl !== undefined) {
    const rc = new Children(receivedEl, p('ReceivedKmsRedirectResponse'), [KRR], false);
    const inner = rc.one('KmsRedirectResponse');
    rc.done();
    received = decodeKrrElement(inner, p('ReceivedKmsRedirectResponse.KmsRedirectResponse'), depth + 1);
  }
  const signature = sigEl === undefined ? undefined : Object.freeze({
    ...signatureInfo(sigEl, p('Signature'), D43),
    x509Certificates: Object.freeze(x509Certificates(sigEl, p('Signature'))),
  });
  return Object.freeze({
    id: attr(e, 'Id'), time, krrCreatorUri, initiatorUri, initiatorKmsUri, receiverUri, receiverKmsUri,
    initiatorKmsList, receiverKmsList, received, signature,
  });
}

function rootOf(input: string | Uint8Array): Element {
  const root = parse(documentText(input, 'krr', KRR_MAX_OCTETS, D44), 'krr', D44);
  if (root.namespaceURI !== KRR || root.localName !== 'KmsRedirectResponse') {
    throw bad('krr', `the root element must be KmsRedirectResponse in the namespace ${KRR}`, D44);
  }
  return root;
}

/** Decodes a KMS Redirect Response document (TS 33.180 Annex D.4); signatures are not verified. */
export function decodeKrr(input: string | Uint8Array): KmsRedirectResponse {
  return decodeKrrElement(rootOf(input), 'krr');
}

// --- signatures ---------------------------------------------------------------------------------

const signatureError = (field: string): CryptoError =>
  new CryptoError(ErrorCode.SIGNATURE, { field, rule: 'must verify as ECDSA-SHA256 with the key of its X.509 certificate', clause: D43 });

/** Verifies the signature on one KRR element (see the header); returns its certificate (DER). */
function verifyElement(e: Element, path: string): Uint8Array {
  const field = `${path}.Signature`;
  const sigEl = ownSignature(e);
  if (sigEl === undefined) throw new CryptoError(ErrorCode.SIGNATURE, { field, rule: 'is required', clause: D43 });
  const info = signatureInfo(sigEl, field, D43);
  const [cert] = x509Certificates(sigEl, field);
  const transforms = ecdsaEnvelopedTransforms(info, attr(e, 'Id'));
  if (transforms === undefined || cert === undefined) throw signatureError(field);
  let ok = false;
  try {
    const siText = checkEnvelopedDigest(e, sigEl, transforms, info.canonicalizationMethod.trim());
    const key = new X509Certificate(cert).publicKey;
    ok = siText !== undefined && key.asymmetricKeyType === 'ec' &&
      cryptoVerify('sha256', new TextEncoder().encode(siText), { key, dsaEncoding: 'ieee-p1363' }, info.signatureValue);
  } catch {
    ok = false;
  }
  if (!ok) throw signatureError(field);
  return cert;
}

/** A verified KRR: the value and, per nesting level from the outside in, the signer's certificate. */
export interface VerifiedKrr {
  readonly krr: KmsRedirectResponse;
  readonly signers: readonly { readonly krrCreatorUri: string; readonly certificate: Uint8Array; readonly subject: string; readonly fingerprint256: string }[];
}

/**
 * Decodes a KRR and verifies its signature and the signature of every KRR it embeds (D.4.3),
 * each with the key of the X.509 certificate it carries. Whether those certificates are trusted
 * is the caller's decision (D.4.3 leaves it out of scope): compare `signers[].fingerprint256`.
 */
export function verifyKrr(input: string | Uint8Array): VerifiedKrr {
  const root = rootOf(input);
  const krr = decodeKrrElement(root, 'krr');
  const signers: VerifiedKrr['signers'][number][] = [];
  let e: Element | undefined = root;
  let value: KmsRedirectResponse | undefined = krr;
  let path = 'krr';
  while (e !== undefined && value !== undefined) {
    const certificate = verifyElement(e, path);
    const x = new X509Certificate(certificate);
    signers.push(Object.freeze({ krrCreatorUri: value.krrCreatorUri, certificate, subject: x.subject, fingerprint256: x.fingerprint256 }));
    const received: Element | undefined = Array.from(e.childNodes).filter(isElement).find((n) => n.localName === 'ReceivedKmsRedirectResponse');
    e = received === undefined ? undefined : Array.from(received.childNodes).filter(isElement)[0];
    value = value.received;
    path = `${path}.ReceivedKmsRedirectResponse.KmsRedirectResponse`;
  }
  return Object.freeze({ krr, signers: Object.freeze(signers) });
}

// --- encoding -----------------------------------------------------------------------------------

/** A KRR to emit; `received` embeds the KRR text that this one answers (kept byte-exact in its signature). */
export interface KrrInput {
  readonly id?: string | undefined;
  readonly time?: string | undefined;
  readonly krrCreatorUri: string;
  readonly initiatorUri: string;
  readonly initiatorKmsUri: string;
  readonly receiverUri: string;
  readonly receiverKmsUri: string;
  readonly initiatorKmsList: KmsUriList;
  readonly receiverKmsList: KmsUriList;
  /** A received KRR document to embed (its own signature is kept). */
  readonly received?: string | undefined;
}
/** The creator's ECDSA P-256 key and X.509 certificate (DER) for the D.4.3 signature. */
export interface KrrSigner {
  readonly privateKey: KeyObject;
  readonly certificate: Uint8Array;
}

function list(name: string, l: KmsUriList, path: string): Node {
  if (l === 'ANY') return el(name, {}, [el('ANY', {}, '')]);
  return el(name, {}, l.map((u, i) => el('KmsUri', {}, str(u, `${path}.KmsUri[${i}]`, D44, true))));
}

/**
 * Encodes a KMS Redirect Response (TS 33.180 Annex D.4.2 / D.4.4), signed per D.4.3 when a signer
 * is given (recommended by the schema). The result validates against the D.4.4 schema.
 */
export function encodeKrr(value: KrrInput, signer?: KrrSigner, now: () => Date = () => new Date()): string {
  const id = value.id ?? `krr-${toHex(crypto.getRandomValues(new Uint8Array(8)))}`;
  if (!NCNAME.test(id)) throw bad('krr@Id', 'must be an NCName to be referenced by the signature', D44);
  const p = (n: string): string => `krr.${n}`;
  let received: Node | undefined;
  if (value.received !== undefined) {
    const inner = rootOf(value.received);
    decodeKrrElement(inner, p('ReceivedKmsRedirectResponse.KmsRedirectResponse'), 1);
    const raw = value.received.replace(/^\uFEFF?<\?xml[^>]*\?>\s*/, '').trim();
    received = el('ReceivedKmsRedirectResponse', {}, [{ name: '', attrs: [], content: '', raw }]);
  }
  const children = [
    leaf('Time', checkDateTime(value.time ?? toXsdDateTime(now()), p('Time'), D44)),
    leaf('KRRCreatorUri', str(value.krrCreatorUri, p('KRRCreatorUri'), D44, true)),
    leaf('InitiatorUri', str(value.initiatorUri, p('InitiatorUri'), D44, true)),
    leaf('InitiatorKmsUri', str(value.initiatorKmsUri, p('InitiatorKmsUri'), D44, true)),
    leaf('ReceiverUri', str(value.receiverUri, p('ReceiverUri'), D44, true)),
    leaf('ReceiverKmsUri', str(value.receiverKmsUri, p('ReceiverKmsUri'), D44, true)),
    list('InitiatorKmsList', value.initiatorKmsList, p('InitiatorKmsList')),
    list('ReceiverKmsList', value.receiverKmsList, p('ReceiverKmsList')),
    received,
  ];
  const header = '<?xml version="1.0" encoding="UTF-8"?>\n';
  const tree = (digest: string, sigValue: string): Node => {
    const sig = signer === undefined ? undefined : signatureNode({
      id,
      name: 'Signature',
      signatureMethod: ECDSA_SHA256,
      keyInfo: [el('ds:X509Data', {}, [el('ds:X509Certificate', {}, toBase64(signer.certificate))])],
    }, digest, sigValue);
    return el('KmsRedirectResponse', { xmlns: KRR, 'xmlns:ds': XMLDSIG, Version: '1.0.0', Id: id }, [...children, sig]);
  };
  if (signer === undefined) return `${header}${serialize(tree('', ''))}\n`;
  const pub = createPublicKey(signer.privateKey);
  const certKey = new X509Certificate(signer.certificate).publicKey;
  if (pub.asymmetricKeyDetails?.namedCurve !== 'prime256v1' || !pub.equals(certKey)) {
    throw new CryptoError(ErrorCode.INVALID_KEY, { field: 'krr.signer', rule: 'must be a P-256 key matching its certificate', clause: D43 });
  }
  return signTree(tree, (signedInfo) =>
    toBase64(new Uint8Array(cryptoSign('sha256', new TextEncoder().encode(signedInfo), { key: signer.privateKey, dsaEncoding: 'ieee-p1363' }))), header);
}
