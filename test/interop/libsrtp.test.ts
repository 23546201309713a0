/**
 * Cross-checks with libsrtp2 (Debian libsrtp2-dev, through our C harness srtp-harness.c), both
 * ways, AEAD_AES_128_GCM (RFC 7714, libsrtp's aes_gcm_128_16_auth), master keys from TS 33.180
 * §7.4 / §9.4.6: libsrtp opens what mcsec protects and mcsec opens what libsrtp protects, SRTP and
 * SRTCP, without MKI and with the 32-bit and 64-bit MKIs (libsrtp picking the key by MKI among
 * several), across a ROC rollover; GCM being deterministic, both produce the same bytes; a
 * tampered bit is refused by both. A missing peer fails this file, it never skips.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { deriveSrtcpSessionKeys } from '../../src/crypto/srtp-kdf.js';
import {
  SrtpKeyRing,
  SrtpReceiver,
  SrtpSender,
  encodeRtpPacket,
  sealSrtcp,
  type SrtpKey,
} from '../../src/formats/srtp/index.js';
import { McsecError } from '../../src/errors/index.js';
import { fromHex, toHex } from '../../src/util/index.js';
import { SrtpHarness, type LibsrtpKey } from './srtp-harness.js';

const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

let lib: SrtpHarness;
before(() => {
  lib = SrtpHarness.start();
});
after(async () => {
  await lib.close();
});

async function one(op: string, ...args: (Uint8Array | string | number)[]): Promise<Uint8Array> {
  const out = await lib.call(op, ...args);
  assert.ok(out[0] !== undefined, `${op} answered nothing`);
  return fromHex(out[0]);
}

function rtp(seq: number, ssrc: number, payload = rnd(160)): Uint8Array {
  return encodeRtpPacket({
    header: { padding: false, marker: seq === 0, payloadType: 8, sequenceNumber: seq & 0xffff, timestamp: (seq * 160) >>> 0, ssrc, csrcs: [0x0101_0101], extension: undefined },
    payload,
    padding: new Uint8Array(0),
  });
}

/** An RTCP APP packet (PT 204, as MCPTT floor control sends) behind an empty RR. */
function rtcp(ssrc: number): Uint8Array {
  const s = [ssrc >>> 24, (ssrc >>> 16) & 0xff, (ssrc >>> 8) & 0xff, ssrc & 0xff];
  return Uint8Array.from([0x80, 0xc9, 0, 1, ...s, 0x80, 0xcc, 0, 4, ...s, 0x4d, 0x43, 0x50, 0x54, ...rnd(8)]);
}

const flip = (b: Uint8Array, i: number, bit = 0): Uint8Array => {
  const c = b.slice();
  c[i] = (c[i] as number) ^ (1 << bit);
  return c;
};

const libKey = (k: { masterKey: Uint8Array; masterSalt: Uint8Array; mki: Uint8Array }): LibsrtpKey => ({
  masterKey: k.masterKey,
  masterSalt: k.masterSalt,
  mki: k.mki,
});

/**
 * Two sender keys of one MKI form: none (a PCK master), PCK-ID (two private calls), GMK-ID ||
 * GUK-ID (two senders of one group); libsrtp holds both and must pick by MKI.
 */
