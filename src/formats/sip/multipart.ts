/**
 * Multipart MIME bodies (RFC 2046 §5.1) as SIP carries them (RFC 3261 §7.4, RFC 5621), e.g. the
 * TS 33.180 §9.2.1.3 CSK upload: `multipart/mixed;boundary=…` with an application/mikey part and
 * MC XML parts. Layout (RFC 2046 §5.1.1):
 *
 *   [preamble CRLF] "--" boundary *LWSP CRLF part *( CRLF "--" boundary *LWSP CRLF part )
 *   CRLF "--" boundary "--" *LWSP [CRLF epilogue]
 *
 * Each part is MIME headers (RFC 2045 §3, no compact forms), an empty line and its octets. The
 * preamble and epilogue are ignored, as RFC 2046 says; at least one part is required, the close
 * delimiter too, and a delimiter line must be exactly that (a boundary must not be a prefix of
 * anything else in the body). Content-Transfer-Encoding is not applied (SIP bodies are binary).
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import { utf8 } from '../../util/index.js';
import { ContentType, sipLimits, type SipLimits } from './constants.js';
import { decodeHeaderFields, encodeHeaderFields, headerValue, type HasHeaders, type SipHeader } from './headers.js';
import { LineReader, indexOfBytes } from './lines.js';
import { checkBoundary, decodeMediaType, encodeMediaType, type SipMediaType } from './media-type.js';
import type { SipMessage } from './message.js';

/** One body part: its MIME headers and octets. */
export interface MimePart {
  readonly headers: readonly SipHeader[];
  readonly body: Uint8Array;
}

const CLAUSE = 'RFC 2046 §5.1.1';
const CRLF = Uint8Array.of(0x0d, 0x0a);

function bad(field: string, rule: string): FormatError {
  return new FormatError(ErrorCode.BAD_VALUE, { field, rule, clause: CLAUSE });
}

/** Index past transport padding (SP / HTAB) from `at`. */
function skipPadding(b: Uint8Array, at: number): number {
  let i = at;
  while (b[i] === 0x20 || b[i] === 0x09) i++;
  return i;
}

/** Decodes a multipart body with the given boundary into its parts. */
export function decodeMultipart(body: Uint8Array, boundary: string, opts: { limits?: Partial<SipLimits> } = {}, where = 'sip.body'): readonly MimePart[] {
  const limits = sipLimits(opts.limits);
  checkBoundary(boundary, `${where}.boundary`);
  if (body.length > limits.maxBodyOctets) {
    throw new FormatError(ErrorCode.TOO_LARGE, { field: where, rule: `must be at most ${limits.maxBodyOctets} octets`, clause: CLAUSE });
  }
  const dash = utf8(`--${boundary}`);
  const delimiter = utf8(`\r\n--${boundary}`);
  // The first dash-boundary opens the body or follows the preamble's CRLF.
  let at = startsWith(body, dash, 0) ? 0 : indexOfBytes(body, delimiter) + 2;
  if (at < 2 && !startsWith(body, dash, 0)) throw truncated(`${where}`, 'has no opening boundary');
  at += dash.length;
  const parts: MimePart[] = [];
  for (;;) {
    // After a boundary: "--" closes, otherwise transport padding and CRLF open a part.
    if (body[at] === 0x2d && body[at + 1] === 0x2d) {
      if (parts.length === 0) throw bad(where, 'must contain at least one body part');
      const end = skipPadding(body, at + 2);
      if (end < body.length && !startsWith(body, CRLF, end)) throw bad(`${where}.close`, 'close delimiter must end the line');
      return Object.freeze(parts);
    }
    const eol = skipPadding(body, at);
    if (eol >= body.length) throw truncated(`${where}.part${parts.length}`, 'ends after a boundary');
    if (!startsWith(body, CRLF, eol)) throw bad(`${where}.part${parts.length}`, 'boundary line must end in CRLF');
    const partStart = eol + 2;
    const next = indexOfBytes(body, delimiter, partStart);
    if (next < 0) throw truncated(`${where}.part${parts.length}`, 'has no closing boundary');
    if (parts.length >= limits.maxParts) {
      throw new FormatError(ErrorCode.TOO_LARGE, { field: `${where}.parts`, rule: `must hold at most ${limits.maxParts} parts`, clause: CLAUSE });
    }
    parts.push(decodePart(body.subarray(partStart, next), limits, `${where}.part${parts.length}`));
    at = next + delimiter.length;
    const after = body[at];
    if (after !== 0x2d && after !== 0x20 && after !== 0x09 && after !== 0x0d && after !== undefined) {
      throw bad(`${where}.part${parts.length - 1}`, 'contains the boundary as a prefix of a line');
    }
  }
}

