/**
 * The MCData Protected Payload message, TS 33.180 §8.5.4.1 (Table 8.5.4.1-1):
 *
 *   Message Type (1) | Date and Time (5) | Payload ID (4) | Payload sequence number (1)
 *   | Payload algorithm (1) | [Signalling algorithm (1)] | IV (16) | DPPK-ID (4)
 *   | Payload: IEI (1) | length (2) | ciphertext || tag                         (TLV-E)
 *   | [MIKEY-SAKKE I-MESSAGE: IEI (1) | length (2) | I_MESSAGE]                 (TLV-E, NOTE 4)
 *
 * Every field before the Payload is V format (no IEI), so the optional Signalling algorithm
 * (NOTE 6) cannot be told from the octets: the caller says whether the context carries it
 * (`signallingAlgorithm: true`; default absent, as for the E.6 key parameters). TS 33.180 assigns
 * no IEI values to the two TLV-E elements and no code points to the Algorithm IDs of §8.5.4.2:
 * decoders accept any IEI and report it; encoders send what the value holds (`UNASSIGNED_IEI`, 0,
 * by default), and DP_AES_128_GCM / DP_AES_256_GCM are 1 / 2 (docs/mikey.md says why).
 *
 * The associated data of §8.5.4.2 is `mcdataAssociatedData`; protection itself is protection.ts.
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import { Reader, Writer } from '../bytes/index.js';
import { dateOfSeconds, dateTimeSeconds, readDateTimeSeconds, writeDateTimeSeconds } from './date-time.js';

/** Message Type values (TS 24.282 §15.2.2): the DATA PAYLOAD type and the bits of §8.5.1. */
export const McdataMessageType = Object.freeze({
  DATA_PAYLOAD: 0x03,
  /** Bit 7: the payload is protected (encrypted and integrity protected), §8.5.1. */
  PROTECTED: 0x40,
  /** Bit 8: the payload is authenticated, §8.5.1. */
  AUTHENTICATED: 0x80,
} as const);

/** Algorithm IDs of §8.5.4.2 (Tables 8.5.4.2-1 / -2); the numbers are mcsec's, see the header. */
export const McdataAlgorithm = Object.freeze({ DP_AES_128_GCM: 1, DP_AES_256_GCM: 2 } as const);

/** The IEI mcsec sends where TS 33.180 assigns none. */
export const UNASSIGNED_IEI = 0;
/** The IV field length, octets (Table 8.5.4.1-1). */
export const MCDATA_IV_LENGTH = 16;
/** The AEAD tag every Payload ends with, octets (Tables 8.5.4.2-1 / -2). */
export const MCDATA_TAG_LENGTH = 16;
/** The largest TLV-E value (2-octet length). */
export const MAX_TLV_E_LENGTH = 0xffff;

/** A type 6 (TLV-E) information element: IEI, 2-octet length, value. */
export interface TlvE {
  readonly iei: number;
  readonly value: Uint8Array;
}

/** A decoded MCData Protected Payload message. */
export interface McdataProtectedPayload {
  readonly messageType: number;
  /** Creation time, whole seconds (NOTE 1). */
  readonly dateTime: Date;
  readonly payloadId: number;
  readonly payloadSequenceNumber: number;
  readonly payloadAlgorithm: number;
  /** Present only when the context carries it (NOTE 6); absent means DP_AES_128_GCM. */
  readonly signallingAlgorithm: number | undefined;
  readonly iv: Uint8Array;
  readonly dppkId: number;
  /** The Payload element: ciphertext || 16-octet tag. */
  readonly payload: TlvE;
  /** The DPPK (PCK) in an I_MESSAGE, off-network only (NOTE 4). */
  readonly iMessage: TlvE | undefined;
}

/** The fields the associated data covers (§8.5.4.2). */
export type McdataProtectedHeader = Pick<
  McdataProtectedPayload,
  'messageType' | 'dateTime' | 'payloadId' | 'payloadSequenceNumber' | 'payloadAlgorithm' | 'iv' | 'dppkId'
>;

/** How to decode. */
export interface DecodeMcdataOptions {
  /** The Signalling algorithm octet is present (NOTE 6); default false. */
  readonly signallingAlgorithm?: boolean;
  /** The field path prefix of errors; default `mcdata.protectedPayload`. */
  readonly where?: string;
}

const CLAUSE = 'TS 33.180 §8.5.4.1';
const bad = (field: string, rule: string, clause = CLAUSE): FormatError => new FormatError(ErrorCode.BAD_VALUE, { field, rule, clause });

const isAlgorithm = (v: number): boolean => v === McdataAlgorithm.DP_AES_128_GCM || v === McdataAlgorithm.DP_AES_256_GCM;

function checkAlgorithm(v: number, field: string): number {
  if (!isAlgorithm(v)) {
    throw new FormatError(ErrorCode.UNSUPPORTED, {
      field,
      rule: `algorithm ${v} is not supported (1 DP_AES_128_GCM, 2 DP_AES_256_GCM)`,
      clause: 'TS 33.180 §8.5.4.2',
    });
  }
  return v;
}

function checkMessageType(v: number, field: string): void {
  if ((v & McdataMessageType.PROTECTED) === 0) throw bad(field, 'must have bit 7 set (a protected payload)', 'TS 33.180 §8.5.1');
}

