/**
 * Enveloped XML signatures checked and made without XPath (xml-crypto's SignedXml and
 * findAncestorNs evaluate XPath expressions whose parser dominated a KMS request: 50 ms for one
 * HMAC check under load, against well under 1 ms here). The canonicalizers are xml-crypto's
 * (C14N 1.0 and exclusive C14N); what is hand-written is only the walk: the signed element with
 * its own Signature removed (the enveloped-signature transform), the namespaces in scope from its
 * ancestors (inclusive C14N renders them on the apex), and the digest compare.
 * Callers check the algorithm profile first (kms-protection.ts: HMAC-SHA256; krr.ts: ECDSA-SHA256).
 */
import { createHash } from 'node:crypto';
import type { Element, Node } from '@xmldom/xmldom';
import { C14nCanonicalization, ExclusiveCanonicalization } from 'xml-crypto';
import { equalBytes, fromBase64Canonical } from '../../util/index.js';
import type { XmlSignatureInfo } from './xml-read.js';
import { KmsAlgorithm } from './xml-write.js';

const XMLDSIG = 'http://www.w3.org/2000/09/xmldsig#';
const XMLNS = 'http://www.w3.org/2000/xmlns/';
const isElement = (n: Node | null | undefined): n is Element => n !== null && n !== undefined && n.nodeType === 1;

/** The namespace declarations in scope at `el` from its ancestors, closest first, one per prefix. */
export function ancestorNamespaces(el: Element): { prefix: string; namespaceURI: string }[] {
  const own = new Set<string>();
  for (const a of Array.from(el.attributes)) {
    if (a.name === 'xmlns') own.add('');
    else if (a.name.startsWith('xmlns:')) own.add(a.name.slice(6));
  }
  // C14N renders the element's own namespace itself; hoisting it too would declare it twice.
  own.add(el.prefix ?? '');
  const seen = new Set<string>();
  const out: { prefix: string; namespaceURI: string }[] = [];
  for (let p = el.parentNode; isElement(p); p = p.parentNode) {
    for (const a of Array.from(p.attributes)) {
      if (a.namespaceURI !== XMLNS && a.name !== 'xmlns' && !a.name.startsWith('xmlns:')) continue;
      const prefix = a.name === 'xmlns' ? '' : a.name.slice(6);
      if (seen.has(prefix)) continue;
      seen.add(prefix);
      if (a.value !== '' && !own.has(prefix)) out.push({ prefix, namespaceURI: a.value });
    }
  }
  return out;
}

/** Canonical form of `el` (C14N 1.0, or exclusive C14N when `method` says so). */
export function canonicalize(el: Element, method: string = KmsAlgorithm.C14N): string {
  if (method === KmsAlgorithm.EXC_C14N) return new ExclusiveCanonicalization().process(el, {});
  return new C14nCanonicalization().process(el, { ancestorNamespaces: ancestorNamespaces(el) });
}

const child = (el: Element, ns: string, name: string): Element | undefined =>
  Array.from(el.childNodes).find((n): n is Element => isElement(n) && n.namespaceURI === ns && n.localName === name);

/**
 * The ECDSA-SHA256 enveloped-signature profile of KRRs (D.4.3) and SignedKmsCertificates
 * (D.3.5.1): C14N 1.0, ECDSA-SHA256 with a 64-octet r ‖ s, one SHA-256 Reference to the signed
 * element itself (URI "" or "#" + its Id: no signature wrapping), Transforms enveloped-signature
 * [+ C14N] or none (read as enveloped + C14N, as the Annex D examples write them). Returns the
 * transforms to apply, or undefined when the signature is outside the profile.
 */
export function ecdsaEnvelopedTransforms(info: XmlSignatureInfo, id: string | undefined): readonly string[] | undefined {
  const ref = info.references[0];
  const transforms = ref?.transforms ?? [KmsAlgorithm.ENVELOPED_SIGNATURE];
  const ok =
    info.canonicalizationMethod.trim() === KmsAlgorithm.C14N &&
    info.signatureMethod === KmsAlgorithm.ECDSA_SHA256 &&
    info.references.length === 1 && ref !== undefined &&
    ref.digestMethod === KmsAlgorithm.SHA256 &&
    (ref.uri === '' || (id !== undefined && ref.uri === `#${id}`)) &&
    transforms[0] === KmsAlgorithm.ENVELOPED_SIGNATURE && transforms.length <= 2 &&
    (transforms[1] === undefined || transforms[1] === KmsAlgorithm.C14N) &&
    info.signatureValue.length === 64;
  return ok ? transforms : undefined;
}

/**
 * Checks the digest of an enveloped signature over `signed` (its own child `signature` removed for
 * the computation and put back after) and returns the canonical SignedInfo for the caller's key
 * check; undefined when the digest does not match or a piece is missing. `transforms` are the
 * Reference's transforms (enveloped-signature first, then an optional canonicalization).
 */
export function checkEnvelopedDigest(signed: Element, signature: Element, transforms: readonly string[], canonicalizationMethod: string): string | undefined {
  const signedInfo = child(signature, XMLDSIG, 'SignedInfo');
  const reference = signedInfo === undefined ? undefined : child(signedInfo, XMLDSIG, 'Reference');
  const digestEl = reference === undefined ? undefined : child(reference, XMLDSIG, 'DigestValue');
  if (signedInfo === undefined || digestEl === undefined) return undefined;
  const expected = fromBase64Canonical((digestEl.textContent ?? '').replace(/[ \t\r\n]+/g, ''));
  if (expected === null) return undefined;
  const next = signature.nextSibling;
  signed.removeChild(signature);
  let body: string;
  try {
    body = canonicalize(signed, transforms[1] ?? KmsAlgorithm.C14N);
  } finally {
    signed.insertBefore(signature, next);
  }
  const digest = new Uint8Array(createHash('sha256').update(body).digest());
  if (!equalBytes(digest, expected)) return undefined;
  return canonicalize(signedInfo, canonicalizationMethod);
}
