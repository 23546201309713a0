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

/**
 * Precomputed Miller lines of a fixed point K, one entry per loop step. Step j has a doubling
 * line (lamD, dD); when `addition[j]` is 1 it also has an addition line (lamA, dA) through the
 * doubled point and ±K. Line value at psi(Q), divided by y_Q: lam·(x_Q/y_Q) + d/y_Q (+ i).
 */
export interface MillerLines {
  readonly lamD: readonly bigint[];
  readonly dD: readonly bigint[];
  readonly lamA: readonly bigint[];
  readonly dA: readonly bigint[];
  readonly addition: Uint8Array;
}

/** Non-adjacent form of n > 0, most significant digit first (digits -1, 0, 1). */
export function naf(n: bigint): number[] {
  const out: number[] = [];
  let e = n;
  while (e > 0n) {
    if ((e & 1n) === 1n) {
      const d = (e & 3n) === 3n ? -1 : 1;
      out.push(d);
      e -= BigInt(d);
    } else out.push(0);
    e >>= 1n;
  }
  return out.reverse();
}

/**
 * The Miller lines of K over the NAF of q - 1 (RFC 6508 §3.2 runs the loop over the bits of
 * q - 1; a signed digit -1 adds -K, whose extra vertical-line factor lies in F_p and vanishes in
 * the final exponentiation). Throws RangeError when [q]K is not infinity (K outside the order-q
 * subgroup), so prepared lines always belong to a point of order q.
 */
export function precomputeLines(k: AffinePoint, p: bigint, q: bigint): MillerLines {
  const digits = naf(q - 1n);
  const kNeg: AffinePoint = { x: k.x, y: mod(-k.y, p) };
  // Per line: the λ fraction num/den and the Jacobian point C the line passes through.
  const num: bigint[] = [];
  const den: bigint[] = [];
  const cx: bigint[] = [];
  const cy: bigint[] = [];
  const cz: bigint[] = [];
  const addition: number[] = [];
  let c: JacobianPoint = [k.x, k.y, 1n];
  for (let i = 1; i < digits.length; i++) {
    // Tangent at C: λ = 3(x^2 - 1)/(2y) = 3(X^2 - Z^4)/(2·Y·Z).
    const [x, y, z] = c;
    const zz = (z * z) % p;
    num.push((3n * (x - zz) * (x + zz)) % p);
    den.push(((y * z) << 1n) % p);
    cx.push(x);
    cy.push(y);
    cz.push(z);
    c = jacobianDouble(c, p);
    const digit = digits[i] as number;
    addition.push(digit === 0 ? 0 : 1);
    if (digit !== 0) {
      // Chord through C and ±K: λ = (y_C - y_K)/(x_C - x_K) = (Y - y_K·Z^3)/(Z·(X - x_K·Z^2)).
      const t = digit > 0 ? k : kNeg;
      const [x2, y2, z2] = c;
      const zz2 = (z2 * z2) % p;
      num.push((y2 - ((t.y * zz2) % p) * z2) % p);
      den.push((z2 * (x2 - t.x * zz2)) % p);
      cx.push(x2);
      cy.push(y2);
      cz.push(z2);
      c = jacobianAddAffine(c, t, p);
    }
  }
  // After the loop C = [q-1]K, which is -K exactly when [q]K is infinity.
  const [fx, fy, fz] = c;
  const fzz = (fz * fz) % p;
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
  // Split into per-step doubling and addition lines.
  const lamD: bigint[] = [];
  const dD: bigint[] = [];
  const lamA: bigint[] = [];
  const dA: bigint[] = [];
  let at = 0;
  for (const add of addition) {
    lamD.push(lam[at] as bigint);
    dD.push(d[at] as bigint);
    at += 1;
    if (add === 1) {
      lamA.push(lam[at] as bigint);
      dA.push(d[at] as bigint);
      at += 1;
    } else {
      lamA.push(0n);
      dA.push(0n);
    }
  }
  return Object.freeze({ lamD, dD, lamA, dA, addition: Uint8Array.from(addition) });
}

