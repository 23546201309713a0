/**
 * The SIP start line (RFC 3261 §7.1, §7.2): `Method SP Request-URI SP SIP-Version` or
 * `SIP-Version SP Status-Code SP Reason-Phrase`, single spaces, version SIP/2.0 (case-insensitive
 * on receipt, sent in upper case). Another SIP version is ERR_UNSUPPORTED (a UAS answers 505).
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import { SIP_VERSION } from './constants.js';
import { badSip, isToken, isUri } from './syntax.js';

/** A decoded start line. */
export type SipStartLine =
  | { readonly kind: 'request'; readonly method: string; readonly uri: string }
  | { readonly kind: 'response'; readonly status: number; readonly reason: string };

const FIELD = 'sip.startLine';

function checkVersion(v: string, clause: string): void {
  if (v.toUpperCase() === SIP_VERSION) return;
  if (/^SIP\/[0-9]+\.[0-9]+$/i.test(v)) {
    throw new FormatError(ErrorCode.UNSUPPORTED, { field: `${FIELD}.version`, rule: `must be ${SIP_VERSION}`, clause });
  }
  throw badSip(`${FIELD}.version`, `must be ${SIP_VERSION}`, clause);
}

/** Decodes a start line (without its CRLF). */
export function decodeStartLine(line: string): SipStartLine {
  if (/^SIP\//i.test(line)) {
    const m = /^(\S+) ([0-9]{3}) (.*)$/s.exec(line);
    if (m === null) throw badSip(FIELD, 'must be SIP-Version SP Status-Code SP Reason-Phrase', 'RFC 3261 §7.2');
    checkVersion(m[1] ?? '', 'RFC 3261 §7.2');
    const status = Number(m[2]);
    if (status < 100 || status > 699) throw badSip(`${FIELD}.status`, 'must be 100-699', 'RFC 3261 §7.2');
    return Object.freeze({ kind: 'response', status, reason: m[3] ?? '' });
  }
  const parts = line.split(' ');
  const [method, uri, version] = parts;
  if (parts.length !== 3 || method === undefined || uri === undefined || version === undefined) {
    throw badSip(FIELD, 'must be Method SP Request-URI SP SIP-Version', 'RFC 3261 §7.1');
  }
  if (!isToken(method)) throw badSip(`${FIELD}.method`, 'must be a token', 'RFC 3261 §7.1');
  if (!isUri(uri)) throw badSip(`${FIELD}.uri`, 'must be an absolute URI', 'RFC 3261 §7.1');
  checkVersion(version, 'RFC 3261 §7.1');
  return Object.freeze({ kind: 'request', method, uri });
}

/** Encodes a start line (without its CRLF), checking what decodeStartLine checks. */
export function encodeStartLine(s: SipStartLine): string {
  if (s.kind === 'request') {
    if (!isToken(s.method)) throw badSip(`${FIELD}.method`, 'must be a token', 'RFC 3261 §7.1');
    if (!isUri(s.uri)) throw badSip(`${FIELD}.uri`, 'must be an absolute URI', 'RFC 3261 §7.1');
    return `${s.method} ${s.uri} ${SIP_VERSION}`;
  }
  if (!Number.isInteger(s.status) || s.status < 100 || s.status > 699) {
    throw badSip(`${FIELD}.status`, 'must be 100-699', 'RFC 3261 §7.2');
  }
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(s.reason)) {
    throw badSip(`${FIELD}.reason`, 'must not contain CR, LF or control characters', 'RFC 3261 §7.2');
  }
  return `${SIP_VERSION} ${s.status} ${s.reason}`;
}
