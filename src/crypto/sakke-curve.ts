/**
 * The supersingular curve of SAKKE, E: y^2 = x^3 - 3x over F_p (RFC 6508 §3.1, parameter set 1
 * of RFC 6509): point checks, Jacobian arithmetic and fixed-base scalar multiplication.
 * Hand-written (no npm package implements this curve); see fp.ts for why and for timing.
 *
 * Jacobian (X, Y, Z) stands for (X/Z^2, Y/Z^3); Z = 0 is the point at infinity. Intermediate
 * coordinates may be negative or unreduced representatives; `toAffine` normalises.
 * Formulas: doubling dbl-2001-b (a = -3, 3M + 5S), mixed addition madd-2007-bl (7M + 4S).
 */
import { batchInvert, invMod, mod } from './fp.js';

/** An affine point of E(F_p) other than infinity, coordinates in [0, p). */
export interface AffinePoint {
  readonly x: bigint;
  readonly y: bigint;
}

/** A Jacobian point [X, Y, Z]. */
export type JacobianPoint = readonly [bigint, bigint, bigint];

/** The point at infinity in Jacobian form. */
export const INFINITY: JacobianPoint = Object.freeze([1n, 1n, 0n]) as JacobianPoint;

/** Whether (x, y) in [0, p)^2 satisfies y^2 = x^3 - 3x (RFC 6508 §3.1). */
export function isOnCurve(pt: AffinePoint, p: bigint): boolean {
  if (pt.x < 0n || pt.x >= p || pt.y < 0n || pt.y >= p) return false;
  return mod(pt.y * pt.y - pt.x * (pt.x * pt.x - 3n), p) === 0n;
}

/** [2]P in Jacobian coordinates (dbl-2001-b, a = -3), reducing each product once. */
export function jacobianDouble(pt: JacobianPoint, p: bigint): JacobianPoint {
  const [x1, y1, z1] = pt;
  if (z1 % p === 0n || y1 % p === 0n) return INFINITY;
  const delta = (z1 * z1) % p;
  const gamma = (y1 * y1) % p;
  const beta = (x1 * gamma) % p;
  const alpha = (3n * (x1 - delta) * (x1 + delta)) % p;
  const x3 = (alpha * alpha - (beta << 3n)) % p;
  const z3 = ((y1 * z1) << 1n) % p;
  const y3 = (alpha * ((beta << 2n) - x3) - ((gamma * gamma) << 3n)) % p;
  return [x3, y3, z3];
}

/**
 * P + Q for Jacobian P and affine Q (madd-2007-bl), with the exceptional cases handled. Sums and
 * differences stay unreduced where the next step is a product (lazy reduction).
 */
export function jacobianAddAffine(pt: JacobianPoint, q: AffinePoint, p: bigint): JacobianPoint {
  const [x1, y1, z1] = pt;
  if (z1 % p === 0n) return [q.x, q.y, 1n];
  const z1z1 = (z1 * z1) % p;
  const u2 = (q.x * z1z1) % p;
  const s2 = (((q.y * z1) % p) * z1z1) % p;
  const h = u2 - x1;
  const rr = (s2 - y1) << 1n;
  if (h % p === 0n) {
    return rr % p === 0n ? jacobianDouble([q.x, q.y, 1n], p) : INFINITY;
  }
  const hh = (h * h) % p;
  const i = hh << 2n;
  const j = (h * i) % p;
  const v = (x1 * i) % p;
  const x3 = (rr * rr - j - (v << 1n)) % p;
  const y3 = (rr * (v - x3) - ((y1 * j) << 1n)) % p;
  const z3 = ((z1 * h) << 1n) % p;
  return [x3, y3, z3];
}

/** The affine form of a Jacobian point, or null for infinity. */
export function toAffine(pt: JacobianPoint, p: bigint): AffinePoint | null {
  const [x, y, z] = pt;
  if (z % p === 0n) return null;
  const zi = invMod(z, p);
  const zi2 = (zi * zi) % p;
  return { x: mod(x * zi2, p), y: mod(((y * zi2) % p) * zi, p) };
}

/** Affine forms of many Jacobian points that are not infinity, with one inversion. */
export function toAffineBatch(pts: readonly JacobianPoint[], p: bigint): AffinePoint[] {
  const zis = batchInvert(
    pts.map((pt) => pt[2]),
    p,
  );
  return pts.map(([x, y], i) => {
    const zi = zis[i] as bigint;
    const zi2 = (zi * zi) % p;
    return { x: mod(x * zi2, p), y: mod(((y * zi2) % p) * zi, p) };
  });
}