function truncated(field: string, rule: string): FormatError {
  return new FormatError(ErrorCode.TRUNCATED, { field, rule, clause: CLAUSE });
}

function startsWith(b: Uint8Array, p: Uint8Array, at: number): boolean {
  if (at + p.length > b.length) return false;
  for (let i = 0; i < p.length; i++) if (b[at + i] !== p[i]) return false;
  return true;
}

/** One part: headers, empty line, octets (a part may also be headers only, RFC 2046 §5.1.1). */
function decodePart(bytes: Uint8Array, limits: SipLimits, where: string): MimePart {
  if (bytes.length === 0) return Object.freeze({ headers: Object.freeze([]), body: new Uint8Array(0) });
  let source = bytes;
  if (!startsWith(bytes, CRLF, 0) && indexOfBytes(bytes, utf8('\r\n\r\n')) < 0) {
    source = new Uint8Array(bytes.length + 4);
    source.set(bytes);
    source.set(utf8('\r\n\r\n'), bytes.length);
  }
  const r = new LineReader(source, where, limits.maxLineOctets);
  const headers = decodeHeaderFields(r, { where, limits, compact: false });
  if (r.offset > limits.maxHeadOctets) {
    throw new FormatError(ErrorCode.TOO_LARGE, { field: `${where}.headers`, rule: `must be at most ${limits.maxHeadOctets} octets`, clause: CLAUSE });
  }
  const ct = headerValue({ headers }, 'Content-Type');
  if (ct !== undefined) decodeMediaType(ct, `${where}.headers.Content-Type`);
  return Object.freeze({ headers, body: r.rest() });
}

/** Encodes parts under `boundary`; a part must not contain the delimiter (RFC 2046 §5.1.1). */
export function encodeMultipart(parts: readonly MimePart[], boundary: string, where = 'sip.body'): Uint8Array {
  checkBoundary(boundary, `${where}.boundary`);
  if (parts.length === 0) throw bad(where, 'must contain at least one body part');
  const delimiter = utf8(`\r\n--${boundary}`);
  const chunks: Uint8Array[] = [utf8(`--${boundary}`)];
  for (const [i, p] of parts.entries()) {
    const content = concat(utf8(`\r\n${encodeHeaderFields(p.headers, `${where}.part${i}`, false)}\r\n`), p.body);
    // The delimiter starts with the only CR in it, so a match cannot straddle into the next one.
    if (indexOfBytes(content, delimiter) >= 0) throw bad(`${where}.part${i}`, 'must not contain the boundary delimiter');
    chunks.push(content, delimiter);
  }
  chunks.push(utf8('--\r\n'));
  return concat(...chunks);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The media type of a part (RFC 2045 §5.2 default text/plain when absent). */
export function partMediaType(p: HasHeaders, where = 'sip.body.part'): SipMediaType {
  return decodeMediaType(headerValue(p, 'Content-Type') ?? 'text/plain', `${where}.headers.Content-Type`);
}

/**
 * The body parts of a message: the decoded parts of a multipart body, the body itself as one part
 * (with the message's Content-Type) otherwise, or none for an empty body.
 */
export function decodeSipBody(m: SipMessage, opts: { limits?: Partial<SipLimits> } = {}): readonly MimePart[] {
  const ct = headerValue(m, 'Content-Type');
  if (m.body.length === 0 && ct === undefined) return Object.freeze([]);
  if (ct === undefined) throw bad('sip.headers.Content-Type', 'must be present when the body is not empty');
  const type = decodeMediaType(ct);
  if (type.type === 'multipart') return decodeMultipart(m.body, type.params.get('boundary') ?? '', opts);
  return Object.freeze([Object.freeze({ headers: Object.freeze([Object.freeze({ name: 'Content-Type', value: ct })]), body: m.body })]);
}

/** Random boundary text (RFC 2046 §5.1.1 bchars), from `rng`. */
export function createBoundary(rng: (n: number) => Uint8Array): string {
  return `mcsec-${Array.from(rng(12), (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** A multipart/mixed body and its Content-Type value for the given parts. */
export function multipartBody(parts: readonly MimePart[], boundary: string): { readonly contentType: string; readonly body: Uint8Array } {
  return Object.freeze({ contentType: encodeMediaType(ContentType.MULTIPART_MIXED, { boundary }), body: encodeMultipart(parts, boundary) });
}

/** The first part whose media type essence is `essence`, or undefined. */
export function findPart(parts: readonly MimePart[], essence: string): MimePart | undefined {
  const want = essence.toLowerCase();
  return parts.find((p) => partMediaType(p).essence === want);
}
