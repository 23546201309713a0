/**
 * SAKKE, Sakai-Kasahara Key Encryption (RFC 6508) with parameter set 1 of RFC 6509, as
 * MIKEY-SAKKE (TS 33.180 Annex E) uses it to carry GMKs, PCKs, CSKs and the other keys.
 *
 *   KMS:          z in [2, q-1], Z = [z]P                                    (RFC 6508 §2.2)
 *   RSK of b:     K_b = [(b + z)^-1]P                                         (§6.1.1)
 *   RSK check:    <[b]P + Z, K_b> = g                                         (§6.1.2)
 *   encapsulate:  r = HashToIntegerRange(SSV || b, q), R = [r]([b]P + Z),
 *                 H = SSV XOR HashToIntegerRange(g^r, 2^n); data = R || H     (§6.2.1)
 *   decapsulate:  w = <R, K_b>, SSV = H XOR HashToIntegerRange(w, 2^n), and R must equal
 *                 [HashToIntegerRange(SSV || b, q)]([b]P + Z)                  (§6.2.2)
 * Points travel as 0x04 || x || y (257 octets), the encapsulated data as R || H (273 octets).
 * Elements of the order-q subgroup of F_p^2 are written in PF_p form (RFC 6508 §2.1): a + b·i
 * is represented by the integer b/a mod p; g and g^r are in that form.
 *
 * Speed: the pairing's Miller loops, the RSK check's [b]K_b, the fixed-base tables of P on the
 * KMS side (RSK extraction, Z) and of a cached peer's and the holder's own I_b, and g^r run in a
 * WebAssembly field generated for p (fp-wasm.ts, sakke-arena.ts: Montgomery products with lazy
 * reduction, whole Miller loops in the module); identity points [b]P + Z and encapsulation to a
 * new peer use BigInt tables (fp.ts, sakke-curve.ts). The RSK's Miller lines are precomputed once per key (prepareRsk), so a
 * decapsulation is one line evaluation per step; an RSK check is the product <P, [b]K_b>·<Z, K_b>
 * over the precomputed lines of P and Z.
 *
 * Not constant-time. BigInt and WebAssembly arithmetic (and the table lookups by secret digits)
 * leak timing on: z (RSK extraction, KMS side), the RSK and its lines (decapsulation), r and SSV
 * (encapsulation). This matches deployments where the
 * KMS runs on dedicated hardware and clients' timing is not observable at that resolution;
 * it is stated here so nobody assumes otherwise.
 */
import { randomBytes } from 'node:crypto';
import { bigIntToBytes, bytesToBigInt, concatBytes, equalBytes } from '../util/index.js';
import { CryptoError, ErrorCode, FormatError } from '../errors/index.js';
import { invMod, mod } from './fp.js';
import { FixedBaseTable, isOnCurve, sumAffine, type AffinePoint } from './sakke-curve.js';
import {
  finalExponentiation,
  millerValue,
  pfpValue,
  precomputeLines,
  type Fp2,
} from './sakke-pairing.js';
import { hashToIntegerRange } from './hash-to-integer-range.js';
import { millerValueProductWasm, millerValueWasm, precomputeLinesWasm, type WasmMillerLines } from './sakke-pairing-wasm.js';
import { multiplyWasmJacobian, WasmFixedBaseTable } from './sakke-curve-wasm.js';
import { SakkeParamSet1 } from './sakke-params.js';
import { WasmFp2PowTable } from './sakke-gt-wasm.js';

/** A source of random octets. */
export type Rng = (n: number) => Uint8Array;
const defaultRng: Rng = (n) => new Uint8Array(randomBytes(n));

const { p, q } = SakkeParamSet1;
const L = SakkeParamSet1.bytes; // octets of an F_p element
const N_BYTES = SakkeParamSet1.n / 8; // octets of an SSV
const TWO_N = 1n << BigInt(SakkeParamSet1.n);
const BASE: AffinePoint = Object.freeze({ x: SakkeParamSet1.px, y: SakkeParamSet1.py });

/** Octets of an encoded point, 0x04 || x || y. */
export const SAKKE_POINT_LENGTH = 2 * L + 1;
/** Octets of encapsulated data R || H. */
export const SAKKE_ENCAPSULATED_LENGTH = SAKKE_POINT_LENGTH + N_BYTES;
/** Octets of an SSV. */
export const SAKKE_SSV_LENGTH = N_BYTES;

