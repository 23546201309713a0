/**
 * The part every client media session shares (TS 33.180 §7.5, §9.4): one SRTP / SRTCP sender
 * whose master key follows the session's current key (`setKey` when it changes, indices going
 * on), one receiver whose per-(master key, SSRC) contexts (ROC, replay windows) are made on a
 * remote stream's first authenticated packet under that key, keys found by MKI (§7.5.2 step 1),
 * and counters.
 *
 * RTP and RTCP share one transport address (RFC 5761 §4: the second octet 192-223 is RTCP), so
 * SRTCP is protected with the session's SRTP master key and MKI, as §7.4.1 and §7.4.2 say for
 * off-network calls. `receive` never throws: a packet that is not opened is dropped and counted
 * under a typed reason (media-stats.ts), and no state moves (srtp-context.ts).
 */
import { ErrorCode, FormatError, McsecError } from '../errors/index.js';
import { SrtpReceiver, SrtpSender, type SrtpKey, type SrtpSessionOptions } from '../formats/srtp/index.js';
import { MediaCounters, dropReason, type DropReason, type MediaStats } from './media-stats.js';

/** A packet opened by `receive`, or why it was dropped. */
export type MediaReceipt =
  | {
      readonly ok: true;
      readonly kind: 'rtp' | 'rtcp';
      /** The RTP or RTCP packet. */
      readonly packet: Uint8Array;
      readonly ssrc: number;
      /** The key that opened it: PCK-ID, GMK-ID or KFC-ID, its CS-ID and CSB-ID (GUK-ID, KFC-ID). */
      readonly keyId: number;
      readonly csId: number;
      readonly csbId: number;
    }
  | { readonly ok: false; readonly kind: 'rtp' | 'rtcp'; readonly reason: DropReason; readonly error: McsecError };

/** RFC 5761 §4: an RTP/RTCP multiplexed packet is RTCP when its second octet is 192-223. */
export const isRtcp = (bytes: Uint8Array): boolean => bytes.length >= 2 && (bytes[1] ?? 0) >= 192 && (bytes[1] ?? 0) <= 223;

/** Options of a media session. */
export interface MediaSessionOptions extends SrtpSessionOptions {
  readonly mkiLength: 4 | 8;
  /** A control channel (§9.4): SRTCP only; anything else received is dropped as malformed. */
  readonly rtcpOnly?: boolean;
}

/** Sender, receiver and counters over keys a subclass finds. */
export abstract class MediaSession {
  readonly #opts: MediaSessionOptions;
  readonly #counters = new MediaCounters();
  readonly #receiver: SrtpReceiver;
  #sender: SrtpSender | undefined;
  #sendKey: SrtpKey | undefined;
  #opened: SrtpKey | undefined;

  protected constructor(opts: MediaSessionOptions) {
    this.#opts = opts;
    this.#receiver = new SrtpReceiver(
      {
        mkiLength: opts.mkiLength,
        lookup: (mki) => {
          const key = this.resolveKey(mki);
          this.#opened = key;
          return key;
        },
      },
      opts,
    );
  }

  /** The key this client sends with now; throws a PolicyError when it has none. */
  protected abstract senderKey(): SrtpKey;

  /** The key of a received MKI; throws a typed McsecError when none may be used. */
  protected abstract resolveKey(mki: Uint8Array): SrtpKey;

  /** The key the next packet goes out under (for a new SSRC, say). */
  currentSenderKey(): SrtpKey {
    return this.senderKey();
  }

  /** The SRTP packet of an RTP packet of this client's (RFC 3711 §3.3, RFC 7714 §8). */
  protectRtp(packet: Uint8Array): Uint8Array {
    if (this.#opts.rtcpOnly === true) throw new McsecError(ErrorCode.CONFIG, { field: 'media.protectRtp', rule: 'a control channel carries RTCP only', clause: 'TS 33.180 §9.4.1' });
    const out = this.#sending().protectRtp(packet);
    this.#counters.sent('rtp');
    return out;
  }

  /** The SRTCP packet of an RTCP packet of this client's (RFC 3711 §3.4, RFC 7714 §9). */
  protectRtcp(packet: Uint8Array): Uint8Array {
    const out = this.#sending().protectRtcp(packet);
    this.#counters.sent('rtcp');
    return out;
  }

  /** Opens an SRTP or SRTCP packet off the wire; never throws (see the module comment). */
  receive(bytes: Uint8Array): MediaReceipt {
    const kind = isRtcp(bytes) ? 'rtcp' : 'rtp';
    this.#opened = undefined;
    try {
      if (kind === 'rtp' && this.#opts.rtcpOnly === true) {
        throw new FormatError(ErrorCode.BAD_VALUE, { field: 'srtcp.packetType', rule: 'a control channel carries SRTCP only (RTCP packet type 192-223)', clause: 'TS 33.180 §9.4.1; RFC 5761 §4' });
      }
      const packet = kind === 'rtp' ? this.#receiver.unprotectRtp(bytes) : this.#receiver.unprotectRtcp(bytes);
      const key = this.#takeOpened();
      if (key === undefined) throw new McsecError(ErrorCode.INTERNAL, { field: 'media.receive', rule: 'a packet opened without a key' });
      this.#counters.received(kind);
      const ssrc = new DataView(packet.buffer, packet.byteOffset, packet.byteLength).getUint32(kind === 'rtp' ? 8 : 4);
      return Object.freeze({ ok: true, kind, packet, ssrc, keyId: key.keyId, csId: key.csId, csbId: key.csbId });
    } catch (err) {
      const error = err instanceof McsecError ? err : new McsecError(ErrorCode.INTERNAL, { field: 'media.receive', rule: 'failed unexpectedly' });
      const reason = dropReason(error);
      this.#counters.drop(reason);
      return Object.freeze({ ok: false, kind, reason, error });
    } finally {
      this.#opened = undefined;
    }
  }

  /** The ROC and highest SEQ accepted from a remote SSRC (undefined before its first packet). */
  rtpState(ssrc: number): { readonly roc: number; readonly highestSequence: number } | undefined {
    return this.#receiver.rtpState(ssrc);
  }

  /** Counters so far. */
  get stats(): MediaStats {
    return this.#counters.snapshot();
  }

  /** The key the last lookup found (read through a method: TypeScript narrows the field). */
  #takeOpened(): SrtpKey | undefined {
    return this.#opened;
  }

  #sending(): SrtpSender {
    const key = this.senderKey();
    if (this.#sender === undefined) {
      this.#sender = new SrtpSender(key, this.#opts);
    } else if (key !== this.#sendKey) {
      // A new key (a rekey, §5.7): the next packets carry its MKI; SSRC, ROC and SEQ go on.
      this.#sender.setKey(key);
    }
    this.#sendKey = key;
    return this.#sender;
  }
}
