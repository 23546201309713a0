/**
 * One Via value (RFC 3261 §20.42, grammar §25.1): `SIP/2.0/<transport> <host>[:<port>]` then
 * parameters (branch §8.1.1.7, received §18.2.1, rport RFC 3581 §3, maddr, ttl). LWS is allowed
 * around "/", ":" and ";".
 */
import { badSip, decodeParams, decodePort, encodeParams, isHost, isToken, paramValue, splitOutside, trimWsp, type SipParam } from './syntax.js';

/** A decoded Via value. */
export interface SipVia {
  /** Upper-case transport token: UDP, TCP, TLS, SCTP, WS, WSS … */
  readonly transport: string;
  readonly host: string;
  readonly port: number | undefined;
  readonly params: readonly SipParam[];
}

const CLAUSE = 'RFC 3261 §20.42';
const SENT_PROTOCOL = /^SIP[ \t]*\/[ \t]*2\.0[ \t]*\/[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)[ \t]+([^ \t].*)$/i;

/** Decodes one Via value (one element of the Via list). */
export function decodeVia(value: string, field = 'sip.headers.Via'): SipVia {
  const parts = splitOutside(value, ';', field);
  const m = SENT_PROTOCOL.exec(trimWsp(parts[0] ?? ''));
  const transport = m?.[1];
  const sentBy = m?.[2];
  if (transport === undefined || sentBy === undefined || !isToken(transport)) {
    throw badSip(field, 'must start with SIP/2.0/<transport> and a sent-by', CLAUSE);
  }
  const hp = /^(\[[^\]]*\]|[^:\[\] \t]+)(?:[ \t]*:[ \t]*([0-9]+))?$/.exec(trimWsp(sentBy));
  const host = hp?.[1];
  if (host === undefined || !isHost(host)) throw badSip(`${field}.sentBy`, 'must be host[:port]', CLAUSE);
  const portText = hp?.[2];
  const port = portText === undefined ? undefined : decodePort(portText);
  if (portText !== undefined && port === undefined) throw badSip(`${field}.sentBy`, 'port must be 0-65535', CLAUSE);
  const params = decodeParams(value.slice((parts[0] ?? '').length), field);
  const rport = paramValue(params, 'rport');
  if (rport !== undefined && rport !== '' && decodePort(rport) === undefined) {
    throw badSip(`${field};rport`, 'must be empty or a port 0-65535', 'RFC 3581 §3');
  }
  return Object.freeze({ transport: transport.toUpperCase(), host, port, params });
}

/** Encodes a Via value in its canonical spelling. */
export function encodeVia(v: SipVia, field = 'sip.headers.Via'): string {
  if (!isToken(v.transport)) throw badSip(field, 'transport must be a token', CLAUSE);
  if (!isHost(v.host)) throw badSip(`${field}.sentBy`, 'host must be a hostname, IPv4 or [IPv6]', CLAUSE);
  if (v.port !== undefined && (!Number.isInteger(v.port) || v.port < 0 || v.port > 65535)) {
    throw badSip(`${field}.sentBy`, 'port must be 0-65535', CLAUSE);
  }
  const port = v.port === undefined ? '' : `:${v.port}`;
  return `SIP/2.0/${v.transport.toUpperCase()} ${v.host}${port}${encodeParams(v.params, field)}`;
}

/** `params` with `name` set to `value` (replacing the first of that name, or appended). */
export function withParam(params: readonly SipParam[], name: string, value: string | undefined): readonly SipParam[] {
  const lower = name.toLowerCase();
  const at = params.findIndex((p) => p.name.toLowerCase() === lower);
  const p = Object.freeze({ name, value });
  const out = at < 0 ? [...params, p] : params.map((x, i) => (i === at ? p : x));
  return Object.freeze(out);
}
