/**
 * Building requests (RFC 3261 §8.1.1: Request-URI, To, From with a tag, Call-ID, CSeq,
 * Max-Forwards 70, Via with a z9hG4bK branch) and responses from requests (§8.2.6: Via rows in
 * order, From, Call-ID, CSeq and To copied, a To tag added to every response but 100, Timestamp
 * copied into a 100). Randomness (tags, branch, Call-ID) is a parameter (STYLE.md §7).
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, McsecError } from '../../errors/index.js';
import { toHex } from '../../util/index.js';
import { BRANCH_MAGIC_COOKIE, REASON_PHRASES } from './constants.js';
import { headerValue, headerValues, type SipHeader } from './headers.js';
import { decodeSipMessage, encodeSipMessage, type SipRequest, type SipResponse } from './message.js';
import { decodeNameAddr, encodeNameAddr, tagOf, type SipNameAddr } from './name-addr.js';
import { withParam } from './via.js';

/** Random octets. */
export type Rng = (n: number) => Uint8Array;

const internal = (): McsecError =>
  new McsecError(ErrorCode.INTERNAL, { field: 'sip.startLine', rule: 'an encoded message decoded as the other kind' });

const defaultRng: Rng = (n) => new Uint8Array(randomBytes(n));

/** A message body and its Content-Type value. */
export interface SipBodyInit {
  readonly contentType: string;
  readonly body: Uint8Array;
}

/** What createSipRequest needs; the rest is generated. */
export interface SipRequestInit {
  readonly method: string;
  readonly uri: string;
  readonly from: { readonly uri: string; readonly displayName?: string; readonly tag?: string };
  readonly to: { readonly uri: string; readonly displayName?: string; readonly tag?: string };
  /** The Via sent-by and transport of this hop (RFC 3261 §18.1.1). */
  readonly via: { readonly transport: string; readonly host: string; readonly port?: number; readonly branch?: string; readonly rport?: boolean };
  readonly callId?: string;
  readonly cseq?: number;
  readonly maxForwards?: number;
  readonly contact?: string;
  /** Further headers, written after the generated ones. */
  readonly headers?: readonly SipHeader[];
  readonly body?: SipBodyInit;
}

/** A new RFC 3261 branch: the magic cookie then 128 random bits (§8.1.1.7). */
export const createBranch = (rng: Rng = defaultRng): string => `${BRANCH_MAGIC_COOKIE}${toHex(rng(16))}`;
/** A new tag: 64 random bits (§19.3). */
export const createTag = (rng: Rng = defaultRng): string => toHex(rng(8));

function nameAddr(p: { readonly uri: string; readonly displayName?: string; readonly tag?: string }, field: string): string {
  const n: SipNameAddr = {
    displayName: p.displayName,
    uri: p.uri,
    params: p.tag === undefined ? [] : [{ name: 'tag', value: p.tag }],
  };
  return encodeNameAddr(n, field);
}

/** A new request; it is checked by encoding it, so a bad field throws a FormatError. */
export function createSipRequest(init: SipRequestInit, rng: Rng = defaultRng): SipRequest {
  const v = init.via;
  const viaParams = `;branch=${v.branch ?? createBranch(rng)}${v.rport === true ? ';rport' : ''}`;
  const headers: SipHeader[] = [
    { name: 'Via', value: `SIP/2.0/${v.transport.toUpperCase()} ${v.host}${v.port === undefined ? '' : `:${v.port}`}${viaParams}` },
    { name: 'Max-Forwards', value: String(init.maxForwards ?? 70) },
    { name: 'From', value: nameAddr({ ...init.from, tag: init.from.tag ?? createTag(rng) }, 'sip.headers.From') },
    { name: 'To', value: nameAddr(init.to, 'sip.headers.To') },
    { name: 'Call-ID', value: init.callId ?? toHex(rng(16)) },
    { name: 'CSeq', value: `${init.cseq ?? 1} ${init.method}` },
    ...(init.contact === undefined ? [] : [{ name: 'Contact', value: `<${init.contact}>` }]),
    ...(init.headers ?? []),
    ...(init.body === undefined ? [] : [{ name: 'Content-Type', value: init.body.contentType }]),
  ];
  const draft: SipRequest = { kind: 'request', method: init.method, uri: init.uri, headers, body: init.body?.body ?? new Uint8Array(0) };
  const decoded = decodeSipMessage(encodeSipMessage(draft));
  if (decoded.kind !== 'request') throw internal();
  return decoded;
}

/** Options of createSipResponse. */
export interface SipResponseInit {
  readonly reason?: string;
  /** The To tag to add when the request's To has none (generated when absent; not for 100). */
  readonly toTag?: string;
  /** Further headers (Contact, Allow, …), written after the copied ones. */
  readonly headers?: readonly SipHeader[];
  readonly body?: SipBodyInit;
}

/** A response to `req` with the §8.2.6 header copies. */
export function createSipResponse(req: SipRequest, status: number, init: SipResponseInit = {}, rng: Rng = defaultRng): SipResponse {
  const to = headerValue(req, 'To') ?? '';
  let toValue = to;
  if (status !== 100) {
    const n = decodeNameAddr(to, 'sip.headers.To');
    if (tagOf(n) === undefined) {
      toValue = encodeNameAddr({ ...n, params: withParam(n.params, 'tag', init.toTag ?? createTag(rng)) }, 'sip.headers.To');
    }
  }
  const timestamp = status === 100 ? headerValue(req, 'Timestamp') : undefined;
  const headers: SipHeader[] = [
    ...headerValues(req, 'Via').map((value) => ({ name: 'Via', value })),
    { name: 'From', value: headerValue(req, 'From') ?? '' },
    { name: 'To', value: toValue },
    { name: 'Call-ID', value: headerValue(req, 'Call-ID') ?? '' },
    { name: 'CSeq', value: headerValue(req, 'CSeq') ?? '' },
    ...(timestamp === undefined ? [] : [{ name: 'Timestamp', value: timestamp }]),
    ...(init.headers ?? []),
    ...(init.body === undefined ? [] : [{ name: 'Content-Type', value: init.body.contentType }]),
  ];
  const draft: SipResponse = {
    kind: 'response',
    status,
    reason: init.reason ?? REASON_PHRASES[status] ?? '',
    headers,
    body: init.body?.body ?? new Uint8Array(0),
  };
  const decoded = decodeSipMessage(encodeSipMessage(draft));
  if (decoded.kind !== 'response') throw internal();
  return decoded;
}
