/**
 * One contract for every KmsStore (STYLE.md §9), run on SQLite (a temporary file) and on
 * PostgreSQL at DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), each test in a
 * fresh PostgreSQL schema `mcsec_test_<pid>_<random>` dropped afterwards. The PostgreSQL run skips,
 * saying why, only when no server answers there.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { ConfigError } from '../../src/errors/index.js';
import {
  countAppliedMigrations,
  KyselyKmsStore,
  migrateToLatest,
  migrationNames,
  openDatabase,
  SecretBox,
  type NewKmsDomain,
  type NewKmsKeySet,
  type StoreDatabase,
} from '../../src/store/index.js';

import { postgresUnreachable } from '../helpers/postgres.js';

const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const TABLES = ['kms_domain', 'kms_user', 'kms_key_set', 'kms_client_key', 'kms_group', 'kms_group_member', 'kms_external_cert', 'kms_krr_audit', 'store_meta'];

/** One empty database; `connect` opens another connection to it, as another process would. */
interface Target {
  connect(): StoreDatabase;
  dispose(): Promise<void>;
}

const bytes = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const KMS = 'kms.example.org';

function newDomain(kmsUri = KMS): NewKmsDomain {
  return { kmsUri, userKeyPeriod: 2_592_000, userKeyOffset: 3_786_825_600, pubEncKey: bytes(257), pubAuthKey: bytes(65), z: bytes(32), ksak: bytes(32) };
}
function newKeySet(userUri: string, keyPeriodNo: number, kmsUri = KMS): NewKmsKeySet {
  return { kmsUri, userUri, keyPeriodNo, userId: bytes(32), rsk: bytes(257), ssk: bytes(32), pvt: bytes(65) };
}
let tick = 1_700_000_000_000;
const now = (): number => tick++;

async function rawRows(database: StoreDatabase, table: string): Promise<Record<string, unknown>[]> {
  const r = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(database.db);
  return r.rows;
}

function isDecrypt(field: string) {
  return (e: unknown): boolean => e instanceof Error && 'code' in e && e.code === 'ERR_DECRYPT' && 'field' in e && e.field === field;
}

