/**
 * Arithmetic modulo an odd prime p on BigInt, for SAKKE's 1024-bit field (RFC 6508 §2.1).
 * Hand-written because no maintained npm package offers a 1024-bit field with F_p^2 and the
 * supersingular curve SAKKE needs; @noble/curves covers only its own named curves.
 *
 * Not constant-time: BigInt multiplication, division and comparison take time that depends on
 * operand values. See sakke.ts for which secrets this touches.
 */

/** a mod p in [0, p). */
export function mod(a: bigint, p: bigint): bigint {
  const r = a % p;
  return r < 0n ? r + p : r;
}

/** a^-1 mod p by the extended Euclidean algorithm; a must be non-zero mod p. */
export function invMod(a: bigint, p: bigint): bigint {
  let r0 = mod(a, p);
  if (r0 === 0n) throw new RangeError('inverse of zero');
  let r1 = p;
  let s0 = 1n;
  let s1 = 0n;
  while (r1 !== 0n) {
    const t = r0 / r1;
    [r0, r1] = [r1, r0 - t * r1];
    [s0, s1] = [s1, s0 - t * s1];
  }
  return mod(s0, p);
}

/**
 * Inverses of every element (Montgomery's trick: one inversion and 3(n-1) multiplications).
 * Every element must be non-zero mod p.
 */
export function batchInvert(values: readonly bigint[], p: bigint): bigint[] {
  const n = values.length;
  const prefix = new Array<bigint>(n);
  let acc = 1n;
  for (let i = 0; i < n; i++) {
    prefix[i] = acc;
    acc = (acc * (values[i] as bigint)) % p;
  }
  let inv = invMod(acc, p);
  const out = new Array<bigint>(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = (inv * (prefix[i] as bigint)) % p;
    inv = (inv * (values[i] as bigint)) % p;
  }
  return out;
}

/** base^e mod p by square-and-multiply. */
export function powMod(base: bigint, e: bigint, p: bigint): bigint {
  let result = 1n;
  let b = mod(base, p);
  let k = e;
  while (k > 0n) {
    if ((k & 1n) === 1n) result = (result * b) % p;
    b = (b * b) % p;
    k >>= 1n;
  }
  return result;
}
