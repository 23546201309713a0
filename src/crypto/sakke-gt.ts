/**
 * Fixed-base exponentiation in the order-q subgroup of F_p^2, in PF_p form (RFC 6508 §2.1): an
 * element a + b·i is the class of (a, b) up to a factor in F_p*, written b/a. SAKKE needs g^r for
 * each encapsulation (RFC 6508 §6.2.1 step 3) with g fixed by the parameter set.
 *
 * The table holds, for each w-bit window i and digit d, the class of g^(d·2^(w·i)) normalised to
 * 1 + t·i, so multiplying an accumulator (a + b·i) by it costs two products:
 * (a - b·t) + (b + a·t)·i. One inversion at the end gives the PF_p value.
 * Hand-written (see fp.ts); not constant-time: the window digits of r steer the table look-ups.
 */
import { batchInvert, invMod, mod } from './fp.js';

/** g^k for a fixed g by table look-up, in PF_p form. */
export class Fp2PowTable {
  readonly #p: bigint;
  readonly #w: number;
  readonly #bits: number;
  readonly #windows: readonly (readonly bigint[])[];

  /** `g` is the base in PF_p form, `bits` the longest exponent served, `w` the window width. */
  constructor(g: bigint, p: bigint, bits: number, w = 6) {
    this.#p = p;
    this.#w = w;
    this.#bits = bits;
    const count = Math.ceil(bits / w);
    const size = (1 << w) - 1;
    const as: bigint[] = [];
    const bs: bigint[] = [];
    let t = g; // normalised base of the current window: 1 + t·i
    for (let i = 0; i < count; i++) {
      let a = 1n;
      let b = t;
      as.push(a);
      bs.push(b);
      for (let d = 2; d <= size; d++) {
        const na = (a - b * t) % p;
        b = (b + a * t) % p;
        a = na;
        as.push(a);
        bs.push(b);
      }
      if (i + 1 < count) {
        // Next base: the square of the 2^(w-1)-th entry, normalised.
        const j = as.length - size + (1 << (w - 1)) - 1;
        const ha = as[j] as bigint;
        const hb = bs[j] as bigint;
        const sa = ((ha + hb) * (ha - hb)) % p;
        const sb = (2n * ha * hb) % p;
        t = mod(sb * invMod(sa, p), p);
      }
    }
    const inv = batchInvert(as, p);
    const windows: bigint[][] = [];
    for (let i = 0; i < count; i++) {
      const row: bigint[] = [];
      for (let d = 0; d < size; d++) {
        const k = i * size + d;
        row.push(mod((bs[k] as bigint) * (inv[k] as bigint), p));
      }
      windows.push(row);
    }
    this.#windows = windows;
  }

  /** The normalised entry t (the class of 1 + t·i) for digit d in [1, 2^w - 1] of a window. */
  entry(window: number, d: number): bigint {
    return (this.#windows[window] as bigint[])[d - 1] as bigint;
  }

  /** Windows in the table, entries per window, and the window width. */
  get shape(): { readonly windows: number; readonly perWindow: number; readonly w: number } {
    return { windows: this.#windows.length, perWindow: (1 << this.#w) - 1, w: this.#w };
  }

  /** g^k in PF_p form, for 0 < k < 2^bits with g^k not the identity class. */
  powPfp(k: bigint): bigint {
    if (k <= 0n || k >= 1n << BigInt(this.#bits)) throw new RangeError('exponent out of range');
    const p = this.#p;
    const mask = BigInt((1 << this.#w) - 1);
    const w = BigInt(this.#w);
    let a = 1n;
    let b = 0n;
    let e = k;
    for (let i = 0; e > 0n; i++, e >>= w) {
      const d = Number(e & mask);
      if (d === 0) continue;
      const t = (this.#windows[i] as bigint[])[d - 1] as bigint;
      const na = (a - b * t) % p;
      b = (b + a * t) % p;
      a = na;
    }
    return mod(b * invMod(a, p), p);
  }
}