function kmsStoreContract(name: string, fresh: () => Promise<Target>, skip: string | false = false): void {
  describe(`KmsStore contract: ${name}`, { skip }, () => {
    const cleanups: (() => Promise<void>)[] = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
    });
    async function target(): Promise<Target> {
      const t = await fresh();
      cleanups.push(() => t.dispose());
      return t;
    }
    function connect(t: Target): StoreDatabase {
      const d = t.connect();
      cleanups.push(() => d.close());
      return d;
    }

    test('migrations run once; running them again does nothing', async () => {
      const d = connect(await target());
      assert.deepEqual(await migrateToLatest(d), migrationNames);
      assert.deepEqual(await migrateToLatest(d), []);
      assert.equal(await countAppliedMigrations(d), migrationNames.length);
      for (const t of TABLES) assert.deepEqual(await rawRows(d, t), []);
    });

    test('two connections migrating at once: one runs them, the other finds nothing to do', async () => {
      const t = await target();
      const [a, b] = [connect(t), connect(t)];
      const [ra, rb] = await Promise.all([migrateToLatest(a), migrateToLatest(b)]);
      assert.deepEqual([...ra, ...rb], migrationNames);
      assert.equal(await countAppliedMigrations(a), migrationNames.length);
      const box = new SecretBox(bytes(32));
      await Promise.all([KyselyKmsStore.open(a, box), KyselyKmsStore.open(b, box)]);
    });

    test('round trips: domain, users, key sets, client keys, groups', async () => {
      const d = connect(await target());
      const store = await KyselyKmsStore.open(d, new SecretBox(bytes(32)), { now });
      assert.equal(await store.getDomain(KMS), undefined);
      const domain = newDomain();
      const created = await store.createDomain(domain);
      assert.deepEqual({ ...created, createdAt: 0 }, { ...domain, createdAt: 0 });
      assert.deepEqual(await store.getDomain(KMS), created);
      assert.ok(Object.isFrozen(created));

      assert.equal(await store.addUsers(KMS, [{ userUri: 'sip:alice@example.org', mcServiceId: 'alice@mc' }, { userUri: 'sip:bob@example.org' }]), 2);
      assert.equal(await store.addUsers(KMS, [{ userUri: 'sip:bob@example.org' }, { userUri: 'sip:carol@example.org' }]), 1);
      assert.equal(await store.hasUser(KMS, 'sip:alice@example.org'), true);
      assert.equal(await store.hasUser(KMS, 'sip:mallory@example.org'), false);
      assert.equal(await store.hasUser('other.example.org', 'sip:alice@example.org'), false);
      const alice = await store.getUser(KMS, 'sip:alice@example.org');
      assert.equal(alice?.mcServiceId, 'alice@mc');
      assert.equal((await store.getUser(KMS, 'sip:bob@example.org'))?.mcServiceId, undefined);

      assert.equal(await store.getKeySet(KMS, 'sip:alice@example.org', 7), undefined);
      const ks = newKeySet('sip:alice@example.org', 7);
      const stored = await store.putKeySet(ks);
      assert.deepEqual({ ...stored, issuedAt: 0 }, { ...ks, issuedAt: 0 });
      assert.deepEqual(await store.getKeySet(KMS, 'sip:alice@example.org', 7), stored);
      assert.equal(await store.getKeySet(KMS, 'sip:alice@example.org', 8), undefined);
      const big = newKeySet('sip:alice@example.org', 2 ** 40);
      assert.equal((await store.putKeySet(big)).keyPeriodNo, 2 ** 40, 'periods beyond 32 bits');

      const ck = await store.putClientKeys({ clientId: 'client-1', trk: bytes(32), ink: bytes(32) });
      assert.deepEqual(await store.getClientKeys('client-1'), ck);
      const noInk = await store.putClientKeys({ clientId: 'client-2', trk: bytes(16) });
      assert.equal(noInk.ink, undefined);
      assert.deepEqual(await store.getClientKeys('client-2'), noInk);
      assert.equal(await store.getClientKeys('client-3'), undefined);
      assert.equal(await store.deleteClientKeys('client-2'), true);
      assert.equal(await store.deleteClientKeys('client-2'), false);
      assert.equal(await store.getClientKeys('client-2'), undefined);
      const bound = await store.putClientKeys({ clientId: '0a0b0c0d', trk: bytes(32), ink: bytes(32), inkId: '01020304', userUri: 'sip:alice@example.org' });
      assert.deepEqual([bound.inkId, bound.userUri], ['01020304', 'sip:alice@example.org']);
      assert.deepEqual(await store.getClientKeys('0a0b0c0d'), bound);

      // External KMS certificates (§5.2.8.3) and KRR audit (D.2.8), 0002.
      const ext = await store.putExternalCertificate({ kmsUri: KMS, extKmsUri: 'kms.partner.org', certificate: '{"a":1}', migration: false });
      assert.equal(ext.migration, false);
      await store.putExternalCertificate({ kmsUri: KMS, extKmsUri: 'kms.partner.org', certificate: '{"a":2}', migration: true });
      await store.putExternalCertificate({ kmsUri: KMS, extKmsUri: 'kms.another.org', certificate: '{"b":1}', migration: false });
      const exts = await store.listExternalCertificates(KMS);
      assert.deepEqual(exts.map((c) => [c.extKmsUri, c.certificate, c.migration]), [['kms.another.org', '{"b":1}', false], ['kms.partner.org', '{"a":2}', true]]);
      await store.addKrrAudit({ id: 'krr-1', kmsUri: KMS, userUri: 'sip:alice@example.org', targetUri: 'sip:bob@example.org', krr: '<x/>' });
      await store.addKrrAudit({ id: 'krr-2', kmsUri: KMS, userUri: 'sip:alice@example.org', targetUri: 'sip:carol@example.org', krr: '<y/>' });
      assert.deepEqual((await store.listKrrAudit(KMS)).map((k) => k.id), ['krr-2', 'krr-1']);
      await assert.rejects(store.addKrrAudit({ id: 'krr-1', kmsUri: KMS, userUri: 'u', targetUri: 't', krr: '' }));

      await store.createGroup(KMS, 'sip:group-1@example.org');
      await store.createGroup(KMS, 'sip:group-1@example.org');
      assert.equal(await store.addGroupMembers(KMS, 'sip:group-1@example.org', ['sip:carol@example.org', 'sip:alice@example.org']), 2);
      assert.equal(await store.addGroupMembers(KMS, 'sip:group-1@example.org', ['sip:alice@example.org']), 0);
      assert.deepEqual(await store.listGroupMembers(KMS, 'sip:group-1@example.org'), ['sip:alice@example.org', 'sip:carol@example.org']);
      assert.equal(await store.removeGroupMember(KMS, 'sip:group-1@example.org', 'sip:carol@example.org'), true);
      assert.deepEqual(await store.listGroupMembers(KMS, 'sip:group-1@example.org'), ['sip:alice@example.org']);
      assert.deepEqual(await store.listGroupMembers(KMS, 'sip:no-group@example.org'), []);
    });

    test('bulk users in one transaction, listed page by page', async () => {
      const d = connect(await target());
      const store = await KyselyKmsStore.open(d, new SecretBox(bytes(32)), { now });
      await store.createDomain(newDomain());
      const uris = Array.from({ length: 1234 }, (_, i) => `sip:user-${String(i).padStart(4, '0')}@example.org`);
      assert.equal(await store.addUsers(KMS, uris.map((userUri) => ({ userUri }))), 1234);
      assert.equal(await store.addUsers(KMS, uris.map((userUri) => ({ userUri }))), 0);
      const seen: string[] = [];
      let after: string | undefined;
      let pages = 0;
      do {
        const page = await store.listUsers(KMS, { after, limit: 500 });
        seen.push(...page.users.map((u) => u.userUri));
        after = page.next;
        pages++;
      } while (after !== undefined);
      assert.equal(pages, 3);
      assert.deepEqual(seen, uris);
      // A failing row rolls the whole call back: nothing of it stays.
      await assert.rejects(store.addUsers(KMS, [{ userUri: 'sip:new@example.org' }, { userUri: '' }]), { code: 'ERR_BAD_VALUE' });
      assert.equal(await store.hasUser(KMS, 'sip:new@example.org'), false);
      await assert.rejects(store.addUsers('no.such.kms', [{ userUri: 'sip:x@example.org' }]), { name: 'PolicyError', code: 'ERR_UNKNOWN_KEY' });
      assert.equal(await store.hasUser('no.such.kms', 'sip:x@example.org'), false);
    });

    test('references are enforced and inputs checked', async () => {
      const d = connect(await target());
      const store = await KyselyKmsStore.open(d, new SecretBox(bytes(32)));
      await store.createDomain(newDomain());
      await assert.rejects(store.putKeySet(newKeySet('sip:nobody@example.org', 1)), { name: 'PolicyError', code: 'ERR_UNKNOWN_KEY', field: 'kmsKeySet.userUri' });
      await store.addUsers(KMS, [{ userUri: 'sip:alice@example.org' }]);
      await assert.rejects(store.putKeySet(newKeySet('sip:alice@example.org', -1)), { code: 'ERR_BAD_VALUE', field: 'kmsKeySet.keyPeriodNo' });
      await assert.rejects(store.putKeySet(newKeySet('sip:alice@example.org', 1.5)), { code: 'ERR_BAD_VALUE', field: 'kmsKeySet.keyPeriodNo' });
      await assert.rejects(store.putKeySet({ ...newKeySet('sip:alice@example.org', 1), ssk: new Uint8Array(0) }), { code: 'ERR_BAD_LENGTH', field: 'kmsKeySet.ssk' });
      await assert.rejects(store.createDomain({ ...newDomain('x'), userKeyPeriod: 0 }), { code: 'ERR_BAD_VALUE', field: 'kmsDomain.userKeyPeriod' });
      await assert.rejects(store.createGroup('no.such.kms', 'sip:g@example.org'), { code: 'ERR_UNKNOWN_KEY' });
      await store.createGroup(KMS, 'sip:g@example.org');
      await assert.rejects(store.addGroupMembers(KMS, 'sip:g@example.org', ['sip:nobody@example.org']), { code: 'ERR_UNKNOWN_KEY' });
      await assert.rejects(store.listUsers(KMS, { limit: 0 }), { code: 'ERR_BAD_VALUE', field: 'listUsers.limit' });
    });

    test('secrets are stored wrapped (v1.…), never in plain; public values are plain hex', async () => {
      const d = connect(await target());
      const store = await KyselyKmsStore.open(d, new SecretBox(bytes(32)));
      const domain = newDomain();
      await store.createDomain(domain);
      await store.addUsers(KMS, [{ userUri: 'sip:alice@example.org' }]);
      const ks = newKeySet('sip:alice@example.org', 1);
      await store.putKeySet(ks);
      const ck = { clientId: 'client-1', trk: bytes(32), ink: bytes(32) };
      await store.putClientKeys(ck);
      const secrets = [domain.z, domain.ksak, ks.rsk, ks.ssk, ck.trk, ck.ink].map(hex);
      const wrappedColumns: Record<string, string[]> = {
        kms_domain: ['z_wrapped', 'ksak_wrapped'],
        kms_key_set: ['rsk_wrapped', 'ssk_wrapped'],
        kms_client_key: ['trk_wrapped', 'ink_wrapped'],
      };
      for (const table of TABLES) {
        for (const row of await rawRows(d, table)) {
          for (const [column, value] of Object.entries(row)) {
            const s = String(value);
            for (const secret of secrets) assert.ok(!s.toLowerCase().includes(secret), `${table}.${column} holds a secret in plain`);
            if (wrappedColumns[table]?.includes(column) === true) assert.match(s, /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, `${table}.${column}`);
          }
        }
      }
      const [dom] = await rawRows(d, 'kms_domain');
      assert.equal(dom?.['pub_enc_key'], hex(domain.pubEncKey));
      const [set] = await rawRows(d, 'kms_key_set');
      assert.equal(set?.['pvt'], hex(ks.pvt));
      assert.equal(set?.['user_id'], hex(ks.userId));
    });

    test('a wrong storage key: ERR_DECRYPT at open, and on every secret read', async () => {
      const t = await target();
      const good = await KyselyKmsStore.open(connect(t), new SecretBox(bytes(32)));
      await good.createDomain(newDomain());
      await good.addUsers(KMS, [{ userUri: 'sip:alice@example.org' }]);
      await good.putKeySet(newKeySet('sip:alice@example.org', 1));
      await good.putClientKeys({ clientId: 'c', trk: bytes(32) });
      const wrongBox = new SecretBox(bytes(32));
      await assert.rejects(KyselyKmsStore.open(connect(t), wrongBox), isDecrypt('store.storageKey'));
      const wrong = new KyselyKmsStore(connect(t), wrongBox);
      await assert.rejects(wrong.getDomain(KMS), isDecrypt('kms_domain.z_wrapped'));
      await assert.rejects(wrong.getKeySet(KMS, 'sip:alice@example.org', 1), isDecrypt('kms_key_set.rsk_wrapped'));
      await assert.rejects(wrong.getClientKeys('c'), isDecrypt('kms_client_key.trk_wrapped'));
      assert.equal(await wrong.hasUser(KMS, 'sip:alice@example.org'), true, 'public data stays readable');
    });

    test('a wrapped value moved to another row or column does not open (AAD)', async () => {
      const d = connect(await target());
      const store = await KyselyKmsStore.open(d, new SecretBox(bytes(32)));
      await store.createDomain(newDomain());
      await store.createDomain(newDomain('kms2.example.org'));
      await store.addUsers(KMS, [{ userUri: 'sip:alice@example.org' }, { userUri: 'sip:bob@example.org' }]);
      await store.putKeySet(newKeySet('sip:alice@example.org', 1));
      await store.putKeySet(newKeySet('sip:bob@example.org', 1));
      await store.putKeySet(newKeySet('sip:alice@example.org', 2));
      const db = d.db;
      const ssk = async (user: string, period: number): Promise<string> => {
        const r = await db.selectFrom('kms_key_set').select('ssk_wrapped').where('user_uri', '=', user).where('key_period_no', '=', period).executeTakeFirstOrThrow();
        assert.equal(typeof r.ssk_wrapped, 'string');
        return String(r.ssk_wrapped);
      };
      const aliceSsk = await ssk('sip:alice@example.org', 1);
      // Another user's row.
      await db.updateTable('kms_key_set').set({ ssk_wrapped: aliceSsk }).where('user_uri', '=', 'sip:bob@example.org').execute();
      await assert.rejects(store.getKeySet(KMS, 'sip:bob@example.org', 1), isDecrypt('kms_key_set.ssk_wrapped'));
      // Another period of the same user.
      await db.updateTable('kms_key_set').set({ ssk_wrapped: aliceSsk }).where('user_uri', '=', 'sip:alice@example.org').where('key_period_no', '=', 2).execute();
      await assert.rejects(store.getKeySet(KMS, 'sip:alice@example.org', 2), isDecrypt('kms_key_set.ssk_wrapped'));
      // Another column of the same row.
      await db.updateTable('kms_key_set').set({ rsk_wrapped: aliceSsk }).where('user_uri', '=', 'sip:alice@example.org').where('key_period_no', '=', 1).execute();
      await assert.rejects(store.getKeySet(KMS, 'sip:alice@example.org', 1), isDecrypt('kms_key_set.rsk_wrapped'));
      // Another domain's master secret.
      const [k1] = await rawRows(d, 'kms_domain');
      await db.updateTable('kms_domain').set({ z_wrapped: String(k1?.['z_wrapped']) }).where('kms_uri', '=', 'kms2.example.org').execute();
      const other = k1?.['kms_uri'] === KMS ? 'kms2.example.org' : KMS;
      await assert.rejects(store.getDomain(other), isDecrypt('kms_domain.z_wrapped'));
    });

    test('a restart keeps everything', async () => {
      const t = await target();
      const key = bytes(32);
      const first = connect(t);
      const store = await KyselyKmsStore.open(first, new SecretBox(key), { now });
      const domain = await store.createDomain(newDomain());
      await store.addUsers(KMS, [{ userUri: 'sip:alice@example.org', mcServiceId: 'a' }]);
      const ks = await store.putKeySet(newKeySet('sip:alice@example.org', 3));
      const ck = await store.putClientKeys({ clientId: 'c', trk: bytes(32), ink: bytes(32) });
      await store.createGroup(KMS, 'sip:g@example.org');
      await store.addGroupMembers(KMS, 'sip:g@example.org', ['sip:alice@example.org']);
      await first.close();

      const again = await KyselyKmsStore.open(connect(t), new SecretBox(key.slice()));
      assert.deepEqual(await again.getDomain(KMS), domain);
      assert.deepEqual(await again.getKeySet(KMS, 'sip:alice@example.org', 3), ks);
      assert.deepEqual(await again.getClientKeys('c'), ck);
      assert.deepEqual((await again.listUsers(KMS)).users.map((u) => [u.userUri, u.mcServiceId]), [['sip:alice@example.org', 'a']]);
      assert.deepEqual(await again.listGroupMembers(KMS, 'sip:g@example.org'), ['sip:alice@example.org']);
    });

    test('two instances racing: the first writer wins and both return the same row', async () => {
      const t = await target();
      const key = bytes(32);
      const a = await KyselyKmsStore.open(connect(t), new SecretBox(key));
      const b = await KyselyKmsStore.open(connect(t), new SecretBox(key));
      const [da, db] = await Promise.all([a.createDomain(newDomain()), b.createDomain(newDomain())]);
      assert.deepEqual(da, db);
      await a.addUsers(KMS, [{ userUri: 'sip:alice@example.org' }]);
      for (let period = 0; period < 12; period++) {
        const [ka, kb] = [newKeySet('sip:alice@example.org', period), newKeySet('sip:alice@example.org', period)];
        const [ra, rb] = await Promise.all([a.putKeySet(ka), b.putKeySet(kb)]);
        assert.deepEqual(ra, rb);
        assert.ok([hex(ka.ssk), hex(kb.ssk)].includes(hex(ra.ssk)));
        assert.deepEqual(await b.getKeySet(KMS, 'sip:alice@example.org', period), ra);
        assert.deepEqual(await a.getKeySet(KMS, 'sip:alice@example.org', period), ra);
      }
      const [ca, cb] = await Promise.all([a.putClientKeys({ clientId: 'c', trk: bytes(32) }), b.putClientKeys({ clientId: 'c', trk: bytes(32) })]);
      assert.deepEqual(ca, cb);
    });
  });
}

