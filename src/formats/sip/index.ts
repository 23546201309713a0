/** SIP (RFC 3261) for MC signalling: the strict message codec, multipart MIME bodies, builders. */
export {
  BRANCH_MAGIC_COOKIE,
  COMPACT_HEADER_FORMS,
  ContentType,
  DEFAULT_SIP_LIMITS,
  LIST_HEADERS,
  REASON_PHRASES,
  SINGLE_HEADERS,
  SIP_VERSION,
  sipLimits,
  type SipLimits,
} from './constants.js';
export {
  canonicalHeaderName,
  headerValue,
  headerValues,
  type HasHeaders,
  type SipHeader,
} from './headers.js';
export {
  cseqOf,
  decodeSipHead,
  decodeSipMessage,
  encodeSipMessage,
  withHeaders,
  type SipDecodeOptions,
  type SipEncodeOptions,
  type SipHead,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from './message.js';
export { decodeStartLine, encodeStartLine, type SipStartLine } from './start-line.js';
export { decodeVia, encodeVia, withParam, type SipVia } from './via.js';
export { decodeNameAddr, encodeNameAddr, tagOf, type SipNameAddr } from './name-addr.js';
export { checkBoundary, decodeMediaType, encodeMediaType, type SipMediaType } from './media-type.js';
export {
  createBoundary,
  decodeMultipart,
  decodeSipBody,
  encodeMultipart,
  findPart,
  multipartBody,
  partMediaType,
  type MimePart,
} from './multipart.js';
export { paramValue, type SipParam } from './syntax.js';
export {
  createBranch,
  createSipRequest,
  createSipResponse,
  createTag,
  type Rng,
  type SipBodyInit,
  type SipRequestInit,
  type SipResponseInit,
} from './build.js';
export { sipErrorStatus, type SipErrorStatus } from './error-status.js';
export { mikeyPart, mikeyParts, partOctets, type MikeyTransferEncoding } from './mikey-parts.js';
export {
  KmsRedirectError,
  kmsRedirectOf,
  kmsRedirectResponse,
  readKmsRedirect,
  selectKmsUri,
  type KmsRedirect,
  type KmsRedirectTrust,
} from './kms-redirect.js';
export { decodeSdpMedia, encodeSdpMedia, type SdpMedia } from './sdp.js';
