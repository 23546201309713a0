/**
 * A Content-Type value (RFC 3261 §20.15, media-type of §25.1 = RFC 2045 §5.1):
 * `type "/" subtype *( ";" parameter )`. Type and subtype compare case-insensitively and are
 * returned in lower case; parameter values are unquoted.
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import { badSip, decodeParams, isToken, quote, splitOutside, trimWsp, unquote } from './syntax.js';

/** A decoded media type. */
export interface SipMediaType {
  /** `type/subtype` in lower case, e.g. `multipart/mixed`. */
  readonly essence: string;
  readonly type: string;
  readonly subtype: string;
  /** Parameters with lower-case names and unquoted values. */
  readonly params: ReadonlyMap<string, string>;
}

const CLAUSE = 'RFC 3261 §20.15';

/** Decodes a Content-Type value; a multipart type must carry a valid boundary (RFC 2046 §5.1.1). */
export function decodeMediaType(value: string, field = 'sip.headers.Content-Type'): SipMediaType {
  const head = splitOutside(value, ';', field)[0] ?? '';
  const m = /^([^/ \t]+)[ \t]*\/[ \t]*([^/ \t]+)$/.exec(trimWsp(head));
  const type = m?.[1]?.toLowerCase();
  const subtype = m?.[2]?.toLowerCase();
  if (type === undefined || subtype === undefined || !isToken(type) || !isToken(subtype)) {
    throw badSip(field, 'must be type/subtype', CLAUSE);
  }
  const params = new Map<string, string>();
  for (const p of decodeParams(value.slice(head.length), field)) {
    const name = p.name.toLowerCase();
    if (p.value === undefined) throw badSip(`${field};${p.name}`, 'a media type parameter needs a value', CLAUSE);
    if (params.has(name)) throw badSip(`${field};${p.name}`, 'must appear once', CLAUSE);
    params.set(name, unquote(p.value));
  }
  if (type === 'multipart') checkBoundary(params.get('boundary'), `${field};boundary`);
  return Object.freeze({ essence: `${type}/${subtype}`, type, subtype, params: Object.freeze(params) });
}

/** A Content-Type value for `essence` with parameters (values quoted when not tokens). */
export function encodeMediaType(essence: string, params: Readonly<Record<string, string>> = {}): string {
  const parts = essence.split('/');
  if (parts.length !== 2 || !parts.every(isToken)) throw badSip('sip.headers.Content-Type', 'must be type/subtype', CLAUSE);
  let out = essence;
  for (const [k, v] of Object.entries(params)) {
    if (!isToken(k) || /[\x00-\x1f\x7f]/.test(v)) throw badSip(`sip.headers.Content-Type;${k}`, 'must be a token name and printable value', CLAUSE);
    out += `;${k}=${isToken(v) ? v : quote(v)}`;
  }
  return out;
}

const BCHARS = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

/** RFC 2046 §5.1.1: a boundary is 1–70 bchars and does not end in a space. */
export function checkBoundary(boundary: string | undefined, field: string): string {
  if (boundary === undefined) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'multipart needs a boundary parameter', clause: 'RFC 2046 §5.1.1' });
  }
  if (!BCHARS.test(boundary)) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'must be 1-70 bchars not ending in a space', clause: 'RFC 2046 §5.1.1' });
  }
  return boundary;
}
