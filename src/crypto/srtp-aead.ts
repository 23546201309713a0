/**
 * AEAD_AES_128_GCM for SRTP and SRTCP (RFC 7714), the transform TS 33.180 §7.5.1 and §9.4.8
 * mandate, on node:crypto's AES-GCM with the full 16-octet tag:
 *
 *   SRTP IV  (§8.1) = (00 00 || SSRC || ROC || SEQ) XOR session salt             12 octets
 *   SRTCP IV (§9.1) = (00 00 || SSRC || 00 00 || 0 || SRTCP index) XOR session salt
 *   sealed          = ciphertext || tag (16 octets)
 *
 * What is associated data and what is plaintext is the packet layer's business (formats/srtp).
 * Every failure to open is one CryptoError ERR_DECRYPT, with no hint of the cause.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { CryptoError, ErrorCode, FormatError } from '../errors/index.js';

/** The AEAD_AES_128_GCM tag length (RFC 7714 §14.2: 16 octets). */
export const SRTP_AEAD_TAG_LENGTH = 16;
/** The AEAD IV (nonce) length (RFC 7714 §8.1). */
export const SRTP_AEAD_IV_LENGTH = 12;

function checkSalt(salt: Uint8Array): void {
  if (salt.length !== SRTP_AEAD_IV_LENGTH) {
    throw new FormatError(ErrorCode.BAD_LENGTH, { field: 'srtp.sessionSalt', rule: 'must be 12 octets', clause: 'RFC 7714 §8.1' });
  }
}

/** The SRTP IV of RFC 7714 §8.1 (ROC and SSRC 32-bit, SEQ 16-bit, all unsigned). */
export function srtpAeadIv(salt: Uint8Array, ssrc: number, roc: number, seq: number): Uint8Array {
  checkSalt(salt);
  const iv = new Uint8Array(SRTP_AEAD_IV_LENGTH);
  const v = new DataView(iv.buffer);
  v.setUint32(2, ssrc >>> 0);
  v.setUint32(6, roc >>> 0);
  v.setUint16(10, seq & 0xffff);
  for (let i = 0; i < iv.length; i++) iv[i] = (iv[i] as number) ^ (salt[i] as number);
  return iv;
}

/** The SRTCP IV of RFC 7714 §9.1 (the 31-bit SRTCP index, E bit excluded). */
export function srtcpAeadIv(salt: Uint8Array, ssrc: number, srtcpIndex: number): Uint8Array {
  checkSalt(salt);
  const iv = new Uint8Array(SRTP_AEAD_IV_LENGTH);
  const v = new DataView(iv.buffer);
  v.setUint32(2, ssrc >>> 0);
  v.setUint32(8, srtcpIndex & 0x7fff_ffff);
  for (let i = 0; i < iv.length; i++) iv[i] = (iv[i] as number) ^ (salt[i] as number);
  return iv;
}

function checkKey(key: Uint8Array): void {
  if (key.length !== 16) {
    throw new FormatError(ErrorCode.BAD_LENGTH, { field: 'srtp.sessionKey', rule: 'must be 16 octets (AES-128)', clause: 'TS 33.180 §7.5.1' });
  }
}

/** AES-128-GCM: ciphertext || 16-octet tag of `plaintext` under `key`, `iv` and the AAD parts. */
export function srtpAeadSeal(
  key: Uint8Array,
  iv: Uint8Array,
  aad: readonly Uint8Array[],
  plaintext: Uint8Array,
): Uint8Array {
  checkKey(key);
  const c = createCipheriv('aes-128-gcm', key, iv, { authTagLength: SRTP_AEAD_TAG_LENGTH });
  for (const a of aad) c.setAAD(a);
  const out = new Uint8Array(plaintext.length + SRTP_AEAD_TAG_LENGTH);
  out.set(c.update(plaintext), 0);
  c.final();
  out.set(c.getAuthTag(), plaintext.length);
  return out;
}

/**
 * Opens ciphertext || tag; any failure (short input, wrong key, tampering) is CryptoError
 * ERR_DECRYPT naming `field` only.
 */
export function srtpAeadOpen(
  key: Uint8Array,
  iv: Uint8Array,
  aad: readonly Uint8Array[],
  sealed: Uint8Array,
  field: string,
): Uint8Array {
  checkKey(key);
  const failed = (): CryptoError =>
    new CryptoError(ErrorCode.DECRYPT, { field, rule: 'does not authenticate', clause: 'RFC 7714 §8, §9' });
  if (sealed.length < SRTP_AEAD_TAG_LENGTH) throw failed();
  const cut = sealed.length - SRTP_AEAD_TAG_LENGTH;
  const d = createDecipheriv('aes-128-gcm', key, iv, { authTagLength: SRTP_AEAD_TAG_LENGTH });
  d.setAuthTag(sealed.subarray(cut));
  for (const a of aad) d.setAAD(a);
  const out = new Uint8Array(d.update(sealed.subarray(0, cut)));
  try {
    d.final();
  } catch {
    out.fill(0);
    throw failed();
  }
  return out;
}
