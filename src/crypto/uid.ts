/**
 * The MIKEY-SAKKE UID of TS 33.180 §F.2.1: SHA-256 over the TS 33.220 Annex B.2 encoding of
 * FC = 0x00, P0 = "MIKEY-SAKKE-UID", P1 = user identifier, P2 = KMS identifier,
 * P3 = key period length (s), P4 = key period offset (s), P5 = current key period number, each
 * followed by its 2-octet length. Key periods count from 0h on 1 January 1900 (NTP time):
 * P5 = floor((TIME - P4) / P3).
 */
import { ErrorCode, FormatError } from '../errors/index.js';
import { kdfInput, sha256 } from './kdf.js';

/** Seconds between the NTP epoch (1900-01-01) and the Unix epoch (1970-01-01). */
export const NTP_UNIX_OFFSET = 2_208_988_800;

/** What identifies a UID: the user, the KMS and its key period settings. */
export interface UidInput {
  /** P1: the user's identifier (MC service user ID, group ID, server URI) as written. */
  readonly uri: string;
  /** P2: the KMS identifier (KmsUri of the KMS certificate). */
  readonly kmsUri: string;
  /** P3: UserKeyPeriod, seconds. */
  readonly userKeyPeriod: number;
  /** P4: UserKeyOffset, seconds. */
  readonly userKeyOffset: number;
  /** P5: the key period number. */
  readonly keyPeriodNo: number | bigint;
}

function checkPeriod(userKeyPeriod: number, userKeyOffset: number): void {
  const clause = 'TS 33.180 §F.2.1';
  if (!Number.isSafeInteger(userKeyPeriod) || userKeyPeriod <= 0) {
    throw new FormatError(ErrorCode.BAD_VALUE, {
      field: 'uid.userKeyPeriod',
      rule: 'must be a positive integer number of seconds',
      clause,
    });
  }
  if (!Number.isSafeInteger(userKeyOffset) || userKeyOffset < 0 || userKeyOffset >= userKeyPeriod) {
    throw new FormatError(ErrorCode.BAD_VALUE, {
      field: 'uid.userKeyOffset',
      rule: 'must be an integer in [0, UserKeyPeriod) (P4 shall be less than P3)',
      clause,
    });
  }
}

/** The hash input S of §F.2.1 (exposed so the worked example F.2.1.2 can be checked). */
export function uidInput(input: UidInput): Uint8Array {
  checkPeriod(input.userKeyPeriod, input.userKeyOffset);
  const n = input.keyPeriodNo;
  if (typeof n === 'number' ? !Number.isSafeInteger(n) || n < 0 : n < 0n) {
    throw new FormatError(ErrorCode.BAD_VALUE, {
      field: 'uid.keyPeriodNo',
      rule: 'must be a non-negative integer',
      clause: 'TS 33.180 §F.2.1',
    });
  }
  return kdfInput(0x00, [
    'MIKEY-SAKKE-UID',
    input.uri,
    input.kmsUri,
    input.userKeyPeriod,
    input.userKeyOffset,
    BigInt(n),
  ]);
}

/** The 32-octet MIKEY-SAKKE UID (TS 33.180 §F.2.1). */
export function deriveUid(input: UidInput): Uint8Array {
  return sha256(uidInput(input));
}

/** P5 = floor((TIME - P4) / P3) for an NTP time in seconds (TS 33.180 §F.2.1). */
export function keyPeriodNoAtNtp(ntpSeconds: number, userKeyPeriod: number, userKeyOffset: number): number {
  checkPeriod(userKeyPeriod, userKeyOffset);
  if (!Number.isFinite(ntpSeconds) || ntpSeconds < userKeyOffset) {
    throw new FormatError(ErrorCode.BAD_VALUE, {
      field: 'uid.time',
      rule: 'must not precede the first key period',
      clause: 'TS 33.180 §F.2.1',
    });
  }
  return Math.floor((Math.floor(ntpSeconds) - userKeyOffset) / userKeyPeriod);
}

/** The key period number at a date (TS 33.180 §F.2.1, TIME as NTP seconds). */
export function keyPeriodNoAt(date: Date, userKeyPeriod: number, userKeyOffset: number): number {
  const unixSeconds = Math.floor(date.getTime() / 1000);
  return keyPeriodNoAtNtp(unixSeconds + NTP_UNIX_OFFSET, userKeyPeriod, userKeyOffset);
}
