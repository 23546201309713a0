/**
 * HashToIntegerRange(s, n, hashfn) of RFC 6508 §5.1 with SHA-256:
 *   A = hash(s); h_0 = 0^hashlen; l = ceil(lg(n) / hashlen);
 *   for i = 1..l: h_i = hash(h_(i-1)), v_i = hash(h_i || A); v = (v_1 || ... || v_l) mod n.
 */
import { bytesToBigInt, concatBytes } from '../util/index.js';
import { sha256 } from './kdf.js';

/** The number of 256-bit blocks RFC 6508 §5.1 step 3 asks for: ceil(lg(n) / 256). */
function blocksFor(n: bigint): number {
  // lg(n) rounded up to whole bits is the bit length of n - 1 (exact for powers of two).
  const bits = (n - 1n).toString(2).length;
  return Math.ceil(bits / 256);
}

/** HashToIntegerRange(s, n, SHA-256), RFC 6508 §5.1. */
export function hashToIntegerRange(s: Uint8Array, n: bigint): bigint {
  if (n < 2n) throw new RangeError('HashToIntegerRange needs n >= 2');
  const a = sha256(s);
  let h: Uint8Array = new Uint8Array(32);
  const parts: Uint8Array[] = [];
  const l = blocksFor(n);
  for (let i = 0; i < l; i++) {
    h = sha256(h);
    parts.push(sha256(h, a));
  }
  return bytesToBigInt(concatBytes(...parts)) % n;
}
