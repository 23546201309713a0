/**
 * A whole SIP message (RFC 3261 §7): start line, header fields, empty line, body. The decoder is
 * strict and total: a frozen SipMessage or a FormatError. It checks the headers every request and
 * response must carry (§8.1.1: Via, From, To, Call-ID, CSeq, and Max-Forwards in requests), that
 * single-valued headers appear once (§7.3.1), the forms of Via, From, To, Contact, Route,
 * Record-Route, CSeq, Max-Forwards, Call-ID, Content-Type and Content-Length, and the body length:
 *
 * - stream transports (the default): Content-Length is required and the octets after the empty
 *   line must be exactly that many (§18.3, §20.14);
 * - datagrams (`datagram: true`): without Content-Length the body is the rest of the datagram;
 *   with it, octets beyond the body are discarded and a short body is ERR_TRUNCATED (§18.3).
 *
 * The encoder writes `SIP/2.0`, the normalised header names, one row per value, and a
 * Content-Length equal to the body (replacing the stated one, or appended).
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import { utf8 } from '../../util/index.js';
import { SINGLE_HEADERS, sipLimits, type SipLimits } from './constants.js';
import { decodeHeaderFields, encodeHeaderFields, headerValue, type SipHeader } from './headers.js';
import { LineReader } from './lines.js';
import { decodeMediaType } from './media-type.js';
import { decodeNameAddr } from './name-addr.js';
import { decodeStartLine, encodeStartLine, type SipStartLine } from './start-line.js';
import { badSip, isToken } from './syntax.js';
import { decodeVia } from './via.js';

/** A SIP request. */
export interface SipRequest {
  readonly kind: 'request';
  readonly method: string;
  readonly uri: string;
  readonly headers: readonly SipHeader[];
  readonly body: Uint8Array;
}

/** A SIP response. */
export interface SipResponse {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
  readonly headers: readonly SipHeader[];
  readonly body: Uint8Array;
}

/** A SIP request or response. */
export type SipMessage = SipRequest | SipResponse;

/** Decoder options: limits (defaults in DEFAULT_SIP_LIMITS) and datagram body rules. */
export interface SipDecodeOptions {
  readonly limits?: Partial<SipLimits> | undefined;
  readonly datagram?: boolean | undefined;
}

/** The start line and headers of a message, and where its body starts. */
export interface SipHead {
  readonly start: SipStartLine;
  readonly headers: readonly SipHeader[];
  /** Octets of the start line, headers and empty line. */
  readonly headOctets: number;
  /** The Content-Length value, if present (always present unless `datagram`). */
  readonly contentLength: number | undefined;
}

const W = 'sip';

function tooLarge(field: string, rule: string, clause = 'RFC 3261 §18.3'): FormatError {
  return new FormatError(ErrorCode.TOO_LARGE, { field, rule, clause });
}

/**
 * Decodes the start line and headers at the start of `bytes` and checks them; the body is not
 * read. Stream framers call this on the octets up to the empty line to learn the Content-Length.
 */
export function decodeSipHead(bytes: Uint8Array, opts: SipDecodeOptions = {}): SipHead {
  const limits = sipLimits(opts.limits);
  const r = new LineReader(bytes.length > limits.maxHeadOctets ? bytes.subarray(0, limits.maxHeadOctets) : bytes, W, limits.maxLineOctets);
  let start: SipStartLine;
  let headers: readonly SipHeader[];
  try {
    start = decodeStartLine(r.line('startLine'));
    headers = decodeHeaderFields(r, { where: W, limits, compact: true });
  } catch (err) {
    // Running out inside the head because of the cap is the cap's fault, not truncation.
    if (err instanceof FormatError && err.code === ErrorCode.TRUNCATED && bytes.length > limits.maxHeadOctets) {
      throw tooLarge(`${W}.head`, `start line and headers must be at most ${limits.maxHeadOctets} octets`, 'RFC 3261 §7');
    }
    throw err;
  }
  const contentLength = checkHeaders(start, headers, limits, opts.datagram === true);
  return Object.freeze({ start, headers, headOctets: r.offset, contentLength });
}

