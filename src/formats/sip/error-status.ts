/**
 * The one place where mcsec errors become SIP answers (STYLE.md §4, the SIP counterpart of
 * functions/wire-errors.ts), for MCX servers, clients and proxies alike:
 *
 *   FormatError                                   → 400 Bad Request (RFC 3261 §21.4.1)
 *   PolicyError ERR_UNKNOWN_KEY / ERR_UNSUPPORTED → 488 Not Acceptable Here (§21.4.26): the body
 *     is authentic but cannot be used here (a KMS or key this receiver does not take, a key of
 *     the wrong purpose); TS 33.180 Annex D.4 answers an unacceptable KMS with a 488 too
 *   other PolicyError, CryptoError                → 403 Forbidden (§21.4.4)
 *   anything else                                 → 500 Server Internal Error, no detail
 *
 * The Warning header (RFC 3261 §20.43, warn-code 399 "miscellaneous") names the code, field and
 * rule, never a value; for a 500 it says only that the failure is internal.
 */
import { ConfigError, CryptoError, ErrorCode, FormatError, McsecError, PolicyError } from '../../errors/index.js';

/** A SIP error answer: status, reason phrase and the Warning header value. */
export interface SipErrorStatus {
  readonly status: 400 | 403 | 488 | 500;
  readonly reason: string;
  readonly code: string;
  readonly warning: string;
}

/** warn-text is a quoted-string: no quotes, backslashes or control characters inside. */
const warnText = (s: string): string => `"${s.replace(/["\\]/g, "'").replace(/[\x00-\x1f\x7f]/g, ' ').slice(0, 300)}"`;

/** The SIP answer for an error; `agent` is the warn-agent (the answering host or a pseudonym). */
export function sipErrorStatus(e: unknown, agent: string): SipErrorStatus {
  const warn = (m: string): string => `399 ${agent} ${warnText(m)}`;
  const detail = (x: McsecError): string => `${x.code} ${x.message}`;
  if (e instanceof FormatError) return { status: 400, reason: 'Bad Request', code: e.code, warning: warn(detail(e)) };
  if (e instanceof PolicyError && (e.code === ErrorCode.UNKNOWN_KEY || e.code === ErrorCode.UNSUPPORTED)) {
    return { status: 488, reason: 'Not Acceptable Here', code: e.code, warning: warn(detail(e)) };
  }
  if (e instanceof PolicyError || e instanceof CryptoError) return { status: 403, reason: 'Forbidden', code: e.code, warning: warn(detail(e)) };
  if (e instanceof McsecError && !(e instanceof ConfigError) && e.code !== ErrorCode.INTERNAL && e.code !== ErrorCode.CONFIG && e.code !== ErrorCode.IO) {
    return { status: 400, reason: 'Bad Request', code: e.code, warning: warn(detail(e)) };
  }
  return { status: 500, reason: 'Server Internal Error', code: ErrorCode.INTERNAL, warning: warn('internal error') };
}