// ---- SQLite ------------------------------------------------------------------------------------

const sqliteRoot = mkdtempSync(join(tmpdir(), 'mcsec-store-'));
after(() => rmSync(sqliteRoot, { recursive: true, force: true }));
let sqliteCount = 0;
kmsStoreContract('sqlite', () => {
  const file = join(sqliteRoot, `store-${sqliteCount++}.db`);
  return Promise.resolve({ connect: () => openDatabase(file), dispose: () => Promise.resolve() });
});

// ---- PostgreSQL --------------------------------------------------------------------------------

const pgSkip = await postgresUnreachable(DATABASE_URL, 'the PostgreSQL KmsStore contract');
if (pgSkip !== false) console.log(`# ${pgSkip}`);
kmsStoreContract(
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

// ---- openDatabase ------------------------------------------------------------------------------

describe('openDatabase', () => {
  test('a bad --db is ERR_CONFIG naming --db', () => {
    for (const url of ['', 'sqlite:', 'mysql://db.example.org/x', 'http://example.org', 'postgres://', 'postgres://a b/x', 'postgres://h:99999/x']) {
      assert.throws(() => openDatabase(url), (e: unknown) => e instanceof ConfigError && e.code === 'ERR_CONFIG' && e.field === '--db', url);
    }
    assert.throws(() => openDatabase('postgres://h/db', { schema: 'Bad-Name' }), { name: 'ConfigError', field: '--db-schema' });
    assert.throws(() => openDatabase(join(sqliteRoot, 'no-such-dir', 'x.db')), { name: 'ConfigError', code: 'ERR_IO', field: '--db' });
  });

  test('absent --db: a WAL-mode SQLite file under the data folder, foreign keys on', async () => {
    const dataDir = join(sqliteRoot, 'data-default');
    const d = openDatabase(undefined, { dataDir });
    try {
      assert.equal(d.dialect, 'sqlite');
      assert.equal(d.location, join(dataDir, 'mcsec.db'));
      const mode = await sql<{ journal_mode: unknown }>`pragma journal_mode`.execute(d.db);
      assert.equal(mode.rows[0]?.journal_mode, 'wal');
      const fk = await sql<{ foreign_keys: unknown }>`pragma foreign_keys`.execute(d.db);
      assert.equal(fk.rows[0]?.foreign_keys, 1);
      assert.ok(existsSync(join(dataDir, 'mcsec.db')));
    } finally {
      await d.close();
    }
  });

  test('sqlite: URLs and a postgres:// URL with a password, which location hides', async () => {
    const file = join(sqliteRoot, 'url.db');
    for (const url of [`sqlite://${file}`, `sqlite:${file}`, 'sqlite::memory:']) {
      const d = openDatabase(url);
      assert.equal(d.dialect, 'sqlite');
      await d.close();
    }
    const p = openDatabase('postgresql://u:secret@db.example.org:5432/x', { schema: 'mcsec' });
    assert.equal(p.dialect, 'postgres');
    assert.equal(p.schema, 'mcsec');
    assert.ok(!p.location.includes('secret'));
    await p.close();
  });
});