// Tables derived from the parameter set alone, built on first use and shared (they hold public
// values only, and are a pure function of the frozen parameters).
const Q_BITS = q.toString(2).length;
let baseTable: FixedBaseTable | undefined;
let kmsTable: WasmFixedBaseTable | undefined;
let baseLines: WasmMillerLines | undefined;
let gTable: WasmFp2PowTable | undefined;
/** [k]P for clients (encapsulation, identity points): 8-bit windows, ~16k points, ~0.5 s to build. */
const pTable = (): FixedBaseTable => (baseTable ??= new FixedBaseTable(BASE, p, Q_BITS, 8));
/**
 * [k]P for the KMS (master key, RSK extraction): 10-bit windows, 103 table points per product,
 * about 53k points (17 MB of the WebAssembly module's memory) built once per process. Only
 * KMS-side functions use it.
 */
const kmsPTable = (): WasmFixedBaseTable => (kmsTable ??= new WasmFixedBaseTable(BASE, Q_BITS, 10));
const pLines = (): WasmMillerLines => (baseLines ??= precomputeLinesWasm(BASE));
const gPow = (): WasmFp2PowTable => (gTable ??= new WasmFp2PowTable(SakkeParamSet1.g, Q_BITS, 8));

/** Encodes a point as 0x04 || x || y (RFC 6508 §2.1, RFC 6509 §4.2). */
export function encodeSakkePoint(pt: AffinePoint): Uint8Array {
  return concatBytes(Uint8Array.of(0x04), bigIntToBytes(pt.x, L), bigIntToBytes(pt.y, L));
}

/** Decodes and checks a point of E(F_p): length, 0x04 prefix, coordinates below p, on the curve. */
export function decodeSakkePoint(bytes: Uint8Array, field: string, clause: string): AffinePoint {
  if (bytes.length !== SAKKE_POINT_LENGTH || bytes[0] !== 0x04) {
    throw new FormatError(ErrorCode.BAD_LENGTH, {
      field,
      rule: `must be 0x04 || x || y, ${SAKKE_POINT_LENGTH} octets`,
      clause,
    });
  }
  const pt = { x: bytesToBigInt(bytes.subarray(1, 1 + L)), y: bytesToBigInt(bytes.subarray(1 + L)) };
  if (!isOnCurve(pt, p)) {
    throw new FormatError(ErrorCode.NOT_ON_CURVE, { field, rule: 'must lie on E: y^2 = x^3 - 3x', clause });
  }
  if (pt.y === 0n) {
    throw new FormatError(ErrorCode.NOT_IN_SUBGROUP, {
      field,
      rule: 'must be a point of order q (y = 0 is a point of order 2)',
      clause,
    });
  }
  return pt;
}

function affineOf(a: AffinePoint | null, field: string, clause: string): AffinePoint {
  if (a === null) {
    throw new CryptoError(ErrorCode.BAD_SCALAR, { field, rule: 'result is the point at infinity', clause });
  }
  return a;
}

/** The identifier b as an integer, as RFC 6508 uses it in [b]P. */
function identifierScalar(id: Uint8Array): bigint {
  if (id.length === 0 || id.length > 256) {
    throw new FormatError(ErrorCode.BAD_LENGTH, {
      field: 'sakke.identifier',
      rule: 'must be 1 to 256 octets',
      clause: 'RFC 6508 §2.2',
    });
  }
  return bytesToBigInt(id);
}

/** PF_p form b/a of a + b·i (RFC 6508 §2.1). */
const pfp = (v: Fp2): bigint => pfpValue(v, p);

/** HashToIntegerRange(Canonical(w), 2^n) of a PF_p value (RFC 6508 §6.2.1 step 3). */
const maskOf = (w: bigint): bigint => hashToIntegerRange(bigIntToBytes(w, L), TWO_N);

/** r = HashToIntegerRange(SSV || b, q) (RFC 6508 §6.2.1 step 1). */
const rOf = (ssv: Uint8Array, id: Uint8Array): bigint => hashToIntegerRange(concatBytes(ssv, id), q);

// ------------------------------------------------------------------------------------------------
// KMS

/** A SAKKE KMS key: the master secret z (128 octets) and public key Z (257 octets). */
export interface SakkeKmsKey {
  readonly z: Uint8Array;
  readonly zT: Uint8Array;
}

