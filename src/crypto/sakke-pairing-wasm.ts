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
import { invMod, mod } from './fp.js';
import type { AffinePoint } from './sakke-curve.js';
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

  /** Writes x/y and 1/y of an evaluation point (y != 0). */
  point(pt: AffinePoint, xr: number, yr: number): void {
    const yi = invMod(pt.y, p);
    this.arena.F.write(yr, yi);
    this.arena.F.write(xr, mod(pt.x * yi, p));
  }

  start(): void {
    this.arena.F.write(this.v, 1n);
    this.arena.F.write(this.v + this.arena.F.size, 0n);
  }

  result(): Fp2 {
    return { a: this.arena.F.read(this.v), b: this.arena.F.read(this.v + this.arena.F.size) };
  }
}

let store: LineStore | undefined;
const lineStore = (): LineStore => (store ??= new LineStore());

/** f_{q,K}(psi(Q)) up to a factor in F_p, as `millerValue` (SAKKE's parameter set only). */
export function millerValueWasm(lines: MillerLines, pt: AffinePoint): Fp2 {
  const s = lineStore();
  const slot = s.slotOf(lines);
  s.point(pt, s.xq1, s.yi1);
  s.start();
  s.arena.loops.miller(s.v, slot.base, s.xq1, s.yi1, s.arena.flags, MILLER_FLAGS.length);
  return s.result();
}

/**
 * f_{q,K1}(psi(Q1))·f_{q,K2}(psi(Q2)) up to a factor in F_p, sharing the squarings, as
 * `millerValueProduct` (SAKKE's parameter set only).
 */
export function millerValueProductWasm(l1: MillerLines, q1: AffinePoint, l2: MillerLines, q2: AffinePoint): Fp2 {
  const s = lineStore();
  const s1 = s.slotOf(l1);
  const s2 = s.slotOf(l2);
  s.point(q1, s.xq1, s.yi1);
  s.point(q2, s.xq2, s.yi2);
  s.start();
  s.arena.loops.miller2(s.v, s1.base, s.xq1, s.yi1, s2.base, s.xq2, s.yi2, s.arena.flags, MILLER_FLAGS.length);
  return s.result();
}
