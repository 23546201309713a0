/**
 * RFC 3711 §4.3 AES-CM PRF (kdr 0) against Appendix B.2 / B.3, the 96-bit salt layout, the SRTCP
 * label position of Errata ID 3712, and the RFC 7714 AEAD_AES_128_GCM IVs and seal / open
 * against §16.1 and §17.1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { SrtpLabel, aesCmPrf, deriveSrtcpSessionKeys, deriveSrtpSessionKeys } from '../../src/crypto/srtp-kdf.js';
import { srtcpAeadIv, srtpAeadIv, srtpAeadOpen, srtpAeadSeal } from '../../src/crypto/srtp-aead.js';
import { CryptoError } from '../../src/errors/index.js';
import { toHex } from '../../src/util/index.js';
import { loadVectors } from '../fixtures/vectors.js';

const b = loadVectors('rfc3711/appendix-b.json');
const g = loadVectors('rfc7714/aead-aes-128-gcm.json');

test('RFC 3711 B.3: cipher key, cipher salt and authentication key', () => {
  for (const c of b.list('cases')) {
    const mk = c.hex('masterKey');
    const ms = c.hex('masterSalt');
    assert.equal(toHex(aesCmPrf(mk, ms, SrtpLabel.RTP_ENCRYPTION, 16)), toHex(c.hex('cipherKey')), c.str('name'));
    assert.equal(toHex(aesCmPrf(mk, ms, SrtpLabel.RTP_SALT, 14)), toHex(c.hex('cipherSalt')));
    const auth = c.hex('authKey');
    assert.equal(toHex(aesCmPrf(mk, ms, SrtpLabel.RTP_AUTHENTICATION, auth.length)), toHex(auth));
  }
});

test('RFC 3711 B.2: label 0 and index 0 leave x = salt, so the PRF is the B.2 keystream', () => {
  const k = b.obj('keystream');
  const ks = k.hex('keystream');
  assert.equal(toHex(aesCmPrf(k.hex('sessionKey'), k.hex('sessionSalt'), 0, ks.length)), toHex(ks));
});

test('a 12-octet master salt is the high 96 of the 112 salt bits; r is 48 bits (label at octet 7)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.nat({ max: 5 }), (mk, ms, label) => {
      const iv = new Uint8Array(16);
      iv.set(ms);
      iv[7] = (iv[7] as number) ^ label;
      const want = createCipheriv('aes-128-ctr', mk, iv).update(new Uint8Array(16));
      assert.equal(toHex(aesCmPrf(mk, ms, label, 16)), toHex(want));
      // Same as the 14-octet salt ms || 00 00.
      assert.equal(toHex(aesCmPrf(mk, ms, label, 16)), toHex(aesCmPrf(mk, new Uint8Array([...ms, 0, 0]), label, 16)));
    }),
  );
});

test('SRTCP keys: Errata ID 3712 (r on 48 bits, label at octet 7) by default; 32 bits moves it to octet 9', () => {
  const master = { masterKey: new Uint8Array(16).fill(7), masterSalt: new Uint8Array(12).fill(9) };
  const errata = deriveSrtcpSessionKeys(master);
  assert.equal(toHex(errata.key), toHex(aesCmPrf(master.masterKey, master.masterSalt, 3, 16, 48)));
  assert.equal(toHex(errata.salt), toHex(aesCmPrf(master.masterKey, master.masterSalt, 5, 12, 48)));
  const published = deriveSrtcpSessionKeys(master, 32);
  assert.notEqual(toHex(published.key), toHex(errata.key));
  const iv = new Uint8Array(16);
  iv.set(master.masterSalt);
  iv[9] = (iv[9] as number) ^ 3;
  assert.equal(toHex(published.key), toHex(createCipheriv('aes-128-ctr', master.masterKey, iv).update(new Uint8Array(16))));
  const rtp = deriveSrtpSessionKeys(master);
  assert.equal(rtp.key.length, 16);
  assert.equal(rtp.salt.length, 12);
  assert.ok(Object.isFrozen(rtp));
});

test('AES-CM PRF input checks name the field', () => {
  assert.throws(() => aesCmPrf(new Uint8Array(15), new Uint8Array(14), 0, 16), { code: 'ERR_BAD_LENGTH', field: 'srtpKdf.masterKey' });
  assert.throws(() => aesCmPrf(new Uint8Array(16), new Uint8Array(13), 0, 16), { code: 'ERR_BAD_LENGTH', field: 'srtpKdf.masterSalt' });
  assert.throws(() => aesCmPrf(new Uint8Array(16), new Uint8Array(14), 256, 16), { code: 'ERR_BAD_VALUE', field: 'srtpKdf.label' });
});

test('RFC 7714 §16.1 / §17.1: IVs and AEAD_AES_128_GCM output byte for byte', () => {
  const key = g.hex('sessionKey');
  const salt = g.hex('sessionSalt');
  for (const c of g.list('cases')) {
    const plain = c.hex('plain');
    const prot = c.hex('protected');
    if (c.str('kind') === 'srtp') {
      const iv = srtpAeadIv(salt, 0x5501a0b2, c.int('roc'), 0xf17b);
      assert.equal(toHex(iv), toHex(c.hex('iv')));
      const sealed = srtpAeadSeal(key, iv, [plain.subarray(0, 12)], plain.subarray(12));
      assert.equal(toHex(sealed), toHex(prot.subarray(12)), c.str('name'));
      assert.equal(toHex(srtpAeadOpen(key, iv, [plain.subarray(0, 12)], sealed, 'srtp')), toHex(plain.subarray(12)));
    } else if (c.int('encrypted') === 1) {
      const iv = srtcpAeadIv(salt, 0x4d617273, c.int('index'));
      const trailer = prot.subarray(prot.length - 4);
      const sealed = srtpAeadSeal(key, iv, [plain.subarray(0, 8), trailer], plain.subarray(8));
      assert.equal(toHex(sealed), toHex(prot.subarray(8, prot.length - 4)), c.str('name'));
    }
  }
});

test('AEAD open: every single-bit change of ciphertext, tag or AAD is ERR_DECRYPT', () => {
  const key = new Uint8Array(16).fill(1);
  const iv = new Uint8Array(12).fill(2);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.nat(), fc.nat({ max: 7 }), (pt, aad, at, bit) => {
      const sealed = srtpAeadSeal(key, iv, [aad], pt);
      const both = [...aad, ...sealed];
      const i = at % both.length;
      both[i] = (both[i] as number) ^ (1 << bit);
      const a2 = Uint8Array.from(both.slice(0, aad.length));
      const s2 = Uint8Array.from(both.slice(aad.length));
      assert.throws(() => srtpAeadOpen(key, iv, [a2], s2, 'x'), (e: unknown) => e instanceof CryptoError && e.code === 'ERR_DECRYPT' && e.field === 'x');
    }),
  );
  assert.throws(() => srtpAeadOpen(key, iv, [], new Uint8Array(15), 'x'), { code: 'ERR_DECRYPT' });
});
