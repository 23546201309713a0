/**
 * SRTP / SRTCP crypto contexts (RFC 3711 §3.2) for the profile of TS 33.180 §7.5 and §9.4.8:
 * AEAD_AES_128_GCM (RFC 7714), session keys from the master key by the AES-CM PRF with key
 * derivation rate 0 (derived once per master key and kept), an optional MKI, RCCm3 (RFC 4771),
 * and per SSRC the rollover counter and a replay window.
 *
 * Sender: one master key (and MKI) at a time, `setKey` to change it; per SSRC the highest SRTP
 * index protected, ROC following the sequence numbers as the receiver's estimate does, and a
 * window refusing an index protected before (an AEAD IV must never repeat, RFC 7714 §8.1); SRTCP
 * indices count up from 0 per SSRC and stop at 2^31 - 1 (RFC 3711 §9.2: re-key).
 *
 * Receiver, per packet (RFC 3711 §3.3): split it; find the master key by MKI (a lookup function,
 * usually `SrtpKeyRing.resolve`); take the index from the RCCm3 ROC if the packet carries one,
 * else estimate it (RFC 3711 §3.3.1, first packet of an SSRC: ROC 0); refuse a replayed or too old
 * index (§3.3.2); open; check the plaintext; only then move the ROC, the highest index and the
 * replay window. Any authentication failure is the one CryptoError ERR_DECRYPT.
 */
import { deriveSrtcpSessionKeys, deriveSrtpSessionKeys, type SrtpIndexBits, type SrtpSessionKeys } from '../../crypto/srtp-kdf.js';
import type { SrtpMaster } from '../../crypto/srtp-key-derivation.js';
import { ConfigError, ErrorCode, FormatError, PolicyError } from '../../errors/index.js';
import { ReplayWindow, DEFAULT_REPLAY_WINDOW } from './replay-window.js';
import { MAX_SRTP_INDEX, guessRoc, srtpIndex } from './rollover.js';
import { decodeRtpHeader, rtpPaddingLength } from './rtp.js';
import { carriesRoc, openSrtcp, openSrtp, parseSrtcp, parseSrtp, sealSrtcp, sealSrtp, type SrtpLayout } from './srtp-packet.js';

/** Options shared by senders and receivers of one session. */
export interface SrtpSessionOptions {
  /** RCCm3 rate R (RFC 4771 §4; TS 33.180 Table E.2.2-1 default for group calls: 1). 0 = off. */
  readonly rocRate?: number;
  /** Replay window size (RFC 3711 §3.3.2), default 64. */
  readonly replayWindow?: number;
  /** SRTCP key derivation index width: 48 per RFC 3711 Errata ID 3712 (default), or 32. */
  readonly srtcpIndexBits?: SrtpIndexBits;
}

/** A sender's key: the master key and salt, and the MKI to send (empty for none). */
export interface SrtpSenderKey extends SrtpMaster {
  readonly mki: Uint8Array;
}

/** How a receiver finds master keys: one fixed key without MKI, or a lookup by MKI. */
export type SrtpReceiverKeys =
  | { readonly master: SrtpMaster }
  | {
      readonly mkiLength: 4 | 8;
      /** The master key for an MKI; throws (PolicyError ERR_UNKNOWN_KEY) when none is held. */
      readonly lookup: (mki: Uint8Array, senderUserId: string | undefined) => SrtpMaster;
    };

/** Per-packet hints for a receiver. */
export interface UnprotectOptions {
  /** The sender's MC service user ID, when known by other means (32-bit GMK-ID MKIs, §7.4.2). */
  readonly senderUserId?: string;
}

const MAX_SRTCP_INDEX = 0x7fff_ffff;

