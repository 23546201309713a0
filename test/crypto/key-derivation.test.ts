/**
 * TS 33.180 Annex F.1 derivations on the TS 33.220 KDF, each checked against the KDF itself:
 * User Salt (§F.1.3, FC 0x50), GUK-ID = GMK-ID XOR salt (§5.2.1), XML signalling keys from an
 * XPK (§F.1.4, FC 0x51 / 0x52) and the DPCK from a DPPK (§F.1.5, FC 0x53).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  KdfFc,
  decodeKeyId,
  deriveDpck,
  deriveGukId,
  deriveUserSalt,
  deriveXmlKey,
  generateKeyId,
  gmkIdFromGukId,
  kdf,
} from '../../src/crypto/index.js';
import { fromHex } from '../../src/util/index.js';

const key128 = fc.uint8Array({ minLength: 16, maxLength: 16 });
const key256 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const anyKey = fc.oneof(key128, key256);
const userId = fc.string({ minLength: 1, maxLength: 40 });
const u32 = fc.nat({ max: 0xffff_ffff });
const be32 = (n: number): Uint8Array =>
  Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
/** The last four octets of a KDF output as an unsigned integer. */
const low32 = (out: Uint8Array): number =>
  new DataView(out.buffer, out.byteOffset).getUint32(out.length - 4);

test('the FC values of §F.1 are 0x50 to 0x53', () => {
  assert.deepEqual(
    { ...KdfFc },
    {
      USER_SALT: 0x50,
      SIGNALLING_CONFIDENTIALITY: 0x51,
      SIGNALLING_INTEGRITY: 0x52,
      MCDATA_PAYLOAD: 0x53,
    },
  );
  assert.ok(Object.isFrozen(KdfFc));
});

test('§F.1.3: User Salt is the 28 low bits of KDF(GMK, 0x50, [MC service user ID])', () => {
  fc.assert(
    fc.property(anyKey, userId, (gmk, id) => {
      const salt = deriveUserSalt(gmk, id);
      assert.ok(Number.isInteger(salt) && salt >= 0 && salt < 2 ** 28);
      assert.equal(salt, low32(kdf(gmk, 0x50, [id])) & 0x0fff_ffff);
    }),
    { numRuns: 300 },
  );
});

test('§F.1.3: a fixed example, computed independently from the KDF output', () => {
  const gmk = fromHex('000102030405060708090a0b0c0d0e0f');
  const out = kdf(gmk, 0x50, ['sip:alice@example.org']);
  const last =
    ((out[28] as number) & 0x0f) * 2 ** 24 +
    (out[29] as number) * 2 ** 16 +
    (out[30] as number) * 256 +
    (out[31] as number);
  assert.equal(deriveUserSalt(gmk, 'sip:alice@example.org'), last);
  assert.notEqual(
    deriveUserSalt(gmk, 'sip:alice@example.org'),
    deriveUserSalt(gmk, 'sip:bob@example.org'),
  );
});

test('§5.2.1: GUK-ID keeps the purpose tag, and gmkIdFromGukId inverts deriveGukId', () => {
  fc.assert(
    fc.property(u32, u32, (gmkId, salt) => {
      const guk = deriveGukId(gmkId, salt);
      assert.ok(Number.isInteger(guk) && guk >= 0 && guk <= 0xffff_ffff);
      assert.equal(guk >>> 28, gmkId >>> 28, 'purpose tag kept');
      assert.equal((guk ^ gmkId) & 0x0fff_ffff, salt & 0x0fff_ffff);
      assert.equal(gmkIdFromGukId(guk, salt), gmkId);
      assert.equal(deriveGukId(gmkIdFromGukId(gmkId, salt), salt), gmkId);
    }),
    { numRuns: 1000 },
  );
});

test('§5.2.1: a GMK-ID salted for a user decodes as a GMK key ID again', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), key128, userId, (rnd, gmk, id) => {
      const gmkId = generateKeyId('GMK', () => rnd);
      const guk = deriveGukId(gmkId, deriveUserSalt(gmk, id));
      assert.equal(decodeKeyId(guk).keyType, 'GMK');
      assert.equal(gmkIdFromGukId(guk, deriveUserSalt(gmk, id)), gmkId);
    }),
    { numRuns: 200 },
  );
});

