/**
 * TS 33.180 §7.4 / §9.4.6: the MIKEY PRF-HMAC-SHA-256 (RFC 6043 §6.1 on RFC 3830 §4.1.2) checked
 * against a reference written here on @noble/hashes (an independent HMAC), the RFC 3830 §4.1.3
 * label layout, the CS-IDs of Table E.1.3-1 and the private / group / SRTCP derivations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { deriveGukId, deriveUserSalt } from '../../src/crypto/key-derivation.js';
import { MikeyKeyConstant, deriveFromTgk, mikeyPrfHmacSha256, mikeyTgkLabel } from '../../src/crypto/mikey-prf.js';
import {
  CsId,
  deriveGroupCallMaster,
  deriveKfcRand,
  derivePrivateCallMaster,
  deriveSrtcpMaster,
  deriveSrtpMaster,
  groupCallCsId,
  privateCallCsId,
  srtcpCsId,
} from '../../src/crypto/srtp-key-derivation.js';
import { fromHex, toHex } from '../../src/util/index.js';

/** RFC 3830 §4.1.2 written out plainly: P per 256-bit chunk, XORed, truncated. */
function referencePrf(inkey: Uint8Array, label: Uint8Array, outLength: number): Uint8Array {
  const m = Math.ceil(outLength / 32);
  const acc = new Uint8Array(m * 32);
  for (let at = 0; at < inkey.length; at += 32) {
    const s = inkey.slice(at, at + 32);
    let a = label;
    for (let i = 0; i < m; i++) {
      a = hmac(sha256, s, a);
      const block = hmac(sha256, s, new Uint8Array([...a, ...label]));
      for (let j = 0; j < 32; j++) acc[i * 32 + j] = (acc[i * 32 + j] as number) ^ (block[j] as number);
    }
  }
  return acc.slice(0, outLength);
}

const bytes = (min: number, max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: min, maxLength: max });
const key = fc.oneof(bytes(16, 16), bytes(32, 32));
const rand = bytes(16, 64);
const u32 = fc.nat({ max: 0xffff_ffff });
const tagged = (tag: number): fc.Arbitrary<number> => fc.nat({ max: 0x0fff_ffff }).map((n) => ((tag << 28) | n) >>> 0);

test('RFC 3830 §4.1.3 constants: TEK 0x2AD01C64, salting key 0x39A2C14B', () => {
  assert.equal(MikeyKeyConstant.TEK, 0x2ad01c64);
  assert.equal(MikeyKeyConstant.SALT, 0x39a2c14b);
  assert.equal(MikeyKeyConstant.AUTHENTICATION, 0x1b5c7973);
  assert.equal(MikeyKeyConstant.ENCRYPTION, 0x15798cef);
  assert.ok(Object.isFrozen(MikeyKeyConstant));
});

test('RFC 3830 §4.1.3 label = constant || cs_id || csb_id || RAND', () => {
  const label = mikeyTgkLabel(0x2ad01c64, 4, 0x0123_4567, fromHex('00112233445566778899aabbccddeeff'));
  assert.equal(toHex(label), '2ad01c6404012345670011223344556677' + '8899aabbccddeeff');
  assert.throws(() => mikeyTgkLabel(0x2ad01c64, 256, 0, new Uint8Array(16)), { code: 'ERR_BAD_VALUE', field: 'mikeyKdf.csId' });
  assert.throws(() => mikeyTgkLabel(0x2ad01c64, 0, 2 ** 32, new Uint8Array(16)), { code: 'ERR_BAD_VALUE', field: 'mikeyKdf.csbId' });
});

test('PRF-HMAC-SHA-256 equals RFC 3830 §4.1.2 with HMAC-SHA-256, any key and output length', () => {
  fc.assert(
    fc.property(bytes(1, 100), bytes(0, 80), fc.integer({ min: 1, max: 100 }), (inkey, label, n) => {
      assert.equal(toHex(mikeyPrfHmacSha256(inkey, label, n)), toHex(referencePrf(inkey, label, n)));
    }),
    { numRuns: 200 },
  );
});

