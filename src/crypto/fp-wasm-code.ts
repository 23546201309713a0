/**
 * The code generators of fp-wasm.ts: each emits one function of the field module for a given
 * modulus (n limbs of 28 bits, the modulus limbs as immediates, fully unrolled). See fp-wasm.ts
 * for the representation and the bounds these rely on.
 */
import { Op, SimdOp, ValType, type FunctionBody } from './wasm-emitter.js';

/** Bits per limb. */
export const BITS = 28;
/** 2^28 - 1. */
export const MASK = (1n << BigInt(BITS)) - 1n;
/** Zero octets kept before and after every element, for the vector loads of the products. */
export const PAD_BYTES = 16;

export function limbsOf(x: bigint, n: number): bigint[] {
  const out: bigint[] = [];
  let v = x;
  for (let i = 0; i < n; i++) {
    out.push(v & MASK);
    v >>= BigInt(BITS);
  }
  if (v !== 0n) throw new RangeError('value does not fit the limbs');
  return out;
}

/**
 * Emits the column sums of x² into new locals: column k holds the sum of x_i·x_j over
 * i + j = k (cross products once, doubled), unnormalised. The caller bounds the sizes.
 */
function emitSquareColumns(f: FunctionBody, x: readonly number[]): number[] {
  const n = x.length;
  const cols: number[] = [];
  for (let k = 0; k <= 2 * n - 2; k++) {
    const lo = Math.max(0, k - n + 1);
    const hi = Math.min(k, n - 1);
    const c = f.local(ValType.i64);
    let terms = 0;
    for (let i = lo; i <= hi; i++) {
      const j = k - i;
      if (i >= j) break;
      f.get(x[i] as number).get(x[j] as number).op(Op.i64Mul);
      if (terms > 0) f.op(Op.i64Add);
      terms++;
    }
    if (terms > 0) f.i64(1).op(Op.i64Shl);
    if (k % 2 === 0) {
      f.get(x[k / 2] as number).get(x[k / 2] as number).op(Op.i64Mul);
      if (terms > 0) f.op(Op.i64Add);
    }
    f.set(c);
    cols.push(c);
  }
  return cols;
}

/**
 * Emits T = a² as 2n normalised limbs, params T, a, by one level of Karatsuba: with
 * a = a0 + a1·X, X = 2^(28h), a² = z0 + (z1 - z0 - z2)·X + z2·X² where z0 = a0², z2 = a1²,
 * z1 = (a0 + a1)². Done on column sums, where z1 - z0 - z2 is exact and non-negative column by
 * column; every column stays below 75·2^56 < 2^63. (For a general product Karatsuba measured
 * slower than the vector product, 0.64 against 0.48 µs scalar, so only squares use it.)
 */
export function emitSquare(f: FunctionBody, n: number): void {
  const T = 0;
  const A = 1;
  const h = Math.ceil(n / 2);
  const load = (ptr: number): number[] => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const l = f.local(ValType.i64);
      f.get(ptr).load32(4 * i).set(l);
      out.push(l);
    }
    return out;
  };
  const half = (v: readonly number[]): [number[], number[], number[]] => {
    const lo = v.slice(0, h);
    const hi = v.slice(h);
    const sum: number[] = [];
    for (let i = 0; i < h; i++) {
      const l = f.local(ValType.i64);
      if (i < hi.length) f.get(lo[i] as number).get(hi[i] as number).op(Op.i64Add).set(l);
      else f.get(lo[i] as number).set(l);
      sum.push(l);
    }
    return [lo, hi, sum];
  };
  const a = load(A);
  const [a0, a1, sa] = half(a);
  const c0 = emitSquareColumns(f, a0);
  const c2 = emitSquareColumns(f, a1);
  const c1 = emitSquareColumns(f, sa);
  const acc = f.local(ValType.i64);
  f.i64(0).set(acc);
  for (let k = 0; k <= 2 * n - 2; k++) {
    f.get(T).get(acc);
    if (k < c0.length) f.get(c0[k] as number).op(Op.i64Add);
    const m = k - h;
    if (m >= 0 && m < c1.length) {
      f.get(c1[m] as number).op(Op.i64Add);
      if (m < c0.length) f.get(c0[m] as number).op(Op.i64Sub);
      if (m < c2.length) f.get(c2[m] as number).op(Op.i64Sub);
    }
    const t = k - 2 * h;
    if (t >= 0 && t < c2.length) f.get(c2[t] as number).op(Op.i64Add);
    f.tee(acc).i64(MASK).op(Op.i64And).store32(4 * k);
    f.get(acc).i64(BITS).op(Op.i64ShrU).set(acc);
  }
  f.get(T).get(acc).store32(4 * (2 * n - 1));
}

