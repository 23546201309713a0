/**
 * A replay cache shared by several instances through Redis (ARCHITECTURE.md §4): a claim is one
 * `SET key 1 PX <ttl> NX`, atomic in Redis, so exactly one instance accepts a given message
 * (RFC 3830 §5.4); `claimAll` is one Lua script (all keys absent, then all set), as atomic. Keys
 * are prefixed per use (e.g. `mcsec:mikey:`); values hold no message data.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { ReplayCache } from '../formats/mikey/index.js';

/** Sets every key (KEYS[i], PX ARGV[i]) if none exists and no key repeats; 1 if set, else 0. */
const CLAIM_ALL = `
for i, k in ipairs(KEYS) do
  if redis.call('EXISTS', k) == 1 then return 0 end
  for j = 1, i - 1 do if KEYS[j] == k then return 0 end end
end
for i, k in ipairs(KEYS) do redis.call('SET', k, '1', 'PX', ARGV[i]) end
return 1`;

/** A ReplayCache on a Redis server. */
export class RedisReplayCache implements ReplayCache {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #owned: boolean;

  /** `redis` is a URL (redis://host:port/db) or an existing client; `prefix` namespaces the keys. */
  constructor(redis: string | Redis, prefix = 'mcsec:replay:', options: RedisOptions = {}) {
    this.#owned = typeof redis === 'string';
    this.#redis = typeof redis === 'string' ? new Redis(redis, { lazyConnect: false, maxRetriesPerRequest: 2, ...options }) : redis;
    this.#prefix = prefix;
  }

  async claim(key: string, nowMs: number, expiresAtMs: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(expiresAtMs - nowMs));
    const reply = await this.#redis.set(this.#prefix + key, '1', 'PX', ttl, 'NX');
    return reply === 'OK';
  }

  async claimAll(claims: readonly (readonly [key: string, expiresAtMs: number])[], nowMs: number): Promise<boolean> {
    if (claims.length === 0) return true;
    const ttls = claims.map(([, expiresAtMs]) => String(Math.max(1, Math.ceil(expiresAtMs - nowMs))));
    const reply = await this.#redis.eval(CLAIM_ALL, claims.length, ...claims.map(([key]) => this.#prefix + key), ...ttls);
    return reply === 1;
  }

  /** Closes the connection when this cache opened it. */
  async close(): Promise<void> {
    if (this.#owned) await this.#redis.quit();
  }
}
