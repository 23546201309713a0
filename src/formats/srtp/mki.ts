/**
 * SRTP / SRTCP Master Key Identifiers of TS 33.180:
 *
 *   §7.4.1  private call      32 bits  PCK-ID (purpose tag 1)
 *   §7.4.2  group call        64 bits  GMK-ID || GUK-ID (purpose tag 0 in both: the User Salt
 *                                      covers only the 28 low bits, §F.1.3)
 *           group call, sender known by other means: 32 bits, GMK-ID alone
 *   §9.4.6  SRTCP             32 bits  KFC-ID (CSK-ID, MuSiK-ID, SPK-ID; off-network PCK-ID or
 *                                      GMK-ID as for SRTP)
 *
 * Identifiers are big-endian (Annex G); purpose tags are checked (Table G-1).
 */
import { decodeKeyId, type KeyType } from '../../crypto/key-id.js';
import { ErrorCode, FormatError } from '../../errors/index.js';
import { Reader, Writer } from '../bytes/index.js';

/** A decoded MKI: one key identifier, or a GMK-ID with the sender's GUK-ID. */
export type SrtpMki =
  | { readonly form: 'key-id'; readonly keyId: number; readonly keyType: KeyType }
  | { readonly form: 'gmk-guk'; readonly gmkId: number; readonly gukId: number };

/** Decodes a 4- or 8-octet MKI (TS 33.180 §7.4, §9.4.6). */
export function decodeMki(bytes: Uint8Array, where = 'srtp.mki'): SrtpMki {
  if (bytes.length === 4) {
    const keyId = new Reader(bytes, where, 'TS 33.180 §7.4').u32('keyId');
    return Object.freeze({ form: 'key-id', keyId, keyType: decodeKeyId(keyId, `${where}.keyId`).keyType });
  }
  if (bytes.length === 8) {
    const r = new Reader(bytes, where, 'TS 33.180 §7.4.2');
    const gmkId = r.u32('gmkId');
    const gukId = r.u32('gukId');
    if (gmkId >>> 28 !== 0 || gukId >>> 28 !== 0) {
      throw new FormatError(ErrorCode.BAD_VALUE, {
        field: gmkId >>> 28 !== 0 ? `${where}.gmkId` : `${where}.gukId`,
        rule: 'a 64-bit MKI is GMK-ID || GUK-ID, both with the GMK purpose tag 0',
        clause: 'TS 33.180 §7.4.2',
      });
    }
    return Object.freeze({ form: 'gmk-guk', gmkId, gukId });
  }
  throw new FormatError(ErrorCode.BAD_LENGTH, {
    field: where,
    rule: 'must be 4 octets (PCK-ID, GMK-ID, KFC-ID) or 8 (GMK-ID || GUK-ID)',
    clause: 'TS 33.180 §7.4',
  });
}

/** Encodes an MKI (the inverse of `decodeMki`; purpose tags checked the same way). */
export function encodeMki(mki: SrtpMki, where = 'srtp.mki'): Uint8Array {
  if (mki.form === 'key-id') {
    const id = decodeKeyId(mki.keyId, `${where}.keyId`);
    if (id.keyType !== mki.keyType) {
      throw new FormatError(ErrorCode.BAD_VALUE, { field: `${where}.keyType`, rule: 'must match the purpose tag of keyId', clause: 'TS 33.180 Annex G' });
    }
    return new Writer().u32(mki.keyId).finish();
  }
  const bytes = new Writer().u32(mki.gmkId >>> 0).u32(mki.gukId >>> 0).finish();
  for (const [f, v] of [['gmkId', mki.gmkId], ['gukId', mki.gukId]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0x0fff_ffff) {
      throw new FormatError(ErrorCode.BAD_VALUE, {
        field: `${where}.${f}`,
        rule: 'must be a 32-bit key identifier with the GMK purpose tag 0',
        clause: 'TS 33.180 §7.4.2',
      });
    }
  }
  return bytes;
}

/** The 32-bit MKI of one key identifier (PCK-ID, KFC-ID or GMK-ID alone). */
export const keyIdMki = (keyId: number): Uint8Array =>
  encodeMki({ form: 'key-id', keyId, keyType: decodeKeyId(keyId, 'srtp.mki.keyId').keyType });

/** The 64-bit group MKI GMK-ID || GUK-ID (§7.4.2). */
export const groupMki = (gmkId: number, gukId: number): Uint8Array => encodeMki({ form: 'gmk-guk', gmkId, gukId });
