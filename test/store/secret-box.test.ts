/**
 * The storage key box (secret-box.ts): AES-256-GCM with table, column and primary key as AAD,
 * `v1.<iv>.<ciphertext+tag>`; every failure to open is CryptoError ERR_DECRYPT.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConfigError, CryptoError } from '../../src/errors/index.js';
import { loadStorageKey, SecretBox, storeAad, STORAGE_KEY_ENV } from '../../src/store/index.js';

const key = new Uint8Array(randomBytes(32));
const box = new SecretBox(key);
const aad = storeAad('kms_key_set', 'ssk_wrapped', ['kms.example.org', 'sip:alice@example.org', 7]);
const dir = mkdtempSync(join(tmpdir(), 'mcsec-secret-box-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('SecretBox', () => {
  test('round trip, and the wrapped form is v1.<iv>.<body> without the plaintext', () => {
    const secret = new Uint8Array(randomBytes(32));
    const wrapped = box.seal(secret, aad);
    assert.match(wrapped, /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    assert.ok(!wrapped.includes(Buffer.from(secret).toString('hex')));
    assert.deepEqual(box.open(wrapped, aad), secret);
    assert.notEqual(box.seal(secret, aad), wrapped, 'a fresh IV each time');
  });

  test('round trip of any bytes under any AAD (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.string(), (plain, where) => {
        const a = storeAad('t', 'c', [where]);
        assert.deepEqual(box.open(box.seal(plain, a), a), plain);
      }),
    );
  });

  test('any single-character change of the wrapped value is ERR_DECRYPT', () => {
    const wrapped = box.seal(new Uint8Array(randomBytes(48)), aad);
    fc.assert(
      fc.property(fc.nat({ max: wrapped.length - 1 }), fc.constantFrom('A', 'b', '_', '-', '.', '0'), (at, ch) => {
        const tampered = wrapped.slice(0, at) + ch + wrapped.slice(at + 1);
        fc.pre(tampered !== wrapped);
        assert.throws(() => box.open(tampered, aad, 'x.y'), (e: unknown) => e instanceof CryptoError && e.code === 'ERR_DECRYPT' && e.field === 'x.y');
      }),
    );
  });

  test('truncated, empty, other version or bad base64url: ERR_DECRYPT naming the field', () => {
    const wrapped = box.seal(new Uint8Array([1, 2, 3]), aad);
    for (const bad of [
      '',
      wrapped.slice(0, -1),
      wrapped.replace(/^v1/, 'v2'),
      `${wrapped}.x`,
      wrapped.replace('.', '.!'),
      'v1..',
      'v1.AAAAAAAAAAAAAAAA.AAAA',
    ]) {
      assert.throws(() => box.open(bad, aad, 'kms_domain.z_wrapped'), { name: 'CryptoError', code: 'ERR_DECRYPT', field: 'kms_domain.z_wrapped' });
    }
  });

  test('another row, column or table as AAD is ERR_DECRYPT', () => {
    const wrapped = box.seal(new Uint8Array(randomBytes(32)), aad);
    for (const other of [
      storeAad('kms_key_set', 'ssk_wrapped', ['kms.example.org', 'sip:alice@example.org', 8]),
      storeAad('kms_key_set', 'ssk_wrapped', ['kms.example.org', 'sip:bob@example.org', 7]),
      storeAad('kms_key_set', 'rsk_wrapped', ['kms.example.org', 'sip:alice@example.org', 7]),
      storeAad('kms_domain', 'ssk_wrapped', ['kms.example.org', 'sip:alice@example.org', 7]),
    ]) {
      assert.throws(() => box.open(wrapped, other), { code: 'ERR_DECRYPT' });
    }
  });

  test('storeAad cannot be confused by separators inside key parts', () => {
    assert.notDeepEqual(storeAad('t', 'c', ['a|b', 'c']), storeAad('t', 'c', ['a', 'b|c']));
    assert.notDeepEqual(storeAad('t', 'c', ['a","b']), storeAad('t', 'c', ['a', 'b']));
    assert.notDeepEqual(storeAad('t', 'c', [7]), storeAad('t', 'c', ['7']));
  });

  test('another key is ERR_DECRYPT', () => {
    const wrapped = box.seal(new Uint8Array(randomBytes(32)), aad);
    const other = new SecretBox(new Uint8Array(randomBytes(32)));
    assert.throws(() => other.open(wrapped, aad), { name: 'CryptoError', code: 'ERR_DECRYPT' });
  });

  test('a key that is not 32 octets is ERR_CONFIG', () => {
    for (const n of [0, 16, 31, 33, 64]) {
      assert.throws(() => new SecretBox(new Uint8Array(n)), { name: 'ConfigError', code: 'ERR_CONFIG', field: 'storageKey' });
    }
  });

  test('an injected rng gives a reproducible value; a destroyed box no longer opens', () => {
    const iv = () => new Uint8Array(12).fill(9);
    const a = new SecretBox(key, iv).seal(new Uint8Array([5]), aad);
    const b = new SecretBox(key, iv).seal(new Uint8Array([5]), aad);
    assert.equal(a, b);
    const doomed = new SecretBox(key);
    doomed.destroy();
    assert.throws(() => doomed.open(a, aad), { code: 'ERR_DECRYPT' });
    assert.deepEqual(box.open(a, aad), new Uint8Array([5]), 'the caller key was copied, not zeroed');
  });
});

describe('loadStorageKey', () => {
  const hex = Buffer.from(key).toString('hex');

  test(`from ${STORAGE_KEY_ENV}: 64 hex digits, either case, surrounding space ignored`, () => {
    assert.deepEqual(loadStorageKey({ env: { [STORAGE_KEY_ENV]: hex } }), key);
    assert.deepEqual(loadStorageKey({ env: { [STORAGE_KEY_ENV]: ` ${hex.toUpperCase()}\n` } }), key);
  });

  test('missing or malformed key in the environment is ERR_CONFIG naming the variable', () => {
    for (const value of [undefined, '', hex.slice(2), `${hex}00`, `${hex.slice(1)}g`, 'x'.repeat(64)]) {
      assert.throws(() => loadStorageKey({ env: { [STORAGE_KEY_ENV]: value } }), (e: unknown) => {
        return e instanceof ConfigError && e.code === 'ERR_CONFIG' && e.field === STORAGE_KEY_ENV && !e.message.includes(hex);
      });
    }
  });

  test('from a key file; the file wins over the environment', () => {
    const file = join(dir, 'key-a');
    writeFileSync(file, `${hex}\n`, { mode: 0o600 });
    const other = 'ab'.repeat(32);
    assert.deepEqual(loadStorageKey({ file, env: { [STORAGE_KEY_ENV]: other } }), key);
  });

  test('create: a new file with mode 0600 and a fresh key, then the same key again', () => {
    const file = join(dir, 'key-new');
    const first = loadStorageKey({ file, create: true });
    assert.equal(first.length, 32);
    if (process.platform !== 'win32') assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(readFileSync(file, 'utf8'), /^[0-9a-f]{64}\n$/);
    assert.deepEqual(loadStorageKey({ file, create: true }), first, 'an existing file is kept');
    assert.deepEqual(loadStorageKey({ file }), first);
  });

  test('a key file readable by others, a missing file, or bad content is refused', { skip: process.platform === 'win32' && 'POSIX modes' }, () => {
    const open = join(dir, 'key-open');
    writeFileSync(open, hex);
    chmodSync(open, 0o644);
    assert.throws(() => loadStorageKey({ file: open }), { name: 'ConfigError', code: 'ERR_CONFIG', field: '--storage-key-file' });
    assert.throws(() => loadStorageKey({ file: join(dir, 'absent') }), { name: 'ConfigError', code: 'ERR_IO', field: '--storage-key-file' });
    const bad = join(dir, 'key-bad');
    writeFileSync(bad, 'not a key', { mode: 0o600 });
    assert.throws(() => loadStorageKey({ file: bad }), { name: 'ConfigError', code: 'ERR_CONFIG', field: '--storage-key-file' });
    assert.throws(() => loadStorageKey({ file: join(dir, 'no-such-dir', 'k'), create: true }), { code: 'ERR_IO' });
  });
});
