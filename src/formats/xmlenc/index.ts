/** XML protection of TS 33.180 §9.3: XML encryption of content and URI attributes, XML HMAC signatures, XPK keys. */
export {
  DEFAULT_ENCRYPTION_DOMAIN,
  EncryptedDataType,
  MCPTT_INFO_POLICY,
  MCPTT_SIGNED_CONTENT_TYPE,
  PIDF_AFFILIATION_POLICY,
  PROTECTED_CATEGORIES,
  ProtectedCategory,
  URI_ALGORITHM,
  XML_PROTECTION_MAX_OCTETS,
  XmlProtectionAlgorithm,
  XmlProtectionNamespace,
  type ProtectedElement,
  type ProtectedUriAttribute,
  type XmlProtectionPolicy,
} from './constants.js';
export {
  MemoryXpkResolver,
  decodeXpkId,
  encodeXpkId,
  isXpkIdOf,
  receiverXmlKey,
  senderXmlKey,
  type XmlKeyUse,
  type XmlReceiverKeys,
  type XmlSenderKey,
  type XpkEntry,
  type XpkPurpose,
  type XpkResolver,
} from './xpk.js';
export {
  MESSAGE_TYPE_PROPERTY_ID,
  isEncryptedData,
  readEncryptedData,
  type EncryptedDataInfo,
} from './encrypted-data.js';
export {
  decodeEncryptedUri,
  decryptUri,
  encryptUri,
  fromBase64UrlCanonical,
  isEncryptedUri,
  type EncryptedUri,
} from './uri-attribute.js';
export {
  protectXml,
  reprotectXml,
  unprotectXml,
  type ProtectXmlOptions,
  type UnprotectXmlOptions,
  type UnprotectedXml,
} from './xml-protection.js';
export {
  cidUrl,
  contentIdOfCid,
  signXmlBodies,
  verifyXmlBodies,
  type SignXmlBodiesOptions,
  type VerifyXmlBodiesOptions,
  type XmlBody,
} from './xml-signatures.js';
export {
  isXmlEssence,
  mimeContentId,
  openSipXmlBodies,
  protectSipXmlBodies,
  reprotectSipXmlBodies,
  type OpenSipXmlBodiesOptions,
  type OpenedSipXmlBodies,
  type OpenedSipXmlBody,
  type ProtectSipXmlBodiesOptions,
  type ReprotectSipXmlBodiesOptions,
  type SipXmlBodyInput,
} from './sip-xml-bodies.js';
export { XML_PROTECTION_MAX_DEPTH } from './xml-tree.js';
export {
  ACCESS_TOKEN_ELEMENTS,
  ACCESS_TOKEN_MAX_CHARS,
  accessTokensOf,
  type AccessTokenService,
  type BodyAccessToken,
} from './access-token.js';
