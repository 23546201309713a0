/**
 * SIP header fields (RFC 3261 §7.3): `name HCOLON value CRLF`, continued on lines that start with
 * SP or HTAB (folding, §7.3.1: the folding LWS becomes one SP). Names compare case-insensitively;
 * compact forms (§7.3.3) and known names are normalised to their full conventional spelling, and
 * comma-list headers are split into one entry per value (§7.3.1), in order. The same decoder reads
 * MIME part headers (RFC 2045 §3), where compact forms do not exist.
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import { CANONICAL_HEADER_NAMES, COMPACT_HEADER_FORMS, LIST_HEADERS, type SipLimits } from './constants.js';
import type { LineReader } from './lines.js';
import { badSip, isToken, splitOutside, trimWsp } from './syntax.js';

/** One header field value, under its normalised name. */
export interface SipHeader {
  readonly name: string;
  readonly value: string;
}

/** Anything that carries headers: a SIP message or a MIME part. */
export interface HasHeaders {
  readonly headers: readonly SipHeader[];
}

/**
 * The normalised spelling of a header name: compact forms (when `compact`) become full names,
 * known names take their conventional case, unknown names stay as written.
 */
export function canonicalHeaderName(name: string, compact = true): string {
  const lower = name.toLowerCase();
  if (compact && lower.length === 1) {
    const full = COMPACT_HEADER_FORMS[lower];
    if (full !== undefined) return full;
  }
  return CANONICAL_HEADER_NAMES.get(lower) ?? name;
}

/** How decodeHeaderFields reads: the field path prefix, limits, compact forms allowed or not. */
export interface HeaderContext {
  readonly where: string;
  readonly limits: SipLimits;
  readonly compact: boolean;
}

const CLAUSE = 'RFC 3261 §7.3';

/** Reads header fields up to and including the empty line that ends them. */
export function decodeHeaderFields(r: LineReader, ctx: HeaderContext): readonly SipHeader[] {
  const fields: string[] = [];
  for (;;) {
    const line = r.line(`headers[${fields.length}]`);
    if (line === '') break;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      const prev = fields.pop();
      if (prev === undefined) {
        throw badSip(`${ctx.where}.headers[0]`, 'must not start with whitespace (folding needs a field)', '§7.3.1');
      }
      const joined = `${prev.replace(/[ \t]+$/, '')} ${trimWsp(line)}`;
      if (joined.length > ctx.limits.maxLineOctets) {
        throw new FormatError(ErrorCode.TOO_LARGE, {
          field: `${ctx.where}.headers[${fields.length}]`,
          rule: `an unfolded header field must be at most ${ctx.limits.maxLineOctets} octets`,
          clause: 'RFC 3261 §7.3.1',
        });
      }
      fields.push(joined);
    } else {
      fields.push(line);
    }
  }
  const out: SipHeader[] = [];
  for (const [i, field] of fields.entries()) {
    const colon = field.indexOf(':');
    const rawName = colon < 0 ? field : field.slice(0, colon).replace(/[ \t]+$/, '');
    if (colon < 0 || !isToken(rawName)) {
      throw badSip(`${ctx.where}.headers[${i}]`, 'must be a token name, a colon and a value', CLAUSE);
    }
    const name = canonicalHeaderName(rawName, ctx.compact);
    for (const value of splitValues(name, trimWsp(field.slice(colon + 1)), `${ctx.where}.headers.${name}`)) {
      if (out.length >= ctx.limits.maxHeaders) {
        throw new FormatError(ErrorCode.TOO_LARGE, {
          field: `${ctx.where}.headers`,
          rule: `must hold at most ${ctx.limits.maxHeaders} header values`,
          clause: CLAUSE,
        });
      }
      out.push(Object.freeze({ name, value }));
    }
  }
  return Object.freeze(out);
}

/** The values of one field row: one, or each element of a comma list (RFC 3261 §7.3.1). */
function splitValues(name: string, value: string, field: string): string[] {
  if (!LIST_HEADERS.has(name) || value === '') return [value];
  const parts = splitOutside(value, ',', field).map(trimWsp);
  if (parts.some((p) => p === '')) throw badSip(field, 'must not hold an empty list element', '§7.3.1');
  return parts;
}

/** Header rows, `Name: value CRLF` each, with the names normalised; values are checked. */
export function encodeHeaderFields(headers: readonly SipHeader[], where: string, compact = true): string {
  let out = '';
  for (const h of headers) {
    if (!isToken(h.name)) throw badSip(`${where}.headers`, 'a header name must be a token', CLAUSE);
    const name = canonicalHeaderName(h.name, compact);
    // Header injection guard: a value carries no CR, LF or other control character but HTAB.
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(h.value)) {
      throw badSip(`${where}.headers.${name}`, 'must not contain CR, LF or control characters', CLAUSE);
    }
    out += `${name}: ${h.value}\r\n`;
  }
  return out;
}

/** Every value of header `name` (any spelling, compact forms included), in order. */
export function headerValues(m: HasHeaders, name: string): readonly string[] {
  const want = canonicalHeaderName(name).toLowerCase();
  return m.headers.filter((h) => h.name.toLowerCase() === want).map((h) => h.value);
}

/** The first value of header `name`, or undefined. */
export function headerValue(m: HasHeaders, name: string): string | undefined {
  const want = canonicalHeaderName(name).toLowerCase();
  return m.headers.find((h) => h.name.toLowerCase() === want)?.value;
}
