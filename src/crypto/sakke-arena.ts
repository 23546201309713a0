/**
 * SAKKE's field F_p (RFC 6509 parameter set 1) in a generated WebAssembly module (fp-wasm.ts),
 * extended with the Miller loops of sakke-pairing.ts, so that a whole loop runs in the module:
 *
 *   miller(v, lines, xs, ys, flags, steps)
 *       v <- v^2 · (A + i), and at an addition step v <- v^2 · (A + i)(A' + i), over the
 *       precomputed lines at `lines` (λ, d per line), A = λ·xq + d·yi (RFC 6508 §3.2), with the
 *       splats of xq and yi (fp-wasm.ts `splats`) at xs and ys
 *   miller2(v, lines1, xs1, ys1, lines2, xs2, ys2, flags, steps)
 *       the product of two such Miller values, sharing the squarings
 *
 * with v = v0 + v1·i two elements at `v`, and `flags` one octet per step (1: addition step).
 * Per doubling step of `miller`: line value (two products, one reduction), F_p^2 squaring
 * ((v0 + v1)(v0 - v1), 2·v0·v1), and the product by A + i; the addition step multiplies by the
 * product of its two lines, b + c·i = (A·A' - 1) + (A + A')·i, with one Karatsuba product whose
 * two results are each reduced once (lazy reduction).
 *
 * and the point formulas (dbl, madd, affine pair additions sharing one inversion) used by
 * sakke-curve-wasm.ts; the code is emitted by sakke-arena-code.ts. The arena's memory also holds
 * line sets (sakke-pairing-wasm.ts) and tables (`tableBlock`).
 */
import { WasmField, type FieldCode, type FieldLayout } from './fp-wasm.js';
import type { ModuleWriter } from './wasm-emitter.js';
import { emitMillerFunctions, emitPointFunctions, type Registers } from './sakke-arena-code.js';
import { emitLineFunctions } from './sakke-arena-lines.js';
import { naf } from './sakke-pairing.js';
import { SakkeParamSet1 } from './sakke-params.js';

const { p, q } = SakkeParamSet1;

/** Addition steps of the Miller loop over the NAF of q - 1, one flag per step (sakke-pairing.ts). */
export const MILLER_FLAGS: Uint8Array = Uint8Array.from(naf(q - 1n).slice(1), (d) => (d === 0 ? 0 : 1));
/** The signs of the addition steps' digits, one octet per step (1: the digit is -1). */
export const MILLER_SIGNS: Uint8Array = Uint8Array.from(naf(q - 1n).slice(1), (d) => (d < 0 ? 1 : 0));
/** Lines per line set: a doubling line per step and an addition line per addition step. */
export const LINES_PER_SET = MILLER_FLAGS.length + MILLER_FLAGS.reduce((s, v) => s + v, 0);

function extend(w: ModuleWriter, code: FieldCode, layout: FieldLayout, regsOut: (r: Registers) => void): void {
  const { size } = layout;
  const el = (): number => layout.reserve(size);
  const wide = (): number => layout.reserve(layout.wideSize);
  const r: Registers = {
    a: el(),
    a2: el(),
    s0: layout.reserve(2 * size),
    t1: el(),
    t2: el(),
    b: el(),
    c: el(),
    one: el(),
    zero: el(),
    w1: wide(),
    w2: wide(),
    w3: wide(),
    w4: wide(),
    flags: layout.reserve(MILLER_FLAGS.length),
    signs: layout.reserve(MILLER_SIGNS.length),
    e: Array.from({ length: 9 }, el),
  };
  regsOut(r);
  emitMillerFunctions(w, code, size, r);
  emitLineFunctions(w, code, size, r, emitPointFunctions(w, code, size, r));
}

/** The exports the SAKKE extension adds. */
export interface SakkeLoops {
  dbl(j: number): void;
  madd(j: number, a: number, neg: number): void;
  set(j: number, a: number, neg: number): void;
  mulNorm(v: number, t: number): void;
  chain(j: number, k: number, rec: number, flags: number, signs: number, steps: number): void;
  invPrep(vals: number, stride: number, count: number, prefix: number): void;
  invFinish(vals: number, stride: number, count: number, prefix: number, inv: number): void;
  linesOut(rec: number, out: number, count: number): void;
  gather(dst: number, src: number, neg: number): void;
  pairPrep(pts: number, count: number, dens: number, prefix: number): void;
  pairFinish(pts: number, out: number, count: number, dens: number, prefix: number, inv: number): void;
  miller(v: number, lines: number, xs: number, ys: number, flags: number, steps: number): void;
  miller2(
    v: number,
    lines1: number,
    xs1: number,
    ys1: number,
    lines2: number,
    xs2: number,
    ys2: number,
    flags: number,
    steps: number,
  ): void;
}

/** SAKKE's field with its Miller loops and registers. One per process, made on first use. */
export class SakkeArena {
  readonly F: WasmField;
  readonly loops: SakkeLoops;
  readonly flags: number;
  readonly signs: number;

  constructor() {
    let regs: Registers | undefined;
    this.F = new WasmField(p, (w, code, layout) => extend(w, code, layout, (r) => (regs = r)));
    if (regs === undefined) throw new Error('unreachable: extension not run');
    this.loops = this.F.exports as unknown as SakkeLoops;
    this.F.write(regs.one, 1n);
    new Uint8Array(this.F.memory.buffer, regs.flags, MILLER_FLAGS.length).set(MILLER_FLAGS);
    new Uint8Array(this.F.memory.buffer, regs.signs, MILLER_SIGNS.length).set(MILLER_SIGNS);
    this.flags = regs.flags;
    this.signs = regs.signs;
  }
}

const blocks = new FinalizationRegistry<{ addr: number; count: number }>((b) =>
  sakkeArena().F.freeBlock(b.addr, b.count),
);

/**
 * Copies `count` field elements into a block of the arena's memory and returns its address; the
 * block is zeroed and reused once `owner` is garbage collected.
 */
export function tableBlock(owner: object, count: number, values: Iterable<bigint>): number {
  const F = sakkeArena().F;
  const addr = F.allocBlock(count);
  let at = addr;
  for (const v of values) {
    if (at >= addr + count * F.size) throw new RangeError('more values than the block holds');
    F.write(at, v);
    at += F.size;
  }
  blocks.register(owner, { addr, count });
  return addr;
}

let arena: SakkeArena | undefined;
/** The process's SAKKE arena. */
export const sakkeArena = (): SakkeArena => (arena ??= new SakkeArena());
