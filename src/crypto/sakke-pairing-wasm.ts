/**
 * The Miller values of sakke-pairing.ts (`millerValue`, `millerValueProduct`) computed in the
 * generated WebAssembly field of sakke-arena.ts: same lines, same formulas, same results (tests
 * compare them with the BigInt versions); the arithmetic is Montgomery products in the module.
 *
 * A line set is copied into the module's memory on first use, into a slot of its own
 * (LINES_PER_SET lines of two elements). The slot is released, and zeroed (the lines of an RSK
 * are secret), when its MillerLines object is garbage collected.
 *
 * Not constant-time (see fp-wasm.ts and sakke.ts).
 */
import { batchInvert, mod } from './fp.js';
import type { AffinePoint, JacobianPoint } from './sakke-curve.js';
import type { Fp2, MillerLines } from './sakke-pairing.js';
import { LINES_PER_SET, MILLER_FLAGS, sakkeArena, type SakkeArena } from './sakke-arena.js';
import { SakkeParamSet1 } from './sakke-params.js';

const { p } = SakkeParamSet1;

interface Slot {
  readonly base: number;
  released: boolean;
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
  slotOf(lines: MillerLines): Slot {
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

  result(): Fp2 {
    return { a: this.arena.F.read(this.v), b: this.arena.F.read(this.v + this.arena.F.size) };
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
const lineStore = (): LineStore => (store ??= new LineStore());

/** f_{q,K}(psi(Q)) up to a factor in F_p, as `millerValue` (SAKKE's parameter set only). */
export function millerValueWasm(lines: MillerLines, pt: AffinePoint): Fp2 {
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
  l1: MillerLines,
  q1: AffinePoint | JacobianPoint,
  l2: MillerLines,
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
