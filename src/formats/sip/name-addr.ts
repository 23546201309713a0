/**
 * name-addr / addr-spec with header parameters (RFC 3261 §20.10 Contact, §20.20 From, §20.39 To,
 * §20.30 Record-Route, §20.34 Route; grammar §25.1): `["display name"] <uri>;tag=…` or `uri;tag=…`.
 * Without angle brackets the URI ends at the first ";" (§20.10: parameters then belong to the
 * header field, not the URI).
 */
import { badSip, decodeParams, encodeParams, isToken, isUri, paramValue, quote, trimWsp, unquote, type SipParam } from './syntax.js';

/** A decoded name-addr or addr-spec with its header parameters. */
export interface SipNameAddr {
  /** The display name, unquoted; undefined when absent. */
  readonly displayName: string | undefined;
  readonly uri: string;
  readonly params: readonly SipParam[];
}

const CLAUSE = 'RFC 3261 §20.10';

/** Decodes one From / To / Contact / Route / Record-Route value. */
export function decodeNameAddr(value: string, field: string): SipNameAddr {
  const v = trimWsp(value);
  let displayName: string | undefined;
  let uri: string;
  let rest: string;
  let open = -1;
  if (v.startsWith('"')) {
    const end = quotedEnd(v, field);
    displayName = unquote(v.slice(0, end));
    open = end + (/^[ \t]*/.exec(v.slice(end))?.[0].length ?? 0);
    if (v[open] !== '<') throw badSip(field, 'a quoted display name must be followed by <URI>', CLAUSE);
  } else {
    const lt = v.indexOf('<');
    const semi = v.indexOf(';');
    if (lt >= 0 && (semi < 0 || lt < semi)) {
      const name = trimWsp(v.slice(0, lt));
      if (name !== '') {
        if (!name.split(/[ \t]+/).every(isToken)) {
          throw badSip(field, 'display name must be tokens or a quoted-string', CLAUSE);
        }
        displayName = name.replace(/[ \t]+/g, ' ');
      }
      open = lt;
    }
  }
  if (open >= 0) {
    const close = v.indexOf('>', open);
    if (close < 0) throw badSip(field, 'has "<" without ">"', CLAUSE);
    uri = v.slice(open + 1, close);
    rest = v.slice(close + 1);
  } else {
    const semi = v.indexOf(';');
    uri = trimWsp(semi < 0 ? v : v.slice(0, semi));
    rest = semi < 0 ? '' : v.slice(semi);
  }
  if (!isUri(uri)) throw badSip(`${field}.uri`, 'must be a URI (scheme ":" …)', CLAUSE);
  return Object.freeze({ displayName, uri, params: decodeParams(rest, field) });
}

/** Index just past a leading quoted display name, throwing on an unterminated one. */
function quotedEnd(v: string, field: string): number {
  for (let i = 1; i < v.length; i++) {
    if (v[i] === '\\') i++;
    else if (v[i] === '"') return i + 1;
  }
  throw badSip(field, 'has an unterminated quoted display name', CLAUSE);
}

/** Encodes a name-addr, always with angle brackets (safe for any URI). */
export function encodeNameAddr(n: SipNameAddr, field: string): string {
  if (!isUri(n.uri)) throw badSip(`${field}.uri`, 'must be a URI (scheme ":" …)', CLAUSE);
  if (n.displayName !== undefined && /[\x00-\x1f\x7f]/.test(n.displayName)) {
    throw badSip(field, 'display name must not contain control characters', CLAUSE);
  }
  const display = n.displayName === undefined ? '' : `${quote(n.displayName)} `;
  return `${display}<${n.uri}>${encodeParams(n.params, field)}`;
}

/** The `tag` parameter of a From or To value (RFC 3261 §19.3), or undefined. */
export function tagOf(n: SipNameAddr): string | undefined {
  return paramValue(n.params, 'tag');
}
