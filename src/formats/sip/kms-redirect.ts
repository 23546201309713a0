/**
 * KMS Redirect Responses in SIP (TS 33.180 §5.2.8, Annex D.4): "The entity returns a SIP 488
 * response 'Not Acceptable Here', attaching an XML MIME body to the response. The MIME body shall
 * have content type: 'application/vnd.3gpp.kmsredirectresponse+xml'" (D.4.1). Pieces any entity
 * reuses (MCX server, GMS, proxies, clients):
 *
 * - `KmsRedirectError`: a refusal that carries the KRR to answer with (a PolicyError
 *   ERR_UNKNOWN_KEY, so that the SIP error mapping already makes it a 488);
 * - `kmsRedirectResponse`: the 488 with the KRR as its body (and a Warning, RFC 3261 §20.43);
 * - `kmsRedirectOf`: the KRR body of a response, or undefined when it carries none;
 * - `readKmsRedirect`: the KRR of a 488 verified (D.4.3: ECDSA-SHA256 with the X.509 certificate
 *   it carries, nested KRRs too), its outermost signer's certificate one the reader trusts (the
 *   spec leaves certificate trust out of scope; mcsec compares the certificate with those the
 *   reader was given), unsigned KRRs refused unless allowed (§5.2.8.5 "Require signed KRRs"), and
 *   the KRR about the reader's own MIKEY message (InitiatorUri / InitiatorKmsUri, §5.2.8.2.1);
 * - `selectKmsUri`: the §5.2.8.2.5 choice of a KMS from a KRR list among those the reader can use.
 */
import { CryptoError, ErrorCode, PolicyError } from '../../errors/index.js';
import { equalBytes, utf8 } from '../../util/index.js';
import { KRR_CONTENT_TYPE, decodeKrr, verifyKrr, type KmsRedirectResponse, type KmsUriList } from '../kms-xml/index.js';
import { createSipResponse, type Rng } from './build.js';
import { headerValue, type SipHeader } from './headers.js';
import type { SipRequest, SipResponse } from './message.js';
import { decodeSipBody, partMediaType } from './multipart.js';

const S528 = 'TS 33.180 §5.2.8';

/** A refusal answered with a KMS Redirect Response (§5.2.8.2.3); `krr` is the signed document. */
export class KmsRedirectError extends PolicyError {
  readonly krr: string;
  constructor(krr: string, f: { readonly field: string; readonly rule: string; readonly clause?: string }) {
    super(ErrorCode.UNKNOWN_KEY, f);
    this.krr = krr;
  }
}

/** The 488 Not Acceptable Here carrying `krr` (Annex D.4.1), with further headers (a Warning). */
export function kmsRedirectResponse(req: SipRequest, krr: string | Uint8Array, o: { readonly headers?: readonly SipHeader[]; readonly rng?: Rng } = {}): SipResponse {
  const body = typeof krr === 'string' ? utf8(krr) : krr;
  return createSipResponse(req, 488, { reason: 'Not Acceptable Here', headers: o.headers ?? [], body: { contentType: KRR_CONTENT_TYPE, body } }, o.rng);
}

/** The KRR body of a response (the body, or one part of a multipart body), or undefined when none. */
export function kmsRedirectOf(res: SipResponse): Uint8Array | undefined {
  if (headerValue(res, 'Content-Type') === undefined) return undefined;
  return decodeSipBody(res).find((p, i) => partMediaType(p, `sip.body.part${i}`).essence === KRR_CONTENT_TYPE)?.body;
}

/** What a reader of KRRs trusts and expects. */
export interface KmsRedirectTrust {
  /** X.509 certificates (DER) trusted to sign KRRs. */
  readonly trustedSigners: readonly Uint8Array[];
  /** Accept unsigned KRRs (§5.2.8.5 policy "Require signed KRRs": no); default false. */
  readonly allowUnsigned?: boolean;
  /** IDRi and IDRkmsi of the MIKEY message the KRR answers: the KRR must name them. */
  readonly initiatorUri?: string;
  readonly initiatorKmsUri?: string;
  /** Accepted difference between the KRR's Time and now, ms (default 5 min): an old KRR is not replayed into a decision. */
  readonly windowMs?: number;
  /** Now (injected; default the clock). */
  readonly now?: () => Date;
}