function checkOptions(o: SrtpSessionOptions): Required<SrtpSessionOptions> {
  const rocRate = o.rocRate ?? 0;
  if (!Number.isInteger(rocRate) || rocRate < 0 || rocRate > 0xffff) {
    throw new ConfigError(ErrorCode.CONFIG, { field: 'srtp.rocRate', rule: 'must be 0 (off) to 65535', clause: 'RFC 4771 §4' });
  }
  const srtcpIndexBits = o.srtcpIndexBits ?? 48;
  if (srtcpIndexBits !== 48 && srtcpIndexBits !== 32) {
    throw new ConfigError(ErrorCode.CONFIG, { field: 'srtp.srtcpIndexBits', rule: 'must be 48 or 32', clause: 'RFC 3711 Errata ID 3712' });
  }
  new ReplayWindow(o.replayWindow ?? DEFAULT_REPLAY_WINDOW);
  return { rocRate, replayWindow: o.replayWindow ?? DEFAULT_REPLAY_WINDOW, srtcpIndexBits };
}

/** Session keys per master key object, derived once (kdr 0: never refreshed). */
class SessionKeyCache {
  readonly #rtp = new WeakMap<SrtpMaster, SrtpSessionKeys>();
  readonly #rtcp = new WeakMap<SrtpMaster, SrtpSessionKeys>();
  readonly #bits: SrtpIndexBits;
  constructor(bits: SrtpIndexBits) {
    this.#bits = bits;
  }
  rtp(m: SrtpMaster): SrtpSessionKeys {
    let k = this.#rtp.get(m);
    if (k === undefined) this.#rtp.set(m, (k = deriveSrtpSessionKeys(m)));
    return k;
  }
  rtcp(m: SrtpMaster): SrtpSessionKeys {
    let k = this.#rtcp.get(m);
    if (k === undefined) this.#rtcp.set(m, (k = deriveSrtcpSessionKeys(m, this.#bits)));
    return k;
  }
}

const replay = (field: string, rule: string, clause: string): PolicyError =>
  new PolicyError(ErrorCode.REPLAY, { field, rule, clause });

/** The index for SEQ on a stream whose highest index is `top` (-1: none yet, ROC `initialRoc`). */
function indexFor(top: number, seq: number, initialRoc: number, field: string): { roc: number; index: number } {
  const roc = top < 0 ? initialRoc : guessRoc(Math.floor(top / 0x1_0000), top % 0x1_0000, seq);
  if (roc < 0) throw replay(field, 'the sequence number lies before the first packet of the stream', 'RFC 3711 §3.3.1');
  if (roc > 0xffff_ffff || srtpIndex(roc, seq) > MAX_SRTP_INDEX) {
    throw new PolicyError(ErrorCode.EXPIRED, { field, rule: 'the master key has protected 2^48 packets: re-key', clause: 'RFC 3711 §9.2' });
  }
  return { roc, index: srtpIndex(roc, seq) };
}

/** Protects outgoing RTP and RTCP of one sender. */
export class SrtpSender {
  readonly #opts: Required<SrtpSessionOptions>;
  readonly #keys: SessionKeyCache;
  readonly #rtp = new Map<number, RtpStream>();
  readonly #rtcp = new Map<number, number>();
  #key: SrtpSenderKey;
  #layout: SrtpLayout;

  constructor(key: SrtpSenderKey, options: SrtpSessionOptions = {}) {
    this.#opts = checkOptions(options);
    this.#keys = new SessionKeyCache(this.#opts.srtcpIndexBits);
    this.#key = key;
    this.#layout = layoutOf(key.mki.length, this.#opts.rocRate);
  }

  /** Switches to another master key (and MKI) for the next packets; indices continue. */
  setKey(key: SrtpSenderKey): void {
    this.#layout = layoutOf(key.mki.length, this.#opts.rocRate);
    this.#key = key;
  }

