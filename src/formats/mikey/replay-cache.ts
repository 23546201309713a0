/**
 * Replay protection for received MIKEY messages (RFC 3830 §5.4): a message seen before within its
 * validity window is refused. The interface lets several instances share the cache (Redis, later);
 * `MemoryReplayCache` serves one process. Receivers look first and record only after the whole
 * message passed (STYLE.md §6: change state last).
 */

/** Where seen-message keys are kept until they expire. */
export interface ReplayCache {
  /** Whether `key` was recorded and has not expired at `nowMs`. */
  has(key: string, nowMs: number): boolean;
  /** Records `key` until `expiresAtMs`. */
  add(key: string, expiresAtMs: number): void;
}

/** An in-memory cache bounded in size; expired entries are pruned as it fills. */
export class MemoryReplayCache implements ReplayCache {
  readonly #entries = new Map<string, number>();
  readonly #max: number;
  constructor(maxEntries = 100_000) {
    this.#max = maxEntries;
  }
  has(key: string, nowMs: number): boolean {
    const exp = this.#entries.get(key);
    return exp !== undefined && exp > nowMs;
  }
  add(key: string, expiresAtMs: number): void {
    if (this.#entries.size >= this.#max) {
      const now = Date.now();
      for (const [k, exp] of this.#entries) if (exp <= now) this.#entries.delete(k);
      // Still full of live entries: drop the oldest (insertion order).
      while (this.#entries.size >= this.#max) {
        const first = this.#entries.keys().next();
        if (first.done === true) break;
        this.#entries.delete(first.value);
      }
    }
    this.#entries.set(key, expiresAtMs);
  }
  /** Number of entries held. */
  get size(): number {
    return this.#entries.size;
  }
}
