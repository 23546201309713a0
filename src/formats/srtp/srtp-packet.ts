/**
 * SRTP and SRTCP packets under AEAD_AES_128_GCM (RFC 3711 §3.1 / §3.4 as RFC 7714 §8 / §9 fill
 * them), with the MKI of TS 33.180 §7.4 / §9.4.6 and the RCCm3 ROC tag of RFC 4771 §3.3
 * (TS 33.180 §7.5.1):
 *
 *   SRTP   RTP header | ciphertext || GCM tag (16) | MKI (0, 4, 8) | ROC (4, RCCm3 packets only)
 *          AAD = the RTP header (CSRCs, extension included); IV from SSRC, ROC, SEQ
 *   SRTCP  first 8 octets of the RTCP packet | ciphertext || GCM tag (16) | E || SRTCP index (4) | MKI
 *          AAD = the 8 octets || E || index (E = 1); with E = 0 the whole RTCP packet is AAD and
 *          only the tag follows it (RFC 7714 §9.3)
 *
 * RCCm3 with GCM, precisely: RFC 4771's mode 3 carries the ROC, unauthenticated, in the SRTP
 * authentication tag field of packets whose SEQ is a multiple of R (TS 33.180 Table E.2.2-1: R =
 * 1, a 4-octet tag), and no tag at all in the others. The ROC is not in the AAD; it enters the GCM
 * IV, so a changed ROC opens with the wrong IV and fails the GCM tag (TS 33.180 §7.5.1 NOTE),
 * exactly as a changed MKI selects the wrong key. The receiver uses the carried ROC for that packet
 * in place of its estimate and adopts it only once the packet authenticated.
 *
 * These functions are pure: they neither keep nor check stream state (srtp-context.ts does).
 */
import { srtcpAeadIv, srtpAeadIv, srtpAeadOpen, srtpAeadSeal, SRTP_AEAD_TAG_LENGTH } from '../../crypto/srtp-aead.js';
import type { SrtpSessionKeys } from '../../crypto/srtp-kdf.js';
import { ErrorCode, FormatError } from '../../errors/index.js';
import { Writer } from '../bytes/index.js';
import { decodeRtcpPrefix } from './rtcp.js';
import { decodeRtpHeader, rtpPaddingLength, type RtpHeader } from './rtp.js';

/** Where the MKI and the RCCm3 ROC sit in an SRTP packet of a session. */
export interface SrtpLayout {
  /** MKI length in octets: 0, 4 or 8 (fixed by the key distribution, TS 33.180 §7.5.2). */
  readonly mkiLength: number;
  /** RCCm3 rate R (RFC 4771 §4): the ROC rides in packets with SEQ mod R = 0; 0 turns RCC off. */
  readonly rocRate: number;
}

/** The parts of a received SRTP packet (views into it, used at once). */
export interface SrtpParts {
  readonly header: RtpHeader;
  readonly headerBytes: Uint8Array;
  readonly sealed: Uint8Array;
  readonly mki: Uint8Array;
  /** The ROC of an RCCm3 packet, undefined in the others. */
  readonly roc: number | undefined;
}

/** Whether a packet with this SEQ carries the RCCm3 ROC tag (RFC 4771 §3.1). */
export const carriesRoc = (layout: SrtpLayout, seq: number): boolean =>
  layout.rocRate > 0 && seq % layout.rocRate === 0;

const truncated = (field: string, rule: string, clause: string): FormatError =>
  new FormatError(ErrorCode.TRUNCATED, { field, rule, clause });

/** Splits a received SRTP packet (header decoded; nothing authenticated yet). */
export function parseSrtp(bytes: Uint8Array, layout: SrtpLayout): SrtpParts {
  const { header, length } = decodeRtpHeader(bytes, 'srtp');
  const rocLength = carriesRoc(layout, header.sequenceNumber) ? 4 : 0;
  const end = bytes.length - layout.mkiLength - rocLength;
  if (end - length < SRTP_AEAD_TAG_LENGTH) {
    throw truncated('srtp.authTag', `needs ${SRTP_AEAD_TAG_LENGTH} octets of GCM tag before the MKI and ROC`, 'RFC 7714 §8');
  }
  const rocAt = end + layout.mkiLength;
  return {
    header,
    headerBytes: bytes.subarray(0, length),
    sealed: bytes.subarray(length, end),
    mki: bytes.subarray(end, rocAt),
    roc: rocLength === 0 ? undefined : new DataView(bytes.buffer, bytes.byteOffset + rocAt, 4).getUint32(0),
  };
}

/**
 * Protects an RTP packet (already decoded and checked by the caller): the header as AAD, the rest
 * encrypted, then the MKI and, if `rocTag`, the ROC (RCCm3).
 */
