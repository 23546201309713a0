/** Storage and shared state behind interfaces: Redis-backed replay cache (more stores follow). */
export { RedisReplayCache } from './redis-replay-cache.js';
export { openDatabase, type StoreDatabase, type StoreDialect, type OpenDatabaseOptions } from './database.js';
export { migrateToLatest, migrationNames, countAppliedMigrations, StoreMigrationProvider } from './migrations.js';
export { SecretBox, loadStorageKey, storeAad, STORAGE_KEY_ENV, type StorageKeySource } from './secret-box.js';
export { KyselyKmsStore, type KmsStoreOptions } from './kms-store.js';
export type {
  KmsStore,
  KmsDomain,
  NewKmsDomain,
  KmsUser,
  NewKmsUser,
  UserPageRequest,
  KmsUserPage,
  KmsKeySet,
  NewKmsKeySet,
  KmsClientKeys,
  NewKmsClientKeys,
  KmsExternalCertificate,
  KmsKrrAudit,
} from './kms-records.js';
export type { KmsClientKeyRotation, KmsClientKeyRotationStore, NewKmsClientKeyRotation } from './kms-rotation-records.js';
export { KyselyIdmsStore, type IdmsStoreOptions } from './idms-store.js';
export type {
  IdmsUser,
  NewIdmsUser,
  IdmsClient,
  IdmsSigningKey,
  IdmsOidcRecord,
  IdmsOidcIndexes,
  McServiceIdClaimName,
  McServiceIds,
} from './idms-records.js';
export { KyselyGmsStore, type GmsStoreOptions } from './gms-store.js';
export type {
  GmsStore,
  GmsKmsCertificate,
  GmsKeySet,
  GmsGroup,
  NewGmsGroup,
  GmsMember,
  NewGmsMember,
  GmsGmk,
  NewGmsGmk,
  GmsRegistration,
  GmsDelivery,
  GmsDeliveryState,
  NewGmsDelivery,
} from './gms-records.js';
export type { StoreTables } from './tables.js';
