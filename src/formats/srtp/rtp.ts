/**
 * RTP packets (RFC 3550 §5.1, header extension §5.3.1), the plaintext SRTP protects:
 *
 *    0                   1                   2                   3
 *   |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *   |                           timestamp                           |
 *   |           synchronization source (SSRC) identifier            |
 *   |            contributing source (CSRC) identifiers             |  CC x 32 bits
 *   |  defined by profile           |           length              |  if X: length x 32 bits
 *   |                        header extension                       |
 *   |                     payload ...       | padding ... | count   |  if P (RFC 3550 §5.1)
 *
 * `decodeRtpHeader` reads the header at the front of a packet (an SRTP packet's header is clear);
 * `decodeRtpPacket` decodes a whole RTP packet, padding checked. Both are total: a value or a
 * FormatError.
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import { Reader, Writer } from '../bytes/index.js';

/** The largest RTP or SRTP packet mcsec accepts (a UDP payload). */
export const MAX_RTP_LENGTH = 65_535;

/** An RTP header extension (RFC 3550 §5.3.1): 16 profile bits and whole 32-bit words of data. */
export interface RtpHeaderExtension {
  readonly profile: number;
  readonly data: Uint8Array;
}

/** A decoded RTP fixed header with its CSRC list and extension. */
export interface RtpHeader {
  readonly padding: boolean;
  readonly marker: boolean;
  readonly payloadType: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly csrcs: readonly number[];
  readonly extension: RtpHeaderExtension | undefined;
}

/** A decoded RTP packet: header, payload and the padding octets (the last one the count). */
export interface RtpPacket {
  readonly header: RtpHeader;
  readonly payload: Uint8Array;
  readonly padding: Uint8Array;
}

const bad = (field: string, rule: string, clause = 'RFC 3550 §5.1'): FormatError =>
  new FormatError(ErrorCode.BAD_VALUE, { field, rule, clause });

function checkSize(bytes: Uint8Array, where: string): void {
  if (bytes.length > MAX_RTP_LENGTH) {
    throw new FormatError(ErrorCode.TOO_LARGE, { field: where, rule: `must be at most ${MAX_RTP_LENGTH} octets`, clause: 'RFC 768' });
  }
}

/** Reads an RTP header from `r` (the cursor ends after it). */
function readHeader(r: Reader, where: string): RtpHeader {
  const b0 = r.u8('vpxcc');
  if (b0 >> 6 !== 2) throw bad(`${where}.version`, 'must be 2');
  const b1 = r.u8('mpt');
  const sequenceNumber = r.u16('sequenceNumber');
  const timestamp = r.u32('timestamp');
  const ssrc = r.u32('ssrc');
  const csrcs: number[] = [];
  for (let i = 0; i < (b0 & 0x0f); i++) csrcs.push(r.u32(`csrc[${i}]`));
  let extension: RtpHeaderExtension | undefined;
  if ((b0 & 0x10) !== 0) {
    const profile = r.u16('extension.profile');
    const words = r.u16('extension.length');
    extension = Object.freeze({ profile, data: r.bytes(words * 4, 'extension.data') });
  }
  return Object.freeze({
    padding: (b0 & 0x20) !== 0,
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequenceNumber,
    timestamp,
    ssrc,
    csrcs: Object.freeze(csrcs),
    extension,
  });
}

/**
 * The RTP header at the front of `bytes` and its length in octets; what follows it is not read
 * (for SRTP, it is ciphertext).
 */
export function decodeRtpHeader(bytes: Uint8Array, where = 'rtp'): { readonly header: RtpHeader; readonly length: number } {
  checkSize(bytes, where);
  const r = new Reader(bytes, `${where}.header`, 'RFC 3550 §5.1');
  const header = readHeader(r, `${where}.header`);
  return Object.freeze({ header, length: r.offset });
}

