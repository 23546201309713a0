/**
 * The Miller values of sakke-pairing.ts (`millerValue`, `millerValueProduct`) computed in the
 * generated WebAssembly field of sakke-arena.ts: same lines, same formulas, same results (tests
 * compare them with the BigInt versions); the arithmetic is Montgomery products in the module.
 *
 * A line set lives in a slot of its own in the module's memory (LINES_PER_SET lines of two
 * elements): made there by `precomputeLinesWasm` (what sakke.ts uses), or copied in on first use
 * from a BigInt MillerLines (tests). The slot is released, and zeroed (the lines of an RSK are
 * secret), when its owner is garbage collected.
 *
 * Not constant-time (see fp-wasm.ts and sakke.ts).
 */
import { batchInvert, invMod, mod } from './fp.js';
import type { AffinePoint, JacobianPoint } from './sakke-curve.js';
import type { Fp2, MillerLines } from './sakke-pairing.js';
import { LINES_PER_SET, MILLER_FLAGS, sakkeArena, type SakkeArena } from './sakke-arena.js';
import { SakkeParamSet1 } from './sakke-params.js';

const { p } = SakkeParamSet1;

interface Slot {
  readonly base: number;
  released: boolean;
}

/**
 * Miller lines made in the module (`precomputeLinesWasm`): the same λ, d per line as
 * sakke-pairing.ts's `precomputeLines`, held only in a slot of the module's memory, released
 * and zeroed when this object is collected.
 */
export class WasmMillerLines {
  readonly slot: Slot;
  /** @internal use precomputeLinesWasm */
  constructor(slot: Slot) {
    this.slot = slot;
  }
}

/** Line slots and the evaluation registers, over the process's SAKKE arena. */
class LineStore {
  readonly arena: SakkeArena;
  readonly v: number;
  readonly xq1: number;
  readonly yi1: number;
  readonly xq2: number;
  readonly yi2: number;
  /** Splats of the evaluation points' x/y and 1/y (fp-wasm.ts `splats`). */
  readonly xs1: number;
  readonly ys1: number;
  readonly xs2: number;
  readonly ys2: number;
  readonly #slots = new WeakMap<MillerLines, Slot>();
  readonly #registry = new FinalizationRegistry<Slot>((slot) => this.#release(slot));

  constructor() {
    this.arena = sakkeArena();
    const F = this.arena.F;
    this.v = F.alloc(2);
    this.xq1 = F.alloc();
    this.yi1 = F.alloc();
    this.xq2 = F.alloc();
    this.yi2 = F.alloc();
    this.xs1 = F.allocSplats();
    this.ys1 = F.allocSplats();
    this.xs2 = F.allocSplats();
    this.ys2 = F.allocSplats();
  }

  /** The slot holding `lines`, copied in on first use. */
  slotOf(lines: MillerLines | WasmMillerLines): Slot {
    if (lines instanceof WasmMillerLines) return lines.slot;
    const known = this.#slots.get(lines);
    if (known !== undefined) return known;
    const { lamD, dD, lamA, dA, addition } = lines;
    if (addition.length !== MILLER_FLAGS.length || addition.some((v, j) => v !== MILLER_FLAGS[j])) {
      throw new RangeError('lines are not over the NAF of q - 1');
    }
    const F = this.arena.F;
    const base = F.allocBlock(2 * LINES_PER_SET);
    let at = base;
    const put = (v: bigint): void => {
      F.write(at, v);
      at += F.size;
    };
    for (let j = 0; j < lamD.length; j++) {
      put(lamD[j] as bigint);
      put(dD[j] as bigint);
      if (addition[j] === 1) {
        put(lamA[j] as bigint);
        put(dA[j] as bigint);
      }
    }
    const slot: Slot = { base, released: false };
    this.#slots.set(lines, slot);
    this.#registry.register(lines, slot);
    return slot;
  }

  /** Registers a slot filled in place, to be released with its owner. */
  adopt(owner: object, slot: Slot): void {
    this.#registry.register(owner, slot);
  }

  #release(slot: Slot): void {
    if (slot.released) return;
    slot.released = true;
    this.arena.F.freeBlock(slot.base, 2 * LINES_PER_SET);
  }

  /** Writes an evaluation point's x/y and 1/y, and their splats. */
  point(e: EvaluationPoint, xr: number, yr: number, xs: number, ys: number): void {
    const F = this.arena.F;
    F.write(yr, e.yi);
    F.write(xr, e.xq);
    F.fn.splats(xs, xr);
    F.fn.splats(ys, yr);
  }

  start(): void {
    this.arena.F.write(this.v, 1n);
    this.arena.F.write(this.v + this.arena.F.size, 0n);
  }

  /** The Miller value, read out and then cleared (it leads to the SSV mask in a decapsulation). */
  result(): Fp2 {
    const F = this.arena.F;
    const out = { a: F.read(this.v), b: F.read(this.v + F.size) };
    F.clear(this.v, 2);
    return out;
  }
}

/** A point Q as the Miller loop reads it: x_Q/y_Q and 1/y_Q. */
export interface EvaluationPoint {
  readonly xq: bigint;
  readonly yi: bigint;
}

/**
 * The evaluation points of affine or Jacobian points with y != 0, with one inversion for all:
 * for Jacobian (X, Y, Z), x/y = X·Z/Y and 1/y = Z^3/Y.
 */
