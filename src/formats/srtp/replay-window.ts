/**
 * The replay list of RFC 3711 §3.3.2 as a sliding window: the highest index accepted so far and a
 * bitmap of which of the `size` indices up to it were accepted. An index above the highest is new;
 * one `size` or more below it is too old to tell and refused; one inside the window is refused if
 * its bit is set. `check` never changes the window; `accept` is called only after the packet
 * authenticated (RFC 3711 §3.3 step 6). The default size 64 is the minimum RFC 3711 §3.3.2
 * recommends.
 */
import { ConfigError, ErrorCode } from '../../errors/index.js';

/** The default replay window size (RFC 3711 §3.3.2: at least 64). */
export const DEFAULT_REPLAY_WINDOW = 64;

/** What the replay list says of an index. */
export type ReplayVerdict = 'new' | 'replayed' | 'too-old';

/** A sliding replay window over packet indices (SRTP 48-bit or SRTCP 31-bit). */
export class ReplayWindow {
  readonly size: number;
  readonly #mask: bigint;
  #top = -1;
  #bits = 0n; // bit i: index top - i was accepted

  constructor(size = DEFAULT_REPLAY_WINDOW) {
    if (!Number.isSafeInteger(size) || size < 64 || size > 32_768) {
      throw new ConfigError(ErrorCode.CONFIG, {
        field: 'srtp.replayWindow',
        rule: 'must be 64 to 32768 packets',
        clause: 'RFC 3711 §3.3.2',
      });
    }
    this.size = size;
    this.#mask = (1n << BigInt(size)) - 1n;
  }

  /** The highest accepted index, or -1 before the first. */
  get highest(): number {
    return this.#top;
  }

  /** The verdict for `index`, without changing the window. */
  check(index: number): ReplayVerdict {
    if (index > this.#top) return 'new';
    const back = this.#top - index;
    if (back >= this.size) return 'too-old';
    return ((this.#bits >> BigInt(back)) & 1n) === 1n ? 'replayed' : 'new';
  }

  /** Records `index` as accepted (only after authentication). */
  accept(index: number): void {
    if (index > this.#top) {
      const shift = index - this.#top;
      this.#bits = shift >= this.size ? 1n : ((this.#bits << BigInt(shift)) | 1n) & this.#mask;
      this.#top = index;
    } else if (this.#top - index < this.size) {
      this.#bits |= 1n << BigInt(this.#top - index);
    }
  }
}
