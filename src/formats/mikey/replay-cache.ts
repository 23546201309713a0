/**
 * Replay protection for received MIKEY messages (RFC 3830 §5.4): a message seen before within its
 * validity window is refused. Receivers `claim` a message's key only after the whole message
 * passed (STYLE.md §6: change state last); the claim is atomic, so several instances sharing one
 * cache (Redis, `src/store/redis-replay-cache.ts`) agree on which of them accepted a message.
 * `MemoryReplayCache` serves one process.
 */

/** Where seen-message keys are kept until they expire. */
export interface ReplayCache {
  /**
   * Records `key` until `expiresAtMs` unless it is already recorded and unexpired at `nowMs`;
   * true when this call recorded it (the message is new), false when it was there (a replay).
   */
  claim(key: string, nowMs: number, expiresAtMs: number): boolean | Promise<boolean>;
  /**
   * Records every key of `claims` (key, expiresAtMs) when none is recorded and unexpired at `nowMs`,
   * atomically: true when this call recorded them all, false (recording none) when any was there.
   * Optional: a caller without it claims one at a time (a request refused for a later key then
   * leaves the earlier ones recorded).
   */
  claimAll?(claims: readonly (readonly [key: string, expiresAtMs: number])[], nowMs: number): boolean | Promise<boolean>;
}

/** An in-memory cache bounded in size; expired entries are pruned as it fills. */
export class MemoryReplayCache implements ReplayCache {
  readonly #entries = new Map<string, number>();
  readonly #max: number;
  constructor(maxEntries = 100_000) {
    this.#max = maxEntries;
  }
  claim(key: string, nowMs: number, expiresAtMs: number): boolean {
    const exp = this.#entries.get(key);
    if (exp !== undefined && exp > nowMs) return false;
    if (this.#entries.size >= this.#max) {
      for (const [k, e] of this.#entries) if (e <= nowMs) this.#entries.delete(k);
      // Still full of live entries: drop the oldest (insertion order).
      while (this.#entries.size >= this.#max) {
        const first = this.#entries.keys().next();
        if (first.done === true) break;
        this.#entries.delete(first.value);
      }
    }
    this.#entries.set(key, expiresAtMs);
    return true;
  }
  claimAll(claims: readonly (readonly [key: string, expiresAtMs: number])[], nowMs: number): boolean {
    const keys = claims.map((c) => c[0]);
    if (new Set(keys).size !== keys.length) return false;
    if (keys.some((k) => (this.#entries.get(k) ?? nowMs) > nowMs)) return false;
    for (const [key, expiresAtMs] of claims) this.claim(key, nowMs, expiresAtMs);
    return true;
  }
  /** Number of entries held. */
  get size(): number {
    return this.#entries.size;
  }
}
