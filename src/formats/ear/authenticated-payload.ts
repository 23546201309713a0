/**
 * The authenticated payload of TS 33.180 §8.5.5 (Table 8.5.5-1), the signed envelope an EAR
 * travels in (§9.6.4.2, Annex J.1.2: "signed using the mechanism defined in Clause 8.5.5"):
 *
 *   Original Payload (TLV-E: IEI 1, length 2, the EAR PAYLOAD) | Algorithm (V, 1)
 *   | Signing Data (TLV-E) = Signing UID (TLV: IEI 1, length 1, 32-octet UID, §F.2.1)
 *                           | Signing KMS (TLV: IEI 1, length 1, KMS URI)      (Table 8.5.5-2)
 *   | Signature (TLV-E: IEI 1, length 2, ECCSI r || s || PVT, 129 octets, RFC 6507)
 *
 * "The signature shall be on the entire payload excluding the value of the signature element.
 * However, the type and length of the signature element shall be included": the signed octets are
 * everything up to and including the Signature's IEI and length (`signedPart`). No IEI and no
 * Algorithm value is assigned: IEIs are accepted and reported (mcsec sends 0), the Algorithm is
 * mcsec's 1 = ECCSI (the only one §8.5.5 names), others ERR_UNSUPPORTED.
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import { fromUtf8, utf8 } from '../../util/index.js';
import { Reader, Writer } from '../bytes/index.js';
import { EAR_UNASSIGNED_IEI, EarSignatureAlgorithm } from './constants.js';

export const S855 = 'TS 33.180 §8.5.5';
/** The ECCSI signature length (RFC 6507 §3.3). */
export const EAR_SIGNATURE_LENGTH = 129;
/** The Signing UID length (§F.2.1: SHA-256). */
export const SIGNING_UID_LENGTH = 32;

/** IEIs an authenticated payload came with. */
export interface AuthenticatedPayloadIeis {
  readonly originalPayload: number;
  readonly signingData: number;
  readonly signingUid: number;
  readonly signingKms: number;
  readonly signature: number;
}

/** The IEIs mcsec sends. */
export const DEFAULT_AUTHENTICATED_PAYLOAD_IEIS: AuthenticatedPayloadIeis = Object.freeze({
  originalPayload: EAR_UNASSIGNED_IEI,
  signingData: EAR_UNASSIGNED_IEI,
  signingUid: EAR_UNASSIGNED_IEI,
  signingKms: EAR_UNASSIGNED_IEI,
  signature: EAR_UNASSIGNED_IEI,
});

/** A decoded authenticated payload. */
export interface AuthenticatedPayload {
  readonly originalPayload: Uint8Array;
  readonly algorithm: number;
  readonly signingUid: Uint8Array;
  readonly signingKmsUri: string;
  readonly signature: Uint8Array;
  readonly ieis: AuthenticatedPayloadIeis;
}

/** An authenticated payload as received, with the octets its signature covers. */
export interface DecodedAuthenticatedPayload extends AuthenticatedPayload {
  readonly signedPart: Uint8Array;
}

const bad = (field: string, rule: string): FormatError => new FormatError(ErrorCode.BAD_VALUE, { field, rule, clause: S855 });

function checkAlgorithm(v: number, field: string): number {
  if (v !== EarSignatureAlgorithm.ECCSI) {
    throw new FormatError(ErrorCode.UNSUPPORTED, { field, rule: `algorithm ${v} is not supported (1 = ECCSI)`, clause: S855 });
  }
  return v;
}

function kmsUri(bytes: Uint8Array, field: string): string {
  if (bytes.length === 0) throw bad(field, 'must not be empty');
  try {
    return fromUtf8(bytes, field);
  } catch {
    throw bad(field, 'must be UTF-8');
  }
}

