/**
 * Arithmetic modulo a large odd prime p in WebAssembly, generated for p at run time (limbs of p
 * as immediates; scalar parts unrolled, vector parts as compact loops). Montgomery form with R = 2^(28·n): n limbs of 28 bits, so a
 * column of up to 64 products of limbs (< 2^56 each) sums in one i64 without carry handling.
 *
 *   mulWide  a·b as 2n limbs: 128-bit vectors, i64x2.extmul of 32-bit lanes, output columns in
 *            blocks of four (two products per instruction), as compact loops
 *   sqrWide  a² as 2n limbs: scalar, one level of Karatsuba on column sums
 *   redc     T·R^-1 mod p (Montgomery reduction, product scanning: Koç, Acar, Kaliski,
 *            "Analyzing and Comparing Montgomery Multiplication Algorithms", IEEE Micro 1996);
 *            columns 0..n-1 choose the m_i in scalar code, columns n..2n-2 are vector sums
 *            (loops, like mulWide)
 *   mul, sqr mulWide / sqrWide then redc;   add, sub  mod 2p;   addWide, subWide  on 2n limbs
 *   dot2     a1·x + a2·y as 2n limbs in one vector accumulation, from the splats of x and y
 *
 * Splitting products from reductions lets callers reduce a sum of products once (lazy
 * reduction: λ·x + d·y is two products and one reduction). For SAKKE's 1024-bit field
 * (RFC 6508 §2.1, RFC 6509 parameter set 1, n = 37) this replaces BigInt products and
 * remainders; measured here (2.6 GHz EPYC, Node 20): mul (mulWide + redc) 0.68-0.70 µs, mulWide
 * 0.32, redc 0.37-0.39, a BigInt product and remainder 1.1-1.4 µs. Code size matters as much as
 * instruction counts: with the products unrolled (23 KB) a mul took 0.79-0.83 µs, as mulWide and
 * redc no longer fitted the instruction cache together.
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
import { ModuleWriter, ValType } from './wasm-emitter.js';
import {
  BITS,
  MASK,
  PAD_BYTES,
  emitAddSub,
  emitDot2,
  emitSplats,
  emitProductSimdLoop,
  emitRedc,
  emitSquare,
  emitWideAddSub,
  limbsOf,
} from './fp-wasm-code.js';
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
  /** T = a1·x + a2·y as 2n limbs, with the splats of x and y at xs and ys (see splats) */
  dot2(t: number, xs: number, a1: number, ys: number, a2: number): void;
  /** the n limbs of a as 16-octet splats at dst (n·16 octets, see allocSplats) */
  splats(dst: number, a: number): void;
}

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
  readonly dot2: number;
  readonly splats: number;
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
    // Wide values keep PAD_BYTES of zeros after them too: an element allocated next may be read
    // from 12 octets before its first limb by the vector products.
    this.wideSize = Math.ceil((8 * n + PAD_BYTES) / 16) * 16;
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
    // p's limbs with zeros after them, for the vector part of redc.
    const pAddr = scratch + this.wideSize + PAD_BYTES;
    // Splats of a mulWide operand and of redc's m_i, after p.
    const splats = Math.ceil((pAddr + 4 * n + PAD_BYTES) / 16) * 16;
    const mSplats = splats + 16 * n;
    const mulWide = w.addFunction('mulWide', [i32, i32, i32]);
    emitProductSimdLoop(mulWide.body, n, splats);
    const sqrWide = w.addFunction('sqrWide', [i32, i32]);
    emitSquare(sqrWide.body, n);
    const redc = w.addFunction('redc', [i32, i32]);
    emitRedc(redc.body, n, pl, pinv, pAddr, mSplats);
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
    const dot2 = w.addFunction('dot2', [i32, i32, i32, i32, i32]);
    emitDot2(dot2.body, n);
    const splatsFn = w.addFunction('splats', [i32, i32]);
    emitSplats(splatsFn.body, n);
    let next = mSplats + 16 * n + PAD_BYTES;
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
      dot2: dot2.index,
      splats: splatsFn.index,
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
    this.clear(addr, count);
    const list = this.#freeBlocks.get(count);
    if (list === undefined) this.#freeBlocks.set(count, [addr]);
    else list.push(addr);
  }

  /** Reserves room for the splats of an element (see `splats`, `dot2`). */
  allocSplats(): number {
    return this.#reserve(16 * this.n + PAD_BYTES);
  }

  /** Reserves a wide value (2n limbs, for mulWide / redc). */
  allocWide(): number {
    return this.#reserve(this.wideSize);
  }

  /** Zeroes `count` consecutive elements from `addr` (limbs and padding). */
  clear(addr: number, count: number): void {
    new Uint8Array(this.memory.buffer, addr, count * this.size).fill(0);
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
