/**
 * One contract for the GmsStore (STYLE.md §9), run on SQLite (a temporary file) and on PostgreSQL
 * at DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) in a fresh schema dropped
 * afterwards; the PostgreSQL run skips, saying why, only when no server answers there.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { KyselyGmsStore, SecretBox, openDatabase, type StoreDatabase } from '../../src/store/index.js';
import { postgresUnreachable } from '../helpers/postgres.js';

const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const bytes = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const GROUP = 'sip:fire@example.org';
const KMS = 'kms.example.org';
let tick = 1_700_000_000_000;
const now = (): number => tick++;

interface Target {
  connect(): StoreDatabase;
  dispose(): Promise<void>;
}

function gmsStoreContract(name: string, fresh: () => Promise<Target>, skip: string | false = false): void {
  describe(`GmsStore contract: ${name}`, { skip }, () => {
    const cleanups: (() => Promise<void>)[] = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
    });
    async function open(box = new SecretBox(bytes(32))): Promise<{ store: KyselyGmsStore; database: StoreDatabase; box: SecretBox; t: Target }> {
      const t = await fresh();
      cleanups.push(() => t.dispose());
      const database = t.connect();
      cleanups.push(() => database.close());
      return { store: await KyselyGmsStore.open(database, box, { now }), database, box, t };
    }

    test('KMS certificates and the GMS key sets round trip; RSK and SSK are sealed at rest', async () => {
      const { store, database } = await open();
      const cert = { kmsUri: KMS, userKeyPeriod: 86_400, userKeyOffset: 0, pubEncKey: bytes(257), pubAuthKey: bytes(65), isSecurityGateway: false };
      const held = await store.putKmsCertificate(cert);
      assert.deepEqual({ ...held, updatedAt: 0 }, { ...cert, updatedAt: 0 });
      const replaced = await store.putKmsCertificate({ ...cert, isSecurityGateway: true });
      assert.equal(replaced.isSecurityGateway, true);
      assert.equal((await store.listKmsCertificates()).length, 1);
      const ks = { gmsUri: 'sip:gms@example.org', kmsUri: KMS, keyPeriodNo: 42, userId: bytes(32), rsk: bytes(257), ssk: bytes(32), pvt: bytes(65) };
      const stored = await store.putKeySet(ks);
      assert.deepEqual({ ...stored, storedAt: 0 }, { ...ks, storedAt: 0 });
      assert.deepEqual(await store.listKeyPeriods(ks.gmsUri), [42]);
      const raw = await sql<Record<string, unknown>>`select * from gms_key_set`.execute(database.db);
      const row = raw.rows[0] ?? {};
      assert.match(String(row['rsk_wrapped']), /^v1\./);
      assert.match(String(row['ssk_wrapped']), /^v1\./);
      assert.ok(!JSON.stringify(raw.rows).includes(Buffer.from(ks.ssk).toString('hex')), 'no plain SSK in the table');
    });

    test('groups and members: insert-or-ignore, added / removed lists, groupsOf', async () => {
      const { store } = await open();
      const g = { groupUri: GROUP, alsoGroupIds: ['sip:fire-video@example.org'], primaryGmsUri: undefined, text: 'Fire', gmkLifetime: 3600, rekeyOnRemove: true };
      const first = await store.createGroup(g);
      assert.equal(first.created, true);
      assert.deepEqual(first.group.alsoGroupIds, ['sip:fire-video@example.org']);
      assert.equal((await store.createGroup({ ...g, text: 'other' })).created, false);
      assert.equal((await store.getGroup(GROUP))?.text, 'Fire');
      const added = await store.addMembers(GROUP, [
        { memberUri: 'sip:a@example.org', kmsUri: KMS },
        { memberUri: 'sip:b@example.org', kmsUri: KMS },
        { memberUri: 'sip:a@example.org', kmsUri: KMS },
      ]);
      assert.deepEqual([...added].sort(), ['sip:a@example.org', 'sip:b@example.org']);
      assert.deepEqual(await store.addMembers(GROUP, [{ memberUri: 'sip:b@example.org', kmsUri: KMS }, { memberUri: 'sip:c@example.org', kmsUri: 'kms.partner.org' }]), ['sip:c@example.org']);
      assert.deepEqual((await store.listMembers(GROUP)).map((m) => m.memberUri), ['sip:a@example.org', 'sip:b@example.org', 'sip:c@example.org']);
      assert.deepEqual(await store.groupsOf('sip:c@example.org'), [GROUP]);
      assert.deepEqual(await store.removeMembers(GROUP, ['sip:b@example.org', 'sip:nobody@example.org']), ['sip:b@example.org']);
      assert.deepEqual(await store.groupsOf('sip:b@example.org'), []);
      await assert.rejects(store.addMembers('sip:no-group@example.org', [{ memberUri: 'sip:a@example.org', kmsUri: KMS }]), { code: 'ERR_UNKNOWN_KEY', field: 'members.groupUri' });
    });

    test('GMKs: one per (group, generation) and per GMK-ID, first writer wins; sealed with the row as AAD; revocation', async () => {
      const { store, database } = await open();
      await store.createGroup({ groupUri: GROUP, alsoGroupIds: [], primaryGmsUri: undefined, text: '', gmkLifetime: 0, rekeyOnRemove: true });
      const gmk = { groupUri: GROUP, gmkId: 0x0123_4567, generation: 1, gmk: bytes(16), activationAt: 1_700_000_000_000, expiryAt: undefined, revoked: false, text: 't', origin: undefined, rand: bytes(16) as Uint8Array | undefined };
      assert.equal(await store.putGmk(gmk), true);
      assert.equal(await store.putGmk({ ...gmk, gmkId: 0x0765_4321 }), false, 'the generation is taken');
      assert.equal(await store.putGmk({ ...gmk, generation: 2 }), false, 'the GMK-ID is taken');
      assert.equal(await store.putGmk({ ...gmk, gmkId: 0x0fff_ffff, generation: 2, expiryAt: 1_800_000_000_000, origin: 'sip:primary@a.org', rand: undefined }), true);
      const list = await store.listGmks(GROUP);
      assert.deepEqual(list.map((g) => [g.gmkId, g.generation, g.expiryAt, g.origin]), [[0x0123_4567, 1, undefined, undefined], [0x0fff_ffff, 2, 1_800_000_000_000, 'sip:primary@a.org']]);
      assert.deepEqual(list[0]?.gmk, gmk.gmk);
      // 0008_gms_gmk_rand: the RAND of the GMK's messages is kept, or none for an older row
      assert.deepEqual(list[0]?.rand, gmk.rand);
      assert.equal(list[1]?.rand, undefined);
      await assert.rejects(store.putGmk({ ...gmk, gmkId: 0x0aaa_aaaa, generation: 3, rand: bytes(15) }), { code: 'ERR_BAD_LENGTH', field: 'gmsGmk.rand' });
      assert.equal(await store.revokeGmk(GROUP, 0x0123_4567), true);
      assert.equal(await store.revokeGmk(GROUP, 0x0123_4567), false);
      assert.equal((await store.listGmks(GROUP))[0]?.revoked, true);
      // A wrapped GMK moved to another row does not open (AAD = table, column, group, GMK-ID).
      const rows = await sql<{ gmk_wrapped: string }>`select gmk_wrapped from gms_gmk order by generation`.execute(database.db);
      await sql`update gms_gmk set gmk_wrapped = ${rows.rows[0]?.gmk_wrapped} where generation = 2`.execute(database.db);
      await assert.rejects(store.listGmks(GROUP), { code: 'ERR_DECRYPT', field: 'gms_gmk.gmk_wrapped' });
      await assert.rejects(store.putGmk({ ...gmk, groupUri: 'sip:none@example.org' }), { code: 'ERR_UNKNOWN_KEY' });
      await assert.rejects(store.putGmk({ ...gmk, generation: 3, gmkId: 5, gmk: bytes(15) }), { code: 'ERR_BAD_LENGTH', field: 'gmsGmk.gmk' });
    });

    test('registrations expire; deliveries are upserts counting attempts', async () => {
      const { store } = await open();
      await store.createGroup({ groupUri: GROUP, alsoGroupIds: [], primaryGmsUri: undefined, text: '', gmkLifetime: 0, rekeyOnRemove: true });
      await store.putRegistration({ memberUri: 'sip:a@example.org', contact: 'sip:a@127.0.0.1:5070', expiresAt: 2000 });
      await store.putRegistration({ memberUri: 'sip:b@example.org', contact: 'sip:b@127.0.0.1:5071', expiresAt: 500 });
      await store.putRegistration({ memberUri: 'sip:a@example.org', contact: 'sip:a@127.0.0.1:5072;transport=tcp', expiresAt: 3000 });
      const live = await store.getRegistrations(['sip:a@example.org', 'sip:b@example.org', 'sip:c@example.org'], 1000);
      assert.deepEqual([...live.keys()], ['sip:a@example.org']);
      assert.equal(live.get('sip:a@example.org')?.contact, 'sip:a@127.0.0.1:5072;transport=tcp');
      assert.equal(await store.deleteRegistration('sip:a@example.org'), true);
      assert.equal((await store.getRegistrations(['sip:a@example.org'], 0)).size, 0);
      await store.recordDeliveries([
        { groupUri: GROUP, gmkId: 7, memberUri: 'sip:a@example.org', state: 'pending', status: undefined, code: undefined },
        { groupUri: GROUP, gmkId: 7, memberUri: 'sip:b@example.org', state: 'refused', status: 403, code: 'ERR_SIGNATURE' },
      ]);
      await store.recordDeliveries([{ groupUri: GROUP, gmkId: 7, memberUri: 'sip:a@example.org', state: 'delivered', status: 200, code: undefined }]);
      await store.recordDeliveries([{ groupUri: GROUP, gmkId: 7, memberUri: 'sip:b@example.org', state: 'failed', status: undefined, code: 'ERR_IO' }]);
      const d = await store.listDeliveries(GROUP, 7);
      assert.deepEqual(d.map((x) => [x.memberUri, x.state, x.status, x.code, x.attempts]), [
        ['sip:a@example.org', 'delivered', 200, undefined, 1],
        ['sip:b@example.org', 'failed', undefined, 'ERR_IO', 2],
      ]);
      assert.deepEqual(await store.listDeliveries(GROUP, 8), []);
    });

    test('a different storage key is refused at open (ERR_DECRYPT store.storageKey)', async () => {
      const { t } = await open();
      const other = t.connect();
      cleanups.push(() => other.close());
      await assert.rejects(KyselyGmsStore.open(other, new SecretBox(bytes(32))), { code: 'ERR_DECRYPT', field: 'store.storageKey' });
    });
  });
}

const sqliteRoot = mkdtempSync(join(tmpdir(), 'mcsec-gms-store-'));
after(() => rmSync(sqliteRoot, { recursive: true, force: true }));
let sqliteCount = 0;
gmsStoreContract('sqlite', () => {
  const file = join(sqliteRoot, `store-${sqliteCount++}.db`);
  return Promise.resolve({ connect: () => openDatabase(file), dispose: () => Promise.resolve() });
});

const pgSkip = await postgresUnreachable(DATABASE_URL, 'the PostgreSQL GmsStore contract');
if (pgSkip !== false) console.log(`# ${pgSkip}`);
gmsStoreContract(
  'postgres',
  () => {
    const schema = `mcsec_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    return Promise.resolve({
      connect: () => openDatabase(DATABASE_URL, { schema, poolSize: 4 }),
      dispose: async () => {
        const client = new pg.Client({ connectionString: DATABASE_URL });
        await client.connect();
        try {
          await client.query(`drop schema if exists ${schema} cascade`);
        } finally {
          await client.end();
        }
      },
    });
  },
  pgSkip,
);
