/**
 * SIP (RFC 3261) constants for the MC signalling codec: the limits every decoder enforces, the
 * MIME content types MC signalling carries, header names (full, compact and canonical spelling)
 * and which headers may be comma-separated lists (RFC 3261 §7.3.1).
 */
import { ConfigError, ErrorCode } from '../../errors/index.js';

/** Resource caps of the SIP decoders; exceeding any one is ERR_TOO_LARGE. */
export interface SipLimits {
  /** Message (or MIME part) body octets. */
  readonly maxBodyOctets: number;
  /** Start line plus header fields plus the empty line. */
  readonly maxHeadOctets: number;
  /** One physical line, and one header field after unfolding. */
  readonly maxLineOctets: number;
  /** Header field values (after comma lists are split), per message or MIME part. */
  readonly maxHeaders: number;
  /** Body parts of one multipart body. */
  readonly maxParts: number;
}

/** The defaults: 64 KiB body, 16 KiB head, 4 KiB lines, 100 header values, 16 parts. */
export const DEFAULT_SIP_LIMITS: SipLimits = Object.freeze({
  maxBodyOctets: 64 * 1024,
  maxHeadOctets: 16 * 1024,
  maxLineOctets: 4 * 1024,
  maxHeaders: 100,
  maxParts: 16,
});

/** The defaults with `partial` applied; each value must be a positive safe integer. */
export function sipLimits(partial: Partial<SipLimits> = {}): SipLimits {
  if (partial === DEFAULT_SIP_LIMITS || Object.keys(partial).length === 0) return DEFAULT_SIP_LIMITS;
  const out = { ...DEFAULT_SIP_LIMITS, ...partial };
  for (const [k, v] of Object.entries(out)) {
    if (!Number.isSafeInteger(v) || v < 1) {
      throw new ConfigError(ErrorCode.CONFIG, { field: `sip.limits.${k}`, rule: 'must be a positive integer' });
    }
  }
  if (out.maxLineOctets > out.maxHeadOctets) {
    throw new ConfigError(ErrorCode.CONFIG, {
      field: 'sip.limits.maxLineOctets',
      rule: 'must not exceed maxHeadOctets',
    });
  }
  return Object.freeze(out);
}

/**
 * MIME content types of MC signalling. Those marked "TS 33.180" are named in TS 33.180 or its CRs
 * (/work/shared/spec); the others are the stage-3 bodies (TS 24.379 MCPTT, TS 24.281 MCVideo,
 * TS 24.282 MCData, TS 24.229 / RFCs) that TS 33.180 §9.3 protects.
 */
export const ContentType = Object.freeze({
  /** RFC 3261 §7.4, RFC 4566. */
  SDP: 'application/sdp',
  /** RFC 3830; the CSK upload body, TS 33.180 §9.2.1.3. */
  MIKEY: 'application/mikey',
  /** RFC 2046 §5.1.3; TS 33.180 §9.2.1.3. */
  MULTIPART_MIXED: 'multipart/mixed',
  /** TS 24.379 (MCPTT). */
  MCPTT_INFO: 'application/vnd.3gpp.mcptt-info+xml',
  /** TS 24.281 (MCVideo). */
  MCVIDEO_INFO: 'application/vnd.3gpp.mcvideo-info+xml',
  /** TS 24.282 (MCData). */
  MCDATA_INFO: 'application/vnd.3gpp.mcdata-info+xml',
  /** TS 24.282: MCData signalling payload (SDS / FD signalling, TS 33.180 §8.5). */
  MCDATA_SIGNALLING: 'application/vnd.3gpp.mcdata-signalling',
  /** TS 24.282: MCData data payload (TS 33.180 §8.5). */
  MCDATA_PAYLOAD: 'application/vnd.3gpp.mcdata-payload',
  /** RFC 5366 / RFC 4826 URI lists. */
  RESOURCE_LISTS: 'application/resource-lists+xml',
  /** An EAR, TS 33.180 §9.6.5.2.1. */
  MC_SIGNALLING_EAR: 'application/vnd.3gpp.mc-signalling-ear',
  /** The KMS redirect response (KRR) in a SIP 488, TS 33.180 Annex D.4 (schema D.4.4). */
  KMS_REDIRECT_RESPONSE: 'application/vnd.3gpp.kmsredirectresponse+xml',
  /** TS 24.379 MBMS usage information. */
  MCPTT_MBMS_USAGE_INFO: 'application/vnd.3gpp.mcptt-mbms-usage-info+xml',
  /** TS 24.379 location information. */
  MCPTT_LOCATION_INFO: 'application/vnd.3gpp.mcptt-location-info+xml',
  /** TS 24.379 affiliation command. */
  MCPTT_AFFILIATION_COMMAND: 'application/vnd.3gpp.mcptt-affiliation-command+xml',
  /** RFC 3863 presence; TS 33.180 §9.3.4 example of XML URI attribute protection. */
  PIDF: 'application/pidf+xml',
} as const);

/** One of the named MC content types. */
export type ContentType = (typeof ContentType)[keyof typeof ContentType];

/** Compact header forms (RFC 3261 §7.3.3 and §20; RFC 3515, 3892, 3841, 4028, 6665, 4474). */
export const COMPACT_HEADER_FORMS: Readonly<Record<string, string>> = Object.freeze({
  a: 'Accept-Contact',
  b: 'Referred-By',
  c: 'Content-Type',
  d: 'Request-Disposition',
  e: 'Content-Encoding',
  f: 'From',
  i: 'Call-ID',
  j: 'Reject-Contact',
  k: 'Supported',
  l: 'Content-Length',
  m: 'Contact',
  o: 'Event',
  r: 'Refer-To',
  s: 'Subject',
  t: 'To',
  u: 'Allow-Events',
  v: 'Via',
  x: 'Session-Expires',
  y: 'Identity',
});