/**
 * Emits r = T·R^-1 mod p (Montgomery reduction) for a wide T given as 2n signed limbs of any
 * moderate size (|T_k| < 2^34), whose value lies in [0, p·R): then r < 2p. Params r, T.
 */
export function emitRedc(
  f: FunctionBody,
  n: number,
  pl: readonly bigint[],
  pinv: bigint,
  pAddr: number,
  mSplats: number,
): void {
  const R = 0;
  const T = 1;
  const m: number[] = [];
  for (let i = 0; i < n; i++) m.push(f.local(ValType.i64));
  const acc = f.local(ValType.i64);
  f.i64(0).set(acc);
  // Columns 0 .. n-1 in scalar code: they choose the m_i, one after the other.
  // The column's sum starts from what is known early (T_k, the older m_i) and takes the newest
  // m_(k-1) and the carry last, so it does not wait on the chain of m_i.
  for (let k = 0; k < n; k++) {
    f.get(T).load32(4 * k, true);
    for (let i = 0; i < k; i++) f.get(m[i] as number).i64(pl[k - i] as bigint).op(Op.i64Mul).op(Op.i64Add);
    f.get(acc).op(Op.i64Add).tee(acc).i64(pinv).op(Op.i64Mul).i64(MASK).op(Op.i64And).set(m[k] as number);
    f.get(acc).get(m[k] as number).i64(pl[0] as bigint).op(Op.i64Mul).op(Op.i64Add);
    f.i64(BITS).op(Op.i64ShrS).set(acc);
    f.i32(0).get(m[k] as number).op(Op.i32WrapI64).simd(SimdOp.i32x4Splat).simdMem(SimdOp.v128Store, mSplats + 16 * k);
  }
  // Columns n .. 2n-2 hold sums of m_i·p_(k-i) with every m_i known: vector sums in blocks of
  // four columns (p sits at pAddr, zeros after it; the splats of the m_i at mSplats), as a loop
  // (see blockSums).
  const lo = f.local(ValType.v128);
  const hi = f.local(ValType.v128);
  const out = f.local(ValType.i32);
  const tin = f.local(ValType.i32);
  f.get(R).set(out).get(T).i32(4 * n).op(Op.i32Add).set(tin);
  blockSums(f, n, n, 2 * n - 2, [{ splats: { addr: mSplats }, data: { addr: pAddr } }], lo, hi, (cols) => {
    for (let c = 0; c < cols; c++) {
      f.get(out).get(tin).load32(4 * c, true).get(c < 2 ? lo : hi).lane64((c % 2) as 0 | 1).op(Op.i64Add);
      f.get(acc).op(Op.i64Add).tee(acc).i64(MASK).op(Op.i64And).store32(4 * c);
      f.get(acc).i64(BITS).op(Op.i64ShrS).set(acc);
    }
    f.get(out).i32(4 * cols).op(Op.i32Add).set(out);
    f.get(tin).i32(4 * cols).op(Op.i32Add).set(tin);
  });
  f.get(R).get(acc).get(T).load32(4 * (2 * n - 1), true).op(Op.i64Add).store32(4 * (n - 1));
}

/** A constant address, or a parameter / local holding one. */
export type Address = { readonly addr: number } | { readonly local: number };
/** One product in blockSums: n splats (16 octets each) times n padded limbs. */
export interface BlockTerm {
  readonly splats: Address;
  readonly data: Address;
}

/**
 * Emits, for the output columns kFirst..kLast in blocks of four, lo/hi = the column sums of
 * Σ_i splat_i × data[k0 - i .. k0 - i + 3] over the i that reach the block (i in
 * [max(0, k0 - n + 1), min(n - 1, k0 + 3)]), for every term (their sums add up: up to 2n·2^56
 * per column for two terms), then `block(cols)` to use them; full blocks run as a loop, the last
 * partial one unrolled. A term's splats are n vectors; its data n limbs with zero padding around.
 */
