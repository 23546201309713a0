/**
 * The 5-octet times of MCData protected payloads (TS 33.180 Table 8.5.4.1-1, "Date and Time") and of
 * the E.6 key parameters (§E.6.4 Activation time, §E.6.10 Expiry time): a 40-bit big-endian count
 * of seconds since midnight UTC of January 1, 1970, not counting leap seconds. §E.6.4 states this
 * encoding; Table 8.5.4.1-1 gives only the length, and mcsec reads its Date and Time the same way
 * (as TS 24.282 codes its "Date and time" IE).
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import type { Reader, Writer } from '../bytes/index.js';

/** The largest 5-octet value. */
export const MAX_DATE_TIME_SECONDS = 2 ** 40 - 1;

/** Reads the 5 octets as seconds. */
export function readDateTimeSeconds(r: Reader, field: string): number {
  const b = r.bytes(5, field);
  const low = (((b[1] as number) << 24) | ((b[2] as number) << 16) | ((b[3] as number) << 8) | (b[4] as number)) >>> 0;
  return (b[0] as number) * 2 ** 32 + low;
}

/** Writes seconds (0 to 2^40 - 1) as 5 octets. */
export function writeDateTimeSeconds(w: Writer, seconds: number): void {
  w.u8(Math.floor(seconds / 2 ** 32)).u32(seconds % 2 ** 32);
}

/** Whole seconds since 1970 of a date (fractions dropped), checked to fit 5 octets. */
export function dateTimeSeconds(date: Date, field: string, clause: string): number {
  const ms = date.getTime();
  const seconds = Math.floor(ms / 1000);
  if (!Number.isFinite(ms) || seconds < 0 || seconds > MAX_DATE_TIME_SECONDS) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'must be a time from 1970 that fits 5 octets of seconds', clause });
  }
  return seconds;
}

/** The date of a seconds count. */
export const dateOfSeconds = (seconds: number): Date => new Date(seconds * 1000);
