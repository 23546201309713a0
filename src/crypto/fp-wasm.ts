/**
 * Arithmetic modulo a large odd prime p in WebAssembly, generated for p at run time (limbs of p
 * as immediates, fully unrolled). Montgomery form with R = 2^(28·n): n limbs of 28 bits, so a
 * column of up to 64 products of limbs (< 2^56 each) sums in one i64 without carry handling.
 *
 *   mulWide  a·b as 2n limbs: 128-bit vectors, i64x2.extmul of 32-bit lanes, output columns in
 *            blocks of four (two products per instruction)
 *   sqrWide  a² as 2n limbs: scalar, one level of Karatsuba on column sums
 *   redc     T·R^-1 mod p (Montgomery reduction, product scanning: Koç, Acar, Kaliski,
 *            "Analyzing and Comparing Montgomery Multiplication Algorithms", IEEE Micro 1996);
 *            columns 0..n-1 choose the m_i in scalar code, columns n..2n-2 are vector sums
 *   mul, sqr mulWide / sqrWide then redc;   add, sub  mod 2p;   addWide, subWide  on 2n limbs
 *
 * Splitting products from reductions lets callers reduce a sum of products once (lazy
 * reduction: λ·x + d·y is two products and one reduction). For SAKKE's 1024-bit field
 * (RFC 6508 §2.1, RFC 6509 parameter set 1, n = 37) this replaces BigInt products and
 * remainders; measured here (2.6 GHz EPYC, Node 20): mulWide 0.26 µs, redc 0.39 µs, a BigInt
 * product and remainder 1.1-1.4 µs.
 *
 * Hand-written because no maintained npm package offers fast modular arithmetic for an
 * arbitrary 1024-bit prime: BigInt allocates per operation and has no Montgomery form, and the
 * WebAssembly big-number libraries are built for fixed curves (BN254, BLS12-381) or are GPL.
 *
 * Representation: an element is n little-endian 28-bit limbs in i32 words at a byte address in
 * the module's memory, with 16 zero octets before and after (the vector loads of mulWide read
 * past both ends); it holds a value in [0, 2p) that is x·R mod p for the field element x
 * (Montgomery form, kept partially reduced). Every operation takes and returns values in
 * [0, 2p); `read` reduces fully. A wide value is 2n signed limbs; redc accepts any wide value
 * in [0, p·R) with limbs below 2^31 in magnitude (products of two elements, and sums and
 * differences of a few, offset by 4p² to stay non-negative). Outputs may alias inputs.
 *
 * Timing: the generated code has no data-dependent branches or memory addresses (add and sub
 * choose with `select`), but WebAssembly gives no constant-time guarantee and the conversions
 * in and out use BigInt; treat it as not constant-time (see sakke.ts).
 */
import { ModuleWriter, Op, SimdOp, ValType, type FunctionBody } from './wasm-emitter.js';
import { invMod, mod } from './fp.js';

/** The parts of the WebAssembly JS API used here (Node's global; its types are in lib.dom only). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { readonly exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const BITS = 28;
const MASK = (1n << BigInt(BITS)) - 1n;

/** The exported functions of a generated field module. Addresses are byte offsets in memory. */
export interface FieldExports {
  /** r = a·b·R^-1 mod p */
  mul(r: number, a: number, b: number): void;
  /** r = a²·R^-1 mod p */
  sqr(r: number, a: number): void;
  /** r = a + b mod p */
  add(r: number, a: number, b: number): void;
  /** r = a - b mod p */
  sub(r: number, a: number, b: number): void;
  /** T = a·b as 2n limbs (a wide value, not reduced) */
  mulWide(t: number, a: number, b: number): void;
  /** T = a² as 2n limbs */
  sqrWide(t: number, a: number): void;
  /** r = T·R^-1 mod p for a wide T in [0, p·R) */
  redc(r: number, t: number): void;
  /** T = A + B, limb by limb (wide values, no carries) */
  addWide(t: number, a: number, b: number): void;
  /** T = A - B + 4p², limb by limb (wide values; the offset keeps the sum non-negative) */
  subWide(t: number, a: number, b: number): void;
}