/** Decodes one SIP message strictly (see the module comment for the body rules). */
export function decodeSipMessage(bytes: Uint8Array, opts: SipDecodeOptions = {}): SipMessage {
  const limits = sipLimits(opts.limits);
  const head = decodeSipHead(bytes, { ...opts, limits });
  const available = bytes.length - head.headOctets;
  const length = head.contentLength ?? available;
  if (length > limits.maxBodyOctets) {
    throw tooLarge(`${W}.body`, `must be at most ${limits.maxBodyOctets} octets`);
  }
  if (available < length) {
    throw new FormatError(ErrorCode.TRUNCATED, {
      field: `${W}.body`,
      rule: `Content-Length says ${length} octets, ${available} follow`,
      clause: 'RFC 3261 §18.3',
    });
  }
  if (available > length && opts.datagram !== true) {
    throw new FormatError(ErrorCode.TRAILING_BYTES, {
      field: `${W}.body`,
      rule: `has ${available - length} octets after the Content-Length body`,
      clause: 'RFC 3261 §18.3',
    });
  }
  const body = bytes.slice(head.headOctets, head.headOctets + length);
  if (body.length > 0 && !head.headers.some((h) => h.name === 'Content-Type')) {
    throw badSip(`${W}.headers.Content-Type`, 'must be present when the body is not empty', 'RFC 3261 §20.15');
  }
  return freezeMessage(head.start, head.headers, body);
}

/** A frozen message from its parts (the body is kept, not copied). */
function freezeMessage(start: SipStartLine, headers: readonly SipHeader[], body: Uint8Array): SipMessage {
  return start.kind === 'request'
    ? Object.freeze({ kind: 'request', method: start.method, uri: start.uri, headers, body })
    : Object.freeze({ kind: 'response', status: start.status, reason: start.reason, headers, body });
}

/**
 * The header rules of RFC 3261 that hold for every message; returns the Content-Length (if any).
 * Shared by the decoder and the encoder, so that what is encoded decodes.
 */
function checkHeaders(start: SipStartLine, headers: readonly SipHeader[], limits: SipLimits, datagram: boolean): number | undefined {
  const seen = new Map<string, number>();
  let cl: string | undefined;
  for (const h of headers) {
    const key = h.name.toLowerCase();
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    if (n > 1 && SINGLE_HEADERS.has(h.name)) throw badSip(`${W}.headers.${h.name}`, 'must appear at most once', 'RFC 3261 §7.3.1');
    const field = `${W}.headers.${h.name}`;
    switch (h.name) {
      case 'Via':
        decodeVia(h.value, field);
        break;
      case 'From':
      case 'To':
      case 'Route':
      case 'Record-Route':
        decodeNameAddr(h.value, field);
        break;
      case 'Contact':
        if (h.value !== '*') decodeNameAddr(h.value, field);
        break;
      case 'Call-ID':
        if (!/^[\x21-\x7e]+$/.test(h.value)) throw badSip(field, 'must be word["@"word]', 'RFC 3261 §20.8');
        break;
      case 'Max-Forwards':
        if (!/^0*[0-9]{1,3}$/.test(h.value) || Number(h.value) > 255) throw badSip(field, 'must be 0-255', 'RFC 3261 §20.22');
        break;
      case 'Content-Type':
        decodeMediaType(h.value, field);
        break;
      case 'CSeq':
        checkCseq(start, h.value, field);
        break;
      case 'Content-Length':
        cl = h.value;
        break;
      default:
        break;
    }
  }
  const required = ['Via', 'From', 'To', 'Call-ID', 'CSeq', ...(start.kind === 'request' ? ['Max-Forwards'] : [])];
  for (const name of required) {
    if (!seen.has(name.toLowerCase())) throw badSip(`${W}.headers.${name}`, 'must be present', 'RFC 3261 §8.1.1');
  }
  if (cl === undefined) {
    if (datagram) return undefined;
    throw badSip(`${W}.headers.Content-Length`, 'must be present on a stream transport', 'RFC 3261 §18.3');
  }
  if (!/^[0-9]+$/.test(cl)) throw badSip(`${W}.headers.Content-Length`, 'must be 1*DIGIT', 'RFC 3261 §20.14');
  const length = cl.length > 15 ? Infinity : Number(cl);
  if (length > limits.maxBodyOctets) {
    throw tooLarge(`${W}.headers.Content-Length`, `the body must be at most ${limits.maxBodyOctets} octets`);
  }
  return length;
}