/** -P. */
export const negate = (pt: AffinePoint, p: bigint): AffinePoint => ({ x: pt.x, y: mod(-pt.y, p) });

/** Whether two affine points are equal. */
export const equalPoints = (a: AffinePoint, b: AffinePoint): boolean => a.x === b.x && a.y === b.y;

/**
 * [k]P for any point and k >= 0, by a signed 4-bit window (affine odd multiples, one batch
 * inversion). For public or one-off scalars; fixed bases use FixedBaseTable.
 */
export function multiply(k: bigint, pt: AffinePoint, p: bigint): JacobianPoint {
  if (k === 0n) return INFINITY;
  // Odd multiples P, 3P, ..., 15P.
  const jac: JacobianPoint[] = [[pt.x, pt.y, 1n]];
  const twice = toAffine(jacobianDouble([pt.x, pt.y, 1n], p), p);
  if (twice === null) return k % 2n === 0n ? INFINITY : [pt.x, pt.y, 1n];
  for (let i = 1; i < 8; i++) jac.push(jacobianAddAffine(jac[i - 1] as JacobianPoint, twice, p));
  if (jac.some((j) => j[2] % p === 0n)) return slowMultiply(k, pt, p);
  const odd = toAffineBatch(jac, p);
  // wNAF digits, width 5 (digits odd in [-15, 15]).
  const digits: number[] = [];
  let e = k;
  while (e > 0n) {
    if ((e & 1n) === 1n) {
      let d = Number(e & 31n);
      if (d > 16) d -= 32;
      digits.push(d);
      e -= BigInt(d);
    } else digits.push(0);
    e >>= 1n;
  }
  let acc: JacobianPoint = INFINITY;
  for (let i = digits.length - 1; i >= 0; i--) {
    acc = jacobianDouble(acc, p);
    const d = digits[i] as number;
    if (d > 0) acc = jacobianAddAffine(acc, odd[(d - 1) >> 1] as AffinePoint, p);
    else if (d < 0) acc = jacobianAddAffine(acc, negate(odd[(-d - 1) >> 1] as AffinePoint, p), p);
  }
  return acc;
}

/** Double-and-add, for the degenerate small-order inputs `multiply` does not table. */
function slowMultiply(k: bigint, pt: AffinePoint, p: bigint): JacobianPoint {
  let acc: JacobianPoint = INFINITY;
  for (let i = k.toString(2).length - 1; i >= 0; i--) {
    acc = jacobianDouble(acc, p);
    if (((k >> BigInt(i)) & 1n) === 1n) acc = jacobianAddAffine(acc, pt, p);
  }
  return acc;
}

/**
 * The recoding of FixedBaseTable: k in w-bit windows, digits in [-2^(w-1), 2^(w-1)], the
 * non-zero ones as [window, digit] pairs, for 0 <= k < 2^bits.
 */
export function signedWindowDigits(k: bigint, w: number, bits: number): [number, number][] {
  if (k < 0n || k >= 1n << BigInt(bits)) throw new RangeError('scalar out of range');
  const full = 1 << w;
  const half = full >> 1;
  const mask = BigInt(full - 1);
  const wb = BigInt(w);
  const out: [number, number][] = [];
  let e = k;
  let carry = 0;
  for (let i = 0; e > 0n || carry !== 0; i++, e >>= wb) {
    let d = Number(e & mask) + carry;
    carry = 0;
    if (d > half) {
      d -= full;
      carry = 1;
    }
    if (d !== 0) out.push([i, d]);
  }
  return out;
}

/**
 * Fixed-base scalar multiplication with signed w-bit windows: the table holds the affine points
 * d·2^(w·i)·P for d in [1, 2^(w-1)]; k is recoded into digits in [-2^(w-1), 2^(w-1)] and [k]P is
 * one mixed addition (of the point or its negative) per non-zero digit, with no doublings.
 * The table holds public values (multiples of a public point); building it costs about
 * 2^(w-1)·bits/w point additions and one inversion per window plus one batch inversion.
 */
