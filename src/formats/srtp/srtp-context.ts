/**
 * SRTP / SRTCP crypto contexts (RFC 3711 §3.2) for the profile of TS 33.180 §7.5 and §9.4.8:
 * AEAD_AES_128_GCM (RFC 7714), session keys from the master key by the AES-CM PRF with key
 * derivation rate 0 (derived once per master key and kept), an optional MKI, RCCm3 (RFC 4771),
 * and per master key and SSRC the rollover counter and a replay window (stream-contexts.ts).
 *
 * Sender: one master key (and MKI) at a time, `setKey` to change it; per SSRC the highest SRTP
 * index protected, ROC following the sequence numbers as the receiver's estimate does, and a
 * window refusing an index protected before (an AEAD IV must never repeat, RFC 7714 §8.1); SRTCP
 * indices count up from 0 per SSRC and stop at 2^31 - 1 (RFC 3711 §9.2: re-key).
 *
 * Receiver, per packet (RFC 3711 §3.3): split it; find the master key by MKI (a lookup function,
 * usually `SrtpKeyRing.resolve`); take the (MKI, SSRC) context; take the index from the RCCm3
 * ROC if the packet carries one, else estimate it (RFC 3711 §3.3.1; first packet of an SSRC: ROC
 * 0; first under a new key: the ROC the SSRC had under the previous one, else 0); refuse a
 * replayed or too old index (§3.3.2); open; check the plaintext; only then move that context's
 * ROC, highest index and replay window. Any authentication failure is the one CryptoError
 * ERR_DECRYPT.
 */
import { deriveSrtcpSessionKeys, deriveSrtpSessionKeys, type SrtpIndexBits, type SrtpSessionKeys } from '../../crypto/srtp-kdf.js';
import type { SrtpMaster } from '../../crypto/srtp-key-derivation.js';
import { ConfigError, CryptoError, ErrorCode, FormatError, PolicyError } from '../../errors/index.js';
import { ReplayWindow, DEFAULT_REPLAY_WINDOW } from './replay-window.js';
import { MAX_SRTP_INDEX, guessRoc, srtpIndex } from './rollover.js';
import { decodeRtpHeader, rtpPaddingLength } from './rtp.js';
import { DEFAULT_MAX_STREAMS, StreamContexts } from './stream-contexts.js';
import { carriesRoc, openSrtcp, openSrtp, parseSrtcp, parseSrtp, sealSrtcp, sealSrtp, type SrtpLayout } from './srtp-packet.js';

/** Options shared by senders and receivers of one session. */
export interface SrtpSessionOptions {
  /** RCCm3 rate R (RFC 4771 §4; TS 33.180 Table E.2.2-1 default for group calls: 1). 0 = off. */
  readonly rocRate?: number;
  /** Replay window size (RFC 3711 §3.3.2), default 64. */
  readonly replayWindow?: number;
  /** SRTCP key derivation index width: 48 per RFC 3711 Errata ID 3712 (default), or 32. */
  readonly srtcpIndexBits?: SrtpIndexBits;
  /**
   * Receiver: (MKI, SSRC) contexts kept per distributed key, each of SRTP and SRTCP, the least
   * recently used dropped beyond it (stream-contexts.ts); default 1024.
   */
  readonly maxStreams?: number;
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
  const maxStreams = o.maxStreams ?? DEFAULT_MAX_STREAMS;
  if (!Number.isInteger(maxStreams) || maxStreams < 1 || maxStreams > 1_000_000) {
    throw new ConfigError(ErrorCode.CONFIG, { field: 'srtp.maxStreams', rule: 'must be 1 to 1000000', clause: 'RFC 3711 §3.2' });
  }
  new ReplayWindow(o.replayWindow ?? DEFAULT_REPLAY_WINDOW);
  return { rocRate, replayWindow: o.replayWindow ?? DEFAULT_REPLAY_WINDOW, srtcpIndexBits, maxStreams };
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

/** An SRTP index and its ROC; one or two of them to try for a packet. */
interface Estimate {
  readonly roc: number;
  readonly index: number;
}
type Estimates = readonly [Estimate] | readonly [Estimate, Estimate];

/**
 * Checks incoming SRTP and SRTCP of a session, per master key and SSRC (stream-contexts.ts): the
 * replay windows and the ROC are those of the (MKI, SSRC) pair, so packets under one key never
 * move the state of another key's stream.
 */
export class SrtpReceiver {
  readonly #opts: Required<SrtpSessionOptions>;
  readonly #keys: SessionKeyCache;
  readonly #lookup: (mki: Uint8Array, senderUserId: string | undefined) => SrtpMaster;
  readonly #layout: SrtpLayout;
  readonly #rtp: StreamContexts<ReplayWindow>;
  readonly #rtcp: StreamContexts<ReplayWindow>;
  /** ROCs agreed out of band per SSRC (`setRoc`), for the first packet under each key. */
  readonly #initialRoc = new Map<number, number>();