function keysFor(form: 'none' | 'pck-id' | 'gmk-guk'): { ours: SrtpKey; other: SrtpKey; mkiLength: 0 | 4 | 8 } {
  const ring = new SrtpKeyRing();
  const id = (tag: number): number => ((tag << 28) | (randomBytes(4).readUInt32BE(0) & 0x0fff_ffff)) >>> 0;
  if (form === 'gmk-guk') {
    const gmkId = id(0);
    ring.addGroupKey({ gmk: rnd(32), gmkId, rand: rnd(16) });
    const ours = ring.senderKey(gmkId, { service: 'MCPTT', senderUserId: 'sip:alice@mc.example.org' });
    const other = ring.senderKey(gmkId, { service: 'MCPTT', senderUserId: 'sip:bob@mc.example.org' });
    return { ours, other, mkiLength: 8 };
  }
  const [a, b] = [id(1), id(1)];
  ring.addPrivateCallKey({ pck: rnd(16), pckId: a, rand: rnd(16), localRole: 'initiator' });
  ring.addPrivateCallKey({ pck: rnd(16), pckId: b, rand: rnd(16), localRole: 'receiver' });
  const ours = ring.senderKey(a, { service: 'MCPTT' });
  const other = ring.senderKey(b, { service: 'MCVideo' });
  if (form === 'none') return { ours: { ...ours, mki: new Uint8Array(0) }, other: { ...other, mki: new Uint8Array(0) }, mkiLength: 0 };
  return { ours, other, mkiLength: 4 };
}

function receiverFor(k: ReturnType<typeof keysFor>, which: 'ours' | 'other'): SrtpReceiver {
  const key = k[which];
  if (k.mkiLength === 0) return new SrtpReceiver({ master: key });
  return new SrtpReceiver({
    mkiLength: k.mkiLength,
    lookup: (mki) => {
      if (toHex(mki) === toHex(k.ours.mki)) return k.ours;
      if (toHex(mki) === toHex(k.other.mki)) return k.other;
      throw new McsecError('ERR_UNKNOWN_KEY', { field: 'srtp.mki', rule: 'no key is held for this MKI' });
    },
  });
}

let slot = 0;
const forms = ['none', 'pck-id', 'gmk-guk'] as const;

