/**
 * `clientControlKey` (TS 33.180 §9.4.2) takes the newest CSK of the client that is active now, as
 * protected-message.ts does for XML: a CSK with a future §E.6 activation time (or past its expiry)
 * is passed over, and a client with none active is ERR_UNKNOWN_KEY, never ERR_EXPIRED thrown out
 * of open / refresh for a key the channel cannot use yet.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyId } from '../../src/crypto/index.js';
import { McxKeyResolver, clientControlKey } from '../../src/functions/mcx-server/index.js';
import type { McxCsk, McxStore } from '../../src/store/mcx-records.js';
import { mcxWorld } from '../helpers/mcx.js';

const ALICE = 'sip:alice@mcx.test';
const CLIENT = '<urn:uuid:00000000-0000-0000-0000-00000000a11c>';
const world = await mcxWorld();
after(() => world.close());

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
const csk = (o: { createdAt: number; activatesAt?: number; expiresAt?: number; fill: number }): McxCsk => ({
  cskId: generateKeyId('CSK'),
  userUri: ALICE,
  clientId: CLIENT,
  impu: ALICE,
  csk: new Uint8Array(16).fill(o.fill),
  origin: 'upload',
  createdAt: o.createdAt,
  activatesAt: o.activatesAt,
  expiresAt: o.expiresAt,
  rand: undefined,
});

/** The store with these CSKs only (a store may hold several per client). */
const holding = (csks: readonly McxCsk[]): McxStore =>
  new Proxy(world.mcxStore, {
    get(t, p) {
      if (p === 'listCsks') return (u: string) => Promise.resolve(csks.filter((c) => c.userUri === u));
      if (p === 'getCsk') return (id: number) => Promise.resolve(csks.find((c) => c.cskId === id));
      const v: unknown = Reflect.get(t, p, t);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
const source = (store: McxStore, at: number) => ({ store, resolver: new McxKeyResolver(store, () => new Date(at)) });

test('a newer CSK not active yet is passed over: the older one in force is the control key (§9.4.2, §E.6)', async () => {
  const inForce = csk({ createdAt: T0, fill: 1 });
  const future = csk({ createdAt: T0 + HOUR, activatesAt: T0 + 2 * HOUR, fill: 2 });
  const store = holding([inForce, future]);
  const k = await clientControlKey(source(store, T0 + HOUR), { userUri: ALICE, clientId: CLIENT });
  assert.equal(k.kfcId, inForce.cskId);
  // Once active, the newer one is taken.
  assert.equal((await clientControlKey(source(store, T0 + 3 * HOUR), { userUri: ALICE, clientId: CLIENT })).kfcId, future.cskId);
  // An expired newest one is passed over too.
  const expired = csk({ createdAt: T0 + 2 * HOUR, expiresAt: T0 + 3 * HOUR, fill: 3 });
  assert.equal((await clientControlKey(source(holding([inForce, expired]), T0 + 4 * HOUR), { userUri: ALICE, clientId: CLIENT })).kfcId, inForce.cskId);
});

test('only a CSK not active yet (the store replaced the old one): ERR_UNKNOWN_KEY srtcpKeys.clientId; none at all likewise', async () => {
  const future = csk({ createdAt: T0, activatesAt: T0 + HOUR, fill: 4 });
  await assert.rejects(clientControlKey(source(holding([future]), T0), { userUri: ALICE, clientId: CLIENT }), { name: 'PolicyError', code: 'ERR_UNKNOWN_KEY', field: 'srtcpKeys.clientId' });
  await assert.rejects(clientControlKey(source(holding([]), T0), { userUri: ALICE, clientId: CLIENT }), { code: 'ERR_UNKNOWN_KEY', field: 'srtcpKeys.clientId' });
  // The real store: an uploaded CSK with a future activation time.
  const now = Date.now();
  const stored = await world.mcxStore.replaceCsk({ ...future, cskId: generateKeyId('CSK'), activatesAt: now + HOUR });
  assert.equal(stored.activatesAt, now + HOUR);
  await assert.rejects(clientControlKey(source(world.mcxStore, now), { userUri: ALICE, clientId: CLIENT }), { code: 'ERR_UNKNOWN_KEY', field: 'srtcpKeys.clientId' });
});
