/**
 * The registration pieces of a REGISTER (RFC 3261 §10.2, §10.3) the MCX server keeps so that it
 * can reach the client for key downloads (TS 33.180 §5.8.2 step 0: "As a consequence of this
 * registration, the MC UE is subscribed to key download notifications"):
 *
 * - the Contact (one binding per request; `*` with Expires 0 removes every binding, §10.2.2);
 * - the client: its instance ID (`+sip.instance`, RFC 5626 §4.1) when present, else its Contact
 *   URI, so that each device of a user has its own CSK (§9.2.1);
 * - the lifetime: the Contact's `expires` parameter, else the Expires header, else the default;
 *   shortened to the configured maximum (§10.3 step 7).
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import { decodeNameAddr, headerValues, paramValue, type SipNameAddr, type SipRequest } from '../../formats/sip/index.js';
import type { McxServerConfig } from './config.js';

/** What a REGISTER (or PUBLISH) asks for. */
export type RegistrationRequest =
  | { readonly kind: 'bind'; readonly contact: string; readonly clientId: string; readonly expiresS: number }
  | { readonly kind: 'unbind'; readonly contact: string; readonly clientId: string }
  | { readonly kind: 'unbind-all' }
  | { readonly kind: 'none' };

const CLAUSE = 'RFC 3261 §10.2';

function expiresValue(v: string, field: string): number {
  if (!/^\d{1,10}$/.test(v)) throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'must be delta-seconds', clause: 'RFC 3261 §20.19' });
  return Number(v);
}

/** The client's identifier: +sip.instance unquoted, else the Contact URI. */
export function clientIdOf(contact: SipNameAddr): string {
  const instance = paramValue(contact.params, '+sip.instance');
  if (instance !== undefined && instance !== '') return instance.replace(/^"|"$/g, '');
  return contact.uri;
}

/** What `req` asks of the registrar (PUBLISH and other requests without Contact: 'none'). */
export function registrationRequest(req: SipRequest, config: McxServerConfig): RegistrationRequest {
  const contacts = headerValues(req, 'Contact');
  const expiresHeader = headerValues(req, 'Expires')[0];
  const headerExpires = expiresHeader === undefined ? undefined : expiresValue(expiresHeader.trim(), 'sip.headers.Expires');
  if (contacts.length === 0) return { kind: 'none' };
  if (contacts.length > 1) {
    throw new FormatError(ErrorCode.UNSUPPORTED, { field: 'sip.headers.Contact', rule: 'must be one binding per request here', clause: CLAUSE });
  }
  const value = (contacts[0] ?? '').trim();
  if (value === '*') {
    if (headerExpires !== 0) throw new FormatError(ErrorCode.BAD_VALUE, { field: 'sip.headers.Contact', rule: '"*" requires Expires: 0', clause: 'RFC 3261 §10.2.2' });
    return { kind: 'unbind-all' };
  }
  if (req.method !== 'REGISTER') return { kind: 'none' };
  const contact = decodeNameAddr(value, 'sip.headers.Contact');
  const param = paramValue(contact.params, 'expires');
  const asked = param !== undefined ? expiresValue(param, 'sip.headers.Contact;expires') : (headerExpires ?? config.defaultExpiresS);
  const clientId = clientIdOf(contact);
  if (asked === 0) return { kind: 'unbind', contact: contact.uri, clientId };
  return { kind: 'bind', contact: contact.uri, clientId, expiresS: Math.min(asked, config.maxExpiresS) };
}