export function sealSrtp(
  keys: SrtpSessionKeys,
  packet: Uint8Array,
  headerLength: number,
  ssrc: number,
  seq: number,
  roc: number,
  mki: Uint8Array,
  rocTag: boolean,
): Uint8Array {
  const header = packet.subarray(0, headerLength);
  const sealed = srtpAeadSeal(keys.key, srtpAeadIv(keys.salt, ssrc, roc, seq), [header], packet.subarray(headerLength));
  const out = new Uint8Array(headerLength + sealed.length + mki.length + (rocTag ? 4 : 0));
  out.set(header, 0);
  out.set(sealed, headerLength);
  out.set(mki, headerLength + sealed.length);
  if (rocTag) new DataView(out.buffer).setUint32(out.length - 4, roc >>> 0);
  return out;
}

/** Opens SRTP parts with the index's ROC; returns the RTP packet, its padding checked. */
export function openSrtp(keys: SrtpSessionKeys, parts: SrtpParts, roc: number): Uint8Array {
  const { header } = parts;
  const iv = srtpAeadIv(keys.salt, header.ssrc, roc, header.sequenceNumber);
  const plain = srtpAeadOpen(keys.key, iv, [parts.headerBytes], parts.sealed, 'srtp');
  rtpPaddingLength(plain, header.padding, 'srtp.payload');
  const out = new Uint8Array(parts.headerBytes.length + plain.length);
  out.set(parts.headerBytes, 0);
  out.set(plain, parts.headerBytes.length);
  return out;
}

/** The parts of a received SRTCP packet (views into it, used at once). */
export interface SrtcpParts {
  readonly ssrc: number;
  readonly encrypted: boolean;
  readonly index: number;
  /** E || SRTCP index, as on the wire (it is AAD). */
  readonly trailer: Uint8Array;
  readonly mki: Uint8Array;
  /** Everything before the trailer: RTCP header + ciphertext || tag, or RTCP packet || tag. */
  readonly protectedPart: Uint8Array;
}

/** Splits a received SRTCP packet (RFC 3711 §3.4, RFC 7714 §9). */
export function parseSrtcp(bytes: Uint8Array, mkiLength: number): SrtcpParts {
  const { ssrc } = decodeRtcpPrefix(bytes, 'srtcp');
  const end = bytes.length - mkiLength - 4;
  if (end < 8 + SRTP_AEAD_TAG_LENGTH) {
    throw truncated('srtcp', `needs 8 octets of header, ${SRTP_AEAD_TAG_LENGTH} of GCM tag, 4 of E || index and ${mkiLength} of MKI`, 'RFC 7714 §9');
  }
  const trailer = bytes.subarray(end, end + 4);
  const word = new DataView(bytes.buffer, bytes.byteOffset + end, 4).getUint32(0);
  return {
    ssrc,
    encrypted: word >>> 31 === 1,
    index: word & 0x7fff_ffff,
    trailer,
    mki: bytes.subarray(end + 4),
    protectedPart: bytes.subarray(0, end),
  };
}

/**
 * Protects an RTCP packet with SRTCP index `index`: encrypted (E = 1, TS 33.180 §9.4.1) unless
 * `encrypt` is false. Only the clear 8-octet prefix is checked (RFC 3711 §3.4 needs no more);
 * the compound structure is the RTCP consumer's to check (`decodeRtcpCompound`).
 */
export function sealSrtcp(
  keys: SrtpSessionKeys,
  packet: Uint8Array,
  index: number,
  mki: Uint8Array,
  encrypt = true,
): Uint8Array {
  const { ssrc } = decodeRtcpPrefix(packet, 'rtcp');
  const trailer = new Writer().u32(((encrypt ? 0x8000_0000 : 0) | (index & 0x7fff_ffff)) >>> 0).finish();
  const iv = srtcpAeadIv(keys.salt, ssrc, index);
  const w = new Writer();
  if (encrypt) {
    const head = packet.subarray(0, 8);
    w.bytes(head).bytes(srtpAeadSeal(keys.key, iv, [head, trailer], packet.subarray(8)));
  } else {
    w.bytes(packet).bytes(srtpAeadSeal(keys.key, iv, [packet, trailer], new Uint8Array(0)));
  }
  return w.bytes(trailer).bytes(mki).finish();
}

/** Opens SRTCP parts; returns the RTCP packet (its clear prefix was checked by `parseSrtcp`). */
export function openSrtcp(keys: SrtpSessionKeys, parts: SrtcpParts): Uint8Array {
  const iv = srtcpAeadIv(keys.salt, parts.ssrc, parts.index);
  const p = parts.protectedPart;
  let packet: Uint8Array;
  if (parts.encrypted) {
    const head = p.subarray(0, 8);
    const plain = srtpAeadOpen(keys.key, iv, [head, parts.trailer], p.subarray(8), 'srtcp');
    packet = new Uint8Array(8 + plain.length);
    packet.set(head, 0);
    packet.set(plain, 8);
  } else {
    const cut = p.length - SRTP_AEAD_TAG_LENGTH;
    srtpAeadOpen(keys.key, iv, [p.subarray(0, cut), parts.trailer], p.subarray(cut), 'srtcp');
    packet = p.slice(0, cut);
  }
  return packet;
}