test('§F.1.4: a 128-bit XPK gives the last 16 octets of KDF(XPK, 0x51 | 0x52, [user ID, XPK-ID])', () => {
  fc.assert(
    fc.property(key128, userId, u32, (xpk, id, xpkId) => {
      const conf = deriveXmlKey(xpk, 'confidentiality', id, xpkId);
      const integ = deriveXmlKey(xpk, 'integrity', id, xpkId);
      assert.equal(conf.length, 16);
      assert.deepEqual(conf, kdf(xpk, 0x51, [id, be32(xpkId)]).slice(16));
      assert.deepEqual(integ, kdf(xpk, 0x52, [id, be32(xpkId)]).slice(16));
      assert.notDeepEqual(conf, integ);
    }),
    { numRuns: 200 },
  );
});

test('§F.1.4: a 256-bit XPK gives the whole 32-octet KDF output', () => {
  fc.assert(
    fc.property(key256, userId, u32, (xpk, id, xpkId) => {
      assert.deepEqual(
        deriveXmlKey(xpk, 'confidentiality', id, xpkId),
        kdf(xpk, 0x51, [id, be32(xpkId)]),
      );
      assert.deepEqual(
        deriveXmlKey(xpk, 'integrity', id, xpkId),
        kdf(xpk, 0x52, [id, be32(xpkId)]),
      );
    }),
    { numRuns: 200 },
  );
});

test('§F.1.4: the XPK-ID is always 4 octets, also when its value is small', () => {
  const xpk = new Uint8Array(16).fill(7);
  assert.deepEqual(
    deriveXmlKey(xpk, 'confidentiality', 'u', 0),
    kdf(xpk, 0x51, ['u', Uint8Array.of(0, 0, 0, 0)]).slice(16),
  );
  assert.notDeepEqual(
    deriveXmlKey(xpk, 'confidentiality', 'u', 1),
    kdf(xpk, 0x51, ['u', 1]).slice(16),
  );
});

test('§F.1.5: DPCK from a DPPK: KDF(DPPK, 0x53, [4-octet DPPK-ID]), fitted to the key length', () => {
  fc.assert(
    fc.property(anyKey, u32, (dppk, id) => {
      const dpck = deriveDpck(dppk, id);
      const full = kdf(dppk, 0x53, [be32(id)]);
      assert.equal(dpck.length, dppk.length);
      assert.deepEqual(dpck, dppk.length === 16 ? full.slice(16) : full);
    }),
    { numRuns: 300 },
  );
});

test('derived keys are fresh arrays the caller may overwrite', () => {
  const dppk = new Uint8Array(32).fill(1);
  const a = deriveDpck(dppk, 5);
  a.fill(0);
  assert.notDeepEqual(deriveDpck(dppk, 5), a);
});

test('keys of other lengths are ERR_BAD_LENGTH naming the key', () => {
  for (const n of [0, 1, 15, 17, 24, 31, 33, 64]) {
    const k = new Uint8Array(n);
    assert.throws(
      () => deriveUserSalt(k, 'u'),
      { name: 'FormatError', code: 'ERR_BAD_LENGTH', field: 'gmk' },
      `gmk ${n}`,
    );
    assert.throws(() => deriveXmlKey(k, 'confidentiality', 'u', 1), {
      code: 'ERR_BAD_LENGTH',
      field: 'xpk',
    });
    assert.throws(() => deriveXmlKey(k, 'integrity', 'u', 1), {
      code: 'ERR_BAD_LENGTH',
      field: 'xpk',
    });
    assert.throws(() => deriveDpck(k, 1), { code: 'ERR_BAD_LENGTH', field: 'dppk' });
  }
});

test('key IDs outside 32 bits are refused, never wrapped, before they enter the KDF (Annex G)', () => {
  const key = new Uint8Array(16);
  for (const bad of [-1, 2 ** 32, 2 ** 32 + 5, 1.5, Number.NaN]) {
    assert.throws(() => deriveXmlKey(key, 'integrity', 'sip:a@x', bad), { code: 'ERR_BAD_VALUE', field: 'xpkId' }, String(bad));
    assert.throws(() => deriveDpck(key, bad), { code: 'ERR_BAD_VALUE', field: 'dppkId' }, String(bad));
    assert.throws(() => deriveGukId(bad, 0), { code: 'ERR_BAD_VALUE', field: 'gmkId' }, String(bad));
  }
});