test('PRF: a 128- or 256-bit TGK is one chunk, so a 16-octet output is HMAC(s, HMAC(s, label) || label)', () => {
  fc.assert(
    fc.property(key, bytes(9, 60), (tgk, label) => {
      const a1 = hmac(sha256, tgk, label);
      const want = hmac(sha256, tgk, new Uint8Array([...a1, ...label])).slice(0, 16);
      assert.equal(toHex(mikeyPrfHmacSha256(tgk, label, 16)), toHex(want));
      // P is a concatenation: a shorter output is a prefix of a longer one.
      assert.equal(toHex(mikeyPrfHmacSha256(tgk, label, 12)), toHex(mikeyPrfHmacSha256(tgk, label, 40).slice(0, 12)));
    }),
  );
});

test('PRF refuses an empty key and a bad output length', () => {
  assert.throws(() => mikeyPrfHmacSha256(new Uint8Array(0), new Uint8Array(1), 16), { code: 'ERR_BAD_LENGTH', field: 'mikeyPrf.inkey' });
  assert.throws(() => mikeyPrfHmacSha256(new Uint8Array(16), new Uint8Array(1), 0), { code: 'ERR_BAD_VALUE', field: 'mikeyPrf.outLength' });
});

test('Table E.1.3-1 CS-IDs', () => {
  assert.deepEqual(
    [
      privateCallCsId('MCPTT', 'initiator'),
      privateCallCsId('MCPTT', 'receiver'),
      privateCallCsId('MCVideo', 'initiator'),
      privateCallCsId('MCVideo', 'receiver'),
      groupCallCsId('MCPTT'),
      groupCallCsId('MCVideo'),
      srtcpCsId('CSK', 'MCPTT'),
      srtcpCsId('MuSiK', 'MCPTT'),
      srtcpCsId('CSK', 'MCVideo'),
      srtcpCsId('MuSiK', 'MCVideo'),
    ],
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.deepEqual(Object.values(CsId), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('master key = PRF(TGK, TEK label, 16), master salt = PRF(TGK, salt label, 12)', () => {
  fc.assert(
    fc.property(key, fc.nat({ max: 255 }), u32, rand, (tgk, csId, csbId, r) => {
      const m = deriveSrtpMaster({ tgk, csId, csbId, rand: r });
      assert.equal(toHex(m.masterKey), toHex(referencePrf(tgk, mikeyTgkLabel(0x2ad01c64, csId, csbId, r), 16)));
      assert.equal(toHex(m.masterSalt), toHex(referencePrf(tgk, mikeyTgkLabel(0x39a2c14b, csId, csbId, r), 12)));
      assert.ok(Object.isFrozen(m));
    }),
    { numRuns: 100 },
  );
});

test('§7.4.1 private call: CSB-ID = PCK-ID, the two directions get different keys', () => {
  fc.assert(
    fc.property(key, tagged(1), rand, fc.constantFrom('MCPTT' as const, 'MCVideo' as const), (pck, pckId, r, service) => {
      const ini = derivePrivateCallMaster({ pck, pckId, rand: r, service, origin: 'initiator' });
      const rec = derivePrivateCallMaster({ pck, pckId, rand: r, service, origin: 'receiver' });
      assert.equal(toHex(ini.masterKey), toHex(deriveFromTgk(pck, 0x2ad01c64, service === 'MCPTT' ? 0 : 2, pckId, r, 16)));
      assert.equal(toHex(rec.masterKey), toHex(deriveFromTgk(pck, 0x2ad01c64, service === 'MCPTT' ? 1 : 3, pckId, r, 16)));
      assert.notEqual(toHex(ini.masterKey), toHex(rec.masterKey));
    }),
    { numRuns: 50 },
  );
  const ok = { pck: new Uint8Array(16), rand: new Uint8Array(16), service: 'MCPTT', origin: 'initiator' } as const;
  assert.throws(() => derivePrivateCallMaster({ ...ok, pckId: 0x2000_0001 }), { code: 'ERR_BAD_VALUE', field: 'srtpKdf.pckId' });
  assert.throws(() => derivePrivateCallMaster({ ...ok, pckId: 0x1000_0001, pck: new Uint8Array(20) }), { code: 'ERR_BAD_LENGTH', field: 'srtpKdf.pck' });
  assert.throws(() => derivePrivateCallMaster({ ...ok, pckId: 0x1000_0001, rand: new Uint8Array(15) }), { code: 'ERR_BAD_LENGTH', field: 'srtpKdf.rand' });
});

test("§7.4.2 group call: one master key per sender, CSB-ID = the sender's GUK-ID", () => {
  fc.assert(
    fc.property(key, tagged(0), rand, fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (gmk, gmkId, r, alice, bob) => {
      fc.pre(alice !== bob);
      const gukA = deriveGukId(gmkId, deriveUserSalt(gmk, alice));
      const gukB = deriveGukId(gmkId, deriveUserSalt(gmk, bob));
      const a = deriveGroupCallMaster({ gmk, gukId: gukA, rand: r, service: 'MCPTT' });
      assert.equal(toHex(a.masterKey), toHex(deriveFromTgk(gmk, 0x2ad01c64, 4, gukA, r, 16)));
      if (gukA !== gukB) {
        assert.notEqual(toHex(a.masterKey), toHex(deriveGroupCallMaster({ gmk, gukId: gukB, rand: r, service: 'MCPTT' }).masterKey));
      }
      const video = deriveGroupCallMaster({ gmk, gukId: gukA, rand: r, service: 'MCVideo' });
      assert.equal(toHex(video.masterSalt), toHex(deriveFromTgk(gmk, 0x39a2c14b, 5, gukA, r, 12)));
    }),
    { numRuns: 50 },
  );
  assert.throws(
    () => deriveGroupCallMaster({ gmk: new Uint8Array(16), gukId: 0x1000_0000, rand: new Uint8Array(16), service: 'MCPTT' }),
    { code: 'ERR_BAD_VALUE', field: 'srtpKdf.gukId' },
  );
});

test('§9.4.6 SRTCP: TGK = KFC, CSB-ID = KFC-ID, RAND = KFC-RAND', () => {
  fc.assert(
    fc.property(key, tagged(2), rand, (csk, cskId, r) => {
      const m = deriveSrtcpMaster({ kfc: csk, kfcId: cskId, kfcRand: r, csId: srtcpCsId('CSK', 'MCPTT') });
      assert.equal(toHex(m.masterKey), toHex(deriveFromTgk(csk, 0x2ad01c64, 6, cskId, r, 16)));
      assert.equal(toHex(m.masterSalt), toHex(deriveFromTgk(csk, 0x39a2c14b, 6, cskId, r, 12)));
    }),
    { numRuns: 50 },
  );
});

test('KFC-RAND mcsec sends with a KFC: HMAC-SHA-256(KFC, "mcsec KFC RAND" || KFC-ID), 16 octets (§9.4.2, §9.4.3)', () => {
  fc.assert(
    fc.property(key, tagged(6), (musik, musikId) => {
      const want = hmac(sha256, musik, Uint8Array.of(...new TextEncoder().encode('mcsec KFC RAND'), musikId >>> 24, (musikId >>> 16) & 0xff, (musikId >>> 8) & 0xff, musikId & 0xff)).subarray(0, 16);
      assert.equal(toHex(deriveKfcRand(musik, musikId)), toHex(want));
      assert.notEqual(toHex(deriveKfcRand(musik, (musikId ^ 1) >>> 0)), toHex(want));
    }),
    { numRuns: 50 },
  );
  assert.throws(() => deriveKfcRand(new Uint8Array(15), 0x2000_0001), { code: 'ERR_BAD_LENGTH', field: 'kfcRand.kfc' });
  assert.throws(() => deriveKfcRand(new Uint8Array(16), -1), { code: 'ERR_BAD_VALUE', field: 'kfcRand.kfcId' });
});