/** CSeq = 1*DIGIT LWS Method, the number below 2**31 (RFC 3261 §8.1.1.5, §20.16). */
function checkCseq(start: SipStartLine, value: string, field: string): void {
  const m = /^([0-9]{1,10})[ \t]+(\S+)$/.exec(value);
  const method = m?.[2];
  if (m === null || method === undefined || !isToken(method) || Number(m[1]) >= 2 ** 31) {
    throw badSip(field, 'must be a sequence number below 2**31 and a method', 'RFC 3261 §8.1.1.5');
  }
  if (start.kind === 'request' && method !== start.method) {
    throw badSip(field, 'method must match the request method', 'RFC 3261 §8.1.1.5');
  }
}

/** The CSeq of a (decoded, hence valid) message. */
export function cseqOf(m: SipMessage): { readonly seq: number; readonly method: string } {
  const v = headerValue(m, 'CSeq') ?? '';
  const [seq = '', method = ''] = v.split(/[ \t]+/);
  return Object.freeze({ seq: Number(seq), method });
}

/** Encoder options: the limits the message is checked against (so that it decodes). */
export interface SipEncodeOptions {
  readonly limits?: Partial<SipLimits> | undefined;
}

/**
 * Encodes a message; Content-Length is set to the body length. Throws the FormatError the decoder
 * would throw on the result, so what is encoded decodes (and header injection is impossible).
 */
export function encodeSipMessage(m: SipMessage, opts: SipEncodeOptions = {}): Uint8Array {
  const limits = sipLimits(opts.limits);
  const start: SipStartLine =
    m.kind === 'request' ? { kind: 'request', method: m.method, uri: m.uri } : { kind: 'response', status: m.status, reason: m.reason };
  const length = String(m.body.length);
  let sawLength = false;
  const headers: SipHeader[] = m.headers.map((h) => {
    if (h.name.toLowerCase() !== 'content-length' && h.name.toLowerCase() !== 'l') return h;
    sawLength = true;
    return { name: 'Content-Length', value: length };
  });
  if (!sawLength) headers.push({ name: 'Content-Length', value: length });
  const text = `${encodeStartLine(start)}\r\n${encodeHeaderFields(headers, W)}\r\n`;
  const head = utf8(text);
  const out = new Uint8Array(head.length + m.body.length);
  out.set(head);
  out.set(m.body, head.length);
  // Re-read what was written: the one definition of valid is the decoder's.
  decodeSipMessage(out, { limits });
  return out;
}

/** A frozen copy of `m` with other headers (and optionally another body); not re-checked. */
export function withHeaders(m: SipRequest, headers: readonly SipHeader[], body?: Uint8Array): SipRequest;
export function withHeaders(m: SipResponse, headers: readonly SipHeader[], body?: Uint8Array): SipResponse;
export function withHeaders(m: SipMessage, headers: readonly SipHeader[], body: Uint8Array = m.body): SipMessage {
  const frozen = Object.freeze(headers.map((h) => Object.freeze({ name: h.name, value: h.value })));
  return m.kind === 'request' ? Object.freeze({ ...m, headers: frozen, body }) : Object.freeze({ ...m, headers: frozen, body });
}
