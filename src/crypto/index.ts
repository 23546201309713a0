/** mcsec/crypto: ECCSI, SAKKE, the TS 33.220 KDF and the TS 33.180 Annex F / G derivations. */
export {
  ECCSI_SIGNATURE_LENGTH,
  EccsiVerifier,
  eccsiHs,
  eccsiKpakOf,
  generateEccsiKmsKey,
  generateEccsiPair,
  signEccsi,
  validateEccsiPair,
  verifyEccsi,
  type EccsiKmsKey,
  type EccsiPair,
  type EccsiSigningKey,
  type Rng,
} from './eccsi.js';
export {
  SAKKE_ENCAPSULATED_LENGTH,
  SAKKE_POINT_LENGTH,
  SAKKE_SSV_LENGTH,
  SakkePeer,
  SakkePublicKey,
  SakkeRecipient,
  decapsulateSsv,
  encapsulateSsv,
  extractRsk,
  generateSakkeKmsKey,
  prepareRsk,
  sakkePublicKeyOf,
  validateRsk,
  type SakkeKmsKey,
} from './sakke.js';
export { SakkeParamSet1 } from './sakke-params.js';
export { hashToIntegerRange } from './hash-to-integer-range.js';
export { AES_GCM_TAG_LENGTH, openAesGcm, sealAesGcm } from './aes-gcm.js';
export { kdf, kdfInput, encodeKdfInteger, hmacSha256, sha256, type KdfParameter } from './kdf.js';
export {
  NTP_UNIX_OFFSET,
  deriveUid,
  keyPeriodNoAt,
  keyPeriodNoAtNtp,
  uidInput,
  type UidInput,
} from './uid.js';
export {
  KdfFc,
  deriveDpck,
  deriveGukId,
  deriveUserSalt,
  deriveXmlKey,
  gmkIdFromGukId,
} from './key-derivation.js';
export {
  DIVERSIFIED_KEY_TYPES,
  PurposeTag,
  decodeKeyId,
  generateKeyId,
  isKeyIdOfType,
  type KeyId,
  type KeyType,
} from './key-id.js';
export { MikeyKeyConstant, deriveFromTgk, mikeyPrfHmacSha256, mikeyTgkLabel } from './mikey-prf.js';
export {
  CsId,
  SRTP_MASTER_KEY_LENGTH,
  SRTP_MASTER_SALT_LENGTH,
  deriveGroupCallMaster,
  derivePrivateCallMaster,
  deriveSrtcpMaster,
  deriveKfcRand,
  deriveSrtpMaster,
  groupCallCsId,
  privateCallCsId,
  srtcpCsId,
  type McMediaService,
  type PrivateCallOrigin,
  type SrtpMaster,
  type SrtpMasterInput,
} from './srtp-key-derivation.js';
export { SrtpLabel, aesCmPrf, deriveSrtcpSessionKeys, deriveSrtpSessionKeys, type SrtpIndexBits, type SrtpSessionKeys } from './srtp-kdf.js';
export { SRTP_AEAD_IV_LENGTH, SRTP_AEAD_TAG_LENGTH, srtcpAeadIv, srtpAeadIv, srtpAeadOpen, srtpAeadSeal } from './srtp-aead.js';
export { createSelfSignedCertificate, type CertifiedKey, type SelfSignedOptions } from './x509.js';
export { kmsSigningKey, p256PublicKey } from './kms-signing-key.js';
export { SakkeBatchEncapsulator, type SakkeBatchOptions } from './sakke-batch.js';
