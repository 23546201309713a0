/**
 * Elements for Authenticating Requests, TS 33.180 §9.6.4 / Annex J.1: an EAR PAYLOAD signed with
 * ECCSI in the §8.5.5 authenticated payload (application/vnd.3gpp.mc-signalling-ear, §9.6.5.2.1).
 *
 * - `createEar`: the requester signs with the key of its (Authorised) Identity, which must be the
 *   Source ID, for the key period of the EAR's Date and time; the Signing UID is that identity's
 *   UID (§F.2.1) and the Signing KMS its KMS URI (Table 8.5.5-2).
 * - `verifyEar` follows §9.6.5.4: the strict decode; the signing KMS must be trusted; the Date and
 *   time within the window (default 300 s, the clause's example) and the Request Expiry not passed
 *   (ERR_EXPIRED); the ECCSI signature under the Signing UID (step 1) and that UID derived from the
 *   Source ID, the KMS URI and the key period of the Date and time (step 4, §8.5.5), both the one
 *   uniform ERR_SIGNATURE; with `expect`, the authorisation rules (authorised-identity.ts: steps 2,
 *   5, 6, 7); last, the EAR ID claimed in the replay cache (step 3, ERR_REPLAY), so that nothing is
 *   recorded for an EAR that is refused.
 */
import { randomBytes } from 'node:crypto';
import { EccsiVerifier, deriveUid, keyPeriodNoAt, signEccsi } from '../../crypto/index.js';
import { CryptoError, ErrorCode, FormatError, PolicyError } from '../../errors/index.js';
import { equalBytes, toHex } from '../../util/index.js';
import type { KeyPeriods, ReplayCache } from '../mikey/index.js';
import {
  DEFAULT_AUTHENTICATED_PAYLOAD_IEIS,
  decodeAuthenticatedPayload,
  encodeAuthenticatedPayload,
  type AuthenticatedPayloadIeis,
} from './authenticated-payload.js';
import { checkEarAuthorisation, type EarAuthorisation, type EarExpectations } from './authorised-identity.js';
import { EarSignatureAlgorithm } from './constants.js';
import { decodeEarPayload, earPayloadOf, encodeEarPayload, generateEarId, type EarPayload, type EarPayloadInput } from './ear-payload.js';

const S9654 = 'TS 33.180 §9.6.5.4';
/** §9.6.5.4 step 3's example window. */
export const EAR_WINDOW_MS = 300_000;

/** A signed EAR. */
export interface SignedEar {
  readonly payload: EarPayload;
  readonly algorithm: number;
  readonly signingUid: Uint8Array;
  readonly signingKmsUri: string;
  readonly signature: Uint8Array;
  readonly ieis: AuthenticatedPayloadIeis;
}

/** A signed EAR as received, with the octets its signature covers. */
export interface DecodedEar extends SignedEar {
  readonly signedPart: Uint8Array;
}

/** Decodes an EAR body strictly: the §8.5.5 envelope and the EAR PAYLOAD inside. */
export function decodeEar(bytes: Uint8Array): DecodedEar {
  const a = decodeAuthenticatedPayload(bytes, 'ear');
  const payload = decodeEarPayload(a.originalPayload, 'ear.payload');
  return Object.freeze({
    payload,
    algorithm: a.algorithm,
    signingUid: a.signingUid,
    signingKmsUri: a.signingKmsUri,
    signature: a.signature,
    ieis: a.ieis,
    signedPart: a.signedPart,
  });
}

/** Encodes a signed EAR as it is (the inverse of decodeEar; the signature is not recomputed). */
export function encodeEar(e: SignedEar): Uint8Array {
  return encodeAuthenticatedPayload(
    { originalPayload: encodeEarPayload(e.payload), algorithm: e.algorithm, signingUid: e.signingUid, signingKmsUri: e.signingKmsUri, ieis: e.ieis },
    () => e.signature,
  );
}

/** The signer: its identity (the Source ID, possibly an Authorised Identity), KMS and ECCSI keys. */
export interface EarSigner extends KeyPeriods {
  readonly uri: string;
  readonly kmsUri: string;
  readonly kpak: Uint8Array;
  readonly ssk: Uint8Array;
  readonly pvt: Uint8Array;
}

/** What to sign: the payload fields (the EAR ID is generated when not given). */
export type CreateEarInput = Omit<EarPayloadInput, 'earId'> & { readonly earId?: Uint8Array | undefined };

const rngDefault = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

