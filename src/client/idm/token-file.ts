/**
 * The IdM client's token store (TS 33.180 §5.1.2.1: the ID token, access token and refresh token
 * "made available to the MCX client(s)", Annex C.1 step 3g): one JSON file, mode 0600, written
 * whole (a temporary file renamed over the old one), holding
 *
 *   { "issuer", "client_id", "token_type", "access_token", "expires_at" (seconds since the epoch,
 *     from expires_in, B.11), "scope", "refresh_token"?, "id_token"?, "sub"?, "mc_service_ids"? }
 *
 * `readAccessToken` also accepts a file holding nothing but the token (what `kms fetch --token`
 * always took), and refuses a stored token past its expiry (B.11: "no client requests shall be
 * made using the expired token").
 */
import { chmodSync, openSync, readFileSync, renameSync, rmSync, writeSync, closeSync } from 'node:fs';
import { ConfigError, ErrorCode, PolicyError } from '../../errors/index.js';

/** What the token file holds. */
export interface StoredTokens {
  readonly issuer: string;
  readonly client_id: string;
  readonly token_type: string;
  readonly access_token: string;
  readonly expires_at: number | undefined;
  readonly scope: string | undefined;
  readonly refresh_token: string | undefined;
  readonly id_token: string | undefined;
  readonly sub: string | undefined;
  readonly mc_service_ids: Readonly<Record<string, string>> | undefined;
}

/** Writes the token file, mode 0600, replacing any earlier one whole. */
export function writeTokenFile(file: string, t: StoredTokens): void {
  const tmp = `${file}.${process.pid}.tmp`;
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o600);
  } catch {
    throw new ConfigError(ErrorCode.IO, { field: '--out', rule: `could not create ${tmp} (is the folder there and writable?)` });
  }
  try {
    writeSync(fd, `${JSON.stringify(t, null, 2)}\n`);
  } finally {
    closeSync(fd);
  }
  try {
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  } catch {
    rmSync(tmp, { force: true });
    throw new ConfigError(ErrorCode.IO, { field: '--out', rule: `could not write ${file}` });
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** Reads a token file written by `writeTokenFile`. */
export function readTokenFile(file: string, field = '--token'): StoredTokens {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(ErrorCode.IO, { field, rule: `must name a readable file (${file})` });
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(ErrorCode.BAD_VALUE, { field, rule: 'must hold the JSON token store that mcsec login writes' });
  const get = (k: string): unknown => Reflect.get(v, k);
  const access = str(get('access_token'));
  if (access === undefined) throw new ConfigError(ErrorCode.BAD_VALUE, { field: `${field}.access_token`, rule: 'is required' });
  const exp = get('expires_at');
  const ids = get('mc_service_ids');
  const idMap: Record<string, string> = {};
  if (typeof ids === 'object' && ids !== null) {
    for (const [k, x] of Object.entries(ids)) if (typeof x === 'string') idMap[k] = x;
  }
  return Object.freeze({
    issuer: str(get('issuer')) ?? '',
    client_id: str(get('client_id')) ?? '',
    token_type: str(get('token_type')) ?? 'Bearer',
    access_token: access,
    expires_at: typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined,
    scope: str(get('scope')),
    refresh_token: str(get('refresh_token')),
    id_token: str(get('id_token')),
    sub: str(get('sub')),
    mc_service_ids: Object.keys(idMap).length === 0 ? undefined : Object.freeze(idMap),
  });
}

/**
 * The access token of `file`: the token store's access_token (refused once expired), or the
 * whole file when it is not JSON (a bare token).
 */
export function readAccessToken(file: string, now: () => number = Date.now, field = '--token'): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    throw new ConfigError(ErrorCode.IO, { field, rule: `must name a readable file (${file})` });
  }
  if (!text.startsWith('{')) return text;
  const t = readTokenFile(file, field);
  if (t.expires_at !== undefined && t.expires_at * 1000 <= now()) {
    throw new PolicyError(ErrorCode.EXPIRED, { field: `${field}.expires_at`, rule: 'the stored access token has expired: run mcsec login again (or --refresh)', clause: 'TS 33.180 Annex B.11' });
  }
  return t.access_token;
}
