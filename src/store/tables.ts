/**
 * The row types of the store's tables, as Kysely sees them (docs/store.md). Every column reads
 * as `unknown`: the two drivers hand back different JavaScript types (PostgreSQL's `bigint`
 * arrives as a string, SQLite's as a number), so each value is checked as it is read
 * (kms-store.ts), never asserted. Writes are typed. Key material is hex text; secrets are
 * `v1.…` text from secret-box.ts; times are milliseconds since the epoch.
 */
import type { ColumnType } from 'kysely';
import type { GmsTables } from './gms-migration.js';

/** A text column. */
export type TextColumn = ColumnType<unknown, string, string>;
/** A nullable text column. */
export type NullableTextColumn = ColumnType<unknown, string | null | undefined, string | null>;
/** An integer column (`bigint`), holding safe integers only. */
export type IntColumn = ColumnType<unknown, number, number>;

/** One KMS domain: its user key period, public keys and wrapped master secrets. */
export interface KmsDomainTable {
  kms_uri: TextColumn;
  user_key_period: IntColumn;
  user_key_offset: IntColumn;
  pub_enc_key: TextColumn;
  pub_auth_key: TextColumn;
  z_wrapped: TextColumn;
  ksak_wrapped: TextColumn;
  created_at: IntColumn;
}

/** A user provisioned in a KMS domain. */
export interface KmsUserTable {
  kms_uri: TextColumn;
  user_uri: TextColumn;
  mc_service_id: NullableTextColumn;
  created_at: IntColumn;
}

/** The key set issued to one user for one user key period. */
export interface KmsKeySetTable {
  kms_uri: TextColumn;
  user_uri: TextColumn;
  key_period_no: IntColumn;
  user_id: TextColumn;
  rsk_wrapped: TextColumn;
  ssk_wrapped: TextColumn;
  pvt: TextColumn;
  issued_at: IntColumn;
}

/** The transport keys (TrK, InK) of one KMS client. */
export interface KmsClientKeyTable {
  client_id: TextColumn;
  trk_wrapped: TextColumn;
  ink_wrapped: NullableTextColumn;
  created_at: IntColumn;
  /** The user these keys serve (0002), and the InK-ID naming the InK (0002). */
  user_uri: NullableTextColumn;
  ink_id: NullableTextColumn;
}

/** An External KMS certificate loaded into a home KMS (0002); `certificate` is its JSON. */
export interface KmsExternalCertTable {
  kms_uri: TextColumn;
  ext_kms_uri: TextColumn;
  certificate: TextColumn;
  migration: IntColumn;
  added_at: IntColumn;
}

/** A KMS Redirect Response a client uploaded for audit (0002). */
export interface KmsKrrAuditTable {
  id: TextColumn;
  kms_uri: TextColumn;
  user_uri: TextColumn;
  target_uri: TextColumn;
  krr: TextColumn;
  received_at: IntColumn;
}

/** A group known to a KMS domain. */
export interface KmsGroupTable {
  kms_uri: TextColumn;
  group_uri: TextColumn;
  created_at: IntColumn;
}

/** Membership of a user in a group. */
export interface KmsGroupMemberTable {
  kms_uri: TextColumn;
  group_uri: TextColumn;
  user_uri: TextColumn;
  added_at: IntColumn;
}

/** Store-wide values, such as the storage key check. */
export interface StoreMetaTable {
  name: TextColumn;
  value: TextColumn;
}

/** An IdMS user (0003): MC ID, never-reassigned `sub`, scrypt hash, MC service IDs (B.2.1.3). */
export interface IdmsUserTable {
  username: TextColumn;
  sub: TextColumn;
  password_hash: TextColumn;
  mcptt_id: NullableTextColumn;
  mcvideo_id: NullableTextColumn;
  mcdata_id: NullableTextColumn;
  mcrec_id: NullableTextColumn;
  /** 1 when the account may no longer log in or refresh (B.5.2), else 0. */
  disabled: IntColumn;
  created_at: IntColumn;
  updated_at: IntColumn;
}

/** A client registered with the IdMS (0003, B.3): its metadata JSON and sealed secret, if any. */
export interface IdmsClientTable {
  client_id: TextColumn;
  metadata: TextColumn;
  secret_wrapped: NullableTextColumn;
  created_at: IntColumn;
}

/** An IdMS JWS signing key (0003): the private JWK, sealed. */
export interface IdmsKeyTable {
  kid: TextColumn;
  alg: TextColumn;
  private_jwk_wrapped: TextColumn;
  created_at: IntColumn;
  retired_at: ColumnType<unknown, number | null | undefined, number | null>;
}

/** A named IdMS secret (0003), such as the cookie signing keys, sealed. */
export interface IdmsSecretTable {
  name: TextColumn;
  value_wrapped: TextColumn;
  created_at: IntColumn;
}

/** An OpenID Connect artefact (0003) under the SHA-256 of its id; the payload sealed. */
export interface IdmsOidcTable {
  model: TextColumn;
  id_hash: TextColumn;
  payload_wrapped: TextColumn;
  grant_hash: NullableTextColumn;
  uid_hash: NullableTextColumn;
  user_code_hash: NullableTextColumn;
  expires_at: ColumnType<unknown, number | null | undefined, number | null>;
  consumed_at: ColumnType<unknown, number | null | undefined, number | null>;
}

/** A one-time id seen until it expires (0003): security tokens presented to a partner IdMS. */
export interface IdmsReplayTable {
  key_hash: TextColumn;
  expires_at: IntColumn;
}

/** Every table of the store. */
export interface StoreTables extends GmsTables {
  kms_domain: KmsDomainTable;
  kms_user: KmsUserTable;
  kms_key_set: KmsKeySetTable;
  kms_client_key: KmsClientKeyTable;
  kms_group: KmsGroupTable;
  kms_external_cert: KmsExternalCertTable;
  kms_krr_audit: KmsKrrAuditTable;
  kms_group_member: KmsGroupMemberTable;
  store_meta: StoreMetaTable;
  idms_user: IdmsUserTable;
  idms_client: IdmsClientTable;
  idms_key: IdmsKeyTable;
  idms_secret: IdmsSecretTable;
  idms_oidc: IdmsOidcTable;
  idms_replay: IdmsReplayTable;
}
