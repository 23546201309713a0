/**
 * What a media receiver counts (TS 33.180 §7.5.2, §9.4.7): packets opened, and packets dropped
 * per typed reason. A receiver never throws on a packet off the wire; it drops it, counts it
 * under one of these reasons and goes on (an unknown MKI, a wrong tag, a replay, a truncated
 * packet, a key of the wrong purpose tag or past its expiry).
 *
 *   reason          from                                                   clause
 *   unknown-key     no key is held for the MKI (ERR_UNKNOWN_KEY)           §7.5.2 step 1
 *   wrong-purpose   an MKI whose key ID has the wrong purpose tag          §7.4, Annex G
 *   expired-key     the key's §E.6.10 expiry time has passed               §5.7, §E.6.10
 *   revoked-key     the key's §E.6.9 status says it may not be used        §5.7.2, §E.6.9
 *   authentication  the AEAD tag does not verify (ERR_DECRYPT)             RFC 7714 §8.2
 *   replayed        an index received before                               RFC 3711 §3.3.2
 *   too-old         an index left of the replay window or before the       RFC 3711 §3.3.1, §3.3.2
 *                   stream's first packet
 *   truncated       shorter than its header, tag, MKI or ROC need          RFC 3711 §3.1
 *   malformed       not RTP / RTCP version 2, bad padding, …               RFC 3550 §5.1
 *   unencrypted     SRTCP with E = 0                                       §9.4.1
 *   exhausted       index past 2^48 (SRTP) or 2^31 (SRTCP): re-key         RFC 3711 §9.2
 *   internal        anything else (a bug: counted, never thrown)
 */
import { ErrorCode, FormatError, McsecError } from '../errors/index.js';

/** Why a received packet was dropped (see the module comment). */
export const DropReason = Object.freeze({
  UNKNOWN_KEY: 'unknown-key',
  WRONG_PURPOSE: 'wrong-purpose',
  EXPIRED_KEY: 'expired-key',
  REVOKED_KEY: 'revoked-key',
  AUTHENTICATION: 'authentication',
  REPLAYED: 'replayed',
  TOO_OLD: 'too-old',
  TRUNCATED: 'truncated',
  MALFORMED: 'malformed',
  UNENCRYPTED: 'unencrypted',
  EXHAUSTED: 'exhausted',
  INTERNAL: 'internal',
} as const);

/** One drop reason. */
export type DropReason = (typeof DropReason)[keyof typeof DropReason];

/** Counters of a media session, a frozen snapshot. */
export interface MediaStats {
  readonly sent: { readonly rtp: number; readonly rtcp: number };
  readonly received: { readonly rtp: number; readonly rtcp: number };
  readonly dropped: Readonly<Record<DropReason, number>>;
  /** Sum of `dropped`. */
  readonly droppedTotal: number;
}

/** The field a key-state refusal names (the session's own check, not the SRTP layer's). */
export const KEY_STATE_FIELD = 'srtp.mki.keyState';

/** The drop reason of an error a receive step threw. */
export function dropReason(err: unknown): DropReason {
  if (!(err instanceof McsecError)) return DropReason.INTERNAL;
  switch (err.code) {
    case ErrorCode.UNKNOWN_KEY:
      return DropReason.UNKNOWN_KEY;
    case ErrorCode.DECRYPT:
      return DropReason.AUTHENTICATION;
    case ErrorCode.REPLAY:
      // srtp-context.ts: "received before" is a repeat; the window and first-packet rules are age.
      return /received before/.test(err.rule) ? DropReason.REPLAYED : DropReason.TOO_OLD;
    case ErrorCode.EXPIRED:
      if (err.field === KEY_STATE_FIELD) return /revoked/.test(err.rule) ? DropReason.REVOKED_KEY : DropReason.EXPIRED_KEY;
      return DropReason.EXHAUSTED;
    case ErrorCode.TRUNCATED:
      return DropReason.TRUNCATED;
    case ErrorCode.BAD_LENGTH:
      return err.field.startsWith('srtp.mki') ? DropReason.MALFORMED : DropReason.TRUNCATED;
    case ErrorCode.UNSUPPORTED:
      return err.field === 'srtcp.e' ? DropReason.UNENCRYPTED : DropReason.MALFORMED;
    case ErrorCode.BAD_VALUE:
      // decodeMki / decodeKeyId: a key ID whose purpose tag is not the one the MKI form needs.
      return err.field.startsWith('srtp.mki') && err instanceof FormatError ? DropReason.WRONG_PURPOSE : DropReason.MALFORMED;
    default:
      return err instanceof FormatError ? DropReason.MALFORMED : DropReason.INTERNAL;
  }
}

const zero = (): Record<DropReason, number> => {
  const o = {} as Record<DropReason, number>;
  for (const r of Object.values(DropReason)) o[r] = 0;
  return o;
};

/** Mutable counters behind `MediaStats`. */
export class MediaCounters {
  #sentRtp = 0;
  #sentRtcp = 0;
  #rtp = 0;
  #rtcp = 0;
  readonly #dropped = zero();

  sent(kind: 'rtp' | 'rtcp'): void {
    if (kind === 'rtp') this.#sentRtp++;
    else this.#sentRtcp++;
  }

  received(kind: 'rtp' | 'rtcp'): void {
    if (kind === 'rtp') this.#rtp++;
    else this.#rtcp++;
  }

  drop(reason: DropReason): void {
    this.#dropped[reason]++;
  }

  snapshot(): MediaStats {
    const dropped = Object.freeze({ ...this.#dropped });
    return Object.freeze({
      sent: Object.freeze({ rtp: this.#sentRtp, rtcp: this.#sentRtcp }),
      received: Object.freeze({ rtp: this.#rtp, rtcp: this.#rtcp }),
      dropped,
      droppedTotal: Object.values(dropped).reduce((a, b) => a + b, 0),
    });
  }
}
