/**
 * A replay cache shared by several instances through Redis (ARCHITECTURE.md §4): a claim is one
 * `SET key 1 PX <ttl> NX`, atomic in Redis, so exactly one instance accepts a given message
 * (RFC 3830 §5.4). Keys are prefixed per use (e.g. `mcsec:mikey:`); values hold no message data.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { ReplayCache } from '../formats/mikey/index.js';

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

  /** Closes the connection when this cache opened it. */
  async close(): Promise<void> {
    if (this.#owned) await this.#redis.quit();
  }
}
