/**
 * The Tate-Lichtenbaum pairing of SAKKE, <R, Q> = f_{q,R}(psi(Q))^((p^2 - 1)/q) with the
 * distortion map psi(x, y) = (-x, i·y) into F_p[i], i^2 = -1 (RFC 6508 §3.2, §2.1).
 * Hand-written: no npm package implements this pairing.
 *
 * The pairing is computed with the first argument fixed and its Miller lines precomputed
 * (`precomputeLines`), then evaluated at any second argument (`millerValue`). On this
 * curve every point of order q is a multiple of P, so <R, Q> = <Q, R>: decapsulation evaluates
 * the lines of its own RSK at the received R, and key checks use the lines of P and Z.
 *
 * Miller loop over the bits of q - 1 (RFC 6508 §3.2); each line L(X, Y) = Y - y_C - λ(X - x_C)
 * evaluated at psi(Q) = (-x_Q, i·y_Q) is (λ·x_Q + λ·x_C - y_C) + i·y_Q, and is divided by y_Q
 * (a factor in F_p, removed by the final exponentiation): A + i with A = λ·(x_Q/y_Q) + d/y_Q,
 * d = λ·x_C - y_C. Vertical lines take values in F_p and are omitted for the same reason.
 *
 * Final exponentiation: the value lives in PF_p = F_p^2* / F_p* (order p + 1), where raising to
 * (p + 1)/q = 4 gives the order-q part; so F_p factors (and vertical lines) drop out.
 *
 * Not constant-time (BigInt). The fixed argument of a decapsulation is the RSK (secret): its
 * lines are secret too and are kept only in memory, inside the prepared key.
 */
import { batchInvert, invMod, mod } from './fp.js';
import type { AffinePoint, JacobianPoint } from './sakke-curve.js';
import { jacobianAddAffine, jacobianDouble } from './sakke-curve.js';

/** An element a + b·i of F_p^2. */
export interface Fp2 {
  readonly a: bigint;
  readonly b: bigint;
}

/** Precomputed Miller lines of a fixed point K: line j is A_j = lam_j·X' + d_j·Y' (+ i). */
export interface MillerLines {
  /** λ of each line. */
  readonly lam: readonly bigint[];
  /** λ·x_C - y_C of each line. */
  readonly d: readonly bigint[];
  /** 1 where line j is an addition line (no squaring before it), 0 for a doubling line. */
  readonly addition: Uint8Array;
}

/**
 * The Miller lines of K over q - 1. Throws RangeError when [q]K is not infinity (K outside the
 * order-q subgroup), so a prepared point is always of order q.
 */
export function precomputeLines(k: AffinePoint, p: bigint, q: bigint): MillerLines {
  const bits = (q - 1n).toString(2);
  // Per line: the λ fraction (num/den) and the Jacobian point C whose affine form is needed.
  const num: bigint[] = [];
  const den: bigint[] = [];
  const cx: bigint[] = [];
  const cy: bigint[] = [];
  const cz: bigint[] = [];
  const addition: number[] = [];
  let c: JacobianPoint = [k.x, k.y, 1n];
  for (let i = 1; i < bits.length; i++) {
    // Tangent at C: λ = 3(x^2 - 1)/(2y) = 3(X^2 - Z^4)/(2·Y·Z).
    const [x, y, z] = c;
    const zz = (z * z) % p;
    num.push((3n * (x - zz) * (x + zz)) % p);
    den.push((2n * y * z) % p);
    cx.push(x);
    cy.push(y);
    cz.push(z);
    addition.push(0);
    c = jacobianDouble(c, p);
    if (bits[i] === '1') {
      // Chord through C and K: λ = (y_C - y_K)/(x_C - x_K) = (Y - y_K·Z^3)/(Z·(X - x_K·Z^2)).
      const [x2, y2, z2] = c;
      const zz2 = (z2 * z2) % p;
      num.push((y2 - ((k.y * zz2) % p) * z2) % p);
      den.push((z2 * (x2 - k.x * zz2)) % p);
      cx.push(x2);
      cy.push(y2);
      cz.push(z2);
      addition.push(1);
      c = jacobianAddAffine(c, k, p);
    }
  }
  // After q - 1 steps C = [q-1]K, which is -K exactly when [q]K is infinity.
  const [fx, fy, fz] = c;
  const fzz = fz % p === 0n ? 0n : (fz * fz) % p;
  if (fzz === 0n || mod(fx - k.x * fzz, p) !== 0n || mod(fy + ((k.y * fzz) % p) * fz, p) !== 0n) {
    throw new RangeError('point is not of order q');
  }
  if (den.some((v) => v % p === 0n)) throw new RangeError('point is not of order q');
  const inv = batchInvert([...den, ...cz], p);
  const n = den.length;
  const lam: bigint[] = new Array<bigint>(n);
  const d: bigint[] = new Array<bigint>(n);
  for (let j = 0; j < n; j++) {
    const l = mod((num[j] as bigint) * (inv[j] as bigint), p);
    const zi = inv[n + j] as bigint;
    const zi2 = (zi * zi) % p;
    const x = ((cx[j] as bigint) * zi2) % p;
    const y = ((((cy[j] as bigint) * zi2) % p) * zi) % p;
    lam[j] = l;
    d[j] = mod(l * x - y, p);
  }
  return Object.freeze({ lam, d, addition: Uint8Array.from(addition) });
}

/**
 * The Miller value f_{q,K}(psi(Q)) up to a factor in F_p, for the lines of K and a point Q with
 * y_Q != 0.
 */
export function millerValue(lines: MillerLines, pt: AffinePoint, p: bigint): Fp2 {
  const yi = invMod(pt.y, p);
  const xq = (pt.x * yi) % p;
  const { lam, d, addition } = lines;
  let v0 = 1n;
  let v1 = 0n;
  const n = lam.length;
  for (let j = 0; j < n; j++) {
    const a = ((lam[j] as bigint) * xq + (d[j] as bigint) * yi) % p;
    if (addition[j] === 0) {
      // v = v^2 · (A + i)
      const s0 = ((v0 + v1) * (v0 - v1)) % p;
      const s1 = (2n * v0 * v1) % p;
      v0 = (s0 * a - s1) % p;
      v1 = (s0 + s1 * a) % p;
    } else {
      // v = v · (A + i)
      const t0 = (v0 * a - v1) % p;
      v1 = (v0 + v1 * a) % p;
      v0 = t0;
    }
  }
  return { a: v0, b: v1 };
}

/**
 * The final exponentiation in PF_p (RFC 6508 §3.2): the Miller value is a class of F_p^2* modulo
 * F_p*, a cyclic group of order p + 1, and its order-q part is v^c with c = (p + 1)/q = 4. Two
 * squarings; the result is again a class (read it with `pfpValue`).
 */
export function finalExponentiation(v: Fp2, p: bigint): Fp2 {
  let x = v.a;
  let y = v.b;
  for (let i = 0; i < 2; i++) {
    const nx = ((x + y) * (x - y)) % p;
    y = (2n * x * y) % p;
    x = nx;
  }
  return { a: x, b: y };
}

/** The PF_p representative b/a of the class of a + b·i (RFC 6508 §2.1); a must be non-zero. */
export function pfpValue(v: Fp2, p: bigint): bigint {
  return mod(v.b * invMod(v.a, p), p);
}

/** The product of two F_p^2 elements. */
export function fp2Multiply(x: Fp2, y: Fp2, p: bigint): Fp2 {
  return { a: mod(x.a * y.a - x.b * y.b, p), b: mod(x.a * y.b + x.b * y.a, p) };
}

