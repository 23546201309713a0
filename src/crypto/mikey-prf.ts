/**
 * The MIKEY pseudo-random function and the derivation of keys from a TGK.
 *
 * PRF (RFC 3830 §4.1.2), here PRF-HMAC-SHA-256 (RFC 6043 §6.1: the MIKEY-1 PRF with HMAC-SHA-256
 * in place of HMAC-SHA-1):
 *
 *     n = ceil(inkey_len / 256); inkey = s_1 || ... || s_n, each s_i 256 bits except maybe s_n
 *     m = ceil(outkey_len / 256)            (256 = the HMAC-SHA-256 output length)
 *     P(s, label, m) = HMAC(s, A_1 || label) || ... || HMAC(s, A_m || label),
 *                      A_0 = label, A_i = HMAC(s, A_(i-1))
 *     PRF(inkey, label) = P(s_1, label, m) XOR ... XOR P(s_n, label, m), first outkey_len bits
 *
 * (P is a concatenation, so the block count m only has to cover outkey_len: RFC 3830's 160 for
 * SHA-1 or 256 here give the same leading bits.)
 *
 * Keys from a TGK (RFC 3830 §4.1.3): outkey = PRF(TGK, label) with
 *
 *     label = constant (32 bits) || cs_id (8 bits) || csb_id (32 bits) || RAND
 *
 * and the constant naming the key: 0x2AD01C64 the TEK (the SRTP master key), 0x39A2C14B the
 * salting key (the SRTP master salt); 0x1B5C7973 and 0x15798CEF (authentication, encryption)
 * complete the table.
 */
import { createHmac } from 'node:crypto';
import { ErrorCode, FormatError } from '../errors/index.js';

/** The label constants of RFC 3830 §4.1.3 (the derived key they name). */
export const MikeyKeyConstant = Object.freeze({
  TEK: 0x2ad0_1c64,
  AUTHENTICATION: 0x1b5c_7973,
  ENCRYPTION: 0x1579_8cef,
  SALT: 0x39a2_c14b,
} as const);

/** The largest output mcsec derives (far above any SRTP key or salt). */
const MAX_OUT = 1024;
const CHUNK = 32; // 256 bits (RFC 3830 §4.1.2)
const HASH = 32; // HMAC-SHA-256 output (RFC 6043 §6.1)

const hmac = (key: Uint8Array, ...parts: readonly Uint8Array[]): Uint8Array => {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

/** P(s, label, m) of RFC 3830 §4.1.2 on HMAC-SHA-256. */
function p(s: Uint8Array, label: Uint8Array, m: number): Uint8Array {
  const out = new Uint8Array(m * HASH);
  let a = label;
  for (let i = 0; i < m; i++) {
    a = hmac(s, a);
    out.set(hmac(s, a, label), i * HASH);
  }
  return out;
}

/**
 * PRF-HMAC-SHA-256 (RFC 6043 §6.1 on RFC 3830 §4.1.2): `outLength` octets from `inkey` and
 * `label`.
 */
export function mikeyPrfHmacSha256(inkey: Uint8Array, label: Uint8Array, outLength: number): Uint8Array {
  if (inkey.length === 0) {
    throw new FormatError(ErrorCode.BAD_LENGTH, { field: 'mikeyPrf.inkey', rule: 'must not be empty', clause: 'RFC 3830 §4.1.2' });
  }
  if (!Number.isSafeInteger(outLength) || outLength < 1 || outLength > MAX_OUT) {
    throw new FormatError(ErrorCode.BAD_VALUE, {
      field: 'mikeyPrf.outLength',
      rule: `must be 1 to ${MAX_OUT} octets`,
      clause: 'RFC 3830 §4.1.2',
    });
  }
  const m = Math.ceil(outLength / HASH);
  const out = new Uint8Array(m * HASH);
  for (let at = 0; at < inkey.length; at += CHUNK) {
    const block = p(inkey.subarray(at, at + CHUNK), label, m);
    for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) ^ (block[i] as number);
    block.fill(0);
  }
  const result = out.slice(0, outLength);
  out.fill(0);
  return result;
}

/** label = constant || cs_id || csb_id || RAND (RFC 3830 §4.1.3). */
export function mikeyTgkLabel(constant: number, csId: number, csbId: number, rand: Uint8Array): Uint8Array {
  const checks: [string, number, number][] = [
    ['mikeyKdf.constant', constant, 0xffff_ffff],
    ['mikeyKdf.csId', csId, 0xff],
    ['mikeyKdf.csbId', csbId, 0xffff_ffff],
  ];
  for (const [field, v, max] of checks) {
    if (!Number.isInteger(v) || v < 0 || v > max) {
      throw new FormatError(ErrorCode.BAD_VALUE, {
        field,
        rule: `must be an integer from 0 to ${max}`,
        clause: 'RFC 3830 §4.1.3',
      });
    }
  }
  const label = new Uint8Array(9 + rand.length);
  const view = new DataView(label.buffer);
  view.setUint32(0, constant);
  view.setUint8(4, csId);
  view.setUint32(5, csbId);
  label.set(rand, 9);
  return label;
}

/** A key derived from a TGK (RFC 3830 §4.1.3): PRF(TGK, constant || cs_id || csb_id || RAND). */
export function deriveFromTgk(
  tgk: Uint8Array,
  constant: number,
  csId: number,
  csbId: number,
  rand: Uint8Array,
  outLength: number,
): Uint8Array {
  return mikeyPrfHmacSha256(tgk, mikeyTgkLabel(constant, csId, csbId, rand), outLength);
}
