/**
 * One contract for the McxStore (STYLE.md §9), run on SQLite (a temporary file) and on PostgreSQL
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
import { generateKeyId } from '../../src/crypto/index.js';
import { SecretBox, migrationNames, openDatabase, type StoreDatabase } from '../../src/store/index.js';
import { KyselyMcxStore } from '../../src/store/mcx-store.js';
import type { NewMcxCsk } from '../../src/store/mcx-records.js';
import { postgresUnreachable } from '../helpers/postgres.js';

const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const bytes = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

interface Target {
  connect(): StoreDatabase;
  dispose(): Promise<void>;
}

function csk(userUri: string, clientId: string, over: Partial<NewMcxCsk> = {}): NewMcxCsk {
  return { cskId: generateKeyId('CSK'), userUri, clientId, impu: userUri, csk: bytes(16), origin: 'upload', activatesAt: undefined, expiresAt: undefined, rand: bytes(16), ...over };
}

function mcxStoreContract(name: string, fresh: () => Promise<Target>, skip: string | false = false): void {
  describe(`McxStore contract: ${name}`, { skip }, () => {
    const cleanups: (() => Promise<void>)[] = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
    });
    async function open(box = new SecretBox(bytes(32))): Promise<{ store: KyselyMcxStore; d: StoreDatabase; t: Target; box: SecretBox }> {
      const t = await fresh();
      cleanups.push(() => t.dispose());
      const d = t.connect();
      cleanups.push(() => d.close());
      return { store: await KyselyMcxStore.open(d, box), d, t, box };
    }

    test('0005_mcx is among the migrations and creates the MCX tables', async () => {
      assert.ok(migrationNames.includes('0005_mcx'));
      const { d } = await open();
      for (const table of ['mcx_csk', 'mcx_registration', 'mcx_musik', 'mcx_musik_delivery', 'mcx_spk']) {
        const r = await sql`select count(*) as n from ${sql.table(table)}`.execute(d.db);
        assert.equal(r.rows.length, 1, table);
      }
    });

    test('0007_mcx_csk_rand: a CSK keeps the RAND of its MIKEY message (16-255 octets) or none; a bad length is refused', async () => {
      assert.ok(migrationNames.includes('0007_mcx_csk_rand'));
      const { store, d } = await open();
      const long = await store.replaceCsk(csk('sip:r@x', 'c1', { rand: bytes(255) }));
      assert.equal(long.rand?.length, 255);
      const none = await store.replaceCsk(csk('sip:r@x', 'c2', { rand: undefined }));
      assert.equal(none.rand, undefined);
      await assert.rejects(store.replaceCsk(csk('sip:r@x', 'c3', { rand: bytes(15) })), { code: 'ERR_BAD_LENGTH', field: 'csk.rand' });
      await sql`update mcx_csk set rand = ${'zz'} where csk_id = ${long.cskId}`.execute(d.db);
      await assert.rejects(store.getCsk(long.cskId), { code: 'ERR_INTERNAL', field: 'store.mcx_csk.rand' });
    });

    test('CSKs: stored sealed, one per client (a new one replaces it), bound to their row', async () => {
      const { store, d } = await open();
      const a1 = csk('sip:a@x', 'c1', { expiresAt: 5_000 });
      const stored = await store.replaceCsk(a1);
      assert.equal(hex(stored.csk), hex(a1.csk));
      assert.equal(stored.expiresAt, 5_000);
      assert.equal(hex(stored.rand ?? new Uint8Array(0)), hex(a1.rand ?? new Uint8Array(1)), 'the MIKEY RAND (0007_mcx_csk_rand)');
      const raw = await sql<{ csk_wrapped: string }>`select csk_wrapped from mcx_csk`.execute(d.db);
      assert.match(raw.rows[0]?.csk_wrapped ?? '', /^v1\./);
      assert.ok(!(raw.rows[0]?.csk_wrapped ?? '').includes(hex(a1.csk)));
      const a2 = csk('sip:a@x', 'c1');
      await store.replaceCsk(a2);
      const b = csk('sip:a@x', 'c2');
      await store.replaceCsk(b);
      assert.deepEqual((await store.listCsks('sip:a@x')).map((c) => c.cskId).sort(), [a2.cskId, b.cskId].sort());
      assert.equal(await store.getCsk(a1.cskId), undefined);
      // a CSK-ID held by another client is refused, nothing changes
      await assert.rejects(store.replaceCsk({ ...csk('sip:z@x', 'c9'), cskId: b.cskId }), { code: 'ERR_FORBIDDEN', field: 'csk.cskId' });
      assert.equal((await store.getCsk(b.cskId))?.userUri, 'sip:a@x');
      // a sealed value moved to another row does not open
      await sql`update mcx_csk set user_uri = 'sip:evil@x' where csk_id = ${b.cskId}`.execute(d.db);
      await assert.rejects(store.getCsk(b.cskId), { code: 'ERR_DECRYPT', field: 'mcx_csk.csk_wrapped' });
      await sql`update mcx_csk set user_uri = 'sip:a@x' where csk_id = ${b.cskId}`.execute(d.db);
      await store.extendCsks('sip:a@x', 'c2', 9_000);
      assert.equal((await store.getCsk(b.cskId))?.expiresAt, 9_000);
      assert.equal(await store.deleteCsks('sip:a@x', 'c2'), 1);
      assert.equal(await store.deleteCsks('sip:a@x'), 1);
      assert.deepEqual(await store.listCsks('sip:a@x'), []);
      await assert.rejects(store.replaceCsk({ ...csk('sip:a@x', 'c1'), csk: bytes(15) }), { code: 'ERR_BAD_LENGTH' });
      await assert.rejects(store.replaceCsk({ ...csk('sip:a@x', 'c1'), cskId: -1 }), { code: 'ERR_BAD_VALUE' });
    });

    test('registrations: insert or replace per (user, client), listed while unexpired', async () => {
      const { store } = await open();
      const r = { userUri: 'sip:a@x', clientId: 'c1', impu: 'sip:a@x', userKmsUri: 'kms.x', contact: 'sip:a@127.0.0.1:5070', transport: 'udp' as const, host: '127.0.0.1', port: 5070, expiresAt: 1_000 };
      await store.putRegistration(r);
      await store.putRegistration({ ...r, port: 5071, expiresAt: 2_000 });
      await store.putRegistration({ ...r, clientId: 'c2', transport: 'tcp', expiresAt: 500 });
      const live = await store.listRegistrations('sip:a@x', 600);
      assert.deepEqual(live.map((x) => [x.clientId, x.port, x.transport]), [['c1', 5071, 'udp']]);
      assert.equal((await store.listRegistrations('sip:a@x', 0)).length, 2);
      assert.equal(await store.deleteRegistration('sip:a@x', 'c1'), true);
      assert.equal(await store.deleteRegistration('sip:a@x', 'c1'), false);
      await assert.rejects(store.putRegistration({ ...r, transport: 'sctp' as 'udp' }), { code: 'ERR_BAD_VALUE' });
    });

    test('MuSiKs and their deliveries; SPKs replaced by SPK-ID, newest first per partner', async () => {
      const { store } = await open();
      const m = await store.putMusik({ musikId: generateKeyId('MuSiK'), groupId: 'sip:g@x', musik: bytes(16), expiresAt: undefined });
      assert.equal((await store.getMusik(m.musikId))?.groupId, 'sip:g@x');
      assert.equal((await store.listMusiks()).length, 1);
      await store.recordMusikDelivery({ musikId: m.musikId, userUri: 'sip:a@x', clientId: 'c1', status: 'rejected' });
      await store.recordMusikDelivery({ musikId: m.musikId, userUri: 'sip:a@x', clientId: 'c1', status: 'accepted' });
      assert.deepEqual((await store.listMusikDeliveries(m.musikId)).map((x) => x.status), ['accepted']);
      await assert.rejects(store.recordMusikDelivery({ musikId: generateKeyId('MuSiK'), userUri: 'u', clientId: 'c', status: 'accepted' }), { code: 'ERR_UNKNOWN_KEY' });
      const s1 = { spkId: 0x30000001, partner: 'p.example', spk: bytes(16), spkRand: bytes(16), expiresAt: undefined };
      await store.putSpk(s1);
      const s1b = await store.putSpk({ ...s1, spk: bytes(16) });
      assert.notEqual(hex(s1b.spk), hex(s1.spk), 'replaced');
      await new Promise((r) => setTimeout(r, 5));
      await store.putSpk({ ...s1, spkId: 0x30000002 });
      assert.deepEqual((await store.listSpks('p.example')).map((s) => s.spkId), [0x30000002, 0x30000001]);
      assert.equal(hex((await store.getSpk(0x30000001))?.spkRand ?? new Uint8Array(0)), hex(s1.spkRand));
      assert.equal(await store.getSpk(0x3fffffff), undefined);
    });

    test('another storage key is refused at open (ERR_DECRYPT store.storageKey)', async () => {
      const { t } = await open();
      const d2 = t.connect();
      cleanups.push(() => d2.close());
      await assert.rejects(KyselyMcxStore.open(d2, new SecretBox(bytes(32))), { code: 'ERR_DECRYPT', field: 'store.storageKey' });
    });
  });
}

const sqliteRoot = mkdtempSync(join(tmpdir(), 'mcsec-mcx-store-'));
after(() => rmSync(sqliteRoot, { recursive: true, force: true }));
let sqliteCount = 0;
mcxStoreContract('sqlite', () => {
  const file = join(sqliteRoot, `store-${sqliteCount++}.db`);
  return Promise.resolve({ connect: () => openDatabase(file), dispose: () => Promise.resolve() });
});

const pgSkip = await postgresUnreachable(DATABASE_URL, 'the PostgreSQL McxStore contract');
if (pgSkip !== false) console.log(`# ${pgSkip}`);
mcxStoreContract(
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
