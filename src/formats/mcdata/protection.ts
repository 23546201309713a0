/**
 * Protection of an MCData payload, TS 33.180 §8.5.3 and §8.5.4.2: the DPCK is derived from the
 * DPPK and its DPPK-ID (KDF, §F.1.5), then the plaintext is sealed with AEAD_AES_128_GCM or
 * AEAD_AES_256_GCM (RFC 5116) under the 16-octet IV of the message, with the associated data of
 * §8.5.4.2 (mcdataAssociatedData). The DPCK has the DPPK's length (§F.1.5), so DP_AES_128_GCM
 * needs a 128-bit DPPK and DP_AES_256_GCM a 256-bit one; the longer DPCK that §F.1.5 allows for a
 * CSK protecting MCData signalling is not built here. Every failure to open is ERR_DECRYPT.
 */
import { randomBytes } from 'node:crypto';
import { deriveDpck, openAesGcm, sealAesGcm } from '../../crypto/index.js';
import { ErrorCode, FormatError } from '../../errors/index.js';
import {
  MCDATA_IV_LENGTH,
  McdataAlgorithm,
  McdataMessageType,
  UNASSIGNED_IEI,
  mcdataAssociatedData,
  type McdataProtectedPayload,
  type TlvE,
} from './protected-payload.js';

/** What to protect, and the header values (defaults as listed). */
export interface ProtectMcdataInput {
  /** The DPPK: the CSK, SPK, MuSiK, GMK or PCK (§8.5.2.1), or the key of an I_MESSAGE (§E.6). */
  readonly dppk: Uint8Array;
  readonly dppkId: number;
  readonly plaintext: Uint8Array;
  readonly dateTime: Date;
  /** Default DATA PAYLOAD with the protected bit (0x43). */
  readonly messageType?: number;
  /** Default 0. */
  readonly payloadId?: number;
  /** Default 0. */
  readonly payloadSequenceNumber?: number;
  /** Default: DP_AES_128_GCM for a 128-bit DPPK, DP_AES_256_GCM for a 256-bit one. */
  readonly payloadAlgorithm?: number;
  readonly signallingAlgorithm?: number;
  /** Default UNASSIGNED_IEI. */
  readonly payloadIei?: number;
  readonly iMessage?: TlvE;
  readonly rng?: (n: number) => Uint8Array;
}

const rngDefault = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

/** The DPCK for a message, checked against its Payload algorithm (§F.1.5, Tables 8.5.4.2-1 / -2). */
function dpckFor(dppk: Uint8Array, dppkId: number, algorithm: number, field: string): Uint8Array {
  const dpck = deriveDpck(dppk, dppkId);
  const want = algorithm === McdataAlgorithm.DP_AES_256_GCM ? 32 : 16;
  if (dpck.length !== want) {
    dpck.fill(0);
    throw new FormatError(ErrorCode.BAD_VALUE, {
      field,
      rule: `algorithm ${algorithm} needs a ${want * 8}-bit DPCK, and a ${dppk.length * 8}-bit DPPK gives a ${dppk.length * 8}-bit one`,
      clause: 'TS 33.180 §F.1.5, §8.5.4.2',
    });
  }
  return dpck;
}

/** Protects a payload: the Protected Payload message with a fresh IV (encode it to send). */
export function protectMcdataPayload(input: ProtectMcdataInput): McdataProtectedPayload {
  const rng = input.rng ?? rngDefault;
  const payloadAlgorithm =
    input.payloadAlgorithm ?? (input.dppk.length === 32 ? McdataAlgorithm.DP_AES_256_GCM : McdataAlgorithm.DP_AES_128_GCM);
  const header = {
    messageType: input.messageType ?? (McdataMessageType.DATA_PAYLOAD | McdataMessageType.PROTECTED),
    dateTime: new Date(Math.floor(input.dateTime.getTime() / 1000) * 1000),
    payloadId: input.payloadId ?? 0,
    payloadSequenceNumber: input.payloadSequenceNumber ?? 0,
    payloadAlgorithm,
    iv: rng(MCDATA_IV_LENGTH),
    dppkId: input.dppkId,
  };
  const ad = mcdataAssociatedData(header); // checks every header field
  const dpck = dpckFor(input.dppk, input.dppkId, payloadAlgorithm, 'mcdata.protectedPayload.payloadAlgorithm');
  const sealed = sealAesGcm(dpck, header.iv, ad, input.plaintext);
  dpck.fill(0);
  return Object.freeze({
    ...header,
    signallingAlgorithm: input.signallingAlgorithm,
    payload: Object.freeze({ iei: input.payloadIei ?? UNASSIGNED_IEI, value: sealed }),
    iMessage: input.iMessage,
  });
}

/**
 * The plaintext of a Protected Payload message under its DPPK; ERR_DECRYPT naming
 * `${where}.payload` when it does not open.
 */
export function unprotectMcdataPayload(p: McdataProtectedPayload, dppk: Uint8Array, where = 'mcdata.protectedPayload'): Uint8Array {
  const dpck = dpckFor(dppk, p.dppkId, p.payloadAlgorithm, `${where}.payloadAlgorithm`);
  try {
    return openAesGcm(dpck, p.iv, mcdataAssociatedData(p), p.payload.value, `${where}.payload`);
  } finally {
    dpck.fill(0);
  }
}
