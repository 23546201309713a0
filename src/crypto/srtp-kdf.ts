/**
 * SRTP session keys from a master key: the AES-CM PRF of RFC 3711 §4.3 with key derivation rate 0
 * (TS 33.180 §7.5.1 and §9.4.8: session keys are never refreshed, so r = index DIV kdr = 0):
 *
 *     key_id = label || r               (label 8 bits, r = 0 on 48 bits)
 *     x      = key_id XOR master_salt   (right-aligned in 112 bits, RFC 3711 §4.3.1)
 *     out    = AES-CTR(master key, IV = x * 2^16), first n octets (RFC 3711 §4.3.3)
 *
 * labels (RFC 3711 §4.3.1, §4.3.2): 0x00 SRTP encryption, 0x01 SRTP authentication, 0x02 SRTP
 * salt, 0x03 SRTCP encryption, 0x04 SRTCP authentication, 0x05 SRTCP salt.
 *
 * A 96-bit master salt (AEAD_AES_128_GCM, RFC 7714 §11) fills the most significant 96 of the 112
 * salt bits, the low 16 bits zero: libsrtp lays it out so, and interop with it holds.
 *
 * SRTCP and RFC 3711 Errata ID 3712 (the note of TS 33.180 §9.4.8): §4.3.2 as published replaces
 * the 48-bit SRTP index by the 32-bit 0 || SRTCP index, which makes r 32 bits and moves the label
 * 16 bits lower in x; the erratum keeps r at 48 bits for SRTCP as for SRTP, and so do libsrtp and
 * NIST SP 800-135r1. mcsec follows the erratum (`srtcpIndexBits` 48, the default); 32 gives the
 * published text, for peers that implement it. With kdr 0, r is zero either way: only the label's
 * position differs, and with it every SRTCP session key.
 */
import { createCipheriv } from 'node:crypto';
import { ErrorCode, FormatError } from '../errors/index.js';
import type { SrtpMaster } from './srtp-key-derivation.js';

/** Key derivation labels of RFC 3711 §4.3.1 / §4.3.2. */
export const SrtpLabel = Object.freeze({
  RTP_ENCRYPTION: 0x00,
  RTP_AUTHENTICATION: 0x01,
  RTP_SALT: 0x02,
  RTCP_ENCRYPTION: 0x03,
  RTCP_AUTHENTICATION: 0x04,
  RTCP_SALT: 0x05,
} as const);

/** Width of r in key_id = label || r: 48 (SRTP; SRTCP per Errata 3712) or 32 (SRTCP as published). */
export type SrtpIndexBits = 48 | 32;

const cipherOf = (key: Uint8Array): 'aes-128-ctr' | 'aes-192-ctr' | 'aes-256-ctr' | undefined =>
  key.length === 16 ? 'aes-128-ctr' : key.length === 24 ? 'aes-192-ctr' : key.length === 32 ? 'aes-256-ctr' : undefined;

/**
 * The AES-CM PRF of RFC 3711 §4.3.3 with kdr 0: `length` octets for `label` from the master key
 * (16, 24 or 32 octets) and master salt (14 octets, or 12 for the AEAD transforms).
 */
export function aesCmPrf(
  masterKey: Uint8Array,
  masterSalt: Uint8Array,
  label: number,
  length: number,
  indexBits: SrtpIndexBits = 48,
): Uint8Array {
  const cipher = cipherOf(masterKey);
  if (cipher === undefined) {
    throw new FormatError(ErrorCode.BAD_LENGTH, {
      field: 'srtpKdf.masterKey',
      rule: 'must be 16, 24 or 32 octets',
      clause: 'RFC 3711 §4.3.3',
    });
  }
  if (masterSalt.length !== 14 && masterSalt.length !== 12) {
    throw new FormatError(ErrorCode.BAD_LENGTH, {
      field: 'srtpKdf.masterSalt',
      rule: 'must be 14 octets (112 bits), or 12 for AEAD_AES_128_GCM',
      clause: 'RFC 3711 §4.3.1, RFC 7714 §11',
    });
  }
  if (!Number.isInteger(label) || label < 0 || label > 0xff) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field: 'srtpKdf.label', rule: 'must be one octet', clause: 'RFC 3711 §4.3.1' });
  }
  if (!Number.isSafeInteger(length) || length < 1 || length > 1024) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field: 'srtpKdf.length', rule: 'must be 1 to 1024 octets', clause: 'RFC 3711 §4.3.3' });
  }
  // IV = (master_salt XOR key_id) * 2^16: octets 0-13 hold x, key_id right-aligned in them.
  const iv = new Uint8Array(16);
  iv.set(masterSalt, 0);
  const labelAt = 13 - indexBits / 8; // the octet before r
  iv[labelAt] = (iv[labelAt] as number) ^ label;
  const ctr = createCipheriv(cipher, masterKey, iv);
  const out = new Uint8Array(ctr.update(new Uint8Array(length)));
  ctr.final();
  return out;
}

/** An AEAD session key and session salt (RFC 7714 §11: 16 and 12 octets for AES-128-GCM). */
export interface SrtpSessionKeys {
  readonly key: Uint8Array;
  readonly salt: Uint8Array;
}

/** SRTP session key and salt for AEAD_AES_128_GCM from a master key and salt (labels 0x00, 0x02). */
export function deriveSrtpSessionKeys(master: SrtpMaster): SrtpSessionKeys {
  return Object.freeze({
    key: aesCmPrf(master.masterKey, master.masterSalt, SrtpLabel.RTP_ENCRYPTION, 16),
    salt: aesCmPrf(master.masterKey, master.masterSalt, SrtpLabel.RTP_SALT, 12),
  });
}

/**
 * SRTCP session key and salt for AEAD_AES_128_GCM (labels 0x03, 0x05), r on 48 bits per RFC 3711
 * Errata ID 3712 unless `indexBits` is 32.
 */
export function deriveSrtcpSessionKeys(master: SrtpMaster, indexBits: SrtpIndexBits = 48): SrtpSessionKeys {
  return Object.freeze({
    key: aesCmPrf(master.masterKey, master.masterSalt, SrtpLabel.RTCP_ENCRYPTION, 16, indexBits),
    salt: aesCmPrf(master.masterKey, master.masterSalt, SrtpLabel.RTCP_SALT, 12, indexBits),
  });
}
