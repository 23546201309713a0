/**
 * MIKEY code points used by MIKEY-SAKKE: RFC 3830 (MIKEY), RFC 6043 (MIKEY-TICKET: IDR, GENERIC-ID,
 * PRF-HMAC-SHA-256), RFC 6509 (MIKEY-SAKKE) and TS 33.180 Annex E (IANA values 2, 6, 7, 8, 9).
 */

/** Next-payload / payload type values (RFC 3830 §6, RFC 6043 §6.6, RFC 6509 §4.2). */
export const PayloadType = Object.freeze({
  LAST: 0,
  KEMAC: 1,
  PKE: 2,
  DH: 3,
  SIGN: 4,
  T: 5,
  ID: 6,
  CERT: 7,
  CHASH: 8,
  V: 9,
  SP: 10,
  RAND: 11,
  ERR: 12,
  IDR: 14,
  KEY_DATA: 20,
  GENERAL_EXT: 21,
  SAKKE: 26,
} as const);

/** HDR data type of a MIKEY-SAKKE I_MESSAGE (RFC 6509 §4.1, TS 33.180 Annex E.1). */
export const DATA_TYPE_SAKKE = 26;

/** PRF functions (RFC 3830 §6.1, RFC 6043 §6.1.1). */
export const PrfFunc = Object.freeze({ MIKEY_1: 0, HMAC_SHA_256: 1 } as const);

/** CS ID map types (RFC 3830 §6.1, RFC 4563 empty map, RFC 6043 GENERIC-ID). */
export const CsIdMapType = Object.freeze({ SRTP_ID: 0, EMPTY: 1, GENERIC_ID: 2 } as const);

/** Timestamp types (RFC 3830 §6.6). */
export const TsType = Object.freeze({ NTP_UTC: 0, NTP: 1, COUNTER: 2 } as const);

/** ID roles of IDR payloads (RFC 6043 §6.6, TS 33.180 §E.7: 8 IDRuidi, 9 IDRuidr). */
export const IdRole = Object.freeze({
  INITIATOR: 1,
  RESPONDER: 2,
  KMS: 3,
  PSK: 4,
  APPLICATION: 5,
  INITIATOR_KMS: 6,
  RESPONDER_KMS: 7,
  HASHED_INITIATOR: 8,
  HASHED_RESPONDER: 9,
} as const);

/** ID types (RFC 3830 §6.7, RFC 6043 §6.6): NAI, URI, byte string. */
export const IdType = Object.freeze({ NAI: 0, URI: 1, BYTE_STRING: 2 } as const);

/** Signature types (RFC 3830 §6.5, RFC 6509 §4.3: 2 = ECCSI). */
export const SignType = Object.freeze({ RSA_PKCS1: 0, RSA_PSS: 1, ECCSI: 2 } as const);

/** General extension types (RFC 3830 §6.15; TS 33.180 §E.5: 6, §E.6: 7). */
export const GeneralExtType = Object.freeze({
  VENDOR_ID: 0,
  SDP_IDS: 1,
  SAKKE_TO_SELF: 6,
  KEY_PARAMETERS: 7,
} as const);

/** SAKKE payload values (RFC 6509 §4.2; TS 33.180 Annex E.1: ID scheme 2). */
export const SakkeParamsId = Object.freeze({ PARAM_SET_1: 1 } as const);
export const SakkeIdScheme = Object.freeze({ TEL_URI_MONTHLY: 1, MCX_HASHED_UID: 2 } as const);

/** The largest message mcsec decodes (a MIKEY-SAKKE I_MESSAGE is well under 2 KiB). */
export const MAX_MIKEY_LENGTH = 65_536;
/** The most payloads mcsec accepts in one message. */
export const MAX_MIKEY_PAYLOADS = 32;