export class FixedBaseTable {
  readonly #p: bigint;
  readonly #w: number;
  readonly #bits: number;
  readonly #windows: readonly (readonly AffinePoint[])[];
  /** `bits` is the largest scalar length served; `w` the window width. */
  constructor(base: AffinePoint, p: bigint, bits: number, w = 6) {
    this.#p = p;
    this.#w = w;
    this.#bits = bits;
    const count = Math.ceil(bits / w) + 1; // one more for the final carry of the recoding
    const size = 1 << (w - 1);
    const all: JacobianPoint[] = [];
    let b: AffinePoint = base;
    for (let i = 0; i < count; i++) {
      let acc: JacobianPoint = [b.x, b.y, 1n];
      all.push(acc);
      for (let d = 2; d <= size; d++) {
        acc = jacobianAddAffine(acc, b, p);
        all.push(acc);
      }
      // Next window's base 2^w·b = 2·(2^(w-1)·b), the last entry doubled.
      if (i + 1 < count) {
        const next = toAffine(jacobianDouble(acc, p), p);
        if (next === null) throw new RangeError('base point of small order');
        b = next;
      }
    }
    if (all.some((j) => j[2] % p === 0n)) throw new RangeError('base point of small order');
    const aff = toAffineBatch(all, p);
    const windows: AffinePoint[][] = [];
    for (let i = 0; i < count; i++) windows.push(aff.slice(i * size, (i + 1) * size));
    this.#windows = windows;
  }

  /**
   * The table points whose sum is [k]P (one per non-zero signed digit, negated where the digit
   * is negative), for 0 <= k < 2^bits. Sum them with `sumAffine`, possibly together with the
   * terms of other tables.
   */
  terms(k: bigint): AffinePoint[] {
    const p = this.#p;
    return this.digits(k).map(([i, d]) => {
      const pt = this.point(i, d > 0 ? d : -d);
      return d > 0 ? pt : { x: pt.x, y: p - pt.y };
    });
  }

  /** The non-zero signed digits of k as [window, digit] pairs, for 0 <= k < 2^bits. */
  digits(k: bigint): [number, number][] {
    return signedWindowDigits(k, this.#w, this.#bits);
  }

  /** The table point d·2^(w·window)·P, for d in [1, 2^(w-1)]. */
  point(window: number, d: number): AffinePoint {
    return (this.#windows[window] as AffinePoint[])[d - 1] as AffinePoint;
  }

  /** Windows in the table, and points per window (2^(w-1)). */
  get shape(): { readonly windows: number; readonly perWindow: number } {
    return { windows: this.#windows.length, perWindow: 1 << (this.#w - 1) };
  }

  /** [k]P in affine form (null for infinity), by a tree of affine additions (see sumAffine). */
  multiplyAffine(k: bigint): AffinePoint | null {
    return sumAffine(this.terms(k), this.#p);
  }

  /** [k]P in Jacobian form (mixed additions of the same terms), for 0 <= k < 2^bits. */
  multiply(k: bigint): JacobianPoint {
    let acc: JacobianPoint = INFINITY;
    for (const t of this.terms(k)) acc = jacobianAddAffine(acc, t, this.#p);
    return acc;
  }
}

/**
 * The sum of affine points (null for infinity), added pairwise in a tree: each level's slopes
 * share one batch inversion (Montgomery's trick), so an addition costs about six products
 * instead of the eleven of a mixed Jacobian addition, plus one inversion per level. Equal points
 * are doubled, opposite points cancel.
 */
export function sumAffine(points: readonly AffinePoint[], p: bigint): AffinePoint | null {
  let level: AffinePoint[] = points.slice();
  while (level.length > 1) {
    const pairs = level.length >> 1;
    const num: bigint[] = [];
    const den: bigint[] = [];
    const kind: number[] = []; // 0: add, 1: double, 2: cancel
    for (let k = 0; k < pairs; k++) {
      const a = level[2 * k] as AffinePoint;
      const b = level[2 * k + 1] as AffinePoint;
      if (a.x !== b.x) {
        num.push(b.y - a.y);
        den.push(b.x - a.x);
        kind.push(0);
      } else if (a.y === b.y && a.y !== 0n) {
        num.push(3n * (a.x * a.x - 1n)); // tangent slope 3(x^2 - 1)/(2y), a = -3
        den.push(a.y << 1n);
        kind.push(1);
      } else {
        kind.push(2);
      }
    }
    const inv = den.length > 0 ? batchInvert(den, p) : [];
    const next: AffinePoint[] = [];
    let at = 0;
    for (let k = 0; k < pairs; k++) {
      if (kind[k] === 2) continue;
      const a = level[2 * k] as AffinePoint;
      const b = level[2 * k + 1] as AffinePoint;
      const l = ((num[at] as bigint) % p * (inv[at] as bigint)) % p;
      at += 1;
      const x3 = mod(l * l - a.x - b.x, p);
      const y3 = mod(l * (a.x - x3) - a.y, p);
      next.push({ x: x3, y: y3 });
    }
    if (level.length % 2 === 1) next.push(level[level.length - 1] as AffinePoint);
    level = next;
  }
  return level.length === 0 ? null : (level[0] as AffinePoint);
}
