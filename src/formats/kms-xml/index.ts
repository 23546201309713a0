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
  verifyXmlHmacSignature,
  verifyXmlHmacSignatureOn,
  type KmsResponseKeys,
  type KmsSignatureStatus,
} from './kms-protection.js';
export { verifyCertificateSignatures, type CertificateSignatureCheck } from './certificate-signature.js';
export { encodeKmsResponse, toXsdDateTime, type KmsCertificateInput, type KmsCertificateSigner, type KmsKeyContentInput, type KmsKeySetInput, type KmsMessageInput, type KmsNewKeysInput, type KmsResponseEncodeOptions, type KmsResponseInput } from './kms-encode.js';
export {
  KMS_REQUEST_MAX_OCTETS,
  KMS_XML_CONTENT_TYPE,
  checkKmsRequest,
  checkKmsRequestFields,
  openKmsRequest,
  type OpenedKmsRequest,
  decodeKmsRequest,
  encodeKmsRequest,
  normaliseKmsUri,
  sameKmsUri,
  type KmsRequest,
  type KmsRequestExpectations,
  type KmsRequestInput,
} from './kms-request.js';
export {
  ECDSA_SHA256,
  KRR_CONTENT_TYPE,
  KRR_MAX_DEPTH,
  KRR_MAX_OCTETS,
  decodeKrr,
  decodeKrrElement,
  encodeKrr,
  verifyKrr,
  type KmsRedirectResponse,
  type KmsUriList,
  type KrrInput,
  type KrrSigner,
  type VerifiedKrr,
} from './krr.js';