function masterSecret(z: Uint8Array): bigint {
  const v = bytesToBigInt(z);
  if (z.length !== L || v < 2n || v >= q) {
    throw new FormatError(ErrorCode.BAD_SCALAR, {
      field: 'sakke.z',
      rule: `must be ${L} octets holding an integer in [2, q-1]`,
      clause: 'RFC 6508 §2.2',
    });
  }
  return v;
}

/** Makes a KMS master secret z and public key Z = [z]P (RFC 6508 §2.2). */
export function generateSakkeKmsKey(rng: Rng = defaultRng): SakkeKmsKey {
  for (;;) {
    const z = bytesToBigInt(rng(L + 16)) % q;
    if (z < 2n) continue;
    const zBytes = bigIntToBytes(z, L);
    return Object.freeze({ z: zBytes, zT: sakkePublicKeyOf(zBytes) });
  }
}

/** Z = [z]P for a master secret (RFC 6508 §2.2). */
export function sakkePublicKeyOf(z: Uint8Array): Uint8Array {
  return encodeSakkePoint(affineOf(kmsPTable().multiplyAffine(masterSecret(z)), 'sakke.z', 'RFC 6508 §2.2'));
}

/** The RSK K_b = [(b + z)^-1]P of an identifier (RFC 6508 §6.1.1). */
export function extractRsk(z: Uint8Array, id: Uint8Array): Uint8Array {
  const zz = masterSecret(z);
  const t = mod(identifierScalar(id) + zz, q);
  if (t === 0n) {
    throw new CryptoError(ErrorCode.BAD_SCALAR, {
      field: 'sakke.identifier',
      rule: 'b + z must be non-zero mod q',
      clause: 'RFC 6508 §6.1.1',
    });
  }
  return encodeSakkePoint(affineOf(kmsPTable().multiplyAffine(invMod(t, q)), 'sakke.rsk', 'RFC 6508 §6.1.1'));
}

// ------------------------------------------------------------------------------------------------
// Public side: a KMS public key and what is derived from it

/**
 * A KMS public key Z_T prepared for use: decoded, checked to be of order q, with its fixed-base
 * table built on first use. One per KMS a client trusts.
 */
export class SakkePublicKey {
  readonly #encoded: Uint8Array;
  readonly point: AffinePoint;
  /** The Miller lines of Z (for RSK checks); computing them proves Z has order q. */
  readonly lines: WasmMillerLines;
  #table: FixedBaseTable | undefined;

  constructor(zT: Uint8Array) {
    const clause = 'RFC 6508 §2.2';
    this.point = decodeSakkePoint(zT, 'sakke.pubEncKey', clause);
    try {
      this.lines = precomputeLinesWasm(this.point);
    } catch {
      throw new FormatError(ErrorCode.NOT_IN_SUBGROUP, {
        field: 'sakke.pubEncKey',
        rule: 'must be a point of order q',
        clause,
      });
    }
    this.#encoded = zT.slice();
  }

  /** Z_T as 0x04 || x || y (a copy). */
  get encoded(): Uint8Array {
    return this.#encoded.slice();
  }

  /** The table terms whose sum is [k]Z (see FixedBaseTable.terms). */
  terms(k: bigint): AffinePoint[] {
    this.#table ??= new FixedBaseTable(this.point, p, Q_BITS, 7);
    return this.#table.terms(k);
  }

  /** I_b = [b]P + Z (RFC 6508 §6.2.1 step 2). */
  identityPoint(id: Uint8Array): AffinePoint {
    const b = mod(identifierScalar(id), q);
    const terms = b === 0n ? [] : pTable().terms(b);
    return affineOf(sumAffine([...terms, this.point], p), 'sakke.identifier', 'RFC 6508 §6.2.1');
  }
}

/**
 * A peer (recipient identity) prepared for repeated encapsulation: a fixed-base table of its
 * I_b = [b]P + Z (8-bit windows: 16.5k points; measured 0.54 s to build, 5.6 MB of heap). Build one for peers
 * written to often; `encapsulateSsv` without it uses the P and Z tables.
 */