/** Decodes an authenticated payload strictly; `where` prefixes every field ('ear'). */
export function decodeAuthenticatedPayload(bytes: Uint8Array, where = 'ear'): DecodedAuthenticatedPayload {
  const r = new Reader(bytes, where, S855);
  const originalIei = r.u8('originalPayload.iei');
  const originalPayload = r.bytes(r.u16('originalPayload.length'), 'originalPayload.value');
  const algorithm = checkAlgorithm(r.u8('algorithm'), `${where}.algorithm`);
  const signingDataIei = r.u8('signingData.iei');
  const sd = r.sub(r.u16('signingData.length'), 'signingData');
  const signingUidIei = sd.u8('signingUid.iei');
  const uidLength = sd.u8('signingUid.length');
  if (uidLength !== SIGNING_UID_LENGTH) {
    throw new FormatError(ErrorCode.BAD_LENGTH, { field: `${where}.signingData.signingUid.length`, rule: `must be ${SIGNING_UID_LENGTH} (a UID of §F.2.1)`, clause: 'TS 33.180 Table 8.5.5-2' });
  }
  const signingUid = sd.bytes(uidLength, 'signingUid.value');
  const signingKmsIei = sd.u8('signingKms.iei');
  const signingKmsUri = kmsUri(sd.bytes(sd.u8('signingKms.length'), 'signingKms.value'), `${where}.signingData.signingKms`);
  sd.done();
  const signatureIei = r.u8('signature.iei');
  const signatureLength = r.u16('signature.length');
  const signedEnd = r.offset;
  if (signatureLength !== EAR_SIGNATURE_LENGTH) {
    throw new FormatError(ErrorCode.BAD_LENGTH, { field: `${where}.signature.length`, rule: `must be ${EAR_SIGNATURE_LENGTH} (ECCSI r || s || PVT)`, clause: 'RFC 6507 §3.3' });
  }
  const signature = r.bytes(signatureLength, 'signature.value');
  r.done();
  return Object.freeze({
    originalPayload,
    algorithm,
    signingUid,
    signingKmsUri,
    signature,
    ieis: Object.freeze({ originalPayload: originalIei, signingData: signingDataIei, signingUid: signingUidIei, signingKms: signingKmsIei, signature: signatureIei }),
    signedPart: bytes.slice(0, signedEnd),
  });
}

function u8(v: number, field: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw bad(field, 'must be an integer from 0 to 255');
  return v;
}

/**
 * Encodes an authenticated payload, the signature computed by `sign` over the signed part (the
 * inverse of the decoder when `sign` returns the payload's own signature).
 */
export function encodeAuthenticatedPayload(
  p: Omit<AuthenticatedPayload, 'signature'>,
  sign: (signedPart: Uint8Array) => Uint8Array,
  where = 'ear',
): Uint8Array {
  const i = p.ieis;
  if (p.originalPayload.length > 0xffff) {
    throw new FormatError(ErrorCode.TOO_LARGE, { field: `${where}.originalPayload`, rule: 'must be at most 65535 octets', clause: S855 });
  }
  if (p.signingUid.length !== SIGNING_UID_LENGTH) {
    throw new FormatError(ErrorCode.BAD_LENGTH, { field: `${where}.signingData.signingUid`, rule: `must be ${SIGNING_UID_LENGTH} octets`, clause: 'TS 33.180 Table 8.5.5-2' });
  }
  const kms = utf8(p.signingKmsUri);
  if (kms.length === 0 || kms.length > 0xff) throw bad(`${where}.signingData.signingKms`, 'must be 1 to 255 octets');
  const signingData = new Writer()
    .u8(u8(i.signingUid, `${where}.signingData.signingUid.iei`)).u8(SIGNING_UID_LENGTH).bytes(p.signingUid)
    .u8(u8(i.signingKms, `${where}.signingData.signingKms.iei`)).u8(kms.length).bytes(kms)
    .finish();
  const signedPart = new Writer()
    .u8(u8(i.originalPayload, `${where}.originalPayload.iei`)).u16(p.originalPayload.length).bytes(p.originalPayload)
    .u8(checkAlgorithm(p.algorithm, `${where}.algorithm`))
    .u8(u8(i.signingData, `${where}.signingData.iei`)).u16(signingData.length).bytes(signingData)
    .u8(u8(i.signature, `${where}.signature.iei`)).u16(EAR_SIGNATURE_LENGTH)
    .finish();
  const signature = sign(signedPart);
  if (signature.length !== EAR_SIGNATURE_LENGTH) {
    throw new FormatError(ErrorCode.BAD_LENGTH, { field: `${where}.signature`, rule: `must be ${EAR_SIGNATURE_LENGTH} octets`, clause: 'RFC 6507 §3.3' });
  }
  return new Writer().bytes(signedPart).bytes(signature).finish();
}
