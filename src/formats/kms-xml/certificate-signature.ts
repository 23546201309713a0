/**
 * Checking SignedKmsCertificates (TS 33.180 Annex D.3.5.1 SignedKmsCertificateType, example
 * D.3.4.3): a KmsCertificate with an enveloped ds:Signature over its SignedKmsCertificate element.
 * Profile (as kms-encode.ts writes it and the example shows): C14N 1.0, ECDSA-SHA256 (r ‖ s,
 * XML Signature 1.1 §6.4.3), SHA-256, one Reference to the element's own Id (or ""), Transforms
 * enveloped-signature [+ C14N] or none (read as enveloped + C14N, like the D.3.4 examples), and a
 * ds:KeyName naming the certificate whose PubAuthKey checks it (the signing KMS's; see
 * crypto/kms-signing-key.ts). Which KeyNames are trusted is the caller's: `keyFor` answers the
 * P-256 public point (0x04 ‖ x ‖ y) of a trusted signer, or undefined.
 *
 * Every SignedKmsCertificate carrying a ds:Signature must verify (one without a signature, which
 * the schema allows, is left out: it decodes as unsigned, `signed: false`, and the caller's
 * policy decides): one that does not is a CryptoError
 * ERR_SIGNATURE naming it; a KeyName the caller does not trust is a PolicyError ERR_UNKNOWN_KEY.
 * A Reference elsewhere than the element itself is refused (no signature wrapping).
 */
import { verify as cryptoVerify } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { p256PublicKey } from '../../crypto/index.js';
import { CryptoError, ErrorCode, PolicyError } from '../../errors/index.js';
import { KMS_RESPONSE_MAX_OCTETS, KmsNamespace } from './kms-response.js';
import { checkEnvelopedDigest, ecdsaEnvelopedTransforms } from './xml-signature.js';
import { attr, documentText, isElement, parse, signatureInfo } from './xml-read.js';

const D351 = 'TS 33.180 Annex D.3.5.1';
const { KMS, XMLDSIG } = KmsNamespace;

/** One verified SignedKmsCertificate. */
export interface CertificateSignatureCheck {
  /** Where it is in the document, e.g. kmsResponse.SignedKmsCertificate[0]. */
  readonly field: string;
  /** The KmsUri of the certificate it carries. */
  readonly kmsUri: string;
  /** The ds:KeyName of the signing certificate. */
  readonly keyName: string;
}

function elementsNamed(root: Element, ns: string, name: string): Element[] {
  const out: Element[] = [];
  const stack: Element[] = [root];
  for (let e = stack.pop(); e !== undefined; e = stack.pop()) {
    if (e.namespaceURI === ns && e.localName === name) out.push(e);
    for (const c of Array.from(e.childNodes).reverse()) if (isElement(c)) stack.push(c);
  }
  return out;
}

const childOf = (e: Element, ns: string, name: string): Element | undefined =>
  Array.from(e.childNodes).find((c): c is Element => isElement(c) && c.namespaceURI === ns && c.localName === name);

/** Verifies every SignedKmsCertificate of a KMS response (see the module comment). */
export function verifyCertificateSignatures(input: string | Uint8Array, keyFor: (keyName: string) => Uint8Array | undefined): readonly CertificateSignatureCheck[] {
  const root = parse(documentText(input, 'kmsResponse', KMS_RESPONSE_MAX_OCTETS, D351), 'kmsResponse', D351);
  const out: CertificateSignatureCheck[] = [];
  elementsNamed(root, KMS, 'SignedKmsCertificate').forEach((e, i) => {
    const field = `kmsResponse.SignedKmsCertificate[${i}]`;
    const failed = (): CryptoError => new CryptoError(ErrorCode.SIGNATURE, { field: `${field}.Signature`, rule: 'must verify as ECDSA-SHA256 with the PubAuthKey of the certificate its KeyName names', clause: D351 });
    const sigEl = childOf(e, XMLDSIG, 'Signature');
    const cert = childOf(e, KMS, 'KmsCertificate');
    // The schema lets a SignedKmsCertificate carry no signature (minOccurs 0): it decodes as
    // unsigned (signed: false) and the caller's policy (requireSignedCertificates) decides.
    if (sigEl === undefined) return;
    const kmsUri = (cert === undefined ? undefined : childOf(cert, KMS, 'KmsUri'))?.textContent?.trim() ?? '';
    const info = signatureInfo(sigEl, `${field}.Signature`, D351);
    const transforms = ecdsaEnvelopedTransforms(info, attr(e, 'Id'));
    if (transforms === undefined) throw failed();
    const keyName = info.keyName;
    if (keyName === undefined) throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: `${field}.Signature.KeyInfo.KeyName`, rule: 'must name the signing KMS certificate', clause: D351 });
    const point = keyFor(keyName);
    if (point === undefined) throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: `${field}.Signature.KeyInfo.KeyName`, rule: 'must name a KMS certificate this client trusts to sign certificates', clause: D351 });
    const key = p256PublicKey(point);
    let ok = false;
    try {
      const siText = checkEnvelopedDigest(e, sigEl, transforms, info.canonicalizationMethod.trim());
      ok = siText !== undefined && cryptoVerify('sha256', new TextEncoder().encode(siText), { key, dsaEncoding: 'ieee-p1363' }, info.signatureValue);
    } catch {
      ok = false;
    }
    if (!ok) throw failed();
    out.push(Object.freeze({ field, kmsUri, keyName }));
  });
  return Object.freeze(out);
}
