/** The KMS (TS 33.180 §5.3, Annex D): request handling, HTTPS server, administration. */
export { KMS_BASE_PATH, KmsService, externalCertificateFromJson, externalCertificateToJson, type KmsAnswer, type KmsCall, type KmsServiceOptions } from './kms-service.js';
export { buildKmsServer, type KmsServerOptions } from './kms-server.js';
export { KeyIssuer, keyPeriodBounds, keyPeriodNoOf, keyPeriodNoOfNtp } from './key-issuer.js';
export { clientKeysOfRequest, newKeysOf, scheduleClientKeyRotation, type ClientKeyRotationRequest, type RequestClientKeys, type ScheduledClientKeyRotation } from './client-key-rotation.js';
export { addExternalCertificate, initDomain, issueClientKeys, provisionKeySets, type DomainSettings, type IssuedClientKeys } from './kms-admin.js';
