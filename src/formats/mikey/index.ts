/** MIKEY (RFC 3830, RFC 6043, RFC 6509) as TS 33.180 Annex E uses it: the message codec. */
export {
  CsIdMapType,
  DATA_TYPE_SAKKE,
  GeneralExtType,
  IdRole,
  IdType,
  MAX_MIKEY_LENGTH,
  MAX_MIKEY_PAYLOADS,
  PayloadType,
  PrfFunc,
  SakkeIdScheme,
  SakkeParamsId,
  SignType,
  TsType,
} from './constants.js';
export { decodeHdr, encodeHdr, type GenericIdCs, type MikeyHdr, type SrtpIdCs } from './hdr.js';
export { decodePayloadBody, encodePayloadBody, type MikeyPayload, type SakkeBody, type SpParam } from './payloads.js';
export {
  decodeMikey,
  encodeMikey,
  sakkePayload,
  sakkeToSelfPayload,
  type MikeyMessage,
  type MikeyMessageInit,
  type MikeySign,
} from './message.js';
export { describeMikey, describeMikeyText, describeOpenedKeyParameters } from './describe.js';
export { decodeMikeyInput } from './text-input.js';
export { MemoryReplayCache, type ReplayCache } from './replay-cache.js';
export {
  createIMessage,
  mikeyMessageTime,
  ntpTimestamp,
  openIMessage,
  type CreateIMessageInput,
  type IMessageInitiator,
  type IMessageReceiverContext,
  type IMessageResponder,
  type KeyPeriods,
  type OpenedIMessage,
} from './i-message.js';
export {
  GROUP_KEY_TYPES,
  KeyParametersKeyType,
  KeyStatusBit,
  decodeKeyParameters,
  encodeKeyParameters,
  isGroupKeyType,
  keyParametersOf,
  type KeyParameters,
  type KeyParametersInput,
  type KeyStatus,
  type McGroupId,
} from './key-parameters.js';
export {
  decodeKeyParametersExtension,
  isProtectedPayloadData,
  keyParametersPayload,
  openKeyParameters,
  type KeyParametersExtension,
  type OpenedKeyParameters,
  type SealKeyParametersInput,
} from './key-parameters-extension.js';
export { decodeCreateCase, decodeOpenCase, type CaseKms, type CreateCase, type OpenCase } from './case-file.js';