/** A KRR read from a 488 and accepted. */
export interface KmsRedirect {
  readonly kind: 'kms-redirect';
  readonly status: number;
  readonly krrCreatorUri: string;
  /** Acceptable initiator KMSs (IDRkmsi options), preferred first, or 'ANY'. */
  readonly initiatorKmsList: KmsUriList;
  /** Acceptable receiver KMSs (IDRkmsr options), preferred first, or 'ANY'. */
  readonly receiverKmsList: KmsUriList;
  /** SHA-256 fingerprint of the outermost signer's certificate; undefined for an unsigned KRR. */
  readonly signer: string | undefined;
  readonly krr: KmsRedirectResponse;
  /** The KRR as received, to upload to the Home KMS for fraud detection (§5.2.8.3 step 4, D.2.8). */
  readonly document: Uint8Array;
}

/**
 * The KRR of a 488, verified and checked (see the module comment); undefined when the response
 * is not a 488 or carries no KRR. Refusals: CryptoError ERR_SIGNATURE (a signature that does not
 * verify), PolicyError ERR_UNKNOWN_KEY (a signer not trusted), ERR_FORBIDDEN (unsigned, or about
 * another initiator).
 */
export function readKmsRedirect(res: SipResponse, trust: KmsRedirectTrust): KmsRedirect | undefined {
  if (res.status !== 488) return undefined;
  const document = kmsRedirectOf(res);
  if (document === undefined) return undefined;
  const decoded = decodeKrr(document);
  let krr = decoded;
  let signer: string | undefined;
  if (decoded.signature !== undefined || trust.allowUnsigned !== true) {
    if (decoded.signature === undefined) {
      throw new PolicyError(ErrorCode.FORBIDDEN, { field: 'krr.Signature', rule: 'must be present: unsigned KRRs are not accepted (policy)', clause: 'TS 33.180 §5.2.8.5' });
    }
    const v = verifyKrr(document);
    const outer = v.signers[0];
    if (outer === undefined) throw new CryptoError(ErrorCode.SIGNATURE, { field: 'krr.Signature', rule: 'is required', clause: 'TS 33.180 Annex D.4.3' });
    if (!trust.trustedSigners.some((c) => equalBytes(c, outer.certificate))) {
      throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'krr.Signature.KeyInfo.X509Data', rule: 'must be a certificate trusted to sign KRRs', clause: `${S528}.3` });
    }
    krr = v.krr;
    signer = outer.fingerprint256;
  }
  if (trust.initiatorUri !== undefined && krr.initiatorUri !== trust.initiatorUri) {
    throw new PolicyError(ErrorCode.FORBIDDEN, { field: 'krr.InitiatorUri', rule: 'must be the initiator of the MIKEY message it answers', clause: `${S528}.2.1` });
  }
  if (trust.initiatorKmsUri !== undefined && krr.initiatorKmsUri !== trust.initiatorKmsUri) {
    throw new PolicyError(ErrorCode.FORBIDDEN, { field: 'krr.InitiatorKmsUri', rule: 'must be the initiator KMS of the MIKEY message it answers', clause: `${S528}.2.1` });
  }
  // A KRR answers one message: one made long before (a replay of an old refusal) is not taken.
  const t = Date.parse(/(?:Z|[+-]\d\d:\d\d)$/.test(krr.time) ? krr.time : `${krr.time}Z`);
  const now = (trust.now ?? (() => new Date()))().getTime();
  if (!Number.isFinite(t) || Math.abs(now - t) > (trust.windowMs ?? 5 * 60_000)) {
    throw new PolicyError(ErrorCode.EXPIRED, { field: 'krr.Time', rule: 'must be within the accepted window of now (a KRR answers the message just sent)', clause: `${S528}.2.1` });
  }
  return Object.freeze({
    kind: 'kms-redirect' as const,
    status: res.status,
    krrCreatorUri: krr.krrCreatorUri,
    initiatorKmsList: krr.initiatorKmsList,
    receiverKmsList: krr.receiverKmsList,
    signer,
    krr,
    document: document.slice(),
  });
}

/**
 * The KMS to use from a KRR list (§5.2.8.2.5): 'ANY' or a list naming `home` gives `home`;
 * otherwise the first listed KMS among `usable` (e.g. provisioned Migration KMSs); undefined when
 * none is usable ("the communication fails").
 */
export function selectKmsUri(list: KmsUriList, home: string, usable: readonly string[] = []): string | undefined {
  if (list === 'ANY' || list.includes(home)) return home;
  return list.find((k) => usable.includes(k));
}
