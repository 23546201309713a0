/** Storage and shared state behind interfaces: Redis-backed replay cache (more stores follow). */
export { RedisReplayCache } from './redis-replay-cache.js';
