/**
 * [k]Q on SAKKE's curve E: y^2 = x^3 - 3x over F_p (RFC 6508 §2.1, RFC 6509 parameter set 1)
 * in the generated WebAssembly field of sakke-arena.ts: Jacobian doublings and mixed additions
 * over the NAF of k. For the RSK check's [b]K_b, a one-off variable base (sakke.ts).
 *
 * Exceptional additions (the running point equal to ±Q, or at infinity) are not handled by the
 * formulas; they leave Z = 0, and then the exact BigInt `multiply` of sakke-curve.ts gives the
 * result. For a point of order q and 0 < k < q they cannot occur.
 *
 * WasmFixedBaseTable is FixedBaseTable's table (signed windows, one table point per non-zero
 * digit) held in the module's memory, for the fixed points multiplied often (P on the KMS side,
 * a cached peer's I_b, the holder's own I_b); its terms are summed in levels of affine additions
 * sharing one inversion, then mixed additions (sumPoints).
 *
 * Not constant-time (see fp-wasm.ts).
 */
import { invMod, mod } from './fp.js';
import {
  FixedBaseTable,
  INFINITY,
  multiply,
  signedWindowDigits,
  sumAffine,
  type AffinePoint,
  type JacobianPoint,
} from './sakke-curve.js';
import { naf } from './sakke-pairing.js';
import { sakkeArena, tableBlock } from './sakke-arena.js';
import { SakkeParamSet1 } from './sakke-params.js';

const { p } = SakkeParamSet1;

let regs: { j: number; plus: number } | undefined;
const registers = (): { j: number; plus: number } => {
  const F = sakkeArena().F;
  return (regs ??= { j: F.alloc(3), plus: F.alloc(2) });
};

/** Below this many points a sum finishes with mixed additions instead of another affine level. */
const AFFINE_LEVEL_MIN = 24;

let tree: { a: number; b: number; dens: number; prefix: number; inv: number; capacity: number } | undefined;

/**
 * The sum of points of the module's memory (address, negated?) as a Jacobian point at `j`:
 * levels of pairwise affine additions with one inversion each (Montgomery's trick; an affine
 * addition costs six products where a mixed one costs eleven) while many points remain, then
 * mixed additions. Null on an exception the formulas do not handle (two points with equal x, or
 * a result at infinity); the caller then takes the exact BigInt path.
 */
function sumPoints(j: number, terms: readonly (readonly [number, number])[]): JacobianPoint | null {
  const arena = sakkeArena();
  const { F, loops } = arena;
  const size = F.size;
  if (tree === undefined || tree.capacity < terms.length) {
    const capacity = Math.max(terms.length, 160);
    const half = (capacity >> 1) + 1;
    tree = { a: F.alloc(2 * capacity), b: F.alloc(2 * capacity), dens: F.alloc(half), prefix: F.alloc(half), inv: F.alloc(), capacity };
  }
  const { dens, prefix, inv } = tree;
  let src = tree.a;
  let dst = tree.b;
  terms.forEach(([addr, neg], i) => loops.gather(src + 2 * size * i, addr, neg));
  let m = terms.length;
  while (m >= AFFINE_LEVEL_MIN) {
    const pairs = m >> 1;
    loops.pairPrep(src, pairs, dens, prefix);
    const product = F.read(prefix + (pairs - 1) * size);
    if (product === 0n) return null;
    F.write(inv, invMod(product, p));
    loops.pairFinish(src, dst, pairs, dens, prefix, inv);
    if (m % 2 === 1) loops.gather(dst + 2 * size * pairs, src + 2 * size * (m - 1), 0);
    [src, dst] = [dst, src];
    m = pairs + (m % 2);
  }
  loops.set(j, src, 0);
  for (let i = 1; i < m; i++) loops.madd(j, src + 2 * size * i, 0);
  return jacobianAt(j);
}

/** The Jacobian point at `j`, or null when Z = 0 (infinity or an exceptional addition). */
function jacobianAt(j: number): JacobianPoint | null {
  const F = sakkeArena().F;
  const z = F.read(j + 2 * F.size);
  if (z === 0n) return null;
  return [F.read(j), F.read(j + F.size), z];
}

/** The affine form of a Jacobian point with Z != 0. */
function affineOf([x, y, z]: JacobianPoint): AffinePoint {
  const zi = invMod(z, p);
  const zi2 = (zi * zi) % p;
  return { x: mod(x * zi2, p), y: mod(y * ((zi2 * zi) % p), p) };
}

/** [k]pt for k >= 0 (null for the point at infinity). */
export function multiplyWasm(k: bigint, pt: AffinePoint): AffinePoint | null {
  const j = multiplyWasmJacobian(k, pt);
  return j[2] === 0n ? null : affineOf(j);
}

