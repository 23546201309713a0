/**
 * SAKKE encapsulation of one SSV to many identifiers under one KMS (RFC 6508 §6.2.1), as a GMK
 * fan-out needs it (TS 33.180 §5.7, Annex E.2: "the same GMK shall be encapsulated to each member
 * of the group"). The output is byte for byte what `encapsulateSsv` gives for each identifier
 * (encapsulation is deterministic); only the work is arranged differently:
 *
 *   R_i = [r_i·b_i mod q]P + [r_i]Z   the table terms of every member summed level by level,
 *                                     one batch inversion per level for all members together
 *                                     (Montgomery's trick), instead of one per level per member;
 *   g^r_i                             fixed-base table products, then one batch inversion for the
 *                                     PF_p values of all members.
 *
 * With n members the inversions cost ~10 per batch instead of ~10·n, and wider tables (10-bit
 * windows for P and Z by default, ~20 MB each, built once per process or per KMS) cut the table
 * terms per member from ~274 to ~206. What is left is ~1,400 products mod p per member (~2 µs
 * each with V8 BigInt on the bench machine): three per tree addition for the slope and the new
 * point, three for its share of the batch inversion, two per window of g^r. Hand-written on BigInt for the reasons fp.ts gives; not
 * constant-time (see sakke.ts: r and the SSV steer table look-ups).
 */
import { bigIntToBytes, bytesToBigInt, concatBytes } from '../util/index.js';
import { CryptoError, ErrorCode, FormatError } from '../errors/index.js';
import { batchInvert, mod } from './fp.js';
import { FixedBaseTable, type AffinePoint } from './sakke-curve.js';
import { hashToIntegerRange } from './hash-to-integer-range.js';
import { SakkeParamSet1 } from './sakke-params.js';
import { encodeSakkePoint, type SakkePublicKey } from './sakke.js';

const { p, q } = SakkeParamSet1;
const L = SakkeParamSet1.bytes;
const N_BYTES = SakkeParamSet1.n / 8;
const TWO_N = 1n << BigInt(SakkeParamSet1.n);
const Q_BITS = q.toString(2).length;
const CLAUSE = 'RFC 6508 §6.2.1';

/**
 * g^k in PF_p form as a pair (a, b) standing for a + b·i, by a fixed-base table of normalised
 * elements 1 + t·i (as sakke-gt.ts, which returns b/a at once; here the division is left to the
 * caller so that many of them share one inversion).
 */
class GtPowTable {
  readonly #w: number;
  readonly #windows: readonly (readonly bigint[])[];
  constructor(g: bigint, w: number) {
    this.#w = w;
    const count = Math.ceil(Q_BITS / w);
    const size = (1 << w) - 1;
    const as: bigint[] = [];
    const bs: bigint[] = [];
    let t = g;
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
        // Next base: the square of the 2^(w-1)-th entry, normalised (one inversion per window).
        const j = as.length - size + (1 << (w - 1)) - 1;
        const ha = as[j] as bigint;
        const hb = bs[j] as bigint;
        const [inv] = batchInvert([mod((ha + hb) * (ha - hb), p)], p);
        t = mod(2n * ha * hb * (inv as bigint), p);
      }
    }
    const inv = batchInvert(as.map((a) => mod(a, p)), p);
    const windows: bigint[][] = [];
    for (let i = 0; i < count; i++) {
      const row: bigint[] = [];
      for (let d = 0; d < size; d++) row.push(mod((bs[i * size + d] as bigint) * (inv[i * size + d] as bigint), p));
      windows.push(row);
    }
    this.#windows = windows;
  }

  /** (a, b) with b/a the PF_p value of g^k, 0 < k < 2^Q_BITS. */
  pow(k: bigint): readonly [bigint, bigint] {
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
    return [a, b];
  }
}

// Tables of the parameter set alone, built on first use per window width and shared: they hold
// public values only and are a pure function of the frozen parameters.
const pTables = new Map<number, FixedBaseTable>();
const gTables = new Map<number, GtPowTable>();
const BASE: AffinePoint = Object.freeze({ x: SakkeParamSet1.px, y: SakkeParamSet1.py });
const pTable = (w: number): FixedBaseTable => {
  let t = pTables.get(w);
  if (t === undefined) pTables.set(w, (t = new FixedBaseTable(BASE, p, Q_BITS, w)));
  return t;
};
const gTable = (w: number): GtPowTable => {
  let t = gTables.get(w);
  if (t === undefined) gTables.set(w, (t = new GtPowTable(SakkeParamSet1.g, w)));
  return t;
};

/** Window widths of the tables (bits); wider is faster per member and larger to build. */
export interface SakkeBatchOptions {
  /**
   * P and Z tables (default 10: ~53k points, ~20 MB, ~2 s to build each; 12: ~178k points,
   * ~150 MB, ~7 s each, and about 15 % less work per member).
   */
  readonly pointWindow?: number;
  /** The g table (default 10: ~105k elements, ~15 MB, ~1 s to build; 5 % faster than 8 bits). */
  readonly gtWindow?: number;
}

/**
 * Encapsulates one SSV to many identifiers under one KMS public key. Holds the tables (public
 * values); one per KMS a GMS sends to.
 */
export class SakkeBatchEncapsulator {
  readonly kms: SakkePublicKey;
  readonly #zTable: FixedBaseTable;
  readonly #pTable: FixedBaseTable;
  readonly #gTable: GtPowTable;