for (const form of forms) {
  describe(`SRTP / SRTCP with libsrtp, MKI: ${form}`, () => {
    test('libsrtp opens what mcsec protects, across SEQ 65535 -> 0 (ROC 1), byte-identical to its own', async () => {
      const k = keysFor(form);
      const s = slot++;
      // libsrtp holds both keys; with an MKI it finds ours by MKI (index 1 of 2).
      await lib.session(s, form === 'none' ? [libKey(k.ours)] : [libKey(k.other), libKey(k.ours)]);
      const ssrc = 0x1111_0000 + s;
      const tx = new SrtpSender(k.ours);
      const mkiIndex = form === 'none' ? 0 : 1;
      for (let i = 0; i < 12; i++) {
        const packet = rtp(65_530 + i, ssrc);
        const ours = tx.protectRtp(packet);
        assert.equal(toHex(await one('unprotect', s, ours)), toHex(packet), `seq ${(65_530 + i) & 0xffff}`);
        // Same key, SSRC, ROC and SEQ: libsrtp's protection of the same packet is the same bytes.
        const twin = 31;
        if (i === 0) await lib.session(twin, form === 'none' ? [libKey(k.ours)] : [libKey(k.other), libKey(k.ours)]);
        assert.equal(toHex(await one('protect', twin, mkiIndex, packet)), toHex(ours));
      }
      assert.equal((await lib.call('roc', s, ssrc))[0], '1');
      await lib.call('free', 31);
    });

    test('mcsec opens what libsrtp protects, across a ROC rollover', async () => {
      const k = keysFor(form);
      const s = slot++;
      // libsrtp sends under the second key (mcsec finds it by MKI), or the only one.
      await lib.session(s, form === 'none' ? [libKey(k.ours)] : [libKey(k.ours), libKey(k.other)]);
      const ssrc = 0x2222_0000 + s;
      const rx = receiverFor(k, 'ours');
      const mkiIndex = form === 'none' ? 0 : 1;
      for (let i = 0; i < 12; i++) {
        const packet = rtp(65_528 + i, ssrc);
        const theirs = await one('protect', s, mkiIndex, packet);
        assert.equal(toHex(rx.unprotectRtp(theirs)), toHex(packet));
      }
      assert.deepEqual(rx.rtpState(ssrc), { roc: 1, highestSequence: 3 });
    });

    test('SRTCP both ways; libsrtp index 1 is byte-identical to mcsec at index 1 (Errata 3712 key layout)', async () => {
      const k = keysFor(form);
      const s = slot++;
      await lib.session(s, form === 'none' ? [libKey(k.ours)] : [libKey(k.ours), libKey(k.other)]);
      const tx = new SrtpSender(k.ours);
      const rx = receiverFor(k, 'ours');
      for (let i = 0; i < 5; i++) {
        const mine = rtcp(0x3333_0000 + s);
        assert.equal(toHex(await one('unprotect-rtcp', s, tx.protectRtcp(mine))), toHex(mine));
        const theirsPlain = rtcp(0x4444_0000 + s);
        const theirs = await one('protect-rtcp', s, 0, theirsPlain);
        assert.equal(toHex(rx.unprotectRtcp(theirs)), toHex(theirsPlain));
        if (i === 0) assert.equal(toHex(sealSrtcp(deriveSrtcpSessionKeys(k.ours), theirsPlain, 1, k.ours.mki)), toHex(theirs));
      }
    });

    test('a tampered bit is refused by both sides', async () => {
      const k = keysFor(form);
      const s = slot++;
      await lib.session(s, form === 'none' ? [libKey(k.ours)] : [libKey(k.ours), libKey(k.other)]);
      const ssrcOurs = 0x5555_0000 + s;
      const ssrcTheirs = 0x6666_0000 + s;
      const tx = new SrtpSender(k.ours);
      const rx = receiverFor(k, 'ours');
      let seq = 10;
      for (const at of [12, 20, 100, -17, -1 - k.mkiLength]) {
        const packet = rtp(seq++, ssrcOurs);
        const ours = tx.protectRtp(packet);
        const i = at < 0 ? ours.length + at : at;
        await assert.rejects(lib.call('unprotect', s, flip(ours, i)), /^Error: libsrtp unprotect: 7$/, `offset ${i}`);
        assert.equal(toHex(await one('unprotect', s, ours)), toHex(packet));
        const theirs = await one('protect', s, 0, rtp(seq++, ssrcTheirs));
        const j = at < 0 ? theirs.length + at : at;
        assert.throws(() => rx.unprotectRtp(flip(theirs, j)), { code: 'ERR_DECRYPT', field: 'srtp' });
        assert.ok(rx.unprotectRtp(theirs));
      }
      if (k.mkiLength > 0) {
        // A changed MKI: libsrtp knows no such key (bad_mki); mcsec finds none (ERR_UNKNOWN_KEY).
        const ours = tx.protectRtp(rtp(seq++, ssrcOurs));
        await assert.rejects(lib.call('unprotect', s, flip(ours, ours.length - 1)), /^Error: libsrtp unprotect: 25$/);
        const theirs = await one('protect', s, 0, rtp(seq++, ssrcTheirs));
        assert.throws(() => rx.unprotectRtp(flip(theirs, theirs.length - 1)), { code: 'ERR_UNKNOWN_KEY' });
      }
      const c = tx.protectRtcp(rtcp(ssrcOurs));
      await assert.rejects(lib.call('unprotect-rtcp', s, flip(c, 9)), /^Error: libsrtp unprotect-rtcp: 7$/);
      const tc = await one('protect-rtcp', s, 0, rtcp(ssrcTheirs));
      assert.throws(() => rx.unprotectRtcp(flip(tc, 9)), { code: 'ERR_DECRYPT', field: 'srtcp' });
      // A replayed packet: libsrtp says replay_fail (9), mcsec ERR_REPLAY.
      await one('unprotect-rtcp', s, c);
      await assert.rejects(lib.call('unprotect-rtcp', s, c), /^Error: libsrtp unprotect-rtcp: 9$/);
      rx.unprotectRtcp(tc);
      assert.throws(() => rx.unprotectRtcp(tc), { code: 'ERR_REPLAY', field: 'srtcp.index' });
    });
  });
}
