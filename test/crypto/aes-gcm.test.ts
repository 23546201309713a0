/**
 * AEAD_AES_128_GCM / AEAD_AES_256_GCM (RFC 5116) as src/crypto/aes-gcm.ts exposes them: the GCM
 * specification's test cases (one with a non-96-bit IV, the case of TS 33.180 §8.5.4.2), a round
 * trip with the 16-octet IV of Table 8.5.4.1-1, and one uniform ERR_DECRYPT for any change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AES_GCM_TAG_LENGTH, openAesGcm, sealAesGcm } from '../../src/crypto/index.js';
import { CryptoError } from '../../src/errors/index.js';
import { concatBytes, toHex } from '../../src/util/index.js';
import { loadVectors } from '../fixtures/vectors.js';

const gcm = loadVectors('gcm-spec/aes-gcm.json');

for (const c of gcm.list('cases')) {
  test(`GCM spec ${c.str('name')}: seal and open`, () => {
    const sealed = sealAesGcm(c.hex('key'), c.hex('iv'), c.hex('aad'), c.hex('plaintext'));
    assert.equal(toHex(sealed), c.str('ciphertext') + c.str('tag'));
    assert.ok(!(sealed instanceof Buffer), 'a plain Uint8Array, not a Buffer');
    assert.deepEqual(openAesGcm(c.hex('key'), c.hex('iv'), c.hex('aad'), sealed), c.hex('plaintext'));
  });
}

test('round trip with a 16-octet IV and both key sizes; any changed octet of key, IV, AD or sealed data is ERR_DECRYPT', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(16, 32),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.uint8Array({ maxLength: 40 }),
      fc.uint8Array({ maxLength: 80 }),
      fc.nat(),
      (n, k, iv, ad, pt, pick) => {
        const key = k.subarray(0, n);
        const sealed = sealAesGcm(key, iv, ad, pt);
        assert.equal(sealed.length, pt.length + AES_GCM_TAG_LENGTH);
        assert.deepEqual(openAesGcm(key, iv, ad, sealed), pt);
        const inputs = [key, iv, ad, sealed].filter((x) => x.length > 0);
        const target = inputs[pick % inputs.length] as Uint8Array;
        const at = pick % target.length;
        const changed = target.slice();
        changed[at] = (changed[at] as number) ^ 0x01;
        const args = [key, iv, ad, sealed].map((x) => (x === target ? changed : x)) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
        assert.throws(() => openAesGcm(...args, 'x.payload'), (err: unknown) => err instanceof CryptoError && err.code === 'ERR_DECRYPT' && err.field === 'x.payload');
      },
    ),
    { numRuns: 300 },
  );
});

test('a sealed value shorter than the tag, or with a tag appended twice, is ERR_DECRYPT; bad key and IV sizes are ERR_BAD_LENGTH', () => {
  const key = new Uint8Array(16);
  const iv = new Uint8Array(16);
  const sealed = sealAesGcm(key, iv, new Uint8Array(0), new Uint8Array(5));
  assert.throws(() => openAesGcm(key, iv, new Uint8Array(0), sealed.subarray(0, 15)), { code: 'ERR_DECRYPT' });
  assert.throws(() => openAesGcm(key, iv, new Uint8Array(0), concatBytes(sealed, sealed.subarray(-16))), { code: 'ERR_DECRYPT' });
  assert.throws(() => sealAesGcm(new Uint8Array(24), iv, new Uint8Array(0), new Uint8Array(0)), { code: 'ERR_BAD_LENGTH', field: 'aesGcm.key' });
  assert.throws(() => sealAesGcm(key, new Uint8Array(8), new Uint8Array(0), new Uint8Array(0)), { code: 'ERR_BAD_LENGTH', field: 'aesGcm.iv' });
});