/** Builds and signs an EAR (§9.6.4.2, Annex J.1.2, §8.5.5). */
export function createEar(input: CreateEarInput, signer: EarSigner, rng: (n: number) => Uint8Array = rngDefault): Uint8Array {
  if (signer.uri !== input.sourceId) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field: 'ear.payload.sourceId', rule: "must be the signer's identity (the identity the EAR is signed with)", clause: 'TS 33.180 §9.6.4.1' });
  }
  const payload = earPayloadOf({ ...input, earId: input.earId ?? generateEarId(rng) });
  const keyPeriodNo = keyPeriodNoAt(payload.dateTime, signer.userKeyPeriod, signer.userKeyOffset);
  const uid = deriveUid({ uri: signer.uri, kmsUri: signer.kmsUri, userKeyPeriod: signer.userKeyPeriod, userKeyOffset: signer.userKeyOffset, keyPeriodNo });
  return encodeAuthenticatedPayload(
    { originalPayload: encodeEarPayload(payload), algorithm: EarSignatureAlgorithm.ECCSI, signingUid: uid, signingKmsUri: signer.kmsUri, ieis: DEFAULT_AUTHENTICATED_PAYLOAD_IEIS },
    (signed) => signEccsi(signed, { kpak: signer.kpak, id: uid, ssk: signer.ssk, pvt: signer.pvt }, rng),
  );
}

/** What a receiver needs to verify EARs. */
export interface EarVerifierContext {
  /** KPAK and key periods of a KMS this receiver trusts, by KMS URI. */
  readonly trustedKms: (kmsUri: string) => (KeyPeriods & { readonly kpak: Uint8Array }) | undefined;
  readonly replayCache: ReplayCache;
  readonly now: () => Date;
  /** How far the Date and time may be from now, ms (default EAR_WINDOW_MS). */
  readonly windowMs?: number | undefined;
  readonly verifier?: EccsiVerifier | undefined;
  /** The SIP request's facts; when given, the authorisation rules run before the replay claim. */
  readonly expect?: EarExpectations | undefined;
}

/** An accepted EAR. */
export interface VerifiedEar {
  readonly payload: EarPayload;
  readonly signingKmsUri: string;
  readonly signingUid: Uint8Array;
  /** Present when `expect` was given. */
  readonly authorisation: EarAuthorisation | undefined;
  /** When actions the request caused must end (J.2.4), if it says. */
  readonly requestExpiry: Date | undefined;
}

const signatureFailed = (): CryptoError =>
  new CryptoError(ErrorCode.SIGNATURE, { field: 'ear.signature', rule: 'must be a valid ECCSI signature by the Source ID', clause: `${S9654}, §8.5.5` });

/** Verifies an EAR (see the module comment for every step); async only for the replay claim. */
export async function verifyEar(bytes: Uint8Array, ctx: EarVerifierContext): Promise<VerifiedEar> {
  const ear = decodeEar(bytes);
  const p = ear.payload;
  const kms = ctx.trustedKms(ear.signingKmsUri);
  if (kms === undefined) {
    throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'ear.signingData.signingKms', rule: 'is not a KMS this receiver trusts', clause: S9654 });
  }
  const now = ctx.now().getTime();
  const window = ctx.windowMs ?? EAR_WINDOW_MS;
  if (Math.abs(p.dateTime.getTime() - now) > window) {
    throw new PolicyError(ErrorCode.EXPIRED, { field: 'ear.payload.dateTime', rule: `must be within ${window} ms of now`, clause: `${S9654} step 3` });
  }
  const expiry = p.request?.requestExpiry?.value;
  if (expiry !== undefined && expiry.getTime() <= now) {
    throw new PolicyError(ErrorCode.EXPIRED, { field: 'ear.payload.request.requestExpiry', rule: 'has passed', clause: 'TS 33.180 Annex J.2.4' });
  }
  let valid = false;
  try {
    (ctx.verifier ?? new EccsiVerifier(1)).verify(ear.signedPart, ear.signature, kms.kpak, ear.signingUid);
    const keyPeriodNo = keyPeriodNoAt(p.dateTime, kms.userKeyPeriod, kms.userKeyOffset);
    const uid = deriveUid({ uri: p.sourceId, kmsUri: ear.signingKmsUri, userKeyPeriod: kms.userKeyPeriod, userKeyOffset: kms.userKeyOffset, keyPeriodNo });
    valid = equalBytes(uid, ear.signingUid);
  } catch {
    valid = false;
  }
  if (!valid) throw signatureFailed();
  const authorisation = ctx.expect === undefined ? undefined : checkEarAuthorisation(p, ear.signingKmsUri, ctx.expect);
  // Last: the EAR ID must not have been processed within the window (step 3), claimed atomically.
  if (!(await ctx.replayCache.claim(`ear:${toHex(p.earId)}`, now, now + 2 * window))) {
    throw new PolicyError(ErrorCode.REPLAY, { field: 'ear.payload.earId', rule: 'this EAR was processed before', clause: `${S9654} step 3` });
  }
  return Object.freeze({ payload: p, signingKmsUri: ear.signingKmsUri, signingUid: ear.signingUid, authorisation, requestExpiry: expiry });
}