function limbsOf(x: bigint, n: number): bigint[] {
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
 * Emits the column sums of x·y (or x² when y is undefined) into new locals: column k holds
 * the sum of x_i·y_j over i + j = k, unnormalised. The caller bounds the sizes.
 */
function emitColumns(f: FunctionBody, x: readonly number[], y: readonly number[] | undefined): number[] {
  const n = x.length;
  const cols: number[] = [];
  for (let k = 0; k <= 2 * n - 2; k++) {
    const lo = Math.max(0, k - n + 1);
    const hi = Math.min(k, n - 1);
    const c = f.local(ValType.i64);
    let terms = 0;
    if (y === undefined) {
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
        terms++;
      }
    } else {
      for (let i = lo; i <= hi; i++) {
        f.get(x[i] as number).get(y[k - i] as number).op(Op.i64Mul);
        if (terms > 0) f.op(Op.i64Add);
        terms++;
      }
    }
    f.set(c);
    cols.push(c);
  }
  return cols;
}

/**
 * Emits T = a·b (or a²) as 2n normalised limbs, params T, a[, b], by one level of Karatsuba:
 * with a = a0 + a1·X, X = 2^(28h), a·b = z0 + (z1 - z0 - z2)·X + z2·X² where z0 = a0·b0,
 * z2 = a1·b1, z1 = (a0 + a1)(b0 + b1). Done on column sums, where z1 - z0 - z2 is exact and
 * non-negative column by column; every column stays below 75·2^56 < 2^63.
 */
function emitProduct(f: FunctionBody, n: number, square: boolean): void {
  const T = 0;
  const A = 1;
  const B = 2;
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
  let c0: number[];
  let c1: number[];
  let c2: number[];
  if (square) {
    c0 = emitColumns(f, a0, undefined);
    c2 = emitColumns(f, a1, undefined);
    c1 = emitColumns(f, sa, undefined);
  } else {
    const [b0, b1, sb] = half(load(B));
    c0 = emitColumns(f, a0, b0);
    c2 = emitColumns(f, a1, b1);
    c1 = emitColumns(f, sa, sb);
  }
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
function emitRedc(f: FunctionBody, n: number, pl: readonly bigint[], pinv: bigint, pAddr: number): void {
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
  }
  // Columns n .. 2n-2 hold sums of m_i·p_(k-i) with every m_i known: vectors, in blocks of four
  // columns, a splat of m_i times four limbs of p per load (p sits at pAddr, zeros after it).
  const splat: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = f.local(ValType.v128);
    f.get(m[i] as number).op(Op.i32WrapI64).simd(SimdOp.i32x4Splat).set(v);
    splat.push(v);
  }
  const lo = f.local(ValType.v128);
  const hi = f.local(ValType.v128);
  const pv = f.local(ValType.v128);
  for (let k0 = n; k0 <= 2 * n - 2; k0 += 4) {
    const first = k0 - n + 1;
    for (let i = first; i <= n - 1; i++) {
      f.i32(0).simdMem(SimdOp.v128Load, pAddr + 4 * (k0 - i)).set(pv);
      f.get(splat[i] as number).get(pv).simd(SimdOp.i64x2ExtmulLowI32x4U);
      if (i > first) f.get(lo).simd(SimdOp.i64x2Add);
      f.set(lo);
      f.get(splat[i] as number).get(pv).simd(SimdOp.i64x2ExtmulHighI32x4U);
      if (i > first) f.get(hi).simd(SimdOp.i64x2Add);
      f.set(hi);
    }
    for (let c = 0; c < 4 && k0 + c <= 2 * n - 2; c++) {
      const k = k0 + c;
      f.get(R).get(T).load32(4 * k, true).get(c < 2 ? lo : hi).lane64((c % 2) as 0 | 1).op(Op.i64Add);
      f.get(acc).op(Op.i64Add).tee(acc).i64(MASK).op(Op.i64And).store32(4 * (k - n));
      f.get(acc).i64(BITS).op(Op.i64ShrS).set(acc);
    }
  }
  f.get(R).get(acc).get(T).load32(4 * (2 * n - 1), true).op(Op.i64Add).store32(4 * (n - 1));
}

