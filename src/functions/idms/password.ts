/**
 * Password hashes for the IdMS's username/password authentication (TS 33.180 §5.1.2.3.2: the
 * mandatory user authentication method). scrypt (RFC 7914) from node:crypto with a 16-octet random
 * salt; the hash is text,
 *
 *     scrypt$<log2 N>$<r>$<p>$<base64url salt>$<base64url 32-octet key>
 *
 * and is checked with a constant-time comparison. A check for an unknown user runs against a
 * fixed dummy hash, so that the time taken does not tell whether the MC ID exists.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { ConfigError, ErrorCode } from '../../errors/index.js';

/** scrypt cost parameters. */
export interface ScryptParams {
  /** log2 of the CPU/memory cost N (default 15: N = 32768, 32 MiB with r = 8). */
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

/** The default cost (RFC 7914 §2 interactive-login figures, doubled). */
export const DEFAULT_SCRYPT: ScryptParams = Object.freeze({ logN: 15, r: 8, p: 1 });
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
const FORM = /^scrypt\$(\d{1,2})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]{16,64})\$([A-Za-z0-9_-]{43})$/;
/** Longest password accepted (a bound on the work an attacker can ask for). */
export const MAX_PASSWORD_LENGTH = 1024;

function derive(password: string, salt: Uint8Array, c: ScryptParams): Promise<Uint8Array> {
  const n = 2 ** c.logN;
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, { N: n, r: c.r, p: c.p, maxmem: 256 * n * c.r + (1 << 20) }, (err, key) => {
      if (err !== null) reject(err);
      else resolve(new Uint8Array(key.buffer, key.byteOffset, key.byteLength));
    });
  });
}

/** Hashes a password for storage. */
export async function hashPassword(password: string, o: { readonly params?: ScryptParams; readonly rng?: (n: number) => Uint8Array } = {}): Promise<string> {
  if (password.length === 0 || password.length > MAX_PASSWORD_LENGTH) {
    throw new ConfigError(ErrorCode.USAGE, { field: 'password', rule: `must be 1 to ${MAX_PASSWORD_LENGTH} characters` });
  }
  const c = o.params ?? DEFAULT_SCRYPT;
  if (!Number.isInteger(c.logN) || c.logN < 10 || c.logN > 20 || !Number.isInteger(c.r) || c.r < 1 || c.r > 32 || !Number.isInteger(c.p) || c.p < 1 || c.p > 16) {
    throw new ConfigError(ErrorCode.CONFIG, { field: 'scrypt', rule: 'logN must be 10..20, r 1..32, p 1..16' });
  }
  const salt = (o.rng ?? randomBytes)(SALT_LENGTH);
  const key = await derive(password, salt, c);
  const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
  const out = `scrypt$${c.logN}$${c.r}$${c.p}$${b64(salt)}$${b64(key)}`;
  key.fill(0);
  return out;
}

/** A fixed hash of a random password with the default cost, checked for unknown users. */
const DUMMY = `scrypt$${DEFAULT_SCRYPT.logN}$${DEFAULT_SCRYPT.r}$${DEFAULT_SCRYPT.p}$AAAAAAAAAAAAAAAAAAAAAA$${'A'.repeat(43)}`;

/**
 * Whether `password` matches `stored` (undefined: no such user, checked against a dummy so the
 * answer takes as long). A malformed stored hash never matches.
 */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  const m = FORM.exec(stored ?? DUMMY) ?? FORM.exec(DUMMY);
  if (m === null) return false;
  const [, logN, r, p, saltText, keyText] = m;
  const c = { logN: Number(logN), r: Number(r), p: Number(p) };
  if (c.logN < 10 || c.logN > 20 || c.r < 1 || c.r > 32 || c.p < 1 || c.p > 16) return false;
  const pw = password.length > MAX_PASSWORD_LENGTH ? '' : password;
  const want = Buffer.from(keyText ?? '', 'base64url');
  const got = await derive(pw, Buffer.from(saltText ?? '', 'base64url'), c);
  const same = want.length === got.length && timingSafeEqual(want, got);
  got.fill(0);
  return same && stored !== undefined && FORM.test(stored) && pw.length > 0;
}