export function evaluationPoints(pts: readonly (AffinePoint | JacobianPoint)[]): EvaluationPoint[] {
  const ys = pts.map((pt) => ('x' in pt ? pt.y : pt[1]));
  const inv = batchInvert(ys, p);
  return pts.map((pt, i) => {
    const yi = inv[i] as bigint;
    if ('x' in pt) return { xq: mod(pt.x * yi, p), yi };
    const [x, , z] = pt;
    return { xq: mod(x * z * yi, p), yi: mod(((z * z) % p) * z * yi, p) };
  });
}

let store: LineStore | undefined;

let lineScratch: { rec: number; prefix: number; inv: number; j: number; k: number } | undefined;

/**
 * The Miller lines of K over the NAF of q - 1, computed in the module: the point chain in
 * Jacobian coordinates recording each line's slope as a fraction and the point it passes
 * through, then two batched inversions (the denominators, the Z coordinates), then λ and
 * d = λ·x - y per line, written straight into a slot. Throws RangeError when K is not of order
 * q ([q-1]K must be -K, and no line may be vertical), as `precomputeLines` does.
 */
export function precomputeLinesWasm(k: AffinePoint): WasmMillerLines {
  const s = lineStore();
  const { F, loops } = s.arena;
  const size = F.size;
  lineScratch ??= {
    rec: F.alloc(5 * LINES_PER_SET),
    prefix: F.alloc(LINES_PER_SET),
    inv: F.alloc(),
    j: F.alloc(3),
    k: F.alloc(2),
  };
  const { rec, prefix, inv, j } = lineScratch;
  F.write(lineScratch.k, k.x);
  F.write(lineScratch.k + size, k.y);
  F.write(j, k.x);
  F.write(j + size, k.y);
  F.write(j + 2 * size, 1n);
  loops.chain(j, lineScratch.k, rec, s.arena.flags, s.arena.signs, MILLER_FLAGS.length);
  // [q-1]K = -K exactly when [q]K is infinity.
  const z = F.read(j + 2 * size);
  const z2 = (z * z) % p;
  if (z === 0n || mod(F.read(j) - k.x * z2, p) !== 0n || mod(F.read(j + size) + ((k.y * z2) % p) * z, p) !== 0n) {
    throw new RangeError('point is not of order q');
  }
  // Invert every denominator (offset 1) and every Z (offset 4) of the records.
  for (const offset of [size, 4 * size]) {
    loops.invPrep(rec + offset, 5 * size, LINES_PER_SET, prefix);
    const product = F.read(prefix + (LINES_PER_SET - 1) * size);
    if (product === 0n) throw new RangeError('point is not of order q');
    F.write(inv, invMod(product, p));
    loops.invFinish(rec + offset, 5 * size, LINES_PER_SET, prefix, inv);
  }
  const slot: Slot = { base: F.allocBlock(2 * LINES_PER_SET), released: false };
  loops.linesOut(rec, slot.base, LINES_PER_SET);
  // The scratch held K, its multiples and its lines (secret when K is an RSK): clear it.
  F.clear(rec, 5 * LINES_PER_SET);
  F.clear(prefix, LINES_PER_SET);
  F.clear(inv, 1);
  F.clear(j, 3);
  F.clear(lineScratch.k, 2);
  const lines = new WasmMillerLines(slot);
  s.adopt(lines, slot);
  return lines;
}
const lineStore = (): LineStore => (store ??= new LineStore());

/** f_{q,K}(psi(Q)) up to a factor in F_p, as `millerValue` (SAKKE's parameter set only). */
export function millerValueWasm(lines: MillerLines | WasmMillerLines, pt: AffinePoint): Fp2 {
  const s = lineStore();
  const slot = s.slotOf(lines);
  s.point(evaluationPoints([pt])[0] as EvaluationPoint, s.xq1, s.yi1, s.xs1, s.ys1);
  s.start();
  s.arena.loops.miller(s.v, slot.base, s.xs1, s.ys1, s.arena.flags, MILLER_FLAGS.length);
  return s.result();
}

/**
 * f_{q,K1}(psi(Q1))·f_{q,K2}(psi(Q2)) up to a factor in F_p, sharing the squarings, as
 * `millerValueProduct` (SAKKE's parameter set only). Q1 and Q2 may be affine or Jacobian.
 */
export function millerValueProductWasm(
  l1: MillerLines | WasmMillerLines,
  q1: AffinePoint | JacobianPoint,
  l2: MillerLines | WasmMillerLines,
  q2: AffinePoint | JacobianPoint,
): Fp2 {
  const s = lineStore();
  const s1 = s.slotOf(l1);
  const s2 = s.slotOf(l2);
  const [e1, e2] = evaluationPoints([q1, q2]) as [EvaluationPoint, EvaluationPoint];
  s.point(e1, s.xq1, s.yi1, s.xs1, s.ys1);
  s.point(e2, s.xq2, s.yi2, s.xs2, s.ys2);
  s.start();
  s.arena.loops.miller2(s.v, s1.base, s.xs1, s.ys1, s2.base, s.xs2, s.ys2, s.arena.flags, MILLER_FLAGS.length);
  return s.result();
}