/** Emits T = A ± B (+ offset) limb by limb over 2n limbs, no carries. Params T, A, B. */
function emitWideAddSub(f: FunctionBody, n: number, offset: readonly bigint[] | undefined): void {
  for (let k = 0; k < 2 * n; k++) {
    f.get(0).get(1).load32(4 * k, true).get(2).load32(4 * k, true);
    if (offset === undefined) f.op(Op.i64Add);
    else f.op(Op.i64Sub).i64(offset[k] as bigint).op(Op.i64Add);
    f.store32(4 * k);
  }
}

/** Emits r = a ± b mod 2p for inputs in [0, 2p). */
function emitAddSub(f: FunctionBody, n: number, p2: readonly bigint[], subtract: boolean): void {
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

/**
 * Emits T = a·b as 2n normalised limbs with 128-bit vectors (params T, a, b): output columns
 * in blocks of four, two i64x2 accumulators per block, each term a splat of a_i times the four
 * limbs b_(k-i) .. b_(k-i+3) read in one load (i64x2.extmul_low / _high: two 32x32 -> 64-bit
 * products each). Reads up to 3 words beyond both ends of b: elements carry zero padding.
 */
function emitProductSimd(f: FunctionBody, n: number): void {
  const T = 0;
  const A = 1;
  const B = 2;
  const splat: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = f.local(ValType.v128);
    f.get(A).load32(4 * i).op(Op.i32WrapI64).simd(SimdOp.i32x4Splat).set(v);
    splat.push(v);
  }
  // b - 16, so that the loads of b_(k-i) for k - i >= -3 have non-negative offsets.
  const bm = f.local(ValType.i32);
  f.get(B).i32(-PAD_BYTES).op(Op.i32Add).set(bm);
  const bv = f.local(ValType.v128);
  const lo = f.local(ValType.v128);
  const hi = f.local(ValType.v128);
  const acc = f.local(ValType.i64);
  f.i64(0).set(acc);
  const lastCol = 2 * n - 2;
  for (let k = 0; k <= lastCol; k += 4) {
    const first = Math.max(0, k - n + 1);
    const last = Math.min(n - 1, k + 3);
    for (let i = first; i <= last; i++) {
      f.get(bm).simdMem(SimdOp.v128Load, PAD_BYTES + 4 * (k - i)).set(bv);
      f.get(splat[i] as number).get(bv).simd(SimdOp.i64x2ExtmulLowI32x4U);
      if (i > first) f.get(lo).simd(SimdOp.i64x2Add);
      f.set(lo);
      f.get(splat[i] as number).get(bv).simd(SimdOp.i64x2ExtmulHighI32x4U);
      if (i > first) f.get(hi).simd(SimdOp.i64x2Add);
      f.set(hi);
    }
    for (let c = 0; c < 4 && k + c <= lastCol; c++) {
      f.get(T).get(acc).get(c < 2 ? lo : hi).lane64((c % 2) as 0 | 1).op(Op.i64Add);
      f.tee(acc).i64(MASK).op(Op.i64And).store32(4 * (k + c));
      f.get(acc).i64(BITS).op(Op.i64ShrU).set(acc);
    }
  }
  f.get(T).get(acc).store32(4 * (2 * n - 1));
}




/** Zero octets kept before and after every element, for the vector loads of emitProductSimd. */
const PAD_BYTES = 16;

