/**
 * Names and lists of TS 33.180 §9.3 (application signalling security, XML protection): the
 * namespaces and algorithm identifiers of XML Encryption 1.1 and XML Signature that §9.3.4.2 and
 * §9.3.5 name, the §9.3.4.3 URI attribute encryption markers, and the §9.3.2 list of what may be
 * confidentiality protected, as data. Policies (constants below) map those categories onto the
 * element and attribute names of the stage-3 bodies (TS 24.379 mcpttinfo, RFC 3863 PIDF with the
 * TS 24.379 affiliation element); a caller may pass any other policy.
 */

/** Namespaces used by §9.3. */
export const XmlProtectionNamespace = Object.freeze({
  XMLENC: 'http://www.w3.org/2001/04/xmlenc#',
  XMLDSIG: 'http://www.w3.org/2000/09/xmldsig#',
  /** TS 24.379 §F.6: root `signatures` of application/vnd.3gpp.mcptt-signed+xml. */
  MCPTT_SIGNED_DOC: 'urn:3gpp:ns:mcpttSignedDoc:1.0',
  /** TS 24.379 §F.1: root `mcpttinfo` of application/vnd.3gpp.mcptt-info+xml. */
  MCPTT_INFO: 'urn:3gpp:ns:mcpttInfo:1.0',
  /** RFC 3863 PIDF (the §9.3.4.3 example body). */
  PIDF: 'urn:ietf:params:xml:ns:pidf',
  /** TS 24.379 presence information (the `affiliation` element of the §9.3.4.3 example). */
  MCPTT_PRES_INFO: 'urn:3gpp:ns:mcpttPresInfo:1.0',
} as const);

/** Algorithm and type identifiers of §9.3.4.2 and §9.3.5. */
export const XmlProtectionAlgorithm = Object.freeze({
  /** §9.3.4.2: shall be supported (XML Encryption 1.1 §5.2.4). */
  AES128_GCM: 'http://www.w3.org/2009/xmlenc11#aes128-gcm',
  /** For a 256-bit XPK (TrK), whose derived key is 256 bits (§F.1.4). */
  AES256_GCM: 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
  /** §9.3.5: HMAC-SHA256 shall be supported (RFC 6931 §2.2.2). */
  HMAC_SHA256: 'http://www.w3.org/2001/04/xmldsig-more#hmac-sha256',
  /** §9.3.5: SHA-256 shall be supported for hashing content. */
  SHA256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  C14N: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  EXC_C14N: 'http://www.w3.org/2001/10/xml-exc-c14n#',
} as const);

/** EncryptedData Type values (XML Encryption §3.5.1; §9.3.4.2, §9.3.2). */
export const EncryptedDataType = Object.freeze({
  CONTENT: 'http://www.w3.org/2001/04/xmlenc#Content',
  ELEMENT: 'http://www.w3.org/2001/04/xmlenc#Element',
  /** §9.3.4.2 for key material (kw-aes256); KMS documents use kms-xml, not this module. */
  ENCRYPTED_KEY: 'http://www.w3.org/2001/04/xmlenc#EncryptedKey',
} as const);

/** §9.3.4.3: the `alg` value of an encrypted URI ("128-AES-GCM" in the text, lower case in both examples). */
export const URI_ALGORITHM = '128-aes-gcm';
/** §9.3.4.3: the appended domain that marks a URI as encrypted (the clause's example). */
export const DEFAULT_ENCRYPTION_DOMAIN = 'mc1-encryption.3gppnetwork.org';

/** The MIME type of the signatures body for MCPTT (TS 24.379 §F.6). */
export const MCPTT_SIGNED_CONTENT_TYPE = 'application/vnd.3gpp.mcptt-signed+xml';

/** The largest XML body protectXml / unprotectXml / verifyXmlBodies accept, octets (SIP bodies default to 64 KiB). */
export const XML_PROTECTION_MAX_OCTETS = 256 * 1024;

/** What §9.3.2 allows to be confidentiality protected individually. */
export const ProtectedCategory = Object.freeze({
  MC_SERVICE_USER_ID: 'mc-service-user-id',
  MC_GROUP_ID: 'mc-group-id',
  LOCATION: 'location',
  ALERTS: 'alerts',
  ACCESS_TOKEN: 'access-token',
  KMS_KEY_MATERIAL: 'kms-key-material',
  FUNCTIONAL_ALIAS: 'functional-alias',
} as const);
/** One §9.3.2 category. */
export type ProtectedCategory = (typeof ProtectedCategory)[keyof typeof ProtectedCategory];
/** Every §9.3.2 category, in the clause's order. */
export const PROTECTED_CATEGORIES: readonly ProtectedCategory[] = Object.freeze(Object.values(ProtectedCategory));

/** An element whose content is encrypted (§9.3.4.2). */
export interface ProtectedElement {
  readonly namespace: string;
  readonly localName: string;
  readonly category: ProtectedCategory;
}

/** A URI-valued attribute encrypted by §9.3.4.3 (unqualified attribute of the named element). */
export interface ProtectedUriAttribute {
  readonly elementNamespace: string;
  readonly elementLocalName: string;
  readonly attribute: string;
  readonly category: ProtectedCategory;
}

/** What protectXml encrypts. */
export interface XmlProtectionPolicy {
  readonly elements: readonly ProtectedElement[];
  readonly uriAttributes: readonly ProtectedUriAttribute[];
}

const C = ProtectedCategory;
const info = (localName: string, category: ProtectedCategory): ProtectedElement =>
  Object.freeze({ namespace: XmlProtectionNamespace.MCPTT_INFO, localName, category });

/**
 * mcptt-info elements of TS 24.379 §F.1 whose schema type admits xenc:EncryptedData as content,
 * by §9.3.2 category (the categories with no element in mcpttinfo, location and KMS key
 * material, travel in other bodies).
 */
export const MCPTT_INFO_POLICY: XmlProtectionPolicy = Object.freeze({
  elements: Object.freeze([
    info('mcptt-access-token', C.ACCESS_TOKEN),
    info('mcptt-request-uri', C.MC_SERVICE_USER_ID),
    info('mcptt-calling-user-id', C.MC_SERVICE_USER_ID),
    info('mcptt-called-party-id', C.MC_SERVICE_USER_ID),
    info('mcptt-calling-group-id', C.MC_GROUP_ID),
    info('alert-ind', C.ALERTS),
    info('originated-by', C.MC_SERVICE_USER_ID),
    info('functional-alias-URI', C.FUNCTIONAL_ALIAS),
  ]),
  uriAttributes: Object.freeze([]),
});

/** The URI attributes of the §9.3.4.3 example: presence@entity (RFC 3863) and affiliation@group (TS 24.379). */
export const PIDF_AFFILIATION_POLICY: XmlProtectionPolicy = Object.freeze({
  elements: Object.freeze([]),
  uriAttributes: Object.freeze([
    Object.freeze({ elementNamespace: XmlProtectionNamespace.PIDF, elementLocalName: 'presence', attribute: 'entity', category: C.MC_SERVICE_USER_ID }),
    Object.freeze({ elementNamespace: XmlProtectionNamespace.MCPTT_PRES_INFO, elementLocalName: 'affiliation', attribute: 'group', category: C.MC_GROUP_ID }),
  ]),
});
