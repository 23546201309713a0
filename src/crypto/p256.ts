/**
 * P-256 as ECCSI uses it (RFC 6507 §4.1; MIKEY-SAKKE fixes NIST P-256 with SHA-256, RFC 6509 §2.1
 * and TS 33.180 Annex E). Scalar multiplications run on node:crypto (OpenSSL): [k]G through an ECDH
 * key object, and the x-coordinate of [k]Q through ECDH key agreement; a full [k]Q is recovered
 * from two such x-coordinates (see `mulPoint`). Point decoding, on-curve checks and single
 * additions use @noble/curves.
 *
 * Constant time: OpenSSL's P-256 scalar multiplication is constant-time; the BigInt scalar
 * arithmetic mod q and the noble affine additions used here are not. They handle public values
 * except the SSK arithmetic of signing and pair generation, whose timing varies with operand size.
 */
import { createECDH } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { bigIntToBytes, bytesToBigInt } from '../util/index.js';
import { invMod } from './fp.js';
import { CryptoError, ErrorCode, FormatError } from '../errors/index.js';

/** A P-256 point as noble represents it. */
export type P256Point = InstanceType<typeof p256.Point>;

const Point = p256.Point;
/** The order q of G (RFC 6507 §4.1 calls it q). */
export const Q = Point.CURVE().n;
/** The field prime p of P-256. */
export const P = Point.CURVE().p;
/** The base point G. */
export const G: P256Point = Point.BASE;
/** G as 0x04 || x || y, the form hashed into HS (RFC 6507 §5.1.1). */
export const G_BYTES = G.toBytes(false);

/** The residue of a mod q in [0, q). */
export const modQ = (a: bigint): bigint => {
  const r = a % Q;
  return r < 0n ? r + Q : r;
};

/** a^-1 mod q for a in [1, q) (Lehmer's extended Euclid, fp.ts); throws on 0. */
export function invQ(a: bigint): bigint {
  return invMod(a, Q);
}

/**
 * Decodes an uncompressed point 0x04 || x || y (65 octets) and checks that it lies on the curve
 * and is not the point at infinity.
 */
export function decodePoint(bytes: Uint8Array, field: string, clause: string): P256Point {
  if (bytes.length !== 65 || bytes[0] !== 0x04) {
    throw new FormatError(ErrorCode.BAD_LENGTH, {
      field,
      rule: 'must be an uncompressed P-256 point 0x04 || x || y of 65 octets',
      clause,
    });
  }
  try {
    const pt = Point.fromBytes(bytes);
    pt.assertValidity();
    return pt;
  } catch {
    throw new FormatError(ErrorCode.NOT_ON_CURVE, { field, rule: 'must lie on P-256', clause });
  }
}

/** 0x04 || x || y of a point that is not infinity. */
export const encodePoint = (pt: P256Point): Uint8Array => pt.toBytes(false);

/**
 * One ECDH object reused for every product: creating one costs as much as the product itself
 * (measured 15 us each), which would put signing above wolfSSL's time. It keeps the last scalar
 * set (possibly a signing nonce j) until the next call; anyone who can read that memory can read
 * the SSK it protects as well, so this adds no exposure beyond the process's own key material.
 */
const ecdh = createECDH('prime256v1');

/** [k]G as 0x04 || x || y for k in [1, q), computed by OpenSSL. */
export function mulBaseBytes(k: bigint): Uint8Array {
  if (k <= 0n || k >= Q) throw new RangeError('scalar out of range');
  ecdh.setPrivateKey(bigIntToBytes(k, 32));
  return new Uint8Array(ecdh.getPublicKey());
}

/** [k]G for k in [1, q), computed by OpenSSL. */
export function mulBase(k: bigint): P256Point {
  return Point.fromBytes(mulBaseBytes(k));
}

/** x([k]Q) for k in [1, q) and Q a valid point, computed by OpenSSL's ECDH. */
function mulX(k: bigint, pt: Uint8Array): bigint {
  ecdh.setPrivateKey(bigIntToBytes(k, 32));
  return bytesToBigInt(ecdh.computeSecret(pt));
}

/**
 * [k]Q for a valid point Q and k in [1, q). OpenSSL gives only x([k]Q) and x([k+1]Q); of the
 * two points with that x, the one whose sum with Q has x([k+1]Q) is [k]Q (the other, -[k]Q,
 * would need [2k]Q = O, impossible for a point of odd prime order).
 */
export function mulPoint(k: bigint, q: P256Point): P256Point {
  if (k <= 0n || k >= Q) throw new RangeError('scalar out of range');
  if (k === Q - 1n) return q.negate();
  const qBytes = q.toBytes(false);
  const x = mulX(k, qBytes);
  const cand = Point.fromBytes(new Uint8Array([0x02, ...bigIntToBytes(x, 32)]));
  const x1 = mulX(k + 1n, qBytes);
  const sum = cand.add(q);
  return !sum.is0() && sum.x === x1 ? cand : cand.negate();
}

/** Throws the uniform signature failure (STYLE.md §4: no hint of which check failed). */
export function signatureFailure(field: string, clause: string): never {
  throw new CryptoError(ErrorCode.SIGNATURE, { field, rule: 'signature does not verify', clause });
}