/**
 * The padding length of `body` (what follows an RTP header whose P bit is `padded`): with P set,
 * the last octet counts the padding octets, itself included, 1 to all of them (RFC 3550 §5.1).
 */
export function rtpPaddingLength(body: Uint8Array, padded: boolean, where = 'rtp'): number {
  if (!padded) return 0;
  const count = body[body.length - 1];
  if (count === undefined) {
    throw new FormatError(ErrorCode.TRUNCATED, { field: `${where}.padding`, rule: 'P is set but the packet has no padding count', clause: 'RFC 3550 §5.1' });
  }
  if (count === 0 || count > body.length) {
    throw bad(`${where}.padding`, `count must be 1 to the ${body.length} octets after the header`);
  }
  return count;
}

/** Splits `body` into payload and padding (copies), the padding checked as `rtpPaddingLength`. */
export function splitRtpPadding(
  body: Uint8Array,
  padded: boolean,
  where = 'rtp',
): { readonly payload: Uint8Array; readonly padding: Uint8Array } {
  const n = rtpPaddingLength(body, padded, where);
  return { payload: body.slice(0, body.length - n), padding: body.slice(body.length - n) };
}

/** Decodes a whole RTP packet (RFC 3550 §5.1). */
export function decodeRtpPacket(bytes: Uint8Array, where = 'rtp'): RtpPacket {
  const { header, length } = decodeRtpHeader(bytes, where);
  const { payload, padding } = splitRtpPadding(bytes.subarray(length), header.padding, where);
  return Object.freeze({ header, payload, padding });
}

function checkUint(field: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw bad(field, `must be an integer from 0 to ${max}`);
}

/** Encodes an RTP header (the inverse of `decodeRtpHeader`). */
export function encodeRtpHeader(h: RtpHeader, where = 'rtp.header'): Uint8Array {
  checkUint(`${where}.payloadType`, h.payloadType, 0x7f);
  checkUint(`${where}.sequenceNumber`, h.sequenceNumber, 0xffff);
  checkUint(`${where}.timestamp`, h.timestamp, 0xffff_ffff);
  checkUint(`${where}.ssrc`, h.ssrc, 0xffff_ffff);
  if (h.csrcs.length > 15) throw bad(`${where}.csrcs`, 'must hold at most 15 entries (CC is 4 bits)');
  h.csrcs.forEach((c, i) => checkUint(`${where}.csrcs[${i}]`, c, 0xffff_ffff));
  const x = h.extension;
  if (x !== undefined) {
    checkUint(`${where}.extension.profile`, x.profile, 0xffff);
    if (x.data.length % 4 !== 0 || x.data.length > 0xffff * 4) {
      throw bad(`${where}.extension.data`, 'must be whole 32-bit words, at most 65535 of them', 'RFC 3550 §5.3.1');
    }
  }
  const w = new Writer()
    .u8(0x80 | (h.padding ? 0x20 : 0) | (x !== undefined ? 0x10 : 0) | h.csrcs.length)
    .u8((h.marker ? 0x80 : 0) | h.payloadType)
    .u16(h.sequenceNumber)
    .u32(h.timestamp)
    .u32(h.ssrc);
  for (const c of h.csrcs) w.u32(c);
  if (x !== undefined) w.u16(x.profile).u16(x.data.length / 4).bytes(x.data);
  return w.finish();
}

/** Encodes an RTP packet (the inverse of `decodeRtpPacket`); P and the padding must agree. */
export function encodeRtpPacket(p: RtpPacket, where = 'rtp'): Uint8Array {
  const n = p.padding.length;
  if (p.header.padding !== n > 0 || (n > 0 && p.padding[n - 1] !== n)) {
    throw bad(`${where}.padding`, 'P must be set exactly when there is padding, its last octet the padding length');
  }
  const out = new Writer().bytes(encodeRtpHeader(p.header, `${where}.header`)).bytes(p.payload).bytes(p.padding).finish();
  checkSize(out, where);
  return out;
}
