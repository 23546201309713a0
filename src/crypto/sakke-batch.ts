/**
 * SAKKE encapsulation of one SSV to many identifiers under one KMS (RFC 6508 §6.2.1), as a GMK
 * fan-out needs it (TS 33.180 §5.7, Annex E.2: "the same GMK shall be encapsulated to each member
 * of the group"). The output is byte for byte what `encapsulateSsv` gives for each identifier
 * (encapsulation is deterministic); only the work is arranged differently:
 *
 *   R_i = [r_i·b_i mod q]P + [r_i]Z   the terms of both fixed-base tables summed together in the
 *                                     WebAssembly field (sakke-curve-wasm.ts: affine levels
 *                                     sharing one inversion, then mixed additions);
 *   g^r_i                             the fixed-base table of g in the same field.
 *
 * Wider tables (10-bit windows for P and Z by default, ~17 MB each in the module's memory,
 * built once per process or per KMS) cut the table terms per member from ~274 to ~206. Not
 * constant-time (see sakke.ts: r and the SSV steer table look-ups).
 */
import { bigIntToBytes, bytesToBigInt, concatBytes } from '../util/index.js';
import { CryptoError, ErrorCode, FormatError } from '../errors/index.js';
import { mod } from './fp.js';
import type { AffinePoint } from './sakke-curve.js';
import { sumTableTerms, WasmFixedBaseTable } from './sakke-curve-wasm.js';
import { WasmFp2PowTable } from './sakke-gt-wasm.js';
import { hashToIntegerRange } from './hash-to-integer-range.js';
import { SakkeParamSet1 } from './sakke-params.js';
import { encodeSakkePoint, type SakkePublicKey } from './sakke.js';

const { q } = SakkeParamSet1;
const L = SakkeParamSet1.bytes;
const N_BYTES = SakkeParamSet1.n / 8;
const TWO_N = 1n << BigInt(SakkeParamSet1.n);
const Q_BITS = q.toString(2).length;
const CLAUSE = 'RFC 6508 §6.2.1';

// Tables of the parameter set alone, built on first use per window width and shared: they hold
// public values only and are a pure function of the frozen parameters.
const pTables = new Map<number, WasmFixedBaseTable>();
const gTables = new Map<number, WasmFp2PowTable>();
const BASE: AffinePoint = Object.freeze({ x: SakkeParamSet1.px, y: SakkeParamSet1.py });
const pTable = (w: number): WasmFixedBaseTable => {
  let t = pTables.get(w);
  if (t === undefined) pTables.set(w, (t = new WasmFixedBaseTable(BASE, Q_BITS, w)));
  return t;
};
const gTable = (w: number): WasmFp2PowTable => {
  let t = gTables.get(w);
  if (t === undefined) gTables.set(w, (t = new WasmFp2PowTable(SakkeParamSet1.g, Q_BITS, w)));
  return t;
};

/** Window widths of the tables (bits); wider is faster per member and larger to build. */
export interface SakkeBatchOptions {
  /**
   * P and Z tables (default 10: ~53k points, ~17 MB in the module, ~2 s to build each; 12:
   * ~178k points, ~56 MB, ~7 s each, and fewer terms per member).
   */
  readonly pointWindow?: number;
  /** The g table (default 10: ~105k elements, ~18 MB in the module, ~1 s to build). */
  readonly gtWindow?: number;
}

/**
 * Encapsulates one SSV to many identifiers under one KMS public key. Holds the tables (public
 * values); one per KMS a GMS sends to.
 */
export class SakkeBatchEncapsulator {
  readonly kms: SakkePublicKey;
  readonly #zTable: WasmFixedBaseTable;
  readonly #pTable: WasmFixedBaseTable;
  readonly #gTable: WasmFp2PowTable;

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
    this.#zTable = new WasmFixedBaseTable(kms.point, Q_BITS, pw);
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
    const s = bytesToBigInt(ssv);
    return ids.map((id) => {
      if (id.length === 0 || id.length > 256) {
        throw new FormatError(ErrorCode.BAD_LENGTH, { field: 'sakke.identifier', rule: 'must be 1 to 256 octets', clause: 'RFC 6508 §2.2' });
      }
      const r = hashToIntegerRange(concatBytes(ssv, id), q); // step 1
      if (r === 0n) throw new CryptoError(ErrorCode.BAD_SCALAR, { field: 'sakke.ssv', rule: 'r must be non-zero', clause: CLAUSE });
      const rb = mod(r * bytesToBigInt(id), q);
      // Step 2: R = [r]([b]P + Z) = [r·b mod q]P + [r]Z.
      const pt = sumTableTerms([...(rb === 0n ? [] : this.#pTable.terms(rb)), ...this.#zTable.terms(r)]);
      if (pt === null) throw new CryptoError(ErrorCode.BAD_SCALAR, { field: 'sakke.R', rule: 'result is the point at infinity', clause: CLAUSE });
      // Step 3: H = SSV XOR HashToIntegerRange(g^r, 2^n).
      const h = s ^ hashToIntegerRange(bigIntToBytes(this.#gTable.powPfp(r), L), TWO_N);
      return concatBytes(encodeSakkePoint(pt), bigIntToBytes(h, N_BYTES));
    });
  }
}