export class SakkePeer {
  readonly kms: SakkePublicKey;
  readonly #id: Uint8Array;
  readonly #table: WasmFixedBaseTable;
  constructor(kms: SakkePublicKey, id: Uint8Array) {
    this.kms = kms;
    this.#id = id.slice();
    this.#table = new WasmFixedBaseTable(kms.identityPoint(id), Q_BITS, 8);
  }
  /** The peer's identifier (a copy). */
  get id(): Uint8Array {
    return this.#id.slice();
  }
  /** Whether this peer is `id` under `kms`. */
  matches(kms: SakkePublicKey, id: Uint8Array): boolean {
    return this.kms === kms && equalBytes(this.#id, id);
  }
  /** [r]I_b (null for infinity). */
  multiply(r: bigint): AffinePoint | null {
    return this.#table.multiplyAffine(r);
  }
}

/**
 * Encapsulates an SSV (n/8 = 16 octets) to identifier `id` under KMS public key `kms`
 * (RFC 6508 §6.2.1); returns R || H (273 octets). Deterministic for a given SSV and id.
 */
export function encapsulateSsv(kms: SakkePublicKey, id: Uint8Array, ssv: Uint8Array, peer?: SakkePeer): Uint8Array {
  const clause = 'RFC 6508 §6.2.1';
  if (ssv.length !== N_BYTES) {
    throw new FormatError(ErrorCode.BAD_LENGTH, { field: 'sakke.ssv', rule: `must be ${N_BYTES} octets`, clause });
  }
  const r = rOf(ssv, id);
  if (r === 0n) throw new CryptoError(ErrorCode.BAD_SCALAR, { field: 'sakke.ssv', rule: 'r must be non-zero', clause });
  let rPoint: AffinePoint | null;
  if (peer !== undefined && peer.matches(kms, id)) {
    rPoint = peer.multiply(r);
  } else {
    // [r]([b]P + Z) = [r·b mod q]P + [r]Z, all table terms summed in one tree.
    const rb = mod(r * identifierScalar(id), q);
    rPoint = sumAffine([...(rb === 0n ? [] : pTable().terms(rb)), ...kms.terms(r)], p);
  }
  const R = affineOf(rPoint, 'sakke.R', clause);
  const gr = gPow().powPfp(r);
  const h = bytesToBigInt(ssv) ^ maskOf(gr);
  return concatBytes(encodeSakkePoint(R), bigIntToBytes(h, N_BYTES));
}

/** The uniform decapsulation failure (STYLE.md §4: no hint of which check failed). */
function decryptFailure(): never {
  throw new CryptoError(ErrorCode.DECRYPT, {
    field: 'sakke.encapsulatedData',
    rule: 'does not decapsulate',
    clause: 'RFC 6508 §6.2.2',
  });
}

/**
 * Checks an RSK against its identifier and KMS public key exactly as RFC 6508 §6.1.2 says:
 * <[b]P + Z, K_b> = g. Computed as the product <P, [b]K_b>·<Z, K_b> over the precomputed lines of
 * the fixed points P and Z (bilinearity), sharing the squarings. Like the RFC's check, this does
 * not see a 4-torsion component of K_b; prepareRsk additionally proves K_b has order q.
 * Throws CryptoError ERR_INVALID_KEY when the check fails, a FormatError for a malformed point.
 */
export function validateRsk(kms: SakkePublicKey, id: Uint8Array, rsk: Uint8Array): void {
  const clause = 'RFC 6508 §6.1.2';
  const k = decodeSakkePoint(rsk, 'sakke.rsk', clause);
  const b = mod(identifierScalar(id), q);
  // [b]K_b in Jacobian form; infinity (Z = 0) pairs to 1, a point of order 2 (Y = 0) fails.
  const bk = b === 0n ? null : multiplyWasmJacobian(b, k);
  let v: Fp2 | null;
  if (bk === null || bk[2] % p === 0n) v = millerValueWasm(kms.lines, k);
  else if (bk[1] % p === 0n) v = null;
  else v = millerValueProductWasm(pLines(), bk, kms.lines, k);
  // PF_p form b/a = g, checked as b = g·a (no inversion).
  const w = v === null ? null : finalExponentiation(v, p);
  if (w === null || w.a % p === 0n || mod(w.b - SakkeParamSet1.g * w.a, p) !== 0n) {
    throw new CryptoError(ErrorCode.INVALID_KEY, {
      field: 'sakke.rsk',
      rule: '<[b]P + Z, RSK> must equal g',
      clause,
    });
  }
}

/**
 * An RSK validated and prepared for decapsulation: its Miller lines (secret: derived from the
 * RSK) and a fixed-base table of the holder's own I_b for the re-derivation check.
 */
export class SakkeRecipient {
  readonly #id: Uint8Array;
  readonly kms: SakkePublicKey;
  readonly #lines: WasmMillerLines;
  #own: WasmFixedBaseTable | undefined;
  readonly #identity: AffinePoint;
  /** @internal use prepareRsk */
  constructor(kms: SakkePublicKey, id: Uint8Array, lines: WasmMillerLines, identity: AffinePoint) {
    this.kms = kms;
    this.#id = id.slice();
    this.#lines = lines;
    this.#identity = identity;
  }

