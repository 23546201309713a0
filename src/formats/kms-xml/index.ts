/** KMS responses of TS 33.180 Annex D.3: the decoder and the Annex D security extension. */
export {
  KMS_RESPONSE_MAX_OCTETS,
  KmsNamespace,
  decodeKmsResponse,
  type KmsCertificate,
  type KmsKeyContent,
  type KmsKeySet,
  type KmsMessage,
  type KmsNewKeys,
  type KmsPlainKey,
  type KmsResponse,
  type XmlEncryptedKey,
  type XmlSignatureInfo,
} from './kms-response.js';
export {
  KmsAlgorithm,
  openKmsResponse,
  unwrapKmsKey,
  unwrapKmsResponse,
  verifyKmsResponseSignature,
  type KmsResponseKeys,
  type KmsSignatureStatus,
} from './kms-protection.js';
export { encodeKmsResponse, toXsdDateTime, type KmsCertificateInput, type KmsKeyContentInput, type KmsKeySetInput, type KmsMessageInput, type KmsNewKeysInput, type KmsResponseEncodeOptions, type KmsResponseInput } from './kms-encode.js';
