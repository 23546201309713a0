/**
 * Keys by MKI (TS 33.180 §7.4, §7.5.2, §9.4.6) end to end: a private call in both directions,
 * group senders with the 64-bit GMK-ID || GUK-ID MKI or the 32-bit GMK-ID and the sender known
 * by other means, SRTCP under a CSK / MuSiK / SPK, unknown MKIs, and SSRCs that never repeat
 * under one master key (§7.5.1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { deriveGukId, deriveUserSalt } from '../../src/crypto/key-derivation.js';
import { deriveGroupCallMaster, derivePrivateCallMaster, deriveSrtcpMaster } from '../../src/crypto/srtp-key-derivation.js';
import {
  SrtpKeyRing,
  SrtpReceiver,
  SrtpSender,
  encodeRtpPacket,
  generateSsrc,
  groupMki,
  keyIdMki,
} from '../../src/formats/srtp/index.js';
import { toHex } from '../../src/util/index.js';

const pck = new Uint8Array(16).fill(0x5a);
const pckId = 0x1000_0042;
const gmk = new Uint8Array(32).fill(0x3c);
const gmkId = 0x0000_1234;
const rand = new Uint8Array(16).fill(0x77);
const alice = 'sip:alice@mc.example.org';
const bob = 'sip:bob@mc.example.org';

const rtp = (seq: number, ssrc: number): Uint8Array =>
  encodeRtpPacket({
    header: { padding: false, marker: false, payloadType: 0, sequenceNumber: seq, timestamp: 0, ssrc, csrcs: [], extension: undefined },
    payload: new Uint8Array(160).fill(1),
    padding: new Uint8Array(0),
  });

test('§7.4.1 private call: each side sends under its own CS-ID, MKI = PCK-ID, and opens the other', () => {
  const caller = new SrtpKeyRing();
  const callee = new SrtpKeyRing();
  caller.addPrivateCallKey({ pck, pckId, rand, localRole: 'initiator' });
  callee.addPrivateCallKey({ pck, pckId, rand, localRole: 'receiver' });
  for (const service of ['MCPTT', 'MCVideo'] as const) {
    const up = caller.senderKey(pckId, { service });
    assert.equal(toHex(up.mki), toHex(keyIdMki(pckId)));
    assert.equal(up.csId, service === 'MCPTT' ? 0 : 2);
    assert.equal(toHex(up.masterKey), toHex(derivePrivateCallMaster({ pck, pckId, rand, service, origin: 'initiator' }).masterKey));
    const seen = callee.resolve(up.mki, { service });
    assert.equal(toHex(seen.masterKey), toHex(up.masterKey));
    const down = callee.senderKey(pckId, { service });
    assert.equal(down.csId, service === 'MCPTT' ? 1 : 3);
    assert.equal(toHex(caller.resolve(down.mki, { service }).masterSalt), toHex(down.masterSalt));
    assert.notEqual(toHex(down.masterKey), toHex(up.masterKey));
  }
  // Cached: the same frozen object, so session keys are derived once.
  assert.equal(callee.resolve(keyIdMki(pckId), { service: 'MCPTT' }), callee.resolve(keyIdMki(pckId), { service: 'MCPTT' }));
});

test('§7.4.2 group call: 64-bit MKI GMK-ID || GUK-ID, or the 32-bit GMK-ID with the sender known', () => {
  const a = new SrtpKeyRing();
  const b = new SrtpKeyRing();
  a.addGroupKey({ gmk, gmkId, rand });
  b.addGroupKey({ gmk, gmkId, rand });
  const gukA = deriveGukId(gmkId, deriveUserSalt(gmk, alice));
  const key = a.senderKey(gmkId, { service: 'MCPTT', senderUserId: alice });
  assert.equal(toHex(key.mki), toHex(groupMki(gmkId, gukA)));
  assert.equal(key.csbId, gukA);
  assert.equal(toHex(key.masterKey), toHex(deriveGroupCallMaster({ gmk, gukId: gukA, rand, service: 'MCPTT' }).masterKey));
  assert.equal(toHex(b.resolve(key.mki, { service: 'MCPTT' }).masterKey), toHex(key.masterKey));
  assert.equal(toHex(b.resolve(key.mki, { service: 'MCPTT', senderUserId: alice }).masterKey), toHex(key.masterKey));
  assert.throws(() => b.resolve(key.mki, { service: 'MCPTT', senderUserId: bob }), { code: 'ERR_UNKNOWN_KEY', field: 'srtp.mki' });

  const short = a.senderKey(gmkId, { service: 'MCVideo', senderUserId: alice, shortMki: true });
  assert.equal(toHex(short.mki), toHex(keyIdMki(gmkId)));
  assert.equal(toHex(b.resolve(short.mki, { service: 'MCVideo', senderUserId: alice }).masterKey), toHex(short.masterKey));
  assert.throws(() => b.resolve(short.mki, { service: 'MCVideo' }), { code: 'ERR_UNKNOWN_KEY', field: 'srtp.mki' });
  // Bob's own stream has its own master key.
  const keyB = b.senderKey(gmkId, { service: 'MCPTT', senderUserId: bob });
  assert.notEqual(toHex(keyB.masterKey), toHex(key.masterKey));
});

test('a group call end to end: two senders, one receiver finding each by MKI', () => {
  const ring = new SrtpKeyRing();
  ring.addGroupKey({ gmk, gmkId, rand });
  const rx = new SrtpReceiver({ mkiLength: 8, lookup: (mki, sender) => ring.resolve(mki, { service: 'MCPTT', ...(sender !== undefined ? { senderUserId: sender } : {}) }) }, { rocRate: 1 });
  for (const [user, ssrc] of [[alice, 1], [bob, 2]] as const) {
    const senderRing = new SrtpKeyRing();
    senderRing.addGroupKey({ gmk, gmkId, rand });
    const tx = new SrtpSender(senderRing.senderKey(gmkId, { service: 'MCPTT', senderUserId: user }), { rocRate: 1 });
    for (let seq = 0; seq < 3; seq++) assert.equal(toHex(rx.unprotectRtp(tx.protectRtp(rtp(seq, ssrc)))), toHex(rtp(seq, ssrc)));
  }
});

test('§9.4.6 SRTCP keys: CSK and MuSiK take CS-IDs 6-9; an SPK needs a configured CS-ID', () => {
  const ring = new SrtpKeyRing();
  const csk = new Uint8Array(16).fill(9);
  const cskId = 0x2000_0001;
  const musikId = 0x6000_0002;
  const spkId = 0x3000_0003;
  ring.addControlKey({ kfc: csk, kfcId: cskId, kfcRand: rand });
  ring.addControlKey({ kfc: csk, kfcId: musikId, kfcRand: rand });
  assert.equal(ring.resolve(keyIdMki(cskId), { service: 'MCPTT' }).csId, 6);
  assert.equal(ring.resolve(keyIdMki(musikId), { service: 'MCPTT' }).csId, 7);
  assert.equal(ring.resolve(keyIdMki(cskId), { service: 'MCVideo' }).csId, 8);
  assert.equal(ring.resolve(keyIdMki(musikId), { service: 'MCVideo' }).csId, 9);
  assert.equal(
    toHex(ring.resolve(keyIdMki(cskId), { service: 'MCPTT' }).masterKey),
    toHex(deriveSrtcpMaster({ kfc: csk, kfcId: cskId, kfcRand: rand, csId: 6 }).masterKey),
  );
  assert.throws(() => ring.addControlKey({ kfc: csk, kfcId: spkId, kfcRand: rand }), { code: 'ERR_CONFIG', field: 'srtpKeys.csId' });
  ring.addControlKey({ kfc: csk, kfcId: spkId, kfcRand: rand, csId: 6 });
  assert.equal(ring.resolve(keyIdMki(spkId), { service: 'MCVideo' }).csId, 6);
  assert.throws(() => ring.addControlKey({ kfc: pck, kfcId: pckId, kfcRand: rand }), { code: 'ERR_CONFIG', field: 'srtpKeys.kfcId' });
  // An SRTCP round trip under the CSK.
  const tx = new SrtpSender(ring.senderKey(cskId, { service: 'MCPTT' }));
  const rx = new SrtpReceiver({ mkiLength: 4, lookup: (mki) => ring.resolve(mki, { service: 'MCPTT' }) });
  const app = Uint8Array.of(0x80, 0xcc, 0, 2, 0, 0, 0, 5, 0x4d, 0x43, 0x50, 0x54);
  assert.equal(toHex(rx.unprotectRtcp(tx.protectRtcp(app))), toHex(app));
});

test('unknown MKIs and removed keys are ERR_UNKNOWN_KEY; malformed ones FormatErrors', () => {
  const ring = new SrtpKeyRing();
  ring.addPrivateCallKey({ pck, pckId, rand, localRole: 'initiator' });
  assert.throws(() => ring.resolve(keyIdMki(pckId + 1), { service: 'MCPTT' }), { code: 'ERR_UNKNOWN_KEY', field: 'srtp.mki' });
  assert.throws(() => ring.resolve(keyIdMki(0x2000_0000), { service: 'MCPTT' }), { code: 'ERR_UNKNOWN_KEY' });
  assert.throws(() => ring.resolve(groupMki(5, 6), { service: 'MCPTT' }), { code: 'ERR_UNKNOWN_KEY' });
  assert.throws(() => ring.resolve(new Uint8Array(3), { service: 'MCPTT' }), { code: 'ERR_BAD_LENGTH', field: 'srtp.mki' });
  assert.ok(ring.resolve(keyIdMki(pckId), { service: 'MCPTT' }));
  ring.removeKey(pckId);
  assert.throws(() => ring.resolve(keyIdMki(pckId), { service: 'MCPTT' }), { code: 'ERR_UNKNOWN_KEY' });
  assert.throws(() => ring.addPrivateCallKey({ pck, pckId: gmkId, rand, localRole: 'initiator' }), { code: 'ERR_CONFIG', field: 'srtpKeys.pckId' });
});

test('made-up GUK-IDs cannot grow the derived-key cache past its bound', () => {
  const ring = new SrtpKeyRing({ maxDerived: 8 });
  ring.addGroupKey({ gmk, gmkId, rand });
  const first = ring.resolve(groupMki(gmkId, 1), { service: 'MCPTT' });
  for (let guk = 2; guk < 100; guk++) ring.resolve(groupMki(gmkId, guk), { service: 'MCPTT' });
  // The first entry was dropped: resolving again derives a new (equal) object.
  const again = ring.resolve(groupMki(gmkId, 1), { service: 'MCPTT' });
  assert.notEqual(again, first);
  assert.equal(toHex(again.masterKey), toHex(first.masterKey));
});

test('§7.5.1 SSRCs: random, never one already used under the same master key', () => {
  const ring = new SrtpKeyRing();
  ring.addPrivateCallKey({ pck, pckId, rand, localRole: 'initiator' });
  const key = ring.senderKey(pckId, { service: 'MCPTT' });
  // A source that repeats itself: the ring skips what it handed out before.
  const values = [7, 7, 7, 9, 7, 9, 11];
  let i = 0;
  const rng = (n: number): Uint8Array => {
    const v = values[i++ % values.length] as number;
    return Uint8Array.from({ length: n }, (_, k) => (k === n - 1 ? v : 0));
  };
  assert.deepEqual([ring.newSsrc(key, rng), ring.newSsrc(key, rng), ring.newSsrc(key, rng)], [7, 9, 11]);
  assert.throws(() => generateSsrc(new Set([0]), (n) => new Uint8Array(n)), { code: 'ERR_INTERNAL', field: 'srtp.ssrc' });
  fc.assert(
    fc.property(fc.array(fc.nat({ max: 0xffff_ffff }), { maxLength: 20 }), (used) => {
      const s = generateSsrc(new Set(used));
      assert.ok(Number.isInteger(s) && s >= 0 && s <= 0xffff_ffff && !used.includes(s));
    }),
  );
});