  /** The holder's identifier (a copy). */
  get id(): Uint8Array {
    return this.#id.slice();
  }

  /** Decapsulates R || H (RFC 6508 §6.2.2); returns the SSV or throws ERR_DECRYPT. */
  decapsulate(data: Uint8Array): Uint8Array {
    const clause = 'RFC 6508 §6.2.2';
    if (data.length !== SAKKE_ENCAPSULATED_LENGTH) {
      throw new FormatError(ErrorCode.BAD_LENGTH, {
        field: 'sakke.encapsulatedData',
        rule: `must be R || H, ${SAKKE_ENCAPSULATED_LENGTH} octets`,
        clause,
      });
    }
    const R = decodeSakkePoint(data.subarray(0, SAKKE_POINT_LENGTH), 'sakke.encapsulatedData.R', clause);
    const h = bytesToBigInt(data.subarray(SAKKE_POINT_LENGTH));
    // w = <R, K_b> = <K_b, R>: the RSK's lines evaluated at R. R has y != 0 (checked on decode)
    // and every line value has imaginary part 1, so the Miller value is a unit: a != 0 below.
    const v = finalExponentiation(millerValueWasm(this.#lines, R), p);
    if (v.a % p === 0n) decryptFailure();
    const w = pfp(v);
    const ssv = bigIntToBytes(h ^ maskOf(w), N_BYTES);
    const r = rOf(ssv, this.#id);
    if (r === 0n) decryptFailure();
    this.#own ??= new WasmFixedBaseTable(this.#identity, Q_BITS, 8);
    // TEST = [r]I_b must equal R.
    if (!this.#own.multiplyEquals(r, R)) decryptFailure();
    return ssv;
  }
}

/**
 * Validates an RSK (RFC 6508 §6.1.2: <[b]P + Z, K_b> = g; and K_b of order q) and prepares it
 * for decapsulation.
 */
export function prepareRsk(kms: SakkePublicKey, id: Uint8Array, rsk: Uint8Array): SakkeRecipient {
  const clause = 'RFC 6508 §6.1.2';
  const k = decodeSakkePoint(rsk, 'sakke.rsk', clause);
  let lines: WasmMillerLines;
  try {
    lines = precomputeLinesWasm(k);
  } catch {
    throw new CryptoError(ErrorCode.INVALID_KEY, { field: 'sakke.rsk', rule: 'must be a point of order q', clause });
  }
  const identity = kms.identityPoint(id);
  const w = pfp(finalExponentiation(millerValueWasm(lines, identity), p));
  if (w !== SakkeParamSet1.g) {
    throw new CryptoError(ErrorCode.INVALID_KEY, {
      field: 'sakke.rsk',
      rule: '<[b]P + Z, RSK> must equal g',
      clause,
    });
  }
  return new SakkeRecipient(kms, id, lines, identity);
}

/** Decapsulates with an RSK given as bytes (validates and prepares it first; see prepareRsk). */
export function decapsulateSsv(kms: SakkePublicKey, id: Uint8Array, rsk: Uint8Array, data: Uint8Array): Uint8Array {
  return prepareRsk(kms, id, rsk).decapsulate(data);
}

/** The pairing <A, B> in PF_p form, for tests and tools (RFC 6508 §3.2). */
export function sakkePairing(a: AffinePoint, b: AffinePoint): bigint {
  return pfp(finalExponentiation(millerValue(precomputeLines(a, p, q), b, p), p));
}

/** The parameter set's base point P. */
export const SAKKE_BASE_POINT: AffinePoint = BASE;