/** Indices of the field's functions in the module, for extensions that call them. */
export interface FieldCode {
  readonly mulWide: number;
  readonly sqrWide: number;
  readonly redc: number;
  readonly mul: number;
  readonly sqr: number;
  readonly add: number;
  readonly sub: number;
  readonly addWide: number;
  readonly subWide: number;
}

/** What an extension of the module may use while it is generated. */
export interface FieldLayout {
  /** Octets between consecutive elements. */
  readonly size: number;
  /** Octets of a wide value. */
  readonly wideSize: number;
  /** Reserves memory at a fixed address (known to the generated code); returns it. */
  reserve(bytes: number): number;
}

/** Adds functions to a field module, calling the field's own (see WasmField). */
export type FieldExtension = (w: ModuleWriter, code: FieldCode, layout: FieldLayout) => void;

/** A prime field in a generated WebAssembly module, with a bump allocator over its memory. */
export class WasmField {
  readonly p: bigint;
  /** Limbs per element. */
  readonly n: number;
  /** Octets between consecutive elements (limbs and padding). */
  readonly size: number;
  /** Octets between consecutive wide values. */
  readonly wideSize: number;
  readonly fn: FieldExports;
  readonly memory: WasmMemory;
  readonly #r: bigint;
  readonly #rInv: bigint;
  #next: number;
  #words: Int32Array;
  readonly #freeBlocks = new Map<number, number[]>();

  /** Every export of the module (the field's functions and an extension's). */
  readonly exports: Readonly<Record<string, unknown>>;

