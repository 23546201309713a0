/**
 * The store's schema as Kysely migrations written in code (no files read at run time), in types
 * both engines share: `text` and `bigint`, no blobs (key material is hex text, secrets are
 * `v1.…` text from secret-box.ts). Running them is idempotent; on PostgreSQL Kysely's migrator
 * holds an advisory lock, and on SQLite `exclusive` holds BEGIN IMMEDIATE, so processes that
 * migrate at once take turns and the second finds nothing left to do.
 */
import {
  Migrator,
  sql,
  type ForeignKeyConstraintBuilder,
  type Kysely,
  type Migration,
  type MigrationProvider,
} from 'kysely';
import { ErrorCode, McsecError } from '../errors/index.js';
import type { StoreDatabase } from './database.js';
import { mcxCskRandMigration, mcxMigration } from './mcx-migration.js';
import { gmsGmkRandMigration, gmsMigration } from './gms-migration.js';
import { kmsRotationMigration } from './kms-rotation-migration.js';

/** Tables in creation order (a table follows those it references). */
const TABLES = Object.freeze([
  'store_meta',
  'kms_domain',
  'kms_user',
  'kms_key_set',
  'kms_client_key',
  'kms_group',
  'kms_group_member',
  'kms_external_cert',
  'kms_krr_audit',
]);
const USER_KEY: ('kms_uri' | 'user_uri')[] = ['kms_uri', 'user_uri'];
const GROUP_KEY: ('kms_uri' | 'group_uri')[] = ['kms_uri', 'group_uri'];
const cascade = (c: ForeignKeyConstraintBuilder): ForeignKeyConstraintBuilder =>
  c.onDelete('cascade');