  constructor(kms: SakkePublicKey, o: SakkeBatchOptions = {}) {
    const pw = o.pointWindow ?? 10;
    const gw = o.gtWindow ?? 10;
    for (const [w, field] of [[pw, 'pointWindow'], [gw, 'gtWindow']] as const) {
      if (!Number.isInteger(w) || w < 2 || w > 12) {
        throw new FormatError(ErrorCode.BAD_VALUE, { field: `sakkeBatch.${field}`, rule: 'must be an integer from 2 to 12' });
      }
    }
    this.kms = kms;
    this.#pTable = pTable(pw);
    this.#zTable = new FixedBaseTable(kms.point, p, Q_BITS, pw);
    this.#gTable = gTable(gw);
  }

  /**
   * R || H (273 octets) for each identifier, as `encapsulateSsv(kms, id, ssv)` gives it
   * (RFC 6508 §6.2.1); the same errors for an SSV of the wrong length or a degenerate r.
   */
  encapsulate(ids: readonly Uint8Array[], ssv: Uint8Array): Uint8Array[] {
    if (ssv.length !== N_BYTES) {
      throw new FormatError(ErrorCode.BAD_LENGTH, { field: 'sakke.ssv', rule: `must be ${N_BYTES} octets`, clause: CLAUSE });
    }
    const rs: bigint[] = [];
    const lists: AffinePoint[][] = [];
    for (const id of ids) {
      if (id.length === 0 || id.length > 256) {
        throw new FormatError(ErrorCode.BAD_LENGTH, { field: 'sakke.identifier', rule: 'must be 1 to 256 octets', clause: 'RFC 6508 §2.2' });
      }
      const r = hashToIntegerRange(concatBytes(ssv, id), q); // step 1
      if (r === 0n) throw new CryptoError(ErrorCode.BAD_SCALAR, { field: 'sakke.ssv', rule: 'r must be non-zero', clause: CLAUSE });
      const rb = mod(r * bytesToBigInt(id), q);
      rs.push(r);
      // Step 2: R = [r]([b]P + Z) = [r·b mod q]P + [r]Z.
      lists.push([...(rb === 0n ? [] : this.#pTable.terms(rb)), ...this.#zTable.terms(r)]);
    }
    const points = sumAffineMany(lists);
    // Step 3: g^r, its PF_p values with one shared inversion, then the masks.
    const pairs = rs.map((r) => this.#gTable.pow(r));
    const inv = batchInvert(pairs.map(([a]) => mod(a, p)), p);
    const s = bytesToBigInt(ssv);
    return points.map((pt, i) => {
      if (pt === null) throw new CryptoError(ErrorCode.BAD_SCALAR, { field: 'sakke.R', rule: 'result is the point at infinity', clause: CLAUSE });
      const gr = mod(((pairs[i] as readonly [bigint, bigint])[1] % p) * (inv[i] as bigint), p);
      const h = s ^ hashToIntegerRange(bigIntToBytes(gr, L), TWO_N);
      return concatBytes(encodeSakkePoint(pt), bigIntToBytes(h, N_BYTES));
    });
  }
}

/**
 * The sums of several lists of affine points (null for infinity), each list added pairwise in a
 * tree as `sumAffine` (sakke-curve.ts) does, with every list's slopes of one level sharing one
 * batch inversion. Equal points are doubled, opposite points cancel.
 */
export function sumAffineMany(lists: readonly (readonly AffinePoint[])[]): (AffinePoint | null)[] {
  let levels: AffinePoint[][] = lists.map((l) => l.slice());
  for (;;) {
    const num: bigint[] = [];
    const den: bigint[] = [];
    const kind: number[][] = []; // per list, per pair: 0 add, 1 double, 2 cancel
    let work = false;
    for (const level of levels) {
      const kinds: number[] = [];
      for (let k = 0; k + 1 < level.length; k += 2) {
        work = true;
        const a = level[k] as AffinePoint;
        const b = level[k + 1] as AffinePoint;
        if (a.x !== b.x) {
          num.push(b.y - a.y);
          den.push(b.x - a.x);
          kinds.push(0);
        } else if (a.y === b.y && a.y !== 0n) {
          num.push(3n * (a.x * a.x - 1n)); // tangent slope 3(x^2 - 1)/(2y), a = -3
          den.push(a.y << 1n);
          kinds.push(1);
        } else {
          kinds.push(2);
        }
      }
      kind.push(kinds);
    }
    if (!work) break;
    // Denominators and numerators stay unreduced (|d| < p): the inverses and slopes are right
    // modulo p whatever the representatives, and x3, y3 are reduced into [0, p) below.
    const inv = den.length > 0 ? batchInvert(den, p) : [];
    let at = 0;
    levels = levels.map((level, li) => {
      const kinds = kind[li] as number[];
      const next: AffinePoint[] = [];
      for (let k = 0; k < kinds.length; k++) {
        if (kinds[k] === 2) continue;
        const a = level[2 * k] as AffinePoint;
        const b = level[2 * k + 1] as AffinePoint;
        const l = ((num[at] as bigint) * (inv[at] as bigint)) % p;
        at += 1;
        const x3 = mod(l * l - a.x - b.x, p);
        next.push({ x: x3, y: mod(l * (a.x - x3) - a.y, p) });
      }
      if (level.length % 2 === 1) next.push(level[level.length - 1] as AffinePoint);
      return next;
    });
  }
  return levels.map((l) => (l.length === 0 ? null : (l[0] as AffinePoint)));
}
