/**
 * Key derivations of TS 33.180 Annex F.1 on the TS 33.220 Annex B KDF:
 *   §F.1.3  User Salt for GUK-ID generation: FC 0x50, P0 = MC service user ID; 28 low bits.
 *           GUK-ID = GMK-ID XOR User Salt (§5.2.1 / §7.3).
 *   §F.1.4  XML confidentiality / integrity keys from an XPK (CSK, SPK, ...): FC 0x51 / 0x52,
 *           P0 = MC service user ID, P1 = XPK-ID.
 *   §F.1.5  DPCK from a DPPK: FC 0x53, P0 = DPPK-ID.
 * Key identifiers (XPK-ID, DPPK-ID) enter the KDF as 4-octet big-endian values. A 128-bit input
 * key yields the 128 least significant bits of the KDF output, a 256-bit key all 256 bits.
 */
import { ErrorCode, FormatError } from '../errors/index.js';
import { u32be } from '../util/index.js';
import { kdf } from './kdf.js';

/** FC values of TS 33.180 §F.1 (allocated in TS 33.220). */
export const KdfFc = Object.freeze({
  USER_SALT: 0x50,
  SIGNALLING_CONFIDENTIALITY: 0x51,
  SIGNALLING_INTEGRITY: 0x52,
  MCDATA_PAYLOAD: 0x53,
} as const);

function checkKey(key: Uint8Array, field: string, clause: string): void {
  if (key.length !== 16 && key.length !== 32) {
    throw new FormatError(ErrorCode.BAD_LENGTH, {
      field,
      rule: 'must be 128 or 256 bits',
      clause,
    });
  }
}

/** A 32-bit key identifier, checked (never silently wrapped). */
function keyIdOctets(id: number, field: string): Uint8Array {
  if (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'must be a 32-bit unsigned integer', clause: 'TS 33.180 Annex G' });
  }
  return u32be(id);
}

/** The 128 least significant bits for a 128-bit key, the whole output for a 256-bit key. */
const fit = (out: Uint8Array, key: Uint8Array): Uint8Array => (key.length === 16 ? out.slice(16) : out);

/** User Salt: the 28 least significant bits of KDF(GMK, 0x50, MC service user ID) (§F.1.3). */
export function deriveUserSalt(gmk: Uint8Array, mcServiceUserId: string): number {
  checkKey(gmk, 'gmk', 'TS 33.180 §F.1.3');
  const out = kdf(gmk, KdfFc.USER_SALT, [mcServiceUserId]);
  return new DataView(out.buffer, out.byteOffset, out.byteLength).getUint32(28) & 0x0fff_ffff;
}

/** GUK-ID = GMK-ID XOR User Salt (the salt covers the 28 low bits; the purpose tag stays). */
export function deriveGukId(gmkId: number, userSalt: number): number {
  keyIdOctets(gmkId, 'gmkId');
  return (gmkId ^ (userSalt & 0x0fff_ffff)) >>> 0;
}

/** GMK-ID from a received GUK-ID and the receiver's own salt (§5.2.1: XOR is its own inverse). */
export const gmkIdFromGukId = deriveGukId;

/** The signalling-plane confidentiality or integrity key from an XPK (§F.1.4). */
export function deriveXmlKey(
  xpk: Uint8Array,
  purpose: 'confidentiality' | 'integrity',
  mcServiceUserId: string,
  xpkId: number,
): Uint8Array {
  checkKey(xpk, 'xpk', 'TS 33.180 §F.1.4');
  const fc = purpose === 'confidentiality' ? KdfFc.SIGNALLING_CONFIDENTIALITY : KdfFc.SIGNALLING_INTEGRITY;
  return fit(kdf(xpk, fc, [mcServiceUserId, keyIdOctets(xpkId, 'xpkId')]), xpk);
}

/** The DPCK from a DPPK and its identifier (§F.1.5). */
export function deriveDpck(dppk: Uint8Array, dppkId: number): Uint8Array {
  checkKey(dppk, 'dppk', 'TS 33.180 §F.1.5');
  return fit(kdf(dppk, KdfFc.MCDATA_PAYLOAD, [keyIdOctets(dppkId, 'dppkId')]), dppk);
}
