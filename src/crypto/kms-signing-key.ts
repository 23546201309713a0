/**
 * The KMS's ECDSA P-256 key pair for signing KMS certificates (TS 33.180 Annex D.3.2, the
 * SignedKmsCertificate of D.3.5.1 and example D.3.4.3: ecdsa-sha256, ds:KeyName naming the
 * signing KMS certificate). TS 33.180 names no other P-256 key of a KMS than its ECCSI pair: the
 * KSAK (secret) and the KPAK = [KSAK]G (RFC 6507 §4.2), which the Root KmsCertificate publishes as
 * PubAuthKey. So a certificate signed under the KSAK is checked with the PubAuthKey of the
 * certificate its KeyName names; no key has to be distributed besides the KMS certificate.
 * These are node:crypto KeyObjects (OpenSSL does the ECDSA); the pair is checked to match.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { CryptoError, ErrorCode } from '../errors/index.js';
import { decodePoint, mulBaseBytes } from './p256.js';
import { bytesToBigInt, equalBytes } from '../util/index.js';

const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

/** The P-256 public key of an uncompressed point 0x04 ‖ x ‖ y (e.g. a KPAK), checked on the curve. */
export function p256PublicKey(point: Uint8Array, field = 'kms.pubAuthKey'): KeyObject {
  decodePoint(point, field, 'RFC 6507 §4.2');
  return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64u(point.subarray(1, 33)), y: b64u(point.subarray(33, 65)) }, format: 'jwk' });
}

/** The KSAK as an ECDSA P-256 private key, checked against its KPAK (KPAK = [KSAK]G). */
export function kmsSigningKey(ksak: Uint8Array, kpak: Uint8Array): KeyObject {
  const d = ksak.length === 32 ? bytesToBigInt(ksak) : 0n;
  let ok = false;
  try {
    ok = d > 0n && equalBytes(mulBaseBytes(d), kpak);
  } catch {
    ok = false;
  }
  if (!ok) throw new CryptoError(ErrorCode.INVALID_KEY, { field: 'kms.ksak', rule: 'must be the secret of the KPAK (KPAK = [KSAK]G)', clause: 'RFC 6507 §4.2' });
  return createPrivateKey({
    key: { kty: 'EC', crv: 'P-256', d: b64u(ksak), x: b64u(kpak.subarray(1, 33)), y: b64u(kpak.subarray(33, 65)) },
    format: 'jwk',
  });
}