  constructor(keys: SrtpReceiverKeys, options: SrtpSessionOptions = {}) {
    this.#opts = checkOptions(options);
    this.#keys = new SessionKeyCache(this.#opts.srtcpIndexBits);
    this.#rtp = new StreamContexts(this.#opts.maxStreams);
    this.#rtcp = new StreamContexts(this.#opts.maxStreams);
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
    const latest = this.#rtp.latest(ssrc);
    checkRoc(latest === undefined ? undefined : { window: latest, initialRoc: 0 }, ssrc, roc);
    this.#initialRoc.set(ssrc, roc);
  }

  /** The RTP packet of an SRTP packet; state moves only if it authenticated and decoded. */
  unprotectRtp(bytes: Uint8Array, options: UnprotectOptions = {}): Uint8Array {
    const parts = parseSrtp(bytes, this.#layout);
    const mki = parts.mki.slice();
    const master = this.#lookup(mki.slice(), options.senderUserId);
    const { ssrc, sequenceNumber: seq } = parts.header;
    const window = this.#rtp.get(mki, ssrc);
    // RCCm3 (RFC 4771 §3.3): the sender's ROC, checked by the GCM tag through the IV.
    const [first, second]: Estimates = parts.roc !== undefined ? [{ roc: parts.roc, index: srtpIndex(parts.roc, seq) }] : this.#estimates(window, ssrc, seq);
    const verdict = window?.check(first.index) ?? 'new';
    if (verdict !== 'new') {
      throw replay('srtp.sequenceNumber', verdict === 'replayed' ? 'this packet was received before' : 'the packet is older than the replay window', 'RFC 3711 §3.3.2');
    }
    const keys = this.#keys.rtp(master);
    let index = first.index;
    let packet: Uint8Array;
    try {
      packet = openSrtp(keys, parts, first.roc);
    } catch (e) {
      if (second === undefined || !(e instanceof CryptoError)) throw e;
      packet = openSrtp(keys, parts, second.roc);
      index = second.index;
    }
    const w = window ?? new ReplayWindow(this.#opts.replayWindow);
    w.accept(index);
    this.#rtp.put(mki, ssrc, w);
    return packet;
  }

  /**
   * The indices to try for a packet without RCCm3 ROC (RFC 3711 §3.3.1). A stream seen under this
   * key: the estimate from its own highest index. A stream new under this key: a sender re-keyed
   * mid-stream goes on with its ROC and SEQ (RFC 3711 §8.1; SrtpSender.setKey, libsrtp), so first
   * the estimate from the SSRC's latest context under another key, then — should that not
   * authenticate, as when a holder of the other key pushed it far ahead — the ROC of a new stream
   * (0, or `setRoc`). At most two GCM opens; nothing moves before one authenticates.
   */
  #estimates(window: ReplayWindow | undefined, ssrc: number, seq: number): Estimates {
    const initialRoc = this.#initialRoc.get(ssrc) ?? 0;
    if (window !== undefined) return [indexFor(window.highest, seq, initialRoc, 'srtp.sequenceNumber')];
    const fresh = indexFor(-1, seq, initialRoc, 'srtp.sequenceNumber');
    const other = this.#rtp.latest(ssrc)?.highest ?? -1;
    if (other < 0) return [fresh];
    let seeded: Estimate;
    try {
      seeded = indexFor(other, seq, initialRoc, 'srtp.sequenceNumber');
    } catch {
      return [fresh]; // before that stream's start or past 2^48: not a continuation of it
    }
    return seeded.roc === fresh.roc ? [fresh] : [seeded, fresh];
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
    const mki = parts.mki.slice();
    const master = this.#lookup(mki.slice(), options.senderUserId);
    const window = this.#rtcp.get(mki, parts.ssrc);
    const verdict = window?.check(parts.index) ?? 'new';
    if (verdict !== 'new') {
      throw replay('srtcp.index', verdict === 'replayed' ? 'this packet was received before' : 'the packet is older than the replay window', 'RFC 3711 §3.3.2');
    }
    const packet = openSrtcp(this.#keys.rtcp(master), parts);
    const w = window ?? new ReplayWindow(this.#opts.replayWindow);
    w.accept(parts.index);
    this.#rtcp.put(mki, parts.ssrc, w);
    return packet;
  }

  /**
   * The ROC and highest sequence number accepted from an SSRC (undefined before any packet): under
   * the master key of `mki` if given, else of the context that took the SSRC's latest packet.
   */
  rtpState(ssrc: number, mki?: Uint8Array): { readonly roc: number; readonly highestSequence: number } | undefined {
    const top = (mki === undefined ? this.#rtp.latest(ssrc) : this.#rtp.get(mki, ssrc))?.highest;
    if (top === undefined || top < 0) return undefined;
    return Object.freeze({ roc: Math.floor(top / 0x1_0000), highestSequence: top % 0x1_0000 });
  }
}
