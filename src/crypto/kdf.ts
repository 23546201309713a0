/**
 * The 3GPP key derivation function, TS 33.220 Annex B: derived key = HMAC-SHA-256(Key, S) with
 * S = FC || P0 || L0 || P1 || L1 || ... (Annex B.1), each Li the 2-octet length of Pi. Parameter
 * encodings follow Annex B.2: strings as UTF-8, non-negative integers as the shortest big-endian
 * octet string (zero as one octet 0x00), as the worked example of TS 33.180 §F.2.1.2 shows.
 */
import { createHash, createHmac } from 'node:crypto';
import { ErrorCode, FormatError } from '../errors/index.js';
import { concatBytes, utf8 } from '../util/index.js';

/** One KDF parameter: octets, a string (UTF-8) or a non-negative integer (TS 33.220 B.2). */
export type KdfParameter = Uint8Array | string | bigint | number;

/** Encodes a non-negative integer as the shortest big-endian octet string (0 is 0x00). */
export function encodeKdfInteger(n: bigint | number): Uint8Array {
  const v = typeof n === 'bigint' ? n : Number.isSafeInteger(n) ? BigInt(n) : -1n;
  if (v < 0n) {
    throw new FormatError(ErrorCode.BAD_VALUE, {
      field: 'kdf.parameter',
      rule: 'integers must be non-negative whole numbers',
      clause: 'TS 33.220 Annex B.2',
    });
  }
  let hex = v.toString(16);
  if (hex.length % 2 === 1) hex = '0' + hex;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function encodeParameter(p: KdfParameter): Uint8Array {
  if (typeof p === 'string') return utf8(p);
  if (typeof p === 'bigint' || typeof p === 'number') return encodeKdfInteger(p);
  return p;
}

/** S = FC || P0 || L0 || ... || Pn || Ln (TS 33.220 Annex B.1). */
export function kdfInput(fc: number, parameters: readonly KdfParameter[]): Uint8Array {
  if (!Number.isInteger(fc) || fc < 0 || fc > 0xff) {
    throw new FormatError(ErrorCode.BAD_VALUE, {
      field: 'kdf.fc',
      rule: 'must be one octet',
      clause: 'TS 33.220 Annex B.1',
    });
  }
  const parts: Uint8Array[] = [Uint8Array.of(fc)];
  parameters.forEach((p, i) => {
    const bytes = encodeParameter(p);
    if (bytes.length > 0xffff) {
      throw new FormatError(ErrorCode.TOO_LARGE, {
        field: `kdf.p${i}`,
        rule: 'must be at most 65535 octets (2-octet length)',
        clause: 'TS 33.220 Annex B.1',
      });
    }
    parts.push(bytes, Uint8Array.of(bytes.length >> 8, bytes.length & 0xff));
  });
  return concatBytes(...parts);
}

/** The KDF of TS 33.220 Annex B: HMAC-SHA-256(key, S), 32 octets. */
export function kdf(key: Uint8Array, fc: number, parameters: readonly KdfParameter[]): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(kdfInput(fc, parameters)).digest());
}

/** HMAC-SHA-256 (RFC 2104 / RFC 4231), for callers that need it bare. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(data).digest());
}

/** SHA-256 of the concatenation of the parts. */
export function sha256(...parts: readonly Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}
