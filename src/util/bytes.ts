/**
 * Byte helpers (STYLE.md §5): hex, UTF-8, concatenation, big-endian integers, constant-time
 * comparison. Strict hex parsing for untrusted input throws a FormatError naming the field.
 */
import { timingSafeEqual } from 'node:crypto';
import { ErrorCode, FormatError } from '../errors/index.js';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i] as number];
  return s;
}

/**
 * Bytes of a hex string (either case). Throws a FormatError on odd length or a non-hex digit;
 * `field` names the input in the error.
 */
export function fromHex(hex: string, field = 'hex'): Uint8Array {
  if (hex.length % 2 !== 0) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'must be hex with an even length' });
  }
  if (!/^[0-9a-fA-F]*$/.test(hex)) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'must contain only hex digits' });
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of a string. */
export const utf8 = (s: string): Uint8Array => encoder.encode(s);

/** A string from UTF-8 bytes; throws a FormatError on invalid UTF-8. */
export function fromUtf8(bytes: Uint8Array, field = 'utf8'): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'must be valid UTF-8' });
  }
}

/** The concatenation of byte arrays. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Constant-time equality of two byte arrays (lengths are not secret). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/** Big-endian unsigned integer of bytes. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt('0x' + toHex(bytes));
}

/** Big-endian encoding of a non-negative integer in exactly `len` octets. */
export function bigIntToBytes(n: bigint, len: number): Uint8Array {
  if (n < 0n) throw new RangeError('negative integer');
  const hex = n.toString(16);
  if (hex.length > 2 * len) throw new RangeError(`integer does not fit in ${len} octets`);
  return fromHex(hex.padStart(2 * len, '0'));
}

/** Big-endian 32-bit unsigned integer in 4 octets. */
export function u32be(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0);
  return out;
}

/** Base64url (no padding) of bytes, as JWK uses. */
export const toBase64Url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

/** Standard base64 of bytes. */
export const toBase64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

/** Bytes of canonical standard base64, or null when the text is not exactly that. */
export function fromBase64Canonical(text: string): Uint8Array | null {
  if (text.length === 0 || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  const bytes = new Uint8Array(Buffer.from(text, 'base64'));
  return Buffer.from(bytes).toString('base64') === text ? bytes : null;
}

/** Bytes as Latin-1 text (one character per octet). */
export const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');
