/**
 * RTCP compound packets (RFC 3550 §6.1, common header §6.4.1), the plaintext SRTCP protects:
 *
 *    0                   1                   2                   3
 *   |V=2|P|   RC    |      PT       |             length            |  length = 32-bit words - 1
 *   |                  SSRC of sender (most types)                  |
 *   |                          ...                                  |
 *
 * A compound packet is a run of such packets; the P bit may be set only on the last one, whose
 * final octet then counts the padding octets (RFC 3550 §6.4.1). Packet types are 192-223, the
 * RTCP range RFC 5761 §4 sets apart from RTP payload types. MCPTT floor control (TS 24.380) sends
 * APP packets (PT 204), alone or compound. Decoders are total: a value or a FormatError.
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import { Reader, Writer } from '../bytes/index.js';
import { MAX_RTP_LENGTH } from './rtp.js';

/** One RTCP packet of a compound packet: the 5-bit count / subtype, PT, body and padding. */
export interface RtcpPacket {
  readonly count: number;
  readonly packetType: number;
  /** What follows the 4-octet common header, padding excluded (for most types, SSRC first). */
  readonly body: Uint8Array;
  /** The padding octets (the last one the count); empty unless P is set. */
  readonly padding: Uint8Array;
}

/** Common RTCP packet types (RFC 3550 §12.1, RFC 4585 §6.1, RFC 3611 §2). */
export const RtcpPacketType = Object.freeze({
  SR: 200,
  RR: 201,
  SDES: 202,
  BYE: 203,
  APP: 204,
  RTPFB: 205,
  PSFB: 206,
  XR: 207,
} as const);

const bad = (field: string, rule: string, clause = 'RFC 3550 §6.4.1'): FormatError =>
  new FormatError(ErrorCode.BAD_VALUE, { field, rule, clause });

const isRtcpType = (pt: number): boolean => pt >= 192 && pt <= 223;

function checkSize(bytes: Uint8Array, where: string): void {
  if (bytes.length > MAX_RTP_LENGTH) {
    throw new FormatError(ErrorCode.TOO_LARGE, { field: where, rule: `must be at most ${MAX_RTP_LENGTH} octets`, clause: 'RFC 768' });
  }
}

/** Decodes an RTCP compound packet (at least one packet, no octet left over). */
export function decodeRtcpCompound(bytes: Uint8Array, where = 'rtcp'): readonly RtcpPacket[] {
  checkSize(bytes, where);
  const r = new Reader(bytes, where, 'RFC 3550 §6.4.1');
  const out: RtcpPacket[] = [];
  do {
    const i = out.length;
    const f = `${where}.packets[${i}]`;
    const b0 = r.u8(`packets[${i}].vprc`);
    if (b0 >> 6 !== 2) throw bad(`${f}.version`, 'must be 2');
    const packetType = r.u8(`packets[${i}].packetType`);
    if (!isRtcpType(packetType)) throw bad(`${f}.packetType`, 'must be an RTCP packet type, 192-223', 'RFC 5761 §4');
    const words = r.u16(`packets[${i}].length`);
    const rest = r.bytes(words * 4, `packets[${i}].body`);
    let body = rest;
    let padding = new Uint8Array(0);
    if ((b0 & 0x20) !== 0) {
      if (r.remaining !== 0) throw bad(`${f}.padding`, 'P may be set only on the last packet of a compound packet');
      const n = rest[rest.length - 1];
      if (n === undefined || n === 0 || n > rest.length) {
        throw bad(`${f}.padding`, `count must be 1 to the ${rest.length} octets after the header`);
      }
      body = rest.slice(0, rest.length - n);
      padding = rest.slice(rest.length - n);
    }
    out.push(Object.freeze({ count: b0 & 0x1f, packetType, body, padding }));
  } while (r.remaining > 0);
  return Object.freeze(out);
}

/** Encodes an RTCP compound packet (the inverse of `decodeRtcpCompound`). */
export function encodeRtcpCompound(packets: readonly RtcpPacket[], where = 'rtcp'): Uint8Array {
  if (packets.length === 0) throw bad(where, 'must hold at least one packet', 'RFC 3550 §6.1');
  const w = new Writer();
  packets.forEach((p, i) => {
    const f = `${where}.packets[${i}]`;
    if (!Number.isInteger(p.count) || p.count < 0 || p.count > 0x1f) throw bad(`${f}.count`, 'must be 0 to 31');
    if (!Number.isInteger(p.packetType) || !isRtcpType(p.packetType)) {
      throw bad(`${f}.packetType`, 'must be an RTCP packet type, 192-223', 'RFC 5761 §4');
    }
    const n = p.padding.length;
    if (n > 0 && (i !== packets.length - 1 || p.padding[n - 1] !== n)) {
      throw bad(`${f}.padding`, 'only the last packet may be padded, its last octet the padding length');
    }
    const len = p.body.length + n;
    if (len % 4 !== 0 || len / 4 > 0xffff) throw bad(`${f}.body`, 'body and padding must be whole 32-bit words, at most 65535');
    w.u8(0x80 | (n > 0 ? 0x20 : 0) | p.count).u8(p.packetType).u16(len / 4).bytes(p.body).bytes(p.padding);
  });
  const out = w.finish();
  checkSize(out, where);
  return out;
}

/**
 * The clear prefix of an SRTCP packet (RFC 3711 §3.4): the first packet's common header and the
 * sender's SSRC, the 8 octets that stay unencrypted and pick the crypto context.
 */
export function decodeRtcpPrefix(bytes: Uint8Array, where = 'srtcp'): { readonly packetType: number; readonly ssrc: number } {
  checkSize(bytes, where);
  const r = new Reader(bytes.subarray(0, 8), `${where}.header`, 'RFC 3711 §3.4');
  const b0 = r.u8('vprc');
  if (b0 >> 6 !== 2) throw bad(`${where}.header.version`, 'must be 2');
  const packetType = r.u8('packetType');
  if (!isRtcpType(packetType)) throw bad(`${where}.header.packetType`, 'must be an RTCP packet type, 192-223', 'RFC 5761 §4');
  r.u16('length');
  const ssrc = r.u32('ssrc');
  return Object.freeze({ packetType, ssrc });
}
