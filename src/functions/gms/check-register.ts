/**
 * The rules of a REGISTER to the GMS's minimal registrar (RFC 3261 §10.3; the GMS keeps one
 * contact per member URI, where its GMK messages go, §5.7.2 step 1):
 *
 * - the address of record is the To URI (§10.3 step 5); it must be a member of some group;
 * - no Contact: a query (§10.3 step 6); `Contact: *` with Expires 0 removes the binding; exactly
 *   one other Contact, a sip: or sips: URI, binds it (more than one is refused: one per member);
 * - expiry: the Contact's `expires` parameter, else the Expires header, else the default;
 *   longer than the maximum is shortened to it (§10.3 step 7), 0 removes the binding;
 * - with an access-token check configured, `Authorization: Bearer <token>` (RFC 8898) must carry
 *   a valid token whose MC service ID claims name the address of record (§5.1.3, Annex B.2.2).
 */
import { ErrorCode, FormatError, PolicyError } from '../../errors/index.js';
import { decodeNameAddr, headerValue, headerValues, paramValue, type SipRequest } from '../../formats/sip/index.js';
import type { AccessTokenVerifier } from '../authz/index.js';
import { contactDestination } from './contact.js';

/** What a REGISTER asks for. */
export interface RegisterRequest {
  /** The address of record (the member URI). */
  readonly aor: string;
  /** 'bind' a contact for `expires` seconds, 'remove' the binding, or 'query' it. */
  readonly action: 'bind' | 'remove' | 'query';
  readonly contact: string | undefined;
  readonly expires: number;
}

/** Registrar settings. */
export interface RegisterPolicy {
  /** Seconds when the request names none (default 3600). */
  readonly defaultExpires?: number | undefined;
  /** Longest binding, seconds (default 86400). */
  readonly maxExpires?: number | undefined;
}

const bad = (field: string, rule: string, clause = 'RFC 3261 §10.3'): FormatError => new FormatError(ErrorCode.BAD_VALUE, { field, rule, clause });

function seconds(v: string, field: string): number {
  if (!/^\d{1,10}$/.test(v)) throw bad(field, 'must be delta-seconds (1*DIGIT)', 'RFC 3261 §20.19');
  return Number(v);
}

/** Decodes and checks a REGISTER (see the module comment). */
export function checkRegister(req: SipRequest, policy: RegisterPolicy = {}): RegisterRequest {
  const max = policy.maxExpires ?? 86_400;
  const aor = decodeNameAddr(headerValue(req, 'To') ?? '', 'sip.headers.To').uri;
  const contacts = headerValues(req, 'Contact');
  const expiresHeader = headerValue(req, 'Expires');
  const headerExpires = expiresHeader === undefined ? undefined : seconds(expiresHeader.trim(), 'sip.headers.Expires');
  if (contacts.length === 0) return Object.freeze({ aor, action: 'query', contact: undefined, expires: 0 });
  if (contacts.length === 1 && contacts[0]?.trim() === '*') {
    if (headerExpires !== 0) throw bad('sip.headers.Contact', '"*" needs Expires: 0', 'RFC 3261 §10.2.2');
    return Object.freeze({ aor, action: 'remove', contact: undefined, expires: 0 });
  }
  if (contacts.length > 1) throw bad('sip.headers.Contact', 'must be one contact: the GMS keeps one per member URI');
  const c = decodeNameAddr(contacts[0] ?? '', 'sip.headers.Contact');
  contactDestination(c.uri, 'sip.headers.Contact');
  const param = paramValue(c.params, 'expires');
  const expires = Math.min(param !== undefined ? seconds(param, 'sip.headers.Contact.expires') : (headerExpires ?? policy.defaultExpires ?? 3600), max);
  return Object.freeze({ aor, action: expires === 0 ? 'remove' : 'bind', contact: c.uri, expires });
}

/** The Bearer token of a request (RFC 8898 §3: `Authorization: Bearer <token>`), if any. */
export function bearerToken(req: SipRequest): string | undefined {
  for (const v of headerValues(req, 'Authorization')) {
    const m = /^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i.exec(v);
    if (m?.[1] !== undefined) return m[1];
  }
  return undefined;
}

/**
 * Checks the REGISTER's access token: present (else ERR_UNAUTHORIZED), valid (the verifier's
 * ERR_UNAUTHORIZED), and naming `aor` among its MC service IDs (else ERR_FORBIDDEN).
 */
export async function checkRegisterToken(req: SipRequest, aor: string, verifier: AccessTokenVerifier): Promise<void> {
  const token = bearerToken(req);
  if (token === undefined) {
    throw new PolicyError(ErrorCode.UNAUTHORIZED, { field: 'sip.headers.Authorization', rule: 'must carry a Bearer access token', clause: 'RFC 8898 §3, TS 33.180 §5.1.3' });
  }
  const claims = await verifier.verify(token);
  if (!Object.values(claims.mcServiceIds).includes(aor)) {
    throw new PolicyError(ErrorCode.FORBIDDEN, { field: 'sip.headers.To', rule: "must be one of the token's MC service IDs", clause: 'TS 33.180 Annex B.2.2.3' });
  }
}
