/**
 * The IdM client's embedded browser for username/password login (TS 33.180 §5.1.2.3.2 steps
 * 2-4, Annex C.1 steps 3a-3d): it opens the authentication request URL, follows the IdMS's
 * redirects with its cookies, finds the login form the IdMS sends (`form#mcsec-login` with fields
 * `username` and `password`), posts the credentials, and follows on until the IdMS redirects to
 * the client's redirect URI, which it returns without loading it (the app, not a server, owns that
 * URI). The credentials go only to the IdMS origin.
 */
import { ErrorCode, McsecError, PolicyError } from '../../errors/index.js';
import type { FetchInit } from '../../transport/http/https-fetch.js';

/** A fetch function that does not follow redirects (transport/http/https-fetch.ts). */
export type ManualFetch = (url: string | URL, init?: FetchInit) => Promise<Response>;

const MAX_HOPS = 12;
const S5123 = 'TS 33.180 §5.1.2.3.2';

function sameTarget(a: URL, b: URL): boolean {
  const strip = (u: URL): string => `${u.protocol}//${u.hostname}${u.pathname}`;
  // Loopback redirect URIs may carry any port (RFC 8252 §7.3).
  return strip(a) === strip(b) && (a.port === b.port || ['127.0.0.1', '[::1]', 'localhost'].includes(a.hostname));
}

/** Finds the login form's action in the IdMS page, if it is one. */
function loginAction(html: string, base: URL): URL | undefined {
  const m = /<form\b[^>]*\bid="mcsec-login"[^>]*>/i.exec(html);
  if (m === null) return undefined;
  const action = /\baction="([^"]*)"/i.exec(m[0])?.[1];
  if (action === undefined) return undefined;
  const decoded = action.replace(/&#(\d+);/g, (_s, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');
  return new URL(decoded, base);
}

/** Runs the login; returns the redirect URI the IdMS sent the browser to (code and state in it). */
export async function completeLoginForm(
  fetch: ManualFetch,
  o: { readonly authorizationUrl: URL; readonly redirectUri: string; readonly username: string; readonly password: string },
): Promise<URL> {
  const origin = o.authorizationUrl.origin;
  const redirect = new URL(o.redirectUri);
  const jar = new Map<string, string>();
  let url = o.authorizationUrl;
  let init: FetchInit = { method: 'GET' };
  let posted = false;
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    if (url.origin !== origin) throw new McsecError(ErrorCode.IO, { field: 'idms.login', rule: `the IdMS sent the browser to another origin (${url.origin})`, clause: S5123 });
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { ...init, headers: { ...(init.headers instanceof Headers ? {} : init.headers), ...(cookie === '' ? {} : { cookie }) } });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (pair !== undefined && eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    if (res.status >= 300 && res.status < 400) {
      const location = res.headers.get('location');
      if (location === null) throw new McsecError(ErrorCode.IO, { field: 'idms.login', rule: `HTTP ${res.status} without Location` });
      const next = new URL(location, url);
      if (sameTarget(next, redirect)) return next;
      url = next;
      init = { method: 'GET' };
      continue;
    }
    const body = await res.text();
    const action = res.status === 200 ? loginAction(body, url) : undefined;
    if (action === undefined) {
      throw new McsecError(ErrorCode.IO, { field: 'idms.login', rule: `the IdMS answered HTTP ${res.status} without a login form or redirect`, clause: S5123 });
    }
    if (posted) throw new PolicyError(ErrorCode.UNAUTHORIZED, { field: 'idms.login', rule: 'the IdMS did not accept the MC ID and password', clause: S5123 });
    posted = true;
    url = action;
    init = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: o.username, password: o.password }).toString(),
    };
  }
  throw new McsecError(ErrorCode.IO, { field: 'idms.login', rule: `more than ${MAX_HOPS} redirects` });
}
