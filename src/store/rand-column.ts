/**
 * The MIKEY RAND kept beside a key (mcx_csk.rand, 0007; gms_gmk.rand, 0008): the RAND of the
 * I_MESSAGE that carried the key, the KFC-RAND / GMK RAND the SRTP and SRTCP keys derive from
 * (TS 33.180 §7.4.2, §9.4.2). Public (it travels in clear), stored as lowercase hex; 16 to 255
 * octets both ways (RFC 3830 §6.11); a null column is a row from before the migration.
 */
import { ErrorCode, FormatError, McsecError } from '../errors/index.js';
import { fromHex, toHex } from '../util/index.js';

/** The column value of `rand` (null for none); a bad length is FormatError ERR_BAD_LENGTH naming `field`. */
export function randColumn(rand: Uint8Array | undefined, field: string): string | null {
  if (rand === undefined) return null;
  if (rand.length < 16 || rand.length > 255) throw new FormatError(ErrorCode.BAD_LENGTH, { field, rule: 'must be 16 to 255 octets', clause: 'RFC 3830 §6.11' });
  return toHex(rand);
}

/** The RAND of a column value; anything but null or 16-255 octets of lowercase hex is ERR_INTERNAL `store.<field>`. */
export function readRandColumn(v: unknown, field: string): Uint8Array | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v !== 'string' || !/^(?:[0-9a-f]{2}){16,255}$/.test(v)) {
    throw new McsecError(ErrorCode.INTERNAL, { field: `store.${field}`, rule: 'must be 16 to 255 octets in lowercase hex' });
  }
  return fromHex(v);
}
