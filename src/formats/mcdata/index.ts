/** MCData payload protection (TS 33.180 §8.5): the Protected Payload message codec and its AEAD. */
export {
  MAX_TLV_E_LENGTH,
  MCDATA_IV_LENGTH,
  MCDATA_TAG_LENGTH,
  McdataAlgorithm,
  McdataMessageType,
  UNASSIGNED_IEI,
  decodeMcdataProtectedPayload,
  encodeMcdataProtectedPayload,
  mcdataAssociatedData,
  type DecodeMcdataOptions,
  type McdataProtectedHeader,
  type McdataProtectedPayload,
  type TlvE,
} from './protected-payload.js';
export { protectMcdataPayload, unprotectMcdataPayload, type ProtectMcdataInput } from './protection.js';
export {
  MAX_DATE_TIME_SECONDS,
  dateOfSeconds,
  dateTimeSeconds,
  readDateTimeSeconds,
  writeDateTimeSeconds,
} from './date-time.js';