/** Header names in their conventional spelling (names compare case-insensitively, §7.3.1). */
const KNOWN_NAMES = [
  'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow',
  'Allow-Events', 'Authentication-Info', 'Authorization', 'Call-ID', 'Call-Info', 'Contact',
  'Content-Description', 'Content-Disposition', 'Content-Encoding', 'Content-ID',
  'Content-Language', 'Content-Length', 'Content-Transfer-Encoding', 'Content-Type', 'CSeq',
  'Date', 'Error-Info', 'Event', 'Expires', 'From', 'Identity', 'In-Reply-To', 'Max-Forwards',
  'MIME-Version', 'Min-Expires', 'Min-SE', 'Organization', 'P-Asserted-Identity',
  'P-Preferred-Identity', 'P-Access-Network-Info', 'P-Charging-Vector', 'Path', 'Priority',
  'Privacy', 'Proxy-Authenticate', 'Proxy-Authorization', 'Proxy-Require', 'RAck', 'Reason',
  'Record-Route', 'Refer-To', 'Referred-By', 'Reject-Contact', 'Reply-To', 'Request-Disposition',
  'Require', 'Resource-Priority', 'Retry-After', 'Route', 'RSeq', 'Security-Client',
  'Security-Server', 'Security-Verify', 'Server', 'Service-Route', 'Session-Expires', 'SIP-ETag',
  'SIP-If-Match', 'Subject', 'Subscription-State', 'Supported', 'Timestamp', 'To', 'Unsupported',
  'User-Agent', 'Via', 'Warning', 'WWW-Authenticate',
] as const;

/** Lower-case name → conventional spelling. */
export const CANONICAL_HEADER_NAMES: ReadonlyMap<string, string> = new Map(
  KNOWN_NAMES.map((n) => [n.toLowerCase(), n]),
);

/**
 * Headers whose grammar is a comma-separated list (`#element`), so several rows and one row of
 * several values are equivalent (RFC 3261 §7.3.1); the decoder splits them into one value each.
 * Authorization and the *-Authenticate headers are excluded, as §7.3.1 says.
 */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow',
  'Allow-Events', 'Call-Info', 'Contact', 'Content-Encoding', 'Content-Language', 'Error-Info',
  'In-Reply-To', 'P-Asserted-Identity', 'P-Preferred-Identity', 'Path', 'Proxy-Require', 'Reason',
  'Record-Route', 'Reject-Contact', 'Request-Disposition', 'Require', 'Resource-Priority', 'Route',
  'Security-Client', 'Security-Server', 'Security-Verify', 'Service-Route', 'Supported',
  'Unsupported', 'Via', 'Warning',
]);

/** Headers that may appear at most once (their grammar is not a list, RFC 3261 §7.3.1 and §20). */
export const SINGLE_HEADERS: ReadonlySet<string> = new Set([
  'Call-ID', 'Content-Disposition', 'Content-ID', 'Content-Length', 'Content-Transfer-Encoding',
  'Content-Type', 'CSeq', 'Date', 'Event', 'Expires', 'From', 'Max-Forwards', 'MIME-Version',
  'Min-Expires', 'Min-SE', 'Organization', 'Priority', 'RAck', 'Refer-To', 'Referred-By',
  'Reply-To', 'Retry-After', 'RSeq', 'Server', 'Session-Expires', 'SIP-ETag', 'SIP-If-Match',
  'Subject', 'Subscription-State', 'Timestamp', 'To', 'User-Agent',
]);

/** The SIP version this codec speaks (RFC 3261 §7.1). */
export const SIP_VERSION = 'SIP/2.0';

/** The magic cookie every RFC 3261 branch starts with (§8.1.1.7). */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

/** Reason phrases of RFC 3261 §21 (and RFC 3265 / 3903 / 4028 / 6665 codes MC uses). */
export const REASON_PHRASES: Readonly<Record<number, string>> = Object.freeze({
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 182: 'Queued',
  183: 'Session Progress', 200: 'OK', 202: 'Accepted', 204: 'No Notification',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Moved Temporarily', 305: 'Use Proxy',
  380: 'Alternative Service', 400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required',
  403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable',
  407: 'Proxy Authentication Required', 408: 'Request Timeout', 410: 'Gone',
  412: 'Conditional Request Failed', 413: 'Request Entity Too Large',
  414: 'Request-URI Too Long', 415: 'Unsupported Media Type', 416: 'Unsupported URI Scheme',
  420: 'Bad Extension', 421: 'Extension Required', 422: 'Session Interval Too Small',
  423: 'Interval Too Brief', 480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected', 483: 'Too Many Hops',
  484: 'Address Incomplete', 485: 'Ambiguous', 486: 'Busy Here', 487: 'Request Terminated',
  488: 'Not Acceptable Here', 489: 'Bad Event', 491: 'Request Pending', 493: 'Undecipherable',
  500: 'Server Internal Error', 501: 'Not Implemented', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Server Time-out', 505: 'Version Not Supported',
  513: 'Message Too Large', 600: 'Busy Everywhere', 603: 'Decline',
  604: 'Does Not Exist Anywhere', 606: 'Not Acceptable',
});
