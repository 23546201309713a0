/**
 * ECCSI: Elliptic Curve-based Certificateless Signatures for Identity-based encryption
 * (RFC 6507) on P-256 with SHA-256, as TS 33.180 uses it for MIKEY-SAKKE SIGN payloads and KMS
 * key material (§5.3, Annex E, Annex D.3.3).
 *
 *   KMS:     KSAK in [1, q-1], KPAK = [KSAK]G                                (RFC 6507 §4.2)
 *   pair:    v random, PVT = [v]G, HS = hash(G || KPAK || ID || PVT),
 *            SSK = KSAK + HS·v mod q                                          (§5.1.1)
 *   check:   KPAK = [SSK]G - [HS]PVT                                          (§5.1.2)
 *   sign:    J = [j]G, r = Jx, HE = hash(HS || r || M), s = j·(HE + r·SSK)^-1  (§5.2.1)
 *            Signature = r (32) || s (32) || PVT (65) = 129 octets
 *   verify:  Y = [HS]PVT + KPAK, J = [s]([HE]G + [r]Y), accept iff Jx = r      (§5.2.2)
 *
 * Speed: for a signer seen before, Y is cached and the check J = [s]([HE]G + [r]Y) is run as
 * the ECDSA-SHA256 verification of HS || r || M under public key Y with signature (r, s^-1),
 * which OpenSSL does natively: ECDSA computes [e·w]G + [r·w]Y with w = (s^-1)^-1 = s. ECDSA
 * compares x(J) mod q with r, so values of r where that differs from x(J) = r (r >= q, or
 * r < p - q so that x(J) = r + q is possible) take the exact path instead.
 *
 * Constant time: see p256.ts. SSK arithmetic in BigInt is not constant-time.
 */
import { createPublicKey, randomFillSync, verify, type KeyObject } from 'node:crypto';
import { sha256 } from './kdf.js';
import { bigIntToBytes, bytesToBigInt, concatBytes, toBase64Url, toHex, u32be } from '../util/index.js';
import { CryptoError, ErrorCode, FormatError } from '../errors/index.js';
import {
  G_BYTES,
  P,
  Q,
  decodePoint,
  invQ,
  modQ,
  mulBase,
  mulBaseBytes,
  mulPoint,
  signatureFailure,
  type P256Point,
} from './p256.js';

/** Length of an ECCSI signature r || s || PVT (RFC 6507 §3.3, TS 33.180 Annex E). */
export const ECCSI_SIGNATURE_LENGTH = 129;

