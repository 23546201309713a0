/**
 * Via handling in the transport layer. On receipt of a request (RFC 3261 §18.2.1) the top Via gets
 * `received` when its sent-by host is not the packet's source address, and (RFC 3581 §4) an empty
 * `rport` is filled with the source port, `received` then being added in every case. Responses on
 * UDP go (RFC 3261 §18.2.2, RFC 3581 §4) to `received`:`rport` when both are there, else to
 * `received` (or the sent-by host) at the sent-by port (default 5060, 5061 for TLS).
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import {
  decodeVia,
  encodeVia,
  headerValues,
  paramValue,
  withHeaders,
  withParam,
  type SipMessage,
  type SipRequest,
  type SipVia,
} from '../../formats/sip/index.js';

/** An address and port on the network. */
export interface SipHostPort {
  readonly address: string;
  readonly port: number;
}

/** Node reports IPv4 peers of a dual-stack socket as ::ffff:a.b.c.d; Via wants a.b.c.d. */
export const plainAddress = (a: string): string => (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(a) ? a.slice(7) : a);

/** The top Via of a message (decoded messages always have one). */
export function topVia(m: SipMessage): SipVia {
  const v = headerValues(m, 'Via')[0];
  if (v === undefined) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field: 'sip.headers.Via', rule: 'must be present', clause: 'RFC 3261 §8.1.1.7' });
  }
  return decodeVia(v);
}

/** `req` with its top Via stamped with received / rport for a request from `source`. */
export function stampReceived(req: SipRequest, source: SipHostPort): SipRequest {
  const via = topVia(req);
  const from = plainAddress(source.address);
  const host = via.host.startsWith('[') ? via.host.slice(1, -1) : via.host;
  const rport = paramValue(via.params, 'rport');
  let params = via.params;
  if (rport === '') params = withParam(params, 'rport', String(source.port));
  if (rport === '' || host.toLowerCase() !== from.toLowerCase()) params = withParam(params, 'received', from);
  if (params === via.params) return req;
  let first = true;
  const headers = req.headers.map((h) => {
    if (!first || h.name !== 'Via') return h;
    first = false;
    return { name: 'Via', value: encodeVia({ ...via, params }) };
  });
  return withHeaders(req, headers);
}

/** Where a UDP response goes, from its top Via (RFC 3261 §18.2.2, RFC 3581 §4). */
export function responseTarget(via: SipVia, defaultPort = 5060): SipHostPort {
  const received = paramValue(via.params, 'received');
  const rport = paramValue(via.params, 'rport');
  const host = via.host.startsWith('[') ? via.host.slice(1, -1) : via.host;
  const address = received !== undefined && received !== '' ? received : host;
  if (received !== undefined && rport !== undefined && rport !== '') return { address, port: Number(rport) };
  return { address, port: via.port ?? defaultPort };
}