  /**
   * @param p an odd prime
   * @param extend adds functions to the module; they may call the field's functions and use
   *        memory it reserves at fixed addresses
   */
  constructor(p: bigint, extend?: FieldExtension, pages = 16) {
    if (p <= 2n || (p & 1n) === 0n) throw new RangeError('p must be an odd prime');
    const bits = p.toString(2).length;
    // R = 2^(28n) > 16p: products of values below 2p, and sums of a few, reduce below 2p.
    const n = Math.ceil((bits + 5) / BITS);
    // Column bounds (Karatsuba columns below 4·ceil(n/2)·2^56) hold up to n = 62 limbs.
    if (n > 62) throw new RangeError('p is too large for this field generator');
    this.p = p;
    this.n = n;
    this.size = Math.ceil((4 * n + PAD_BYTES) / 16) * 16;
    this.wideSize = Math.ceil((8 * n) / 16) * 16;
    const rBits = BigInt(BITS * n);
    this.#r = mod(1n << rBits, p);
    this.#rInv = invMod(this.#r, p);
    const pinv = mod(-invMod(p, 1n << BigInt(BITS)), 1n << BigInt(BITS));
    const pl = limbsOf(p, n);
    const p2 = limbsOf(2n * p, n);
    const w = new ModuleWriter(pages);
    const i32 = ValType.i32;
    // A wide scratch value right after the leading padding, for mul and sqr.
    const scratch = PAD_BYTES;
    const mulWide = w.addFunction('mulWide', [i32, i32, i32]);
    emitProductSimd(mulWide.body, n);
    const sqrWide = w.addFunction('sqrWide', [i32, i32]);
    emitProduct(sqrWide.body, n, true);
    // p's limbs with zeros after them, for the vector part of redc.
    const pAddr = scratch + this.wideSize + PAD_BYTES;
    const redc = w.addFunction('redc', [i32, i32]);
    emitRedc(redc.body, n, pl, pinv, pAddr);
    const mul = w.addFunction('mul', [i32, i32, i32]);
    mul.body.i32(scratch).get(1).get(2).call(mulWide.index).get(0).i32(scratch).call(redc.index);
    const sqr = w.addFunction('sqr', [i32, i32]);
    sqr.body.i32(scratch).get(1).call(sqrWide.index).get(0).i32(scratch).call(redc.index);
    const add = w.addFunction('add', [i32, i32, i32]);
    emitAddSub(add.body, n, p2, false);
    const sub = w.addFunction('sub', [i32, i32, i32]);
    emitAddSub(sub.body, n, p2, true);
    const addWide = w.addFunction('addWide', [i32, i32, i32]);
    emitWideAddSub(addWide.body, n, undefined);
    const subWide = w.addFunction('subWide', [i32, i32, i32]);
    emitWideAddSub(subWide.body, n, limbsOf(4n * p * p, 2 * n));
    let next = Math.ceil((pAddr + 4 * n) / 16) * 16 + PAD_BYTES;
    const layout: FieldLayout = {
      size: this.size,
      wideSize: this.wideSize,
      reserve: (bytes) => {
        const at = next;
        next = Math.ceil((next + bytes) / 16) * 16 + PAD_BYTES;
        return at;
      },
    };
    extend?.(w, {
      mulWide: mulWide.index,
      sqrWide: sqrWide.index,
      redc: redc.index,
      mul: mul.index,
      sqr: sqr.index,
      add: add.index,
      sub: sub.index,
      addWide: addWide.index,
      subWide: subWide.index,
    }, layout);
    const instance = new wasmApi.Instance(new wasmApi.Module(w.encode()));
    this.exports = instance.exports;
    this.fn = instance.exports as unknown as FieldExports;
    this.memory = instance.exports['memory'] as WasmMemory;
    this.#words = new Int32Array(this.memory.buffer);
    // Memory: zeros, the scratch value, p, what the extension reserved, then the elements.
    pl.forEach((limb, i) => (this.#words[pAddr / 4 + i] = Number(limb)));
    this.#next = next;
    if (this.#next + PAD_BYTES > this.memory.buffer.byteLength) this.#reserve(0);
  }

  #reserve(bytes: number): number {
    const at = this.#next;
    this.#next += bytes;
    // Trailing padding of the last element.
    if (this.#next + PAD_BYTES > this.memory.buffer.byteLength) {
      this.memory.grow(Math.ceil((this.#next + PAD_BYTES - this.memory.buffer.byteLength) / 65536));
      this.#words = new Int32Array(this.memory.buffer);
    }
    return at;
  }

  /** Reserves `count` elements; returns the address of the first. */
  alloc(count = 1): number {
    return this.#reserve(count * this.size);
  }

  /**
   * Takes a block of `count` elements for a long-lived value (a line set, a table), reusing a
   * freed block of the same size when there is one. Give it back with `freeBlock`.
   */
  allocBlock(count: number): number {
    return this.#freeBlocks.get(count)?.pop() ?? this.alloc(count);
  }

  /** Zeroes a block from `allocBlock` and makes it reusable. */
  freeBlock(addr: number, count: number): void {
    new Uint8Array(this.memory.buffer, addr, count * this.size).fill(0);
    const list = this.#freeBlocks.get(count);
    if (list === undefined) this.#freeBlocks.set(count, [addr]);
    else list.push(addr);
  }

  /** Reserves a wide value (2n limbs, for mulWide / redc). */
  allocWide(): number {
    return this.#reserve(this.wideSize);
  }

  /** Copies the element at `src` to `dst`. */
  copy(dst: number, src: number): void {
    new Uint8Array(this.memory.buffer).copyWithin(dst, src, src + 4 * this.n);
  }

  /** Stores field element x (any integer, reduced mod p) at `addr` in Montgomery form. */
  write(addr: number, x: bigint): void {
    let v = (mod(x, this.p) * this.#r) % this.p;
    const base = addr / 4;
    const words = this.#words;
    for (let i = 0; i < this.n; i++) {
      words[base + i] = Number(v & MASK);
      v >>= BigInt(BITS);
    }
  }

  /** The field element at `addr`, in [0, p). */
  read(addr: number): bigint {
    const base = addr / 4;
    const words = this.#words;
    let v = 0n;
    for (let i = this.n - 1; i >= 0; i--) v = (v << BigInt(BITS)) | BigInt(words[base + i] as number);
    return ((v % this.p) * this.#rInv) % this.p;
  }
}