/** A source of random octets; injected so vectors can be replayed (STYLE.md §7). */
export type Rng = (n: number) => Uint8Array;
// Random octets from a pooled CSPRNG buffer (one OpenSSL call per 4 KiB instead of per scalar).
const pool = new Uint8Array(4096);
let poolAt = pool.length;
const defaultRng: Rng = (n) => {
  if (n > pool.length) return randomFillSync(new Uint8Array(n));
  if (poolAt + n > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const out = pool.slice(poolAt, poolAt + n);
  pool.fill(0, poolAt, poolAt + n);
  poolAt += n;
  return out;
};


/** A random scalar in [1, q-1]; a source that keeps failing (64 draws) is an error, not a hang. */
function randomScalar(rng: Rng): bigint {
  for (let i = 0; i < 64; i++) {
    const k = bytesToBigInt(rng(32));
    if (k > 0n && k < Q) return k;
  }
  throw new CryptoError(ErrorCode.BAD_SCALAR, { field: 'eccsi.rng', rule: 'gave no scalar in [1, q-1] in 64 draws', clause: 'RFC 6507 §5.1.1' });
}

/**
 * Encodings already found to be points of P-256 (KPAKs, PVTs): a KMS makes many pairs under one
 * KPAK and a signer signs many times with one PVT, and decoding a point each time cost about 9 µs
 * of a ~48 µs pair generation or signature. Keyed by content (the bytes may be a caller's mutable
 * array); bounded. Only valid points are kept, so a bad one fails every time.
 */
const validPoints = new Set<string>();

/** Throws as decodePoint does unless `bytes` encode a point of P-256. */
function checkPoint(bytes: Uint8Array, field: string, clause: string): void {
  const key = toHex(bytes);
  if (validPoints.has(key)) return;
  decodePoint(bytes, field, clause);
  if (validPoints.size >= 256) validPoints.clear();
  validPoints.add(key);
}

function scalarOf(bytes: Uint8Array, field: string, clause: string): bigint {
  if (bytes.length !== 32) {
    throw new FormatError(ErrorCode.BAD_LENGTH, { field, rule: 'must be 32 octets', clause });
  }
  const k = bytesToBigInt(bytes);
  if (k === 0n || k >= Q) {
    throw new FormatError(ErrorCode.BAD_SCALAR, { field, rule: 'must be in [1, q-1]', clause });
  }
  return k;
}

/** An ECCSI KMS key pair: KSAK (secret, 32 octets) and KPAK (public, 0x04 || x || y). */
export interface EccsiKmsKey {
  readonly ksak: Uint8Array;
  readonly kpak: Uint8Array;
}

/** Makes a KMS key pair: KSAK random in [1, q-1], KPAK = [KSAK]G (RFC 6507 §4.2). */
export function generateEccsiKmsKey(rng: Rng = defaultRng): EccsiKmsKey {
  const ksak = randomScalar(rng);
  return Object.freeze({ ksak: bigIntToBytes(ksak, 32), kpak: mulBaseBytes(ksak) });
}

/** KPAK of a KSAK (RFC 6507 §4.2). */
export function eccsiKpakOf(ksak: Uint8Array): Uint8Array {
  return mulBaseBytes(scalarOf(ksak, 'eccsi.ksak', 'RFC 6507 §4.2'));
}

/** HS = hash(G || KPAK || ID || PVT), RFC 6507 §5.1.1 step 3. Inputs are not checked here. */
export function eccsiHs(kpak: Uint8Array, id: Uint8Array, pvt: Uint8Array): Uint8Array {
  return sha256(G_BYTES, kpak, id, pvt);
}

/** A user's signing pair: SSK (secret, 32 octets) and PVT (public, 0x04 || x || y). */
export interface EccsiPair {
  readonly ssk: Uint8Array;
  readonly pvt: Uint8Array;
}

/** The KMS makes (SSK, PVT) for an identifier (RFC 6507 §5.1.1). */
export function generateEccsiPair(kms: EccsiKmsKey, id: Uint8Array, rng: Rng = defaultRng): EccsiPair {
  const ksak = scalarOf(kms.ksak, 'eccsi.ksak', 'RFC 6507 §4.2');
  checkPoint(kms.kpak, 'eccsi.kpak', 'RFC 6507 §4.2');
  for (let i = 0; i < 64; i++) {
    const v = randomScalar(rng);
    const pvt = mulBaseBytes(v);
    const hs = bytesToBigInt(eccsiHs(kms.kpak, id, pvt));
    const ssk = modQ(ksak + hs * v);
    // §5.1.1 step 4: SSK must be non-zero (and a zero would fail validation anyway).
    if (ssk !== 0n) return Object.freeze({ ssk: bigIntToBytes(ssk, 32), pvt });
  }
  throw new CryptoError(ErrorCode.BAD_SCALAR, { field: 'eccsi.ssk', rule: 'stayed zero in 64 draws', clause: 'RFC 6507 §5.1.1' });
}

/**
 * Validates a received (SSK, PVT) pair: KPAK = [SSK]G - [HS]PVT (RFC 6507 §5.1.2). Throws a
 * CryptoError ERR_INVALID_KEY when it does not hold, a FormatError when an input is malformed.
 */
export function validateEccsiPair(kpak: Uint8Array, id: Uint8Array, pair: EccsiPair): void {
  const clause = 'RFC 6507 §5.1.2';
  const kpakPt = decodePoint(kpak, 'eccsi.kpak', clause);
  const pvtPt = decodePoint(pair.pvt, 'eccsi.pvt', clause);
  const ssk = scalarOf(pair.ssk, 'eccsi.ssk', clause);
  const hs = modQ(bytesToBigInt(eccsiHs(kpak, id, pair.pvt)));
  // [SSK]G - KPAK must equal [HS]PVT.
  const lhs = mulBase(ssk).subtract(kpakPt);
  const rhs = hs === 0n ? null : mulPoint(hs, pvtPt);
  const ok = rhs === null ? lhs.is0() : !lhs.is0() && lhs.equals(rhs);
  if (!ok) {
    throw new CryptoError(ErrorCode.INVALID_KEY, {
      field: 'eccsi.ssk',
      rule: 'KPAK must equal [SSK]G - [HS]PVT',
      clause,
    });
  }
}

/** The signer's keys and identity. */
export interface EccsiSigningKey extends EccsiPair {
  readonly kpak: Uint8Array;
  readonly id: Uint8Array;
}

/** Signs a message (RFC 6507 §5.2.1): returns r || s || PVT (129 octets). */
export function signEccsi(message: Uint8Array, key: EccsiSigningKey, rng: Rng = defaultRng): Uint8Array {
  const clause = 'RFC 6507 §5.2.1';
  const ssk = scalarOf(key.ssk, 'eccsi.ssk', clause);
  checkPoint(key.kpak, 'eccsi.kpak', clause);
  checkPoint(key.pvt, 'eccsi.pvt', clause);
  const hs = eccsiHs(key.kpak, key.id, key.pvt);
  for (let i = 0; i < 64; i++) {
    const j = randomScalar(rng);
    // r = x([j]G), the 32 octets after the 0x04 of OpenSSL's encoding.
    const rBytes = mulBaseBytes(j).slice(1, 33);
    const r = bytesToBigInt(rBytes);
    const he = bytesToBigInt(sha256(hs, rBytes, message));
    const t = modQ(he + r * ssk);
    if (t === 0n) continue; // §5.2.1 step 4: choose another j
    const s = modQ(invQ(t) * j);
    if (s === 0n) continue;
    return concatBytes(rBytes, bigIntToBytes(s, 32), key.pvt);
  }
  throw new CryptoError(ErrorCode.BAD_SCALAR, { field: 'eccsi.j', rule: 'no usable j in 64 draws', clause });
}

interface SignerEntry {
  readonly y: P256Point;
  key: KeyObject | undefined;
}

/** Decoded signature parts, checked for shape. */
function splitSignature(sig: Uint8Array): { r: bigint; s: bigint; pvt: Uint8Array } {
  if (sig.length !== ECCSI_SIGNATURE_LENGTH) {
    throw new FormatError(ErrorCode.BAD_LENGTH, {
      field: 'eccsi.signature',
      rule: 'must be r || s || PVT, 129 octets',
      clause: 'RFC 6507 §3.3',
    });
  }
  const r = bytesToBigInt(sig.subarray(0, 32));
  const s = bytesToBigInt(sig.subarray(32, 64));
  return { r, s, pvt: sig.slice(64) };
}

/**
 * Verifies ECCSI signatures (RFC 6507 §5.2.2), caching Y = [HS]PVT + KPAK per signer so a signer
 * seen before costs one native ECDSA verification. The cache holds public values only.
 */
export class EccsiVerifier {
  readonly #signers = new Map<string, SignerEntry>();
  readonly #max: number;
  /** `maxSigners` bounds the cache (least recently added entries are dropped first). */
  constructor(maxSigners = 4096) {
    if (!Number.isSafeInteger(maxSigners) || maxSigners < 1) throw new RangeError('maxSigners must be a positive integer');
    this.#max = maxSigners;
  }

  /** Throws a CryptoError ERR_SIGNATURE unless `sig` is a valid signature of `message` by `id`. */
  verify(message: Uint8Array, sig: Uint8Array, kpak: Uint8Array, id: Uint8Array): void {
    const clause = 'RFC 6507 §5.2.2';
    const { r, s, pvt } = splitSignature(sig);
    if (r === 0n || r >= P || s === 0n || s >= Q) signatureFailure('eccsi.signature', clause);
    const hs = eccsiHs(kpak, id, pvt);
    // Keyed by a hash of the length-prefixed inputs (not HS, whose input concatenation is
    // ambiguous), so a hit means these exact KPAK, ID and PVT verified a signature before.
    const cacheKey = toHex(sha256(u32be(kpak.length), kpak, u32be(id.length), id, pvt));
    const entry = this.#signers.get(cacheKey);
    if (entry === undefined) {
      // Step 1: PVT on the curve; step 4: Y = [HS]PVT + KPAK.
      const kpakPt = decodePoint(kpak, 'eccsi.kpak', clause);
      const pvtPt = decodePoint(pvt, 'eccsi.signature.pvt', clause);
      const hsq = modQ(bytesToBigInt(hs));
      const y = hsq === 0n ? kpakPt : mulPoint(hsq, pvtPt).add(kpakPt);
      if (y.is0()) signatureFailure('eccsi.signature', clause);
      if (!verifyExact(message, hs, r, s, y)) signatureFailure('eccsi.signature', clause);
      // Cached only once a signature verified, so failures cannot push signers out.
      if (this.#signers.size >= this.#max) {
        const oldest = this.#signers.keys().next();
        if (oldest.done !== true) this.#signers.delete(oldest.value);
      }
      this.#signers.set(cacheKey, { y, key: undefined });
      return;
    }
    const ok = r < Q && r >= P - Q ? verifyNative(message, hs, r, s, entry) : verifyExact(message, hs, r, s, entry.y);
    if (!ok) signatureFailure('eccsi.signature', clause);
  }
}

/** J = [s·HE]G + [s·r]Y, accept iff x(J) = r (steps 3, 5, 6). */
function verifyExact(message: Uint8Array, hs: Uint8Array, r: bigint, s: bigint, y: P256Point): boolean {
  const he = modQ(bytesToBigInt(sha256(hs, bigIntToBytes(r, 32), message)));
  const a = modQ(s * he);
  const b = modQ(s * r);
  const ja = a === 0n ? null : mulBase(a);
  const jb = b === 0n ? null : mulPoint(b, y);
  const j = ja === null ? jb : jb === null ? ja : ja.add(jb);
  return j !== null && !j.is0() && j.x === r;
}

/** The same check as ECDSA-SHA256 of HS || r || M under Y, signature (r, s^-1 mod q). */
function verifyNative(message: Uint8Array, hs: Uint8Array, r: bigint, s: bigint, entry: SignerEntry): boolean {
  if (entry.key === undefined) {
    const b64 = (n: bigint): string => toBase64Url(bigIntToBytes(n, 32));
    const jwk = { kty: 'EC', crv: 'P-256', x: b64(entry.y.x), y: b64(entry.y.y) };
    entry.key = createPublicKey({ key: jwk, format: 'jwk' });
  }
  const ecdsaSig = concatBytes(bigIntToBytes(r, 32), bigIntToBytes(invQ(s), 32));
  const data = concatBytes(hs, bigIntToBytes(r, 32), message);
  return verify('sha256', data, { key: entry.key, dsaEncoding: 'ieee-p1363' }, ecdsaSig);
}

/** Verifies one signature without a cache (RFC 6507 §5.2.2); throws ERR_SIGNATURE on failure. */
export function verifyEccsi(message: Uint8Array, sig: Uint8Array, kpak: Uint8Array, id: Uint8Array): void {
  new EccsiVerifier(1).verify(message, sig, kpak, id);
}
