/**
 * RFC 3261 §25.1 lexical pieces shared by the SIP header grammars: token, quoted-string, generic
 * parameters (`;name[=value]`), comma lists that respect quotes and angle brackets, hosts.
 */
import { ErrorCode, FormatError } from '../../errors/index.js';

const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/** RFC 3261 §25.1 token. */
export const isToken = (s: string): boolean => TOKEN.test(s);

/** A FormatError ERR_BAD_VALUE citing RFC 3261 (or `clause`). */
export function badSip(field: string, rule: string, clause = 'RFC 3261 §25.1'): FormatError {
  return new FormatError(ErrorCode.BAD_VALUE, { field, rule, clause });
}

/** Index just past the quoted-string starting at `at` (which holds `"`), or -1 if unterminated. */
export function skipQuoted(s: string, at: number): number {
  for (let i = at + 1; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '"') return i + 1;
  }
  return -1;
}

/**
 * Splits `s` at `sep` where it is outside quoted strings and `<…>` (RFC 3261 §7.3.1: a comma
 * inside a quoted display name or a bracketed URI does not separate values).
 */
export function splitOutside(s: string, sep: ',' | ';', field: string): string[] {
  const out: string[] = [];
  let start = 0;
  let angle = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      const end = skipQuoted(s, i);
      if (end < 0) throw badSip(field, 'has an unterminated quoted-string');
      i = end - 1;
    } else if (c === '<') {
      if (angle) throw badSip(field, 'has a "<" inside "<…>"');
      angle = true;
    } else if (c === '>') {
      if (!angle) throw badSip(field, 'has a ">" without "<"');
      angle = false;
    } else if (c === sep && !angle) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  if (angle) throw badSip(field, 'has a "<" without ">"');
  out.push(s.slice(start));
  return out;
}

/** `s` without leading and trailing SP / HTAB. */
export function trimWsp(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** One generic parameter: `name` or `name=value` (value kept as written, quotes included). */
export interface SipParam {
  readonly name: string;
  readonly value: string | undefined;
}

const PARAM_VALUE = /^(?:[A-Za-z0-9\-.!%*_+`'~:[\]]+|"(?:[^"\\]|\\[\s\S])*")$/;

/**
 * Parameters after the first `;` of `s` (`generic-param`, RFC 3261 §25.1): names are tokens,
 * values tokens, hosts (IPv6 included) or quoted-strings; LWS around `;` and `=` is allowed.
 */
export function decodeParams(s: string, field: string): readonly SipParam[] {
  if (trimWsp(s) === '') return Object.freeze([]);
  const parts = splitOutside(s, ';', field);
  if (trimWsp(parts[0] ?? '') !== '') throw badSip(field, 'parameters must start with ";"');
  const out: SipParam[] = [];
  for (const raw of parts.slice(1)) {
    const eq = raw.indexOf('=');
    const name = trimWsp(eq < 0 ? raw : raw.slice(0, eq));
    if (!isToken(name)) throw badSip(field, 'a parameter name must be a token');
    if (eq < 0) {
      out.push(Object.freeze({ name, value: undefined }));
      continue;
    }
    const value = trimWsp(raw.slice(eq + 1));
    if (!PARAM_VALUE.test(value)) {
      throw badSip(`${field};${name}`, 'must be a token, host or quoted-string');
    }
    out.push(Object.freeze({ name, value }));
  }
  return Object.freeze(out);
}

/** `;name=value…` for parameters (the inverse of decodeParams). */
export function encodeParams(params: readonly SipParam[], field: string): string {
  let out = '';
  for (const p of params) {
    if (!isToken(p.name)) throw badSip(field, 'a parameter name must be a token');
    if (p.value !== undefined && !PARAM_VALUE.test(p.value)) {
      throw badSip(`${field};${p.name}`, 'must be a token, host or quoted-string');
    }
    out += p.value === undefined ? `;${p.name}` : `;${p.name}=${p.value}`;
  }
  return out;
}

/** The value of the first parameter named `name` (case-insensitively); '' for a bare flag. */
export function paramValue(params: readonly SipParam[], name: string): string | undefined {
  const lower = name.toLowerCase();
  const p = params.find((x) => x.name.toLowerCase() === lower);
  return p === undefined ? undefined : (p.value ?? '');
}

/** Unquotes a quoted-string (RFC 3261 §25.1 quoted-pair), or returns a token as it is. */
export function unquote(v: string): string {
  if (v.length < 2 || !v.startsWith('"') || !v.endsWith('"')) return v;
  return v.slice(1, -1).replace(/\\([\s\S])/g, '$1');
}

/** A quoted-string for any text without CR, LF or other control characters. */
export function quote(s: string): string {
  return `"${s.replace(/["\\]/g, '\\$&')}"`;
}

const HOSTNAME = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.?$/;
const IPV6_REF = /^\[[0-9A-Fa-f:.]+\]$/;

/** RFC 3261 §25.1 host: hostname, IPv4address (a hostname lexically) or IPv6reference. */
export const isHost = (s: string): boolean => HOSTNAME.test(s) || IPV6_REF.test(s);

/** A decimal port 0–65535 written as 1*DIGIT, or undefined. */
export function decodePort(s: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}

/** RFC 3986 scheme ":" then visible ASCII other than `<`, `>` and `"` (RFC 3261 §25.1 absoluteURI). */
export const isUri = (s: string): boolean => /^[A-Za-z][A-Za-z0-9+\-.]*:[\x21\x23-\x3b\x3d\x3f-\x7e]+$/.test(s);