/** [k]pt for k >= 0 in Jacobian form (Z = 0 for the point at infinity). */
export function multiplyWasmJacobian(k: bigint, pt: AffinePoint): JacobianPoint {
  if (k === 0n) return INFINITY;
  const arena = sakkeArena();
  const F = arena.F;
  const { j, plus } = registers();
  const size = F.size;
  F.write(plus, pt.x);
  F.write(plus + size, pt.y);
  F.write(j, pt.x);
  F.write(j + size, pt.y);
  F.write(j + 2 * size, 1n);
  const digits = naf(k);
  for (let i = 1; i < digits.length; i++) {
    arena.loops.dbl(j);
    const d = digits[i] as number;
    if (d !== 0) arena.loops.madd(j, plus, d < 0 ? 1 : 0);
  }
  return jacobianAt(j) ?? multiply(k, pt, p);
}

/**
 * The sum of affine points (null for infinity) computed in the module as for the tables (see
 * sumPoints), exact in every case: exceptions go to sakke-curve.ts's sumAffine.
 */
export function sumAffineWasm(points: readonly AffinePoint[]): AffinePoint | null {
  if (points.length === 0) return null;
  const F = sakkeArena().F;
  const block = F.allocBlock(2 * points.length);
  try {
    points.forEach((pt, i) => {
      F.write(block + 2 * F.size * i, pt.x);
      F.write(block + 2 * F.size * i + F.size, pt.y);
    });
    const { j } = registers();
    const sum = sumPoints(j, points.map((_, i) => [block + 2 * F.size * i, 0] as const));
    return sum === null ? sumAffine(points, p) : affineOf(sum);
  } finally {
    F.freeBlock(block, 2 * points.length);
  }
}

/**
 * The sum of table terms (from `WasmFixedBaseTable.terms`, of one or several tables) in affine
 * form, null for infinity; exact in every case: on an exception the terms are read back and
 * summed by sakke-curve.ts's sumAffine.
 */
export function sumTableTerms(terms: readonly (readonly [number, number])[]): AffinePoint | null {
  if (terms.length === 0) return null;
  const { j } = registers();
  const sum = sumPoints(j, terms);
  if (sum !== null) return affineOf(sum);
  const F = sakkeArena().F;
  const points = terms.map(([addr, neg]) => {
    const y = F.read(addr + F.size);
    return { x: F.read(addr), y: neg === 1 ? mod(-y, p) : y };
  });
  return sumAffine(points, p);
}

/** FixedBaseTable's points in the module's memory; [k]B by mixed additions there. */
export class WasmFixedBaseTable {
  readonly #base: AffinePoint;
  readonly #w: number;
  readonly #bits: number;
  readonly #perWindow: number;
  readonly #addr: number;

  /** Builds the table of `base` (see FixedBaseTable for `bits` and `w`). */
  constructor(base: AffinePoint, bits: number, w: number) {
    const table = new FixedBaseTable(base, p, bits, w);
    const { windows, perWindow } = table.shape;
    this.#addr = tableBlock(this, 2 * windows * perWindow, (function* () {
      for (let i = 0; i < windows; i++) {
        for (let d = 1; d <= perWindow; d++) {
          const pt = table.point(i, d);
          yield pt.x;
          yield pt.y;
        }
      }
    })());
    this.#base = base;
    this.#w = w;
    this.#bits = bits;
    this.#perWindow = perWindow;
  }

  /** [k]B in affine form (null for infinity), for 0 <= k < 2^bits. */
  multiplyAffine(k: bigint): AffinePoint | null {
    const j = this.multiply(k);
    return j[2] === 0n ? null : affineOf(j);
  }

  /** Whether [k]B is the affine point `pt` (compared in Jacobian form, no inversion). */
  multiplyEquals(k: bigint, pt: AffinePoint): boolean {
    const [x, y, z] = this.multiply(k);
    if (z === 0n) return false;
    const z2 = (z * z) % p;
    return mod(x - pt.x * z2, p) === 0n && mod(y - ((pt.y * z2) % p) * z, p) === 0n;
  }

  /** The table points whose sum is [k]B, as (address, negated) pairs for `sumTableTerms`. */
  terms(k: bigint): (readonly [number, number])[] {
    const step = 2 * sakkeArena().F.size;
    return signedWindowDigits(k, this.#w, this.#bits).map(
      ([i, d]) => [this.#addr + (i * this.#perWindow + (d > 0 ? d : -d) - 1) * step, d < 0 ? 1 : 0] as const,
    );
  }

  /** [k]B in Jacobian form (Z = 0 for infinity), for 0 <= k < 2^bits. */
  multiply(k: bigint): JacobianPoint {
    const terms = this.terms(k);
    if (terms.length === 0) return INFINITY;
    const sum = sumPoints(registers().j, terms);
    // Infinity, or an exceptional addition: the BigInt path is exact for both.
    return sum ?? multiply(k, this.#base, p);
  }
}
