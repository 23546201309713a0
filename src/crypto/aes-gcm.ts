/**
 * AEAD_AES_128_GCM and AEAD_AES_256_GCM (RFC 5116 §5.1, §5.2) on node:crypto, with a 16-octet
 * authentication tag and the IV length the caller's format fixes. GCM takes IVs of any length
 * (NIST SP 800-38D §7.1: a 96-bit IV is used as J0 directly, others through GHASH); TS 33.180
 * Table 8.5.4.2-1 sets 128 bits for the MCData payload protection, which RFC 5116's 12-octet
 * nonce profile does not cover, so the length is a parameter here (at least 12 octets).
 *
 * Sealed output is ciphertext || tag. Opening fails as one CryptoError ERR_DECRYPT, whatever went
 * wrong (wrong key, IV, AD, ciphertext or tag), with no hint of which.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { CryptoError, ErrorCode, FormatError } from '../errors/index.js';
import { concatBytes } from '../util/index.js';

/** The AEAD authentication tag length, octets (Tables 8.5.4.2-1 / -2: 128 bits). */
export const AES_GCM_TAG_LENGTH = 16;

function cipherName(key: Uint8Array, field: string): 'aes-128-gcm' | 'aes-256-gcm' {
  if (key.length === 16) return 'aes-128-gcm';
  if (key.length === 32) return 'aes-256-gcm';
  throw new FormatError(ErrorCode.BAD_LENGTH, { field, rule: 'must be 16 or 32 octets (AES-128 or AES-256)', clause: 'RFC 5116 §5.1, §5.2' });
}

function checkIv(iv: Uint8Array, field: string): void {
  if (iv.length < 12) {
    throw new FormatError(ErrorCode.BAD_LENGTH, { field, rule: 'must be at least 12 octets', clause: 'NIST SP 800-38D §8.2' });
  }
}

/** Encrypts and authenticates: ciphertext || 16-octet tag (RFC 5116 §2.1). */
export function sealAesGcm(key: Uint8Array, iv: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const name = cipherName(key, 'aesGcm.key');
  checkIv(iv, 'aesGcm.iv');
  const cipher = createCipheriv(name, key, iv, { authTagLength: AES_GCM_TAG_LENGTH });
  cipher.setAAD(ad);
  // node:crypto hands over Buffers; concatBytes copies them into one plain Uint8Array.
  return concatBytes(cipher.update(plaintext), cipher.final(), cipher.getAuthTag());
}

/**
 * Checks and decrypts ciphertext || tag (RFC 5116 §2.2). Any failure is CryptoError ERR_DECRYPT
 * naming `field`.
 */
export function openAesGcm(key: Uint8Array, iv: Uint8Array, ad: Uint8Array, sealed: Uint8Array, field = 'aesGcm'): Uint8Array {
  const name = cipherName(key, 'aesGcm.key');
  checkIv(iv, 'aesGcm.iv');
  if (sealed.length < AES_GCM_TAG_LENGTH) throw failed(field);
  const body = sealed.subarray(0, sealed.length - AES_GCM_TAG_LENGTH);
  const tag = sealed.subarray(sealed.length - AES_GCM_TAG_LENGTH);
  try {
    const decipher = createDecipheriv(name, key, iv, { authTagLength: AES_GCM_TAG_LENGTH });
    decipher.setAAD(ad);
    decipher.setAuthTag(tag);
    const head = decipher.update(body);
    const tail = decipher.final(); // throws when the tag does not verify
    const out = concatBytes(head, tail);
    head.fill(0);
    return out;
  } catch {
    throw failed(field);
  }
}

const failed = (field: string): CryptoError =>
  new CryptoError(ErrorCode.DECRYPT, { field, rule: 'does not decrypt (AEAD authentication failed)', clause: 'RFC 5116 §2.2' });
