/**
 * Encryption at rest of secrets in the store (STYLE.md §8, ARCHITECTURE.md §4): AES-256-GCM under
 * a 32-octet storage key, with a fresh 96-bit IV per value. A wrapped value is text,
 *
 *     v1.<base64url IV (12 octets)>.<base64url ciphertext ‖ tag (16 octets)>
 *
 * and its AAD names the table, the column and the row's primary key (`storeAad`), so a wrapped
 * value copied to another row or column no longer opens. Every failure to open (bad form, wrong
 * key, wrong AAD, tampering) is one CryptoError ERR_DECRYPT with no hint of which step failed.
 *
 * The storage key comes from MCSEC_STORAGE_KEY (64 hex digits) or a key file holding the same;
 * `loadStorageKey` can create the file (mode 0600) when asked to.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { ConfigError, CryptoError, ErrorCode } from '../errors/index.js';
import { fromHex, toBase64Url, toHex, utf8 } from '../util/index.js';

const VERSION = 'v1';
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const KEY_LENGTH = 32;
/** The environment variable holding the storage key as 64 hex digits. */
export const STORAGE_KEY_ENV = 'MCSEC_STORAGE_KEY';

const B64URL = /^[A-Za-z0-9_-]+$/;

/** The AAD of a wrapped column: table, column and primary key, unambiguously encoded. */
export function storeAad(
  table: string,
  column: string,
  primaryKey: readonly (string | number)[],
): Uint8Array {
  return utf8(JSON.stringify(['mcsec.store.v1', table, column, ...primaryKey]));
}

/** AES-256-GCM sealing and opening of secrets under one storage key. */
export class SecretBox {
  readonly #key: Uint8Array;
  readonly #rng: (n: number) => Uint8Array;

  /** `key` is the 32-octet storage key (copied); `rng` gives the IVs. */
  constructor(key: Uint8Array, rng: (n: number) => Uint8Array = randomBytes) {
    if (key.length !== KEY_LENGTH) {
      throw new ConfigError(ErrorCode.CONFIG, {
        field: 'storageKey',
        rule: `must be ${KEY_LENGTH} octets (AES-256)`,
      });
    }
    this.#key = key.slice();
    this.#rng = rng;
  }

  /** Encrypts `plaintext` bound to `aad`; returns `v1.<iv>.<ciphertext+tag>`. */
  seal(plaintext: Uint8Array, aad: Uint8Array): string {
    const iv = this.#rng(IV_LENGTH);
    if (iv.length !== IV_LENGTH) throw new Error(`rng gave ${iv.length} octets, not ${IV_LENGTH}`);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_LENGTH });
    cipher.setAAD(aad);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${toBase64Url(iv)}.${toBase64Url(body)}`;
  }

  /**
   * Decrypts a value made by `seal` with the same `aad`. Any failure is CryptoError ERR_DECRYPT
   * naming `field` (the column), never the value.
   */
  open(wrapped: string, aad: Uint8Array, field = 'wrapped'): Uint8Array {
    const parts = wrapped.split('.');
    const [version, ivText, bodyText] = parts;
    if (
      parts.length !== 3 ||
      version !== VERSION ||
      ivText === undefined ||
      bodyText === undefined ||
      !B64URL.test(ivText) ||
      !B64URL.test(bodyText)
    ) {
      throw decryptFailed(field);
    }
    const iv = Buffer.from(ivText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    // Only the canonical encoding is accepted, so one stored value has one spelling.
    if (iv.length !== IV_LENGTH || body.length < TAG_LENGTH) throw decryptFailed(field);
    if (iv.toString('base64url') !== ivText || body.toString('base64url') !== bodyText) {
      throw decryptFailed(field);
    }
    try {
      const options = { authTagLength: TAG_LENGTH };
      const decipher = createDecipheriv('aes-256-gcm', this.#key, iv, options);
      decipher.setAAD(aad);
      decipher.setAuthTag(body.subarray(body.length - TAG_LENGTH));
      const head = decipher.update(body.subarray(0, body.length - TAG_LENGTH));
      const tail = decipher.final();
      const out = new Uint8Array(head.length + tail.length);
      out.set(head);
      out.set(tail, head.length);
      head.fill(0);
      return out;
    } catch {
      throw decryptFailed(field);
    }
  }

  /** Overwrites the key held by this box; it cannot be used afterwards. */
  destroy(): void {
    this.#key.fill(0);
  }
}

function decryptFailed(field: string): CryptoError {
  return new CryptoError(ErrorCode.DECRYPT, {
    field,
    rule:
      'must decrypt and authenticate under the storage key ' +
      '(AES-256-GCM, AAD = table, column, primary key)',
  });
}

/** Where the storage key comes from. */
export interface StorageKeySource {
  /** A key file holding 64 hex digits; it wins over the environment when given. */
  readonly file?: string | undefined;
  /** The environment to read MCSEC_STORAGE_KEY from (default: process.env). */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Create `file` with a fresh random key (mode 0600) when it does not exist. */
  readonly create?: boolean | undefined;
  /** Randomness for a created key. */
  readonly rng?: ((n: number) => Uint8Array) | undefined;
}

/**
 * The 32-octet storage key: from `file` when given (created when `create` is set and it is
 * absent), otherwise from MCSEC_STORAGE_KEY. A key file readable by group or others is refused.
 */
export function loadStorageKey(source: StorageKeySource = {}): Uint8Array {
  const { file } = source;
  if (file !== undefined) {
    if (source.create === true) createKeyFile(file, source.rng ?? randomBytes);
    let text: string;
    try {
      const mode = statSync(file).mode;
      if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
        throw new ConfigError(ErrorCode.CONFIG, {
          field: '--storage-key-file',
          rule: 'must not be readable or writable by group or others (chmod 600)',
        });
      }
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(ErrorCode.IO, {
        field: '--storage-key-file',
        rule: 'must name a readable file holding the storage key',
      });
    }
    return parseKey(text.trim(), '--storage-key-file');
  }
  const env = source.env ?? process.env;
  const value = env[STORAGE_KEY_ENV];
  if (value === undefined || value === '') {
    throw new ConfigError(ErrorCode.CONFIG, {
      field: STORAGE_KEY_ENV,
      rule: 'must be set (64 hex digits), or a storage key file given, to encrypt secrets at rest',
    });
  }
  return parseKey(value.trim(), STORAGE_KEY_ENV);
}

function parseKey(text: string, field: string): Uint8Array {
  if (!/^[0-9a-fA-F]{64}$/.test(text)) {
    const rule = 'must be 64 hex digits (a 32-octet AES-256 key)';
    throw new ConfigError(ErrorCode.CONFIG, { field, rule });
  }
  return fromHex(text, field);
}

function createKeyFile(file: string, rng: (n: number) => Uint8Array): void {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return;
    throw new ConfigError(ErrorCode.IO, {
      field: '--storage-key-file',
      rule: 'could not be created (is its folder there and writable?)',
    });
  }
  const key = rng(KEY_LENGTH);
  try {
    writeSync(fd, `${toHex(key)}\n`);
  } finally {
    key.fill(0);
    closeSync(fd);
  }
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === code;
}