export function blockSums(
  f: FunctionBody,
  n: number,
  kFirst: number,
  kLast: number,
  terms: readonly BlockTerm[],
  lo: number,
  hi: number,
  block: (cols: number) => void,
): void {
  const i32 = ValType.i32;
  const [k0, i, cnt] = [f.local(i32), f.local(i32), f.local(i32)];
  const t = terms.map(() => ({
    sp: f.local(i32),
    dp: f.local(i32),
    av: f.local(ValType.v128),
    dv: f.local(ValType.v128),
  }));
  const base = (a: Address): void => {
    if ('addr' in a) f.i32(a.addr);
    else f.get(a.local);
  };
  const accumulate = (first: boolean, av: number, dv: number): void => {
    f.get(av).get(dv).simd(SimdOp.i64x2ExtmulLowI32x4U);
    if (!first) f.get(lo).simd(SimdOp.i64x2Add);
    f.set(lo);
    f.get(av).get(dv).simd(SimdOp.i64x2ExtmulHighI32x4U);
    if (!first) f.get(hi).simd(SimdOp.i64x2Add);
    f.set(hi);
  };
  const full = Math.floor((kLast - kFirst + 1) / 4);
  if (full > 0) {
    f.i32(kFirst).set(k0);
    f.begin(Op.loop);
    // i = max(0, k0 - n + 1); cnt = min(n - 1, k0 + 3) - i + 1
    f.get(k0).i32(n - 1).op(Op.i32Sub).i32(0).get(k0).i32(n - 1).op(Op.i32GtU).op(Op.select).set(i);
    f.get(k0).i32(3).op(Op.i32Add).i32(n - 1).get(k0).i32(3).op(Op.i32Add).i32(n - 1).op(Op.i32LtS).op(Op.select);
    f.get(i).op(Op.i32Sub).i32(1).op(Op.i32Add).set(cnt);
    terms.forEach((term, x) => {
      const { sp, dp } = t[x] as (typeof t)[number];
      base(term.splats);
      f.get(i).i32(16).op(Op.i32Mul).op(Op.i32Add).set(sp);
      base(term.data);
      f.get(k0).get(i).op(Op.i32Sub).i32(4).op(Op.i32Mul).op(Op.i32Add).set(dp);
    });
    f.i64(0).simd(SimdOp.i64x2Splat).tee(lo).set(hi);
    f.begin(Op.loop);
    for (const { sp, dp, av, dv } of t) {
      f.get(dp).simdMem(SimdOp.v128Load, 0).set(dv);
      f.get(sp).simdMem(SimdOp.v128Load, 0).set(av);
      f.get(av).get(dv).simd(SimdOp.i64x2ExtmulLowI32x4U).get(lo).simd(SimdOp.i64x2Add).set(lo);
      f.get(av).get(dv).simd(SimdOp.i64x2ExtmulHighI32x4U).get(hi).simd(SimdOp.i64x2Add).set(hi);
      f.get(sp).i32(16).op(Op.i32Add).set(sp);
      f.get(dp).i32(4).op(Op.i32Sub).set(dp);
    }
    f.get(cnt).i32(1).op(Op.i32Sub).tee(cnt).br(0, true);
    f.op(Op.end);
    block(4);
    f.get(k0).i32(4).op(Op.i32Add).tee(k0).i32(kFirst + 4 * full).op(Op.i32LtS).br(0, true);
    f.op(Op.end);
  }
  for (let k = kFirst + 4 * full; k <= kLast; k += 4) {
    const first = Math.max(0, k - n + 1);
    const last = Math.min(n - 1, k + 3);
    let initial = true;
    for (let j = first; j <= last; j++) {
      terms.forEach((term, x) => {
        const { av, dv } = t[x] as (typeof t)[number];
        base(term.data);
        f.i32(4 * (k - j)).op(Op.i32Add).simdMem(SimdOp.v128Load, 0).set(dv);
        base(term.splats);
        f.simdMem(SimdOp.v128Load, 16 * j).set(av);
        accumulate(initial, av, dv);
        initial = false;
      });
    }
    block(Math.min(4, kLast - k + 1));
  }
}

/**
 * Emits T = a·b as 2n normalised limbs with 128-bit vectors (params T, a, b): output columns in
 * blocks of four, two i64x2 accumulators per block, each term a splat of a_i times the four limbs
 * b_(k-i) .. b_(k-i+3) read in one load (i64x2.extmul_low / _high: two 32x32 -> 64-bit products
 * each). Reads up to 3 words beyond both ends of b: elements carry zero padding. As loops (see
 * blockSums): about 1 KB of code where the unrolled form took 23 KB, so the product and the
 * reduction stay in the instruction cache together (measured: a Montgomery product 0.68-0.70 µs
 * against 0.79-0.83 unrolled, though the product alone is 0.32 against 0.28). The splats of a go
 * to `splats`.
 */
export function emitProductSimdLoop(f: FunctionBody, n: number, splats: number): void {
  splatsOf(f, n, { addr: splats }, 1);
  wideSum(f, n, [{ splats: { addr: splats }, data: { local: 2 } }]);
}

/**
 * Emits T = a1·x + a2·y as 2n normalised limbs (params T, xs, a1, ys, a2), where xs and ys hold
 * the splats of x and y (see emitSplats): two products summed in the same column accumulators,
 * one normalisation. For the Miller lines λ·(x/y) + d·(1/y) with a fixed evaluation point.
 */
export function emitDot2(f: FunctionBody, n: number): void {
  wideSum(f, n, [
    { splats: { local: 1 }, data: { local: 2 } },
    { splats: { local: 3 }, data: { local: 4 } },
  ]);
}

