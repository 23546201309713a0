/** The MCX server security function (TS 33.180 §9.2): CSK upload, key download, SPK, XPK resolver. */
export { baseIdentity, requestIdentity, sameIdentity, type RequestIdentity, type RequestIdentityPolicy } from './authorised-identity.js';
export { mcxServerConfig, type McxServerConfig, type McxServerConfigInput } from './config.js';
export { checkCskInitiator } from './check-csk-initiator.js';
export { checkCskKey, type CskValidity } from './check-csk-key.js';
export { openCskUpload, type CskUpload, type CskUploadContext, type OpenedCskUpload } from './csk-upload.js';
export { DeferredClaim } from './deferred-claim.js';
export { DOWNLOAD_KEY_TYPES, createKeyDownload, keyDownloadRequest, type DownloadItem, type KeyDownload, type KeyDownloadInput, type KeyDownloadRequestInput } from './key-download.js';
export { McxKeyResolver, xmlKeysOf, type ResolvedXpk, type XpkExpectation, type XpkKeyType, type XpkLookup } from './key-resolver.js';
export { clientIdOf, registrationRequest, type RegistrationRequest } from './registration.js';
export { serverKeys, serverKeysFromKms, type ExternalKms, type McxServerKeys, type ServerKeySet, type ServerKeysInput, type SigningPair, type TrustedKms } from './server-keys.js';
export { ServerTransactions } from './server-transactions.js';
export { authoriseServices, type AccessTokenMode, type ServiceAuthorisation, type ServiceAuthorisationContext } from './service-authorisation.js';
export { McxServerService, type KeyDownloadResult, type KeyDownloadTransport, type McxServiceOptions, type RegistrationOutcome, type SipSource } from './service.js';
export { MCX_ALLOW, answerMcxRequest, keyDownloadTransport, serveMcxSip, type McxLogEntry, type McxSipOptions } from './sip.js';
export { SpkResolver, decodeSpkConfig, importSpks, type SpkEntry } from './spk.js';
export { openXmlParts, type OpenedXmlPart, type XmlPartsContext } from './xml-parts.js';
