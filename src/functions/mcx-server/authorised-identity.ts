/**
 * Whose request is it: the identity a SIP request is made under, and the comparison of that
 * identity with the initiator of an I_MESSAGE (TS 33.180 §5.4, §9.2.1.3, §9.6.3).
 *
 * - The SIP core asserts the user's public identity (IMPU) in P-Asserted-Identity (RFC 3325 §9.1)
 *   when the request comes through a trusted core; otherwise the identity is the address of
 *   record being registered, the To of a REGISTER (RFC 3261 §10.2), or the From of a PUBLISH
 *   (RFC 3903 §4: the publisher).
 * - The MC service user ID is mapped from the IMPU by the server's configuration (§5.4: the server
 *   "associates the MC User's SIP Core identity (IMPU), MC Service user ID ... and the received
 *   CSK"); by default they are the same URI.
 * - An initiator may sign as its Authorised Identity (§9.6.3.1): the MC service ID with MC
 *   authorisation fields added as SIP URI headers (`?name=value`). The identity compared is the
 *   URI without its headers and parameters, with scheme and host in lower case (RFC 3261 §19.1.4:
 *   they compare case-insensitively; the user part does not).
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import { decodeNameAddr, headerValue, type SipRequest } from '../../formats/sip/index.js';

/** The identity a request is made under, and where it was read. */
export interface RequestIdentity {
  /** The public user identity (IMPU) as a URI. */
  readonly impu: string;
  readonly source: 'P-Asserted-Identity' | 'To' | 'From';
}

/** How the identity of a request is found. */
export interface RequestIdentityPolicy {
  /** Use P-Asserted-Identity when present (a trusted SIP core sets it); default true. */
  readonly assertedIdentity?: boolean;
}

/** The identity `req` is made under (see the module comment). */
export function requestIdentity(req: SipRequest, policy: RequestIdentityPolicy = {}): RequestIdentity {
  if (policy.assertedIdentity !== false) {
    const pai = headerValue(req, 'P-Asserted-Identity');
    if (pai !== undefined) return Object.freeze({ impu: decodeNameAddr(pai, 'sip.headers.P-Asserted-Identity').uri, source: 'P-Asserted-Identity' as const });
  }
  const name = req.method === 'REGISTER' ? 'To' : 'From';
  const value = headerValue(req, name) ?? '';
  return Object.freeze({ impu: decodeNameAddr(value, `sip.headers.${name}`).uri, source: name });
}

/**
 * The identity part of a URI: without URI headers (the §9.6.3.1 authorisation fields) and
 * parameters, scheme and host lower-cased. Not a URI is a FormatError naming `field`.
 */
export function baseIdentity(uri: string, field = 'identity'): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):([^?;]*)/.exec(uri);
  if (m === null || m[2] === undefined || m[2] === '') {
    throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'must be a URI (scheme ":" …)', clause: 'RFC 3261 §19.1.1' });
  }
  const scheme = (m[1] ?? '').toLowerCase();
  const rest = m[2];
  const at = rest.lastIndexOf('@');
  const user = at < 0 ? '' : rest.slice(0, at + 1);
  const host = (at < 0 ? rest : rest.slice(at + 1)).toLowerCase();
  return `${scheme}:${user}${host}`;
}

/** Whether two URIs name the same identity (baseIdentity of both). */
export function sameIdentity(a: string, b: string): boolean {
  try {
    return baseIdentity(a) === baseIdentity(b);
  } catch {
    return false;
  }
}
