/** mcsec client SDK: what an MC client links. */
export { checkKeyMaterial, type KeyCheckResult, type KeyVerdict } from './key-check.js';
export { ClientKeyStore, type StoredKeySet, type StoredKmsCertificate } from './key-store.js';
export { KmsClient, ntpHex, type FetchResult, type KmsClientOptions, type PeriodDisagreement } from './kms-client.js';
export { GroupManagementClient, type GmcEarHook, type GmcEvents, type GmcOptions } from './gmc.js';
export { clientEarSigner, gmcEarHook, type GmcEarOptions } from './gmc-ear.js';
export { McxClientKeys, cskRegisterRequest, type AppliedKey, type CskRegisterInput, type CskUploadMessage, type CskUploadRedirect, type HeldKey, type McxClientKeysOptions, type McxServerPeer } from './mcx-client-keys.js';
export { McxClientSignalling, type ClientMessageInput, type McxClientSignallingOptions } from './mcx-signalling.js';
export { userKeys, userKeysFromStore, type ClientTrustedKms, type McxUserKeys, type UserKeySet } from './mcx-user-keys.js';
