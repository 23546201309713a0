/**
 * Migration 0004_gms and its row types: the GMS's tables (TS 33.180 §5.7, §7.3). Kept beside
 * migrations.ts, which lists it, so that the GMS tables are one module:
 *
 * - `gms_kms_cert`: KMS certificates of its own and its members' domains (§5.2.7.2 item 5), with
 *   IsSecurityGateway (D.3.2.2, for the Security Gateway status bit of §5.7 / §E.6.9);
 * - `gms_key_set`: its identity key sets (§5.7.2 step 0), RSK and SSK sealed;
 * - `gms_group`, `gms_member`: groups (MC group IDs) and members with their KMS;
 * - `gms_gmk`: the GMKs of each group, GMK sealed, with the §E.6 activation / expiry time,
 *   status and text; unique per (group, generation), so two instances rekeying at once cannot
 *   both win;
 * - `gms_registration`: members' registered contacts (the GMS registrar);
 * - `gms_delivery`: what each member answered to each GMK message.
 *
 * Types are `text` and `bigint` only, as in every migration; GMK-IDs are the 32-bit key
 * identifiers of Annex G as integers; times are milliseconds since the epoch.
 */
import type { ColumnType, Kysely, Migration } from 'kysely';
import type { IntColumn, NullableTextColumn, TextColumn } from './tables.js';

/** A nullable integer column. */
type NullableIntColumn = ColumnType<unknown, number | null | undefined, number | null>;

/** A KMS certificate the GMS holds (0004). */
export interface GmsKmsCertTable {
  kms_uri: TextColumn;
  user_key_period: IntColumn;
  user_key_offset: IntColumn;
  pub_enc_key: TextColumn;
  pub_auth_key: TextColumn;
  /** 1 when IsSecurityGateway is true, else 0. */
  is_security_gateway: IntColumn;
  updated_at: IntColumn;
}

/** A key set of the GMS identity (0004); RSK and SSK sealed with AAD [gms_uri, key_period_no]. */
export interface GmsKeySetTable {
  gms_uri: TextColumn;
  key_period_no: IntColumn;
  kms_uri: TextColumn;
  user_id: TextColumn;
  rsk_wrapped: TextColumn;
  ssk_wrapped: TextColumn;
  pvt: TextColumn;
  stored_at: IntColumn;
}

/** A group (0004); `also_group_ids` is a JSON array of strings. */
export interface GmsGroupTable {
  group_uri: TextColumn;
  also_group_ids: TextColumn;
  primary_gms_uri: NullableTextColumn;
  text: TextColumn;
  gmk_lifetime: IntColumn;
  rekey_on_remove: IntColumn;
  created_at: IntColumn;
}

/** A member of a group (0004). */
export interface GmsMemberTable {
  group_uri: TextColumn;
  member_uri: TextColumn;
  kms_uri: TextColumn;
  added_at: IntColumn;
}

/** A GMK (0004); `gmk_wrapped` sealed with AAD [group_uri, gmk_id]. */
export interface GmsGmkTable {
  group_uri: TextColumn;
  gmk_id: IntColumn;
  generation: IntColumn;
  gmk_wrapped: TextColumn;
  activation_at: IntColumn;
  expiry_at: NullableIntColumn;
  revoked: IntColumn;
  text: TextColumn;
  origin: NullableTextColumn;
  created_at: IntColumn;
  /** The RAND of the GMK's MIKEY messages, hex (0008_gms_gmk_rand; null in older rows). */
  rand: NullableTextColumn;
}

/** A member's registered contact (0004). */
export interface GmsRegistrationTable {
  member_uri: TextColumn;
  contact: TextColumn;
  expires_at: IntColumn;
  updated_at: IntColumn;
}

/** The delivery of one GMK to one member (0004). */
export interface GmsDeliveryTable {
  group_uri: TextColumn;
  gmk_id: IntColumn;
  member_uri: TextColumn;
  state: TextColumn;
  status: NullableIntColumn;
  code: NullableTextColumn;
  attempts: IntColumn;
  updated_at: IntColumn;
}

/** The GMS tables, for StoreTables. */
export interface GmsTables {
  gms_kms_cert: GmsKmsCertTable;
  gms_key_set: GmsKeySetTable;
  gms_group: GmsGroupTable;
  gms_member: GmsMemberTable;
  gms_gmk: GmsGmkTable;
  gms_registration: GmsRegistrationTable;
  gms_delivery: GmsDeliveryTable;
}