const migrations: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_kms': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('store_meta')
        .ifNotExists()
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('kms_domain')
        .ifNotExists()
        .addColumn('kms_uri', 'text', (c) => c.primaryKey())
        .addColumn('user_key_period', 'bigint', (c) => c.notNull())
        .addColumn('user_key_offset', 'bigint', (c) => c.notNull())
        .addColumn('pub_enc_key', 'text', (c) => c.notNull())
        .addColumn('pub_auth_key', 'text', (c) => c.notNull())
        .addColumn('z_wrapped', 'text', (c) => c.notNull())
        .addColumn('ksak_wrapped', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('kms_user')
        .ifNotExists()
        .addColumn('kms_uri', 'text', (c) =>
          c.notNull().references('kms_domain.kms_uri').onDelete('cascade'),
        )
        .addColumn('user_uri', 'text', (c) => c.notNull())
        .addColumn('mc_service_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('kms_user_pk', ['kms_uri', 'user_uri'])
        .execute();
      await db.schema
        .createTable('kms_key_set')
        .ifNotExists()
        .addColumn('kms_uri', 'text', (c) => c.notNull())
        .addColumn('user_uri', 'text', (c) => c.notNull())
        .addColumn('key_period_no', 'bigint', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('rsk_wrapped', 'text', (c) => c.notNull())
        .addColumn('ssk_wrapped', 'text', (c) => c.notNull())
        .addColumn('pvt', 'text', (c) => c.notNull())
        .addColumn('issued_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('kms_key_set_pk', ['kms_uri', 'user_uri', 'key_period_no'])
        .addForeignKeyConstraint('kms_key_set_user_fk', USER_KEY, 'kms_user', USER_KEY, cascade)
        .execute();
      await db.schema
        .createTable('kms_client_key')
        .ifNotExists()
        .addColumn('client_id', 'text', (c) => c.primaryKey())
        .addColumn('trk_wrapped', 'text', (c) => c.notNull())
        .addColumn('ink_wrapped', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('kms_group')
        .ifNotExists()
        .addColumn('kms_uri', 'text', (c) =>
          c.notNull().references('kms_domain.kms_uri').onDelete('cascade'),
        )
        .addColumn('group_uri', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('kms_group_pk', ['kms_uri', 'group_uri'])
        .execute();
      await db.schema
        .createTable('kms_group_member')
        .ifNotExists()
        .addColumn('kms_uri', 'text', (c) => c.notNull())
        .addColumn('group_uri', 'text', (c) => c.notNull())
        .addColumn('user_uri', 'text', (c) => c.notNull())
        .addColumn('added_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('kms_group_member_pk', ['kms_uri', 'group_uri', 'user_uri'])
        .addForeignKeyConstraint(
          'kms_group_member_group_fk',
          GROUP_KEY,
          'kms_group',
          GROUP_KEY,
          cascade,
        )
        .addForeignKeyConstraint(
          'kms_group_member_user_fk',
          USER_KEY,
          'kms_user',
          USER_KEY,
          cascade,
        )
        .execute();
      await db.schema
        .createIndex('kms_group_member_by_user')
        .ifNotExists()
        .on('kms_group_member')
        .columns(['kms_uri', 'user_uri'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const t of [...TABLES].reverse()) await db.schema.dropTable(t).ifExists().execute();
    },
  },
  '0002_kms_interop': {
    // Client keys bound to a user with the InK-ID (§5.3.3, D.2.2); External KMS certificates
    // loaded by the operator (§5.2.8.3, D.2.5/D.2.6); KRR uploads kept for audit (D.2.8).
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('kms_client_key').addColumn('user_uri', 'text').execute();
      await db.schema.alterTable('kms_client_key').addColumn('ink_id', 'text').execute();
      await db.schema
        .createTable('kms_external_cert')
        .ifNotExists()
        .addColumn('kms_uri', 'text', (c) =>
          c.notNull().references('kms_domain.kms_uri').onDelete('cascade'),
        )
        .addColumn('ext_kms_uri', 'text', (c) => c.notNull())
        .addColumn('certificate', 'text', (c) => c.notNull())
        .addColumn('migration', 'bigint', (c) => c.notNull())
        .addColumn('added_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('kms_external_cert_pk', ['kms_uri', 'ext_kms_uri'])
        .execute();
      await db.schema
        .createTable('kms_krr_audit')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kms_uri', 'text', (c) => c.notNull())
        .addColumn('user_uri', 'text', (c) => c.notNull())
        .addColumn('target_uri', 'text', (c) => c.notNull())
        .addColumn('krr', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('kms_krr_audit').ifExists().execute();
      await db.schema.dropTable('kms_external_cert').ifExists().execute();
      await db.schema.alterTable('kms_client_key').dropColumn('ink_id').execute();
      await db.schema.alterTable('kms_client_key').dropColumn('user_uri').execute();
    },
  },
  '0003_idms': {
    // The IdMS (TS 33.180 §5.1.2, Annex B): users with their MC ID, password hash and MC service
    // IDs (B.2.1.3); registered clients (B.3); the JWS signing keys (B.2.2.1) and cookie keys,
    // sealed; the OpenID Connect artefacts (codes, refresh tokens, sessions, grants) stored
    // under the SHA-256 of their id, payload sealed; security-token ids seen (B.8 replay).
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('idms_user')
        .ifNotExists()
        .addColumn('username', 'text', (c) => c.primaryKey())
        .addColumn('sub', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('mcptt_id', 'text')
        .addColumn('mcvideo_id', 'text')
        .addColumn('mcdata_id', 'text')
        .addColumn('mcrec_id', 'text')
        .addColumn('disabled', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('idms_client')
        .ifNotExists()
        .addColumn('client_id', 'text', (c) => c.primaryKey())
        .addColumn('metadata', 'text', (c) => c.notNull())
        .addColumn('secret_wrapped', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('idms_key')
        .ifNotExists()
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('alg', 'text', (c) => c.notNull())
        .addColumn('private_jwk_wrapped', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('retired_at', 'bigint')
        .execute();
      await db.schema
        .createTable('idms_secret')
        .ifNotExists()
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value_wrapped', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('idms_oidc')
        .ifNotExists()
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('id_hash', 'text', (c) => c.notNull())
        .addColumn('payload_wrapped', 'text', (c) => c.notNull())
        .addColumn('grant_hash', 'text')
        .addColumn('uid_hash', 'text')
        .addColumn('user_code_hash', 'text')
        .addColumn('expires_at', 'bigint')
        .addColumn('consumed_at', 'bigint')
        .addPrimaryKeyConstraint('idms_oidc_pk', ['model', 'id_hash'])
        .execute();
      await db.schema
        .createIndex('idms_oidc_by_grant')
        .ifNotExists()
        .on('idms_oidc')
        .column('grant_hash')
        .execute();
      await db.schema
        .createIndex('idms_oidc_by_uid')
        .ifNotExists()
        .on('idms_oidc')
        .column('uid_hash')
        .execute();
      await db.schema
        .createIndex('idms_oidc_by_expiry')
        .ifNotExists()
        .on('idms_oidc')
        .column('expires_at')
        .execute();
      await db.schema
        .createTable('idms_replay')
        .ifNotExists()
        .addColumn('key_hash', 'text', (c) => c.primaryKey())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      const tables = ['idms_replay', 'idms_oidc', 'idms_secret', 'idms_key', 'idms_client', 'idms_user'];
      for (const t of tables) await db.schema.dropTable(t).ifExists().execute();
    },
  },
  // The MCX server (TS 33.180 §9.2): CSKs, registrations, MuSiKs, SPKs (mcx-migration.ts).
  '0005_mcx': mcxMigration,
  // The GMS (TS 33.180 §5.7, §7.3): groups, members, GMKs, registrations (gms-migration.ts).
  '0004_gms': gmsMigration,
  // TrK / InK rotations of KMS clients (TS 33.180 §5.3.3, D.3; kms-rotation-migration.ts).
  '0006_kms_rotation': kmsRotationMigration,
  // The RAND of each CSK's MIKEY message, the KFC-RAND of §9.4.2 (mcx-migration.ts).
  '0007_mcx_csk_rand': mcxCskRandMigration,
  // The RAND of each GMK's MIKEY messages, one per GMK (§7.4.2; gms-migration.ts).
  '0008_gms_gmk_rand': gmsGmkRandMigration,
});

/** The migrations, in code. */
export class StoreMigrationProvider implements MigrationProvider {
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve({ ...migrations });
  }
}

/** The names of every migration, oldest first. */
export const migrationNames: readonly string[] = Object.freeze(Object.keys(migrations).sort());

/**
 * Brings the database to the latest schema; returns the names of the migrations this call ran
 * (none when it was up to date). A failure is McsecError ERR_INTERNAL naming the migration.
 */
export async function migrateToLatest(database: StoreDatabase): Promise<readonly string[]> {
  const migrator = new Migrator({
    db: database.db,
    provider: new StoreMigrationProvider(),
    // Migrations of different functions are independent tables; one added later with an earlier
    // name (0004_gms after 0005_mcx) still applies.
    allowUnorderedMigrations: true,
    ...(database.schema !== undefined ? { migrationTableSchema: database.schema } : {}),
  });
  let outcome = await database.exclusive(() => migrator.migrateToLatest());
  // Kysely's PostgreSQL introspector lists the tables of every schema; a schema, table or column
  // another client drops meanwhile makes that catalog query fail (3F000 invalid_schema_name,
  // 42P01 undefined_table, 42703 undefined_column: seen in CI with parallel test files). Nothing
  // was changed then (the setup runs before any migration), so the run is repeated, a few times.
  for (let retry = 0; retry < 4 && isSchemaVanished(outcome.error); retry++) {
    await new Promise((r) => setTimeout(r, 20 * (retry + 1)));
    outcome = await database.exclusive(() => migrator.migrateToLatest());
  }
  const { error, results } = outcome;
  const failed = results?.find((r) => r.status === 'Error');
  if (error !== undefined || failed !== undefined) {
    const err = new McsecError(ErrorCode.INTERNAL, {
      field: 'store.migrations',
      rule: `migration ${failed?.migrationName ?? '(setup)'} failed on ${database.dialect}: ${
        error instanceof Error ? error.message : String(error)
      }`,
    });
    err.cause = error;
    throw err;
  }
  const ran = (results ?? []).filter((r) => r.status === 'Success');
  return Object.freeze(ran.map((r) => r.migrationName));
}

function isSchemaVanished(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && (error.code === '3F000' || error.code === '42P01' || error.code === '42703');
}

/** The row count of the migration table, for checks. */
export async function countAppliedMigrations(database: StoreDatabase): Promise<number> {
  const name = 'kysely_migration';
  const table = sql.table(database.schema !== undefined ? `${database.schema}.${name}` : name);
  const r = await sql<{ n: unknown }>`select count(*) as n from ${table}`.execute(database.db);
  const n = r.rows[0]?.n;
  const count = typeof n === 'string' ? Number(n) : n;
  if (typeof count !== 'number' || !Number.isSafeInteger(count)) {
    const rule = 'count must be an integer';
    throw new McsecError(ErrorCode.INTERNAL, { field: 'store.kysely_migration', rule });
  }
  return count;
}
