/** mcsec client SDK: what an MC client links. */
export { checkKeyMaterial, type KeyCheckResult, type KeyVerdict } from './key-check.js';
export { ClientKeyStore, type StoredKeySet, type StoredKmsCertificate } from './key-store.js';
export { KmsClient, ntpHex, type FetchResult, type KmsClientOptions, type PeriodDisagreement } from './kms-client.js';