function checkSealed(n: number, field: string): void {
  if (n < MCDATA_TAG_LENGTH) {
    throw new FormatError(ErrorCode.BAD_LENGTH, { field, rule: `must hold at least the ${MCDATA_TAG_LENGTH}-octet AEAD tag`, clause: 'TS 33.180 §8.5.4.2' });
  }
}

function readTlvE(r: Reader, name: string): TlvE {
  const iei = r.u8(`${name}.iei`);
  const value = r.bytes(r.u16(`${name}.length`), `${name}.value`);
  return Object.freeze({ iei, value });
}

/** Decodes a Protected Payload message strictly: all fields, no trailing octets. */
export function decodeMcdataProtectedPayload(bytes: Uint8Array, options: DecodeMcdataOptions = {}): McdataProtectedPayload {
  const where = options.where ?? 'mcdata.protectedPayload';
  const r = new Reader(bytes, where, CLAUSE);
  const messageType = r.u8('messageType');
  checkMessageType(messageType, `${where}.messageType`);
  const dateTime = dateOfSeconds(readDateTimeSeconds(r, 'dateTime'));
  const payloadId = r.u32('payloadId');
  const payloadSequenceNumber = r.u8('payloadSequenceNumber');
  const payloadAlgorithm = checkAlgorithm(r.u8('payloadAlgorithm'), `${where}.payloadAlgorithm`);
  const signallingAlgorithm =
    options.signallingAlgorithm === true ? checkAlgorithm(r.u8('signallingAlgorithm'), `${where}.signallingAlgorithm`) : undefined;
  const iv = r.bytes(MCDATA_IV_LENGTH, 'iv');
  const dppkId = r.u32('dppkId');
  const payload = readTlvE(r, 'payload');
  checkSealed(payload.value.length, `${where}.payload.length`);
  const iMessage = r.remaining > 0 ? readTlvE(r, 'iMessage') : undefined;
  r.done();
  return Object.freeze({ messageType, dateTime, payloadId, payloadSequenceNumber, payloadAlgorithm, signallingAlgorithm, iv, dppkId, payload, iMessage });
}

function int(v: number, max: number, field: string): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw bad(field, `must be an integer from 0 to ${max}`);
  return v;
}

function writeTlvE(w: Writer, e: TlvE, field: string): void {
  int(e.iei, 0xff, `${field}.iei`);
  if (e.value.length > MAX_TLV_E_LENGTH) {
    throw new FormatError(ErrorCode.TOO_LARGE, { field: `${field}.length`, rule: `must be at most ${MAX_TLV_E_LENGTH} octets`, clause: CLAUSE });
  }
  w.u8(e.iei).u16(e.value.length).bytes(e.value);
}

/** Encodes a Protected Payload message (the inverse of the decoder; the same rules hold). */
export function encodeMcdataProtectedPayload(p: McdataProtectedPayload): Uint8Array {
  const f = 'mcdata.protectedPayload';
  const w = writeHeader(new Writer(), p, f, p.signallingAlgorithm);
  checkSealed(p.payload.value.length, `${f}.payload.length`);
  writeTlvE(w, p.payload, `${f}.payload`);
  if (p.iMessage !== undefined) writeTlvE(w, p.iMessage, `${f}.iMessage`);
  return w.finish();
}

/** The fields before the Payload, checked; the Signalling algorithm only when given. */
function writeHeader(w: Writer, p: McdataProtectedHeader, f: string, signallingAlgorithm: number | undefined): Writer {
  checkMessageType(int(p.messageType, 0xff, `${f}.messageType`), `${f}.messageType`);
  checkAlgorithm(int(p.payloadAlgorithm, 0xff, `${f}.payloadAlgorithm`), `${f}.payloadAlgorithm`);
  if (p.iv.length !== MCDATA_IV_LENGTH) {
    throw new FormatError(ErrorCode.BAD_LENGTH, { field: `${f}.iv`, rule: `must be ${MCDATA_IV_LENGTH} octets`, clause: CLAUSE });
  }
  w.u8(p.messageType);
  writeDateTimeSeconds(w, dateTimeSeconds(p.dateTime, `${f}.dateTime`, CLAUSE));
  w.u32(int(p.payloadId, 0xffff_ffff, `${f}.payloadId`))
    .u8(int(p.payloadSequenceNumber, 0xff, `${f}.payloadSequenceNumber`))
    .u8(p.payloadAlgorithm);
  if (signallingAlgorithm !== undefined) {
    w.u8(checkAlgorithm(int(signallingAlgorithm, 0xff, `${f}.signallingAlgorithm`), `${f}.signallingAlgorithm`));
  }
  return w.bytes(p.iv).u32(int(p.dppkId, 0xffff_ffff, `${f}.dppkId`));
}

/**
 * The AEAD associated data of §8.5.4.2: Message Type || Date and Time || Payload ID || Payload
 * sequence number || Algorithm || IV || DPPK-ID, 32 octets, each as on the wire. "Algorithm" is
 * the Payload algorithm (the one protecting the Payload, NOTE 5); the Signalling algorithm, which
 * the clause does not list, is not part of it.
 */
export function mcdataAssociatedData(p: McdataProtectedHeader): Uint8Array {
  return writeHeader(new Writer(), p, 'mcdata.protectedPayload', undefined).finish();
}