  /**
   * Starts the stream of `ssrc` at ROC `roc` (a ROC agreed out of band, RFC 3711 §3.3.1); only
   * before its first packet, so no index can be protected twice.
   */
  setRoc(ssrc: number, roc: number): void {
    checkRoc(this.#rtp.get(ssrc), ssrc, roc);
    this.#rtp.set(ssrc, { window: new ReplayWindow(this.#opts.replayWindow), initialRoc: roc });
  }

  /** The SRTP packet for an RTP packet (checked first: RFC 3550 §5.1), RFC 3711 §3.3, RFC 7714 §8. */
  protectRtp(packet: Uint8Array): Uint8Array {
    const { header, length } = decodeRtpHeader(packet, 'rtp');
    rtpPaddingLength(packet.subarray(length), header.padding, 'rtp');
    const { ssrc, sequenceNumber: seq } = header;
    const stream = this.#rtp.get(ssrc) ?? { window: new ReplayWindow(this.#opts.replayWindow), initialRoc: 0 };
    const { window } = stream;
    const { roc, index } = indexFor(window.highest, seq, stream.initialRoc, 'rtp.sequenceNumber');
    if (window.check(index) !== 'new') {
      throw replay('rtp.sequenceNumber', 'this SRTP index was protected before or is too old: an AEAD IV must never repeat', 'RFC 7714 §8.1');
    }
    const out = sealSrtp(this.#keys.rtp(this.#key), packet, length, ssrc, seq, roc, this.#key.mki, carriesRoc(this.#layout, seq));
    window.accept(index);
    this.#rtp.set(ssrc, stream);
    return out;
  }

  /** The SRTCP packet for an RTCP packet (RFC 3711 §3.4, RFC 7714 §9), E = 1 unless told otherwise. */
  protectRtcp(packet: Uint8Array, options: { readonly encrypt?: boolean } = {}): Uint8Array {
    const ssrc = packet.length >= 8 ? new DataView(packet.buffer, packet.byteOffset, 8).getUint32(4) : -1;
    const index = this.#rtcp.get(ssrc) ?? 0;
    if (index > MAX_SRTCP_INDEX) {
      throw new PolicyError(ErrorCode.EXPIRED, { field: 'rtcp', rule: 'the SRTCP index is exhausted (2^31 packets): re-key', clause: 'RFC 3711 §9.2' });
    }
    const out = sealSrtcp(this.#keys.rtcp(this.#key), packet, index, this.#key.mki, options.encrypt ?? true);
    this.#rtcp.set(ssrc, index + 1);
    return out;
  }
}

/**
 * Per-SSRC SRTP state: the replay window (its highest index gives ROC and s_l) and the ROC to
 * assume before the first packet (0 unless set out of band, RFC 3711 §3.3.1).
 */
interface RtpStream {
  readonly window: ReplayWindow;
  readonly initialRoc: number;
}

function checkRoc(stream: RtpStream | undefined, ssrc: number, roc: number): void {
  if (stream !== undefined && stream.window.highest >= 0) {
    throw new ConfigError(ErrorCode.CONFIG, { field: 'srtp.roc', rule: `SSRC ${ssrc >>> 0} already has packets; its ROC is set`, clause: 'RFC 3711 §3.3.1' });
  }
  if (!Number.isInteger(roc) || roc < 0 || roc > 0xffff_ffff) {
    throw new ConfigError(ErrorCode.CONFIG, { field: 'srtp.roc', rule: 'must be a 32-bit unsigned integer', clause: 'RFC 3711 §3.3.1' });
  }
}

function layoutOf(mkiLength: number, rocRate: number): SrtpLayout {
  if (mkiLength !== 0 && mkiLength !== 4 && mkiLength !== 8) {
    throw new ConfigError(ErrorCode.CONFIG, { field: 'srtp.mki', rule: 'must be 0, 4 or 8 octets', clause: 'TS 33.180 §7.4' });
  }
  return Object.freeze({ mkiLength, rocRate });
}

/** Checks incoming SRTP and SRTCP of a session, per SSRC. */
export class SrtpReceiver {
  readonly #opts: Required<SrtpSessionOptions>;
  readonly #keys: SessionKeyCache;
  readonly #lookup: (mki: Uint8Array, senderUserId: string | undefined) => SrtpMaster;
  readonly #layout: SrtpLayout;
  readonly #rtp = new Map<number, RtpStream>();
  readonly #rtcp = new Map<number, ReplayWindow>();

  constructor(keys: SrtpReceiverKeys, options: SrtpSessionOptions = {}) {
    this.#opts = checkOptions(options);
    this.#keys = new SessionKeyCache(this.#opts.srtcpIndexBits);
    if ('master' in keys) {
      const fixed = keys.master;
      this.#lookup = () => fixed;
      this.#layout = layoutOf(0, this.#opts.rocRate);
    } else {
      this.#lookup = keys.lookup;
      this.#layout = layoutOf(keys.mkiLength, this.#opts.rocRate);
    }
  }

  /** Expects the stream of `ssrc` at ROC `roc` (RFC 3711 §3.3.1), before its first packet. */
  setRoc(ssrc: number, roc: number): void {
    checkRoc(this.#rtp.get(ssrc), ssrc, roc);
    this.#rtp.set(ssrc, { window: new ReplayWindow(this.#opts.replayWindow), initialRoc: roc });
  }

  /** The RTP packet of an SRTP packet; state moves only if it authenticated and decoded. */
  unprotectRtp(bytes: Uint8Array, options: UnprotectOptions = {}): Uint8Array {
    const parts = parseSrtp(bytes, this.#layout);
    const master = this.#lookup(parts.mki.slice(), options.senderUserId);
    const { ssrc, sequenceNumber: seq } = parts.header;
    const stream = this.#rtp.get(ssrc);
    const window = stream?.window;
    const top = window?.highest ?? -1;
    let roc: number;
    let index: number;
    if (parts.roc !== undefined) {
      roc = parts.roc; // RCCm3 (RFC 4771 §3.3): the sender's ROC, checked by the GCM tag through the IV
      index = srtpIndex(roc, seq);
    } else {
      ({ roc, index } = indexFor(top, seq, stream?.initialRoc ?? 0, 'srtp.sequenceNumber'));
    }
    const verdict = window?.check(index) ?? 'new';
    if (verdict !== 'new') {
      throw replay('srtp.sequenceNumber', verdict === 'replayed' ? 'this packet was received before' : 'the packet is older than the replay window', 'RFC 3711 §3.3.2');
    }
    const packet = openSrtp(this.#keys.rtp(master), parts, roc);
    const s = stream ?? { window: new ReplayWindow(this.#opts.replayWindow), initialRoc: 0 };
    s.window.accept(index);
    this.#rtp.set(ssrc, s);
    return packet;
  }

  /**
   * The RTCP packet of an SRTCP packet; state moves only if it authenticated. E = 0 (integrity
   * only) is refused unless `allowUnencrypted`: TS 33.180 §9.4.1 requires RTCP encryption.
   */
  unprotectRtcp(bytes: Uint8Array, options: UnprotectOptions & { readonly allowUnencrypted?: boolean } = {}): Uint8Array {
    const parts = parseSrtcp(bytes, this.#layout.mkiLength);
    if (!parts.encrypted && options.allowUnencrypted !== true) {
      throw new FormatError(ErrorCode.UNSUPPORTED, {
        field: 'srtcp.e',
        rule: 'must be 1: RTCP is encrypted between MC entities',
        clause: 'TS 33.180 §9.4.1',
      });
    }
    const master = this.#lookup(parts.mki.slice(), options.senderUserId);
    const window = this.#rtcp.get(parts.ssrc);
    const verdict = window?.check(parts.index) ?? 'new';
    if (verdict !== 'new') {
      throw replay('srtcp.index', verdict === 'replayed' ? 'this packet was received before' : 'the packet is older than the replay window', 'RFC 3711 §3.3.2');
    }
    const packet = openSrtcp(this.#keys.rtcp(master), parts);
    const w = window ?? new ReplayWindow(this.#opts.replayWindow);
    w.accept(parts.index);
    this.#rtcp.set(parts.ssrc, w);
    return packet;
  }

  /** The ROC and highest sequence number accepted from an SSRC (undefined before any packet). */
  rtpState(ssrc: number): { readonly roc: number; readonly highestSequence: number } | undefined {
    const top = this.#rtp.get(ssrc)?.window.highest;
    if (top === undefined || top < 0) return undefined;
    return Object.freeze({ roc: Math.floor(top / 0x1_0000), highestSequence: top % 0x1_0000 });
  }
}