/** Emits splats(dst, a): the n limbs of a as 16-octet splats at dst. */
export function emitSplats(f: FunctionBody, n: number): void {
  splatsOf(f, n, { local: 0 }, 1);
}

/** The n limbs of the element at parameter `src` as splats at `dst`. */
function splatsOf(f: FunctionBody, n: number, dst: Address, src: number): void {
  for (let i = 0; i < n; i++) {
    if ('addr' in dst) f.i32(0);
    else f.get(dst.local);
    f.get(src).load32(4 * i).op(Op.i32WrapI64).simd(SimdOp.i32x4Splat);
    f.simdMem(SimdOp.v128Store, ('addr' in dst ? dst.addr : 0) + 16 * i);
  }
}

/** T (parameter 0) = the sum of the terms' products, as 2n normalised limbs (see blockSums). */
function wideSum(f: FunctionBody, n: number, terms: readonly BlockTerm[]): void {
  const T = 0;
  const lo = f.local(ValType.v128);
  const hi = f.local(ValType.v128);
  const acc = f.local(ValType.i64);
  const out = f.local(ValType.i32);
  f.i64(0).set(acc).get(T).set(out);
  blockSums(f, n, 0, 2 * n - 2, terms, lo, hi, (cols) => {
    for (let c = 0; c < cols; c++) {
      f.get(out).get(acc).get(c < 2 ? lo : hi).lane64((c % 2) as 0 | 1).op(Op.i64Add);
      f.tee(acc).i64(MASK).op(Op.i64And).store32(4 * c);
      f.get(acc).i64(BITS).op(Op.i64ShrU).set(acc);
    }
    f.get(out).i32(4 * cols).op(Op.i32Add).set(out);
  });
  f.get(T).get(acc).store32(4 * (2 * n - 1));
}

/** Emits T = A ± B (+ offset) limb by limb over 2n limbs, no carries. Params T, A, B. */
export function emitWideAddSub(f: FunctionBody, n: number, offset: readonly bigint[] | undefined): void {
  for (let k = 0; k < 2 * n; k++) {
    f.get(0).get(1).load32(4 * k, true).get(2).load32(4 * k, true);
    if (offset === undefined) f.op(Op.i64Add);
    else f.op(Op.i64Sub).i64(offset[k] as bigint).op(Op.i64Add);
    f.store32(4 * k);
  }
}

/** Emits r = a ± b mod 2p for inputs in [0, 2p). */
export function emitAddSub(f: FunctionBody, n: number, p2: readonly bigint[], subtract: boolean): void {
  const R = 0;
  const A = 1;
  const B = 2;
  const t: number[] = [];
  for (let i = 0; i < n; i++) t.push(f.local(ValType.i64));
  const c = f.local(ValType.i64);
  f.i64(0).set(c);
  // t = a ± b with signed carries (arithmetic shift).
  for (let i = 0; i < n; i++) {
    f.get(A).load32(4 * i).get(B).load32(4 * i).op(subtract ? Op.i64Sub : Op.i64Add).get(c).op(Op.i64Add);
    f.tee(t[i] as number).i64(BITS).op(Op.i64ShrS).set(c);
    f.get(t[i] as number).i64(MASK).op(Op.i64And).set(t[i] as number);
  }
  if (subtract) {
    // a - b < 0 (c = -1): add 2p, masked by c, so no branch.
    const mask = f.local(ValType.i64);
    f.get(c).set(mask).i64(0).set(c);
    for (let i = 0; i < n; i++) {
      f.get(R);
      f.get(t[i] as number).get(mask).i64(p2[i] as bigint).op(Op.i64And).op(Op.i64Add).get(c).op(Op.i64Add);
      f.tee(t[i] as number).i64(BITS).op(Op.i64ShrS).set(c);
      f.get(t[i] as number).i64(MASK).op(Op.i64And).store32(4 * i);
    }
    return;
  }
  // a + b >= 2p: subtract 2p; keep the difference when it did not borrow.
  const s: number[] = [];
  for (let i = 0; i < n; i++) s.push(f.local(ValType.i64));
  f.i64(0).set(c);
  for (let i = 0; i < n; i++) {
    f.get(t[i] as number).i64(p2[i] as bigint).op(Op.i64Sub).get(c).op(Op.i64Add);
    f.tee(s[i] as number).i64(BITS).op(Op.i64ShrS).set(c);
    f.get(s[i] as number).i64(MASK).op(Op.i64And).set(s[i] as number);
  }
  const keep = f.local(ValType.i32);
  f.get(c).op(Op.i64Eqz).set(keep);
  for (let i = 0; i < n; i++) {
    f.get(R).get(s[i] as number).get(t[i] as number).get(keep).op(Op.select).store32(4 * i);
  }
}