const GROUP_FK = 'gms_group.group_uri';

/** Migration 0004_gms. */
export const gmsMigration: Migration = Object.freeze({
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('gms_kms_cert')
      .ifNotExists()
      .addColumn('kms_uri', 'text', (c) => c.primaryKey())
      .addColumn('user_key_period', 'bigint', (c) => c.notNull())
      .addColumn('user_key_offset', 'bigint', (c) => c.notNull())
      .addColumn('pub_enc_key', 'text', (c) => c.notNull())
      .addColumn('pub_auth_key', 'text', (c) => c.notNull())
      .addColumn('is_security_gateway', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('gms_key_set')
      .ifNotExists()
      .addColumn('gms_uri', 'text', (c) => c.notNull())
      .addColumn('key_period_no', 'bigint', (c) => c.notNull())
      .addColumn('kms_uri', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('rsk_wrapped', 'text', (c) => c.notNull())
      .addColumn('ssk_wrapped', 'text', (c) => c.notNull())
      .addColumn('pvt', 'text', (c) => c.notNull())
      .addColumn('stored_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('gms_key_set_pk', ['gms_uri', 'key_period_no'])
      .execute();
    await db.schema
      .createTable('gms_group')
      .ifNotExists()
      .addColumn('group_uri', 'text', (c) => c.primaryKey())
      .addColumn('also_group_ids', 'text', (c) => c.notNull())
      .addColumn('primary_gms_uri', 'text')
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('gmk_lifetime', 'bigint', (c) => c.notNull())
      .addColumn('rekey_on_remove', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('gms_member')
      .ifNotExists()
      .addColumn('group_uri', 'text', (c) => c.notNull().references(GROUP_FK).onDelete('cascade'))
      .addColumn('member_uri', 'text', (c) => c.notNull())
      .addColumn('kms_uri', 'text', (c) => c.notNull())
      .addColumn('added_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('gms_member_pk', ['group_uri', 'member_uri'])
      .execute();
    await db.schema.createIndex('gms_member_by_member').ifNotExists().on('gms_member').column('member_uri').execute();
    await db.schema
      .createTable('gms_gmk')
      .ifNotExists()
      .addColumn('group_uri', 'text', (c) => c.notNull().references(GROUP_FK).onDelete('cascade'))
      .addColumn('gmk_id', 'bigint', (c) => c.notNull())
      .addColumn('generation', 'bigint', (c) => c.notNull())
      .addColumn('gmk_wrapped', 'text', (c) => c.notNull())
      .addColumn('activation_at', 'bigint', (c) => c.notNull())
      .addColumn('expiry_at', 'bigint')
      .addColumn('revoked', 'bigint', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('origin', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('gms_gmk_pk', ['group_uri', 'gmk_id'])
      .addUniqueConstraint('gms_gmk_generation', ['group_uri', 'generation'])
      .execute();
    await db.schema
      .createTable('gms_registration')
      .ifNotExists()
      .addColumn('member_uri', 'text', (c) => c.primaryKey())
      .addColumn('contact', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('gms_delivery')
      .ifNotExists()
      .addColumn('group_uri', 'text', (c) => c.notNull().references(GROUP_FK).onDelete('cascade'))
      .addColumn('gmk_id', 'bigint', (c) => c.notNull())
      .addColumn('member_uri', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('status', 'bigint')
      .addColumn('code', 'text')
      .addColumn('attempts', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('gms_delivery_pk', ['group_uri', 'gmk_id', 'member_uri'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const t of ['gms_delivery', 'gms_registration', 'gms_gmk', 'gms_member', 'gms_group', 'gms_key_set', 'gms_kms_cert']) {
      await db.schema.dropTable(t).ifExists().execute();
    }
  },
});

/**
 * 0008_gms_gmk_rand: the RAND of each GMK's MIKEY messages (TS 33.180 §7.4.2: the SRTP keys of a
 * group call derive from "the MIKEY RAND value transmitted in the MIKEY message used to distribute
 * the GMK"): one per GMK, kept so that every member, a late one or a partner GMS's member, gets the
 * same; a partner GMS keeps the primary's. Public (in clear in the I_MESSAGE), so hex.
 */
export const gmsGmkRandMigration: Migration = Object.freeze({
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('gms_gmk').addColumn('rand', 'text').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('gms_gmk').dropColumn('rand').execute();
  },
});
