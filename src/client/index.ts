/** mcsec client SDK: what an MC client links. */
export { checkKeyMaterial, type KeyCheckResult, type KeyVerdict } from './key-check.js';
export { ClientKeyStore, type StoredClientKeys, type StoredKeySet, type StoredKmsCertificate } from './key-store.js';
export { openNewClientKeys, type ClientKey, type ClientTransportKeys } from './kms-key-rotation.js';
export { KmsClient, ntpHex, type FetchResult, type KmsClientOptions, type PeriodDisagreement } from './kms-client.js';
export { GroupManagementClient, type GmcEarHook, type GmcEvents, type GmcOptions } from './gmc.js';
export { clientEarSigner, gmcEarHook, type GmcEarOptions } from './gmc-ear.js';
export { McxClientKeys, cskRegisterRequest, type AppliedKey, type CskRegisterInput, type CskUploadMessage, type CskUploadRedirect, type HeldKey, type McxClientKeysOptions, type McxServerPeer } from './mcx-client-keys.js';
export { McxClientSignalling, type ClientMessageInput, type McxClientSignallingOptions } from './mcx-signalling.js';
export { userKeys, userKeysFromStore, type ClientTrustedKms, type McxUserKeys, type UserKeySet } from './mcx-user-keys.js';
export { DropReason, MediaCounters, dropReason, type MediaStats } from './media-stats.js';
export { MediaSession, isRtcp, type MediaReceipt, type MediaSessionOptions } from './media-session.js';
export { GroupCallSession, joinGroupCall, type GroupCallOptions, type GroupKeyEvents, type GroupKeySource } from './group-call.js';
export { PrivateCallSession, createPrivateCallOffer, openPrivateCallOffer, type OpenedPrivateCall, type PrivateCallKey, type PrivateCallOffer } from './private-call.js';
export { PrivateCallAgent, type EstablishedPrivateCall, type PrivateCallAgentEvents, type PrivateCallAgentOptions } from './private-call-sip.js';
export { ControlChannelSession, type ControlChannelOptions, type ControlKeySource } from './control-channel.js';
export { MediaSocket, type MediaPeer, type MediaSocketOptions } from './media-socket.js';
