/**
 * Migration 0005_mcx and its row types: the MCX server's tables (TS 33.180 §9.2). Kept beside
 * migrations.ts, which lists it, so that the MCX tables are one module: `mcx_csk` (CSKs sealed,
 * §9.2.1), `mcx_registration` (where key downloads go, §5.8.2), `mcx_musik` and
 * `mcx_musik_delivery` (§9.2.2), `mcx_spk` (§5.5). Types are `text` and `bigint` only, as in
 * every migration; IDs are the 32-bit key identifiers of Annex G as integers.
 */
import type { ColumnType, Kysely, Migration } from 'kysely';
import type { IntColumn, NullableTextColumn, TextColumn } from './tables.js';

/** A nullable integer column. */
type NullableIntColumn = ColumnType<unknown, number | null | undefined, number | null>;

/** A CSK of one client (0005). `csk_wrapped` is sealed with AAD [csk_id, user_uri, client_id]. */
export type McxCskTable = {
  csk_id: IntColumn;
  user_uri: TextColumn;
  client_id: TextColumn;
  impu: TextColumn;
  csk_wrapped: TextColumn;
  origin: TextColumn;
  created_at: IntColumn;
  activates_at: NullableIntColumn;
  expires_at: NullableIntColumn;
  /** The RAND of the CSK's MIKEY message, hex (0007_mcx_csk_rand; null in older rows). */
  rand: NullableTextColumn;
};

/** Where a registered client is reached (0005). */
export type McxRegistrationTable = {
  user_uri: TextColumn;
  client_id: TextColumn;
  impu: TextColumn;
  user_kms_uri: TextColumn;
  contact: TextColumn;
  transport: TextColumn;
  host: TextColumn;
  port: IntColumn;
  expires_at: IntColumn;
  updated_at: IntColumn;
};

/** A MuSiK (0005); `group_id` is '' for MuSiKAll. */
export type McxMusikTable = {
  musik_id: IntColumn;
  group_id: TextColumn;
  musik_wrapped: TextColumn;
  created_at: IntColumn;
  expires_at: NullableIntColumn;
};

/** A client's answer to a MuSiK download (0005). */
export type McxMusikDeliveryTable = {
  musik_id: IntColumn;
  user_uri: TextColumn;
  client_id: TextColumn;
  status: TextColumn;
  at: IntColumn;
};

/** An SPK (0005); SPK-RAND is not secret and is kept in hex. */
export type McxSpkTable = {
  spk_id: IntColumn;
  partner: TextColumn;
  spk_wrapped: TextColumn;
  spk_rand: TextColumn;
  created_at: IntColumn;
  expires_at: NullableIntColumn;
};

/** The MCX tables, for `db.withTables<McxTables>()`. */
export type McxTables = {
  mcx_csk: McxCskTable;
  mcx_registration: McxRegistrationTable;
  mcx_musik: McxMusikTable;
  mcx_musik_delivery: McxMusikDeliveryTable;
  mcx_spk: McxSpkTable;
};

const MCX_TABLES = ['mcx_musik_delivery', 'mcx_musik', 'mcx_spk', 'mcx_registration', 'mcx_csk'] as const;

/** 0005_mcx: the MCX server's tables. */
export const mcxMigration: Migration = Object.freeze({
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('mcx_csk')
      .ifNotExists()
      .addColumn('csk_id', 'bigint', (c) => c.primaryKey())
      .addColumn('user_uri', 'text', (c) => c.notNull())
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('impu', 'text', (c) => c.notNull())
      .addColumn('csk_wrapped', 'text', (c) => c.notNull())
      .addColumn('origin', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('activates_at', 'bigint')
      .addColumn('expires_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('mcx_csk_by_client')
      .ifNotExists()
      .on('mcx_csk')
      .columns(['user_uri', 'client_id'])
      .execute();
    await db.schema
      .createTable('mcx_registration')
      .ifNotExists()
      .addColumn('user_uri', 'text', (c) => c.notNull())
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('impu', 'text', (c) => c.notNull())
      .addColumn('user_kms_uri', 'text', (c) => c.notNull())
      .addColumn('contact', 'text', (c) => c.notNull())
      .addColumn('transport', 'text', (c) => c.notNull())
      .addColumn('host', 'text', (c) => c.notNull())
      .addColumn('port', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('mcx_registration_pk', ['user_uri', 'client_id'])
      .execute();
    await db.schema
      .createTable('mcx_musik')
      .ifNotExists()
      .addColumn('musik_id', 'bigint', (c) => c.primaryKey())
      .addColumn('group_id', 'text', (c) => c.notNull())
      .addColumn('musik_wrapped', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .execute();
    await db.schema
      .createTable('mcx_musik_delivery')
      .ifNotExists()
      .addColumn('musik_id', 'bigint', (c) => c.notNull().references('mcx_musik.musik_id').onDelete('cascade'))
      .addColumn('user_uri', 'text', (c) => c.notNull())
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('mcx_musik_delivery_pk', ['musik_id', 'user_uri', 'client_id'])
      .execute();
    await db.schema
      .createTable('mcx_spk')
      .ifNotExists()
      .addColumn('spk_id', 'bigint', (c) => c.primaryKey())
      .addColumn('partner', 'text', (c) => c.notNull())
      .addColumn('spk_wrapped', 'text', (c) => c.notNull())
      .addColumn('spk_rand', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .execute();
    await db.schema.createIndex('mcx_spk_by_partner').ifNotExists().on('mcx_spk').column('partner').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const t of MCX_TABLES) await db.schema.dropTable(t).ifExists().execute();
  },
});

/**
 * 0007_mcx_csk_rand: the RAND of each CSK's MIKEY message (the KFC-RAND of SRTCP under the CSK,
 * TS 33.180 §9.4.2, §9.4.6), which a client chooses when it uploads its CSK: the server must use
 * the one it received, not one of its own. Public (it travels in clear in the I_MESSAGE), so hex.
 */
export const mcxCskRandMigration: Migration = Object.freeze({
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('mcx_csk').addColumn('rand', 'text').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('mcx_csk').dropColumn('rand').execute();
  },
});
