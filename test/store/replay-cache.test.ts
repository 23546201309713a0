/**
 * One contract for every ReplayCache (RFC 3830 §5.4 replay protection): in memory, and Redis at
 * REDIS_URL (default redis://127.0.0.1:6379). The Redis run skips, saying why, only when no
 * server answers; two clients racing for the same key show that exactly one claim wins.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { MemoryReplayCache, type ReplayCache } from '../../src/formats/mikey/index.js';
import { RedisReplayCache } from '../../src/store/index.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

function contract(name: string, make: () => ReplayCache, skip: string | false = false): void {
  describe(`ReplayCache contract: ${name}`, { skip }, () => {
    test('a new key is claimed once; a second claim before expiry is refused', async () => {
      const cache = make();
      const key = randomBytes(16).toString('hex');
      const now = Date.now();
      assert.equal(await cache.claim(key, now, now + 60_000), true);
      assert.equal(await cache.claim(key, now + 1, now + 60_001), false);
      assert.equal(await cache.claim(randomBytes(16).toString('hex'), now, now + 60_000), true);
    });
    test('claimAll records every key or, when one is there (or repeated), none', async () => {
      const cache = make();
      assert.ok(cache.claimAll !== undefined);
      const [a, b, c] = [0, 1, 2].map(() => randomBytes(16).toString('hex')) as [string, string, string];
      const now = Date.now();
      assert.equal(await cache.claim(b, now, now + 60_000), true);
      assert.equal(await cache.claimAll([[a, now + 60_000], [b, now + 60_000]], now), false);
      assert.equal(await cache.claimAll([[a, now + 60_000], [a, now + 60_000]], now), false);
      assert.equal(await cache.claim(a, now, now + 60_000), true, 'a refused claimAll recorded nothing');
      assert.equal(await cache.claimAll([[c, now + 60_000], [randomBytes(16).toString('hex'), now + 60_000]], now), true);
      assert.equal(await cache.claim(c, now, now + 60_000), false);
    });
    test('after expiry the key can be claimed again', async () => {
      const cache = make();
      const key = randomBytes(16).toString('hex');
      const now = Date.now();
      assert.equal(await cache.claim(key, now, now + 50), true);
      await new Promise((r) => setTimeout(r, 120));
      assert.equal(await cache.claim(key, Date.now(), Date.now() + 50), true);
    });
  });
}

contract('memory', () => new MemoryReplayCache());

const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
const reachable = await probe.connect().then(
  async () => {
    await probe.quit();
    return true;
  },
  () => false,
);
const opened: RedisReplayCache[] = [];
after(async () => {
  await Promise.all(opened.map((c) => c.close()));
});
const skipWhy = reachable ? false : `Redis unreachable at ${REDIS_URL}: the Redis replay-cache contract did not run`;
if (!reachable) console.log(`# ${skipWhy}`);
contract(
  'redis',
  () => {
    const c = new RedisReplayCache(REDIS_URL, `mcsec:test:${process.pid}:`);
    opened.push(c);
    return c;
  },
  skipWhy,
);

test('redis: two instances racing for one key, exactly one wins', { skip: skipWhy }, async () => {
  const prefix = `mcsec:race:${process.pid}:`;
  const a = new RedisReplayCache(REDIS_URL, prefix);
  const b = new RedisReplayCache(REDIS_URL, prefix);
  opened.push(a, b);
  for (let i = 0; i < 20; i++) {
    const key = randomBytes(16).toString('hex');
    const now = Date.now();
    const wins = await Promise.all([a.claim(key, now, now + 60_000), b.claim(key, now, now + 60_000)]);
    assert.equal(wins.filter(Boolean).length, 1);
  }
});
