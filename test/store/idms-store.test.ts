/**
 * One contract for the IdMS store (TS 33.180 §5.1.2.1, Annex B; STYLE.md §9), on SQLite (a
 * temporary file) and on PostgreSQL at DATABASE_URL in a fresh schema dropped afterwards (skipped,
 * saying why, only when no server answers): users with a random never-reassigned sub, clients with
 * sealed secrets, signing keys and named secrets sealed, OpenID Connect artefacts keyed by hash with
 * sealed payloads, expiry, consumption and revocation by grant, and one-time ids.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { KyselyIdmsStore, SecretBox, openDatabase, type StoreDatabase } from '../../src/store/index.js';
import { postgresUnreachable } from '../helpers/postgres.js';

const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const key = new Uint8Array(randomBytes(32));

async function rows(database: StoreDatabase, table: string): Promise<Record<string, unknown>[]> {
  return (await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(database.db)).rows;
}

interface Target {
  readonly database: StoreDatabase;
  readonly dispose: () => Promise<void>;
}

function contract(name: string, open: () => Promise<Target | { readonly skip: string }>): void {
  describe(`IdMS store on ${name}`, () => {
    let clock = 1_800_000_000_000;
    const now = (): number => clock;
    let database: StoreDatabase;
    let store: KyselyIdmsStore;
    let dispose: () => Promise<void> = async () => {};
    let skip: string | false = false;

    test('opens, migrates, and checks the storage key', async (t) => {
      const target = await open();
      if ('skip' in target) {
        skip = target.skip;
        t.skip(skip);
        return;
      }
      database = target.database;
      dispose = target.dispose;
      store = await KyselyIdmsStore.open(database, new SecretBox(key), { now });
      await assert.rejects(KyselyIdmsStore.open(database, new SecretBox(new Uint8Array(randomBytes(32)))), { code: 'ERR_DECRYPT', field: 'store.storageKey' });
    });
    after(async () => {
      await database?.close();
      await dispose();
    });

    test('users: added once, replaced keeping sub, looked up by name and sub, removed', async (t) => {
      if (skip !== false) return t.skip(skip);
      const a = await store.putUser({ username: 'alice', passwordHash: 'scrypt$h1', mcServiceIds: { mcptt_id: 'sip:alice@example.org' } });
      assert.equal(a.added, true);
      assert.match(a.user.sub, /^[0-9a-f-]{36}$/);
      const again = await store.putUser({ username: 'alice', passwordHash: 'scrypt$h2', mcServiceIds: {} });
      assert.equal(again.added, false);
      assert.equal(again.user.passwordHash, 'scrypt$h1', 'kept without replace');
      clock += 1000;
      const replaced = await store.putUser({ username: 'alice', passwordHash: 'scrypt$h2', mcServiceIds: { mcvideo_id: 'sip:alice-v@example.org' }, disabled: true }, { replace: true });
      assert.equal(replaced.user.sub, a.user.sub, 'B.2.1.2: sub is never reassigned');
      assert.deepEqual(replaced.user.mcServiceIds, { mcvideo_id: 'sip:alice-v@example.org' });
      assert.equal(replaced.user.disabled, true);
      assert.equal((await store.getUserBySub(a.user.sub))?.username, 'alice');
      assert.equal(await store.deleteUser('alice'), true);
      const back = await store.putUser({ username: 'alice', passwordHash: 'scrypt$h3', mcServiceIds: { mcptt_id: 'x' } });
      assert.notEqual(back.user.sub, a.user.sub, 'a new user draws a new sub');
      await assert.rejects(store.putUser({ username: '', passwordHash: 'h', mcServiceIds: {} }), { code: 'ERR_BAD_VALUE', field: 'idmsUser.username' });
    });

    test('clients: metadata JSON, secret sealed at rest', async (t) => {
      if (skip !== false) return t.skip(skip);
      const r = await store.putClient({ clientId: 'c1', metadata: { redirect_uris: ['http://127.0.0.1/cb'] }, secret: 's3cret-value' });
      assert.equal(r.added, true);
      assert.equal(r.client.secret, 's3cret-value');
      assert.deepEqual(r.client.metadata, { redirect_uris: ['http://127.0.0.1/cb'] });
      const raw = await rows(database, 'idms_client');
      assert.ok(!JSON.stringify(raw).includes('s3cret-value'), 'no plaintext secret in the table');
      assert.equal((await store.putClient({ clientId: 'c1', metadata: {} })).added, false);
      assert.equal(await store.getClient('nobody'), undefined);
    });

    test('signing keys and named secrets are sealed; first writer wins', async (t) => {
      if (skip !== false) return t.skip(skip);
      await store.addSigningKey({ kid: 'k1', alg: 'ES256', privateJwk: '{"kty":"EC","d":"SECRET-D"}' });
      await store.addSigningKey({ kid: 'k1', alg: 'ES256', privateJwk: '{"other":1}' });
      const keys = await store.listSigningKeys();
      assert.equal(keys.length, 1);
      assert.equal(keys[0]?.privateJwk, '{"kty":"EC","d":"SECRET-D"}');
      assert.ok(!JSON.stringify(await rows(database, 'idms_key')).includes('SECRET-D'));
      const s1 = await store.secret('cookie_key', () => new Uint8Array([1, 2, 3]));
      const s2 = await store.secret('cookie_key', () => new Uint8Array([9]));
      assert.deepEqual([...s1], [1, 2, 3]);
      assert.deepEqual([...s2], [1, 2, 3]);
    });

    test('OpenID Connect artefacts: hashed ids, sealed payloads, expiry, consume, revoke by grant', async (t) => {
      if (skip !== false) return t.skip(skip);
      await store.oidcUpsert('AuthorizationCode', 'code-123', { jti: 'code-123', accountId: 'sub-1', grantId: 'g1' }, 60, { grantId: 'g1' });
      await store.oidcUpsert('RefreshToken', 'rt-456', { jti: 'rt-456', grantId: 'g1' }, 3600, { grantId: 'g1' });
      await store.oidcUpsert('Session', 'sess-1', { uid: 'uid-1', accountId: 'sub-1' }, 3600, { uid: 'uid-1' });
      await store.oidcUpsert('Interaction', 'i-1', { uid: 'i-1' }, 30);
      const raw = JSON.stringify(await rows(database, 'idms_oidc'));
      for (const secret of ['code-123', 'rt-456', 'sub-1', 'uid-1']) assert.ok(!raw.includes(secret), `${secret} not stored in the clear`);
      assert.deepEqual((await store.oidcFind('AuthorizationCode', 'code-123'))?.payload, { jti: 'code-123', accountId: 'sub-1', grantId: 'g1' });
      assert.equal((await store.oidcFindBy('Session', 'uid', 'uid-1'))?.payload['accountId'], 'sub-1');
      await store.oidcConsume('AuthorizationCode', 'code-123');
      assert.equal((await store.oidcFind('AuthorizationCode', 'code-123'))?.consumedAt, Math.floor(clock / 1000));
      clock += 61_000;
      assert.equal(await store.oidcFind('AuthorizationCode', 'code-123'), undefined, 'expired');
      assert.notEqual(await store.oidcFind('RefreshToken', 'rt-456'), undefined);
      await store.oidcRevokeByGrantId('g1');
      assert.equal(await store.oidcFind('RefreshToken', 'rt-456'), undefined, 'revoked with its grant');
      assert.notEqual(await store.oidcFind('Session', 'sess-1'), undefined, 'a session is no grant member');
      await store.oidcDestroy('Session', 'sess-1');
      assert.equal(await store.oidcFind('Session', 'sess-1'), undefined);
      assert.ok((await store.purgeExpired()) >= 1);
    });

    test('one-time ids: the second use is refused until the first expires', async (t) => {
      if (skip !== false) return t.skip(skip);
      assert.equal(await store.useOnce('jti-1', clock + 10_000), true);
      assert.equal(await store.useOnce('jti-1', clock + 10_000), false);
      clock += 11_000;
      assert.equal(await store.useOnce('jti-1', clock + 10_000), true, 'expired entries do not block');
    });
  });
}

contract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcsec-idms-store-'));
  return { database: openDatabase(undefined, { dataDir: dir }), dispose: async () => {} };
});

contract('PostgreSQL', async () => {
  const why = await postgresUnreachable(DATABASE_URL, 'the IdMS store contract on PostgreSQL');
  if (why !== false) return { skip: why };
  const schema = `mcsec_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  return {
    database: openDatabase(DATABASE_URL, { schema }),
    dispose: async () => {
      const c = new pg.Client({ connectionString: DATABASE_URL });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    },
  };
});
