/**
 * A receiver's per-stream state (RFC 3711 §3.2): one context per master key and SSRC, never per
 * SSRC alone. RFC 3711 §3.2.3 finds a crypto context by <SSRC, destination address, port>; an
 * mcsec receiver takes several streams on one address (a control channel: unicast SRTCP under the
 * CSK, §9.4.2, and multicast under each MuSiK, §9.4.3; a group call: each GMK, §7.4.2), and the
 * master key, named by the MKI, is what tells them apart. With one window per SSRC, anyone holding
 * a MuSiK (or an old GMK) could send under it with the SSRC of the floor control server (or of a
 * member) and a high index, and every genuine packet under the CSK (or the new GMK) after it would
 * be "too old"; a server using one SSRC for its unicast and multicast streams, both from index 0,
 * would lose one of them. Without an MKI there is one key, so state is per SSRC as before.
 *
 * Bounded, and only after a packet authenticated (the caller puts a context only then): at most
 * `maxStreams` contexts per distributed key — the key ID in an MKI's first 4 octets (PCK-ID,
 * GMK-ID, KFC-ID: §7.4, §9.4.6), so GUK-IDs a group member makes up in 64-bit MKIs count against
 * their GMK — the least recently used of that key's dropped first, and state for at most
 * `MAX_KEYS_WITH_STATE` distributed keys, the least recently used key's dropped first. A holder of
 * one key can therefore crowd out only that key's contexts (its holders can forge each other's
 * packets anyway), never another key's; and an MKI that names no key held makes no state at all.
 */

/** Contexts per distributed key (each of SRTP and SRTCP) unless configured. */
export const DEFAULT_MAX_STREAMS = 1024;

/** Distributed keys (PCK, GMK, KFC) a receiver keeps state for at once. */
export const MAX_KEYS_WITH_STATE = 64;

interface Entry<T> {
  readonly ssrc: number;
  readonly context: T;
}

/** Contexts by (MKI, SSRC), bounded per distributed key; insertion order is recency (LRU). */
export class StreamContexts<T> {
  readonly #maxStreams: number;
  /** By distributed key (hex of the MKI's first 4 octets, '' without MKI), then `${mki}/${ssrc}`. */
  readonly #keys = new Map<string, Map<string, Entry<T>>>();
  /** Per SSRC, the context that took the latest packet of that SSRC under any key. */
  readonly #latest = new Map<number, T>();
  /** The context `put` last touched: a stream's packets mostly come in a row (fast path). */
  #last: { readonly key: string; readonly id: string; readonly mki: Uint8Array; readonly ssrc: number; readonly context: T } | undefined;

  constructor(maxStreams: number) {
    this.#maxStreams = maxStreams;
  }

  /** The context of `ssrc` under the master key named by `mki`. */
  get(mki: Uint8Array, ssrc: number): T | undefined {
    const last = this.#last;
    if (last !== undefined && last.ssrc === ssrc && sameOctets(last.mki, mki)) return last.context;
    return this.#keys.get(keyOf(mki))?.get(idOf(mki, ssrc))?.context;
  }

  /** The context of `ssrc` that took its latest packet, under whichever key. */
  latest(ssrc: number): T | undefined {
    return this.#latest.get(ssrc);
  }

  /** Records a context after a packet of it authenticated: new, or touched as most recent. */
  put(mki: Uint8Array, ssrc: number, context: T): void {
    const key = keyOf(mki);
    const id = idOf(mki, ssrc);
    // Already the most recent everywhere: nothing to reorder.
    if (this.#last !== undefined && this.#last.id === id && this.#last.key === key && this.#last.context === context) return;
    this.#last = { key, id, mki: mki.slice(), ssrc, context };
    let streams = this.#keys.get(key);
    if (streams === undefined) {
      streams = new Map();
      if (this.#keys.size >= MAX_KEYS_WITH_STATE) this.#dropOldestKey();
    } else {
      this.#keys.delete(key);
    }
    this.#keys.set(key, streams);
    if (!streams.delete(id) && streams.size >= this.#maxStreams) {
      const oldest = streams.entries().next().value;
      if (oldest !== undefined) {
        streams.delete(oldest[0]);
        this.#forget(oldest[1]);
      }
    }
    streams.set(id, { ssrc, context });
    this.#latest.delete(ssrc);
    this.#latest.set(ssrc, context);
  }

  #dropOldestKey(): void {
    const oldest = this.#keys.entries().next().value;
    if (oldest === undefined) return;
    this.#keys.delete(oldest[0]);
    for (const e of oldest[1].values()) this.#forget(e);
  }

  #forget(e: Entry<T>): void {
    if (this.#latest.get(e.ssrc) === e.context) this.#latest.delete(e.ssrc);
    if (this.#last?.context === e.context) this.#last = undefined;
  }
}

function sameOctets(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The MKI's octets as a string key, without a hex encoder per packet (MKIs are 0, 4 or 8 octets here). */
function octetsKey(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i] as number);
  return s;
}
const keyOf = (mki: Uint8Array): string => octetsKey(mki.subarray(0, 4));
const idOf = (mki: Uint8Array, ssrc: number): string => `${octetsKey(mki)}/${ssrc >>> 0}`;
