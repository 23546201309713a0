/**
 * Migration 0006_kms_rotation and its row type: TrK / InK rotations the operator scheduled for a
 * KMS client (TS 33.180 §5.3.3 step 2, Annex D.3: a KmsInit or KmsKeyProv response "may respond
 * with a new TrK and/or a new InK"). One row per client being rotated, keyed by the TrK-ID in
 * force (`kms_client_key.client_id`); the new keys are sealed (secret-box.ts) with AAD
 * [table, column, client_id]. The row goes when the client first names a new key (the old one is
 * retired then). Kept beside migrations.ts, which lists it; types are `text` and `bigint` only.
 */
import type { Kysely, Migration } from 'kysely';
import type { IntColumn, NullableTextColumn, TextColumn } from './tables.js';

/** A pending rotation of one client's TrK and/or InK (0006). */
export type KmsClientKeyRotationTable = {
  /** The TrK-ID in force: the kms_client_key row being replaced. */
  client_id: TextColumn;
  /** The new TrK-ID (unique: requests naming it are found by it) and the sealed new TrK. */
  new_trk_id: NullableTextColumn;
  new_trk_wrapped: NullableTextColumn;
  /** The new InK-ID and the sealed new InK. */
  new_ink_id: NullableTextColumn;
  new_ink_wrapped: NullableTextColumn;
  scheduled_at: IntColumn;
};

/** The rotation table, for `db.withTables<KmsRotationTables>()`. */
export type KmsRotationTables = {
  kms_client_key_rotation: KmsClientKeyRotationTable;
};

/** 0006_kms_rotation: pending TrK / InK rotations, and client keys found by user. */
export const kmsRotationMigration: Migration = Object.freeze({
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('kms_client_key_rotation')
      .ifNotExists()
      .addColumn('client_id', 'text', (c) =>
        c.primaryKey().references('kms_client_key.client_id').onDelete('cascade'),
      )
      .addColumn('new_trk_id', 'text', (c) => c.unique())
      .addColumn('new_trk_wrapped', 'text')
      .addColumn('new_ink_id', 'text')
      .addColumn('new_ink_wrapped', 'text')
      .addColumn('scheduled_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('kms_client_key_by_user')
      .ifNotExists()
      .on('kms_client_key')
      .column('user_uri')
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('kms_client_key_by_user').ifExists().execute();
    await db.schema.dropTable('kms_client_key_rotation').ifExists().execute();
  },
});
