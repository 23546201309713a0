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

/** a^-1 mod p by the plain extended Euclidean algorithm (the reference for `invMod`). */
export function invModEuclid(a: bigint, p: bigint): bigint {
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
  if (r0 !== 1n) throw new RangeError('not invertible');
  return mod(s0, p);
}

/** Bit length of a positive BigInt, from its double approximation (exact enough for Lehmer). */
function approxBits(x: bigint): number {
  const d = Number(x);
  return Number.isFinite(d) ? Math.floor(Math.log2(d)) + 1 : x.toString(2).length;
}

/**
 * a^-1 mod p for an odd modulus, by Lehmer's extended Euclidean algorithm (Knuth, TAOCP vol. 2,
 * 4.5.2, Algorithm L): the quotients are found on the leading 48 bits in double-precision numbers
 * (exact: every intermediate stays below 2^53) and applied to the BigInts as one 2x2 cofactor
 * step, so a 1024-bit inverse takes about 25 BigInt steps instead of about 600.
 * a must be non-zero mod p and coprime to it.
 */
export function invMod(a: bigint, p: bigint): bigint {
  let u = mod(a, p);
  if (u === 0n) throw new RangeError('inverse of zero');
  let v = p;
  // Invariants: su·a ≡ u and sv·a ≡ v (mod p).
  let su = 1n;
  let sv = 0n;
  while (v !== 0n) {
    if (u < v) {
      [u, v] = [v, u];
      [su, sv] = [sv, su];
    }
    const bits = approxBits(u);
    if (bits <= 48) break;
    const shift = BigInt(bits - 48);
    let uh = Number(u >> shift);
    let vh = Number(v >> shift);
    let A = 1;
    let B = 0;
    let C = 0;
    let D = 1;
    for (;;) {
      if (vh + C === 0 || vh + D === 0) break;
      const q1 = Math.floor((uh + A) / (vh + C));
      const q2 = Math.floor((uh + B) / (vh + D));
      if (q1 !== q2) break;
      const nA = A - q1 * C;
      const nB = B - q1 * D;
      const nu = uh - q1 * vh;
      A = C;
      B = D;
      C = nA;
      D = nB;
      uh = vh;
      vh = nu;
    }
    if (B === 0) {
      const t = u / v;
      [u, v] = [v, u - t * v];
      [su, sv] = [sv, su - t * sv];
    } else {
      const bA = BigInt(A);
      const bB = BigInt(B);
      const bC = BigInt(C);
      const bD = BigInt(D);
      [u, v] = [bA * u + bB * v, bC * u + bD * v];
      [su, sv] = [bA * su + bB * sv, bC * su + bD * sv];
    }
  }
  // Finish the small remainders with plain steps.
  while (v !== 0n) {
    const t = u / v;
    [u, v] = [v, u - t * v];
    [su, sv] = [sv, su - t * sv];
  }
  if (u !== 1n) throw new RangeError('not invertible');
  return mod(su, p);
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