/**
 * The Miller value f_{q,K}(psi(Q)) up to a factor in F_p, for the lines of K and a point Q with
 * y_Q != 0. Per step: v <- v^2 · l_D (· l_A), the two lines multiplied together first:
 * (A_D + i)(A_A + i) = (A_D·A_A - 1) + (A_D + A_A)·i, then one Karatsuba product.
 */
export function millerValue(lines: MillerLines, pt: AffinePoint, p: bigint): Fp2 {
  const yi = invMod(pt.y, p);
  const xq = (pt.x * yi) % p;
  const { lamD, dD, lamA, dA, addition } = lines;
  let v0 = 1n;
  let v1 = 0n;
  const n = lamD.length;
  for (let j = 0; j < n; j++) {
    const a = ((lamD[j] as bigint) * xq + (dD[j] as bigint) * yi) % p;
    const s0 = ((v0 + v1) * (v0 - v1)) % p;
    const s1 = ((v0 * v1) << 1n) % p;
    if (addition[j] === 0) {
      // v = s · (A + i)
      v0 = (s0 * a - s1) % p;
      v1 = (s0 + s1 * a) % p;
    } else {
      const a2 = ((lamA[j] as bigint) * xq + (dA[j] as bigint) * yi) % p;
      const b = (a * a2 - 1n) % p;
      const c = a + a2;
      const t0 = s0 * b;
      const t1 = s1 * c;
      v0 = (t0 - t1) % p;
      v1 = ((s0 + s1) * (b + c) - t0 - t1) % p;
    }
  }
  return { a: v0, b: v1 };
}

/**
 * The product f_{q,K1}(psi(Q1)) · f_{q,K2}(psi(Q2)) up to a factor in F_p, sharing the squarings
 * (a multi-pairing: <K1, Q1>·<K2, Q2> after the final exponentiation).
 */
export function millerValueProduct(
  l1: MillerLines,
  q1: AffinePoint,
  l2: MillerLines,
  q2: AffinePoint,
  p: bigint,
): Fp2 {
  const [yi1, yi2] = batchInvert([q1.y, q2.y], p) as [bigint, bigint];
  const x1 = (q1.x * yi1) % p;
  const x2 = (q2.x * yi2) % p;
  const { lamD: lamD1, dD: dD1, lamA: lamA1, dA: dA1, addition } = l1;
  const { lamD: lamD2, dD: dD2, lamA: lamA2, dA: dA2 } = l2;
  let v0 = 1n;
  let v1 = 0n;
  const n = lamD1.length;
  for (let j = 0; j < n; j++) {
    // v = v^2 · (A1 + i)(A2 + i), with (A1 + i)(A2 + i) = (A1·A2 - 1) + (A1 + A2)·i.
    const s0 = ((v0 + v1) * (v0 - v1)) % p;
    const s1 = ((v0 * v1) << 1n) % p;
    let a1 = ((lamD1[j] as bigint) * x1 + (dD1[j] as bigint) * yi1) % p;
    let a2 = ((lamD2[j] as bigint) * x2 + (dD2[j] as bigint) * yi2) % p;
    let b = (a1 * a2 - 1n) % p;
    let c = a1 + a2;
    let t0 = s0 * b;
    let t1 = s1 * c;
    v0 = (t0 - t1) % p;
    v1 = ((s0 + s1) * (b + c) - t0 - t1) % p;
    if (addition[j] === 1) {
      a1 = ((lamA1[j] as bigint) * x1 + (dA1[j] as bigint) * yi1) % p;
      a2 = ((lamA2[j] as bigint) * x2 + (dA2[j] as bigint) * yi2) % p;
      b = (a1 * a2 - 1n) % p;
      c = a1 + a2;
      t0 = v0 * b;
      t1 = v1 * c;
      const nv1 = ((v0 + v1) * (b + c) - t0 - t1) % p;
      v0 = (t0 - t1) % p;
      v1 = nv1;
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


