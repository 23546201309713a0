/**
 * SRTP / SRTCP contexts (RFC 3711, RFC 7714 AEAD_AES_128_GCM, RFC 4771 RCCm3) as TS 33.180 §7.5
 * and §9.4 use them: RFC 7714 vectors through the packet functions, round trips with and without
 * MKI and RCCm3, every bit flip refused with state unchanged, replay, ROC rollover and estimation
 * (RFC 3711 Appendix A), late entry from the RCCm3 ROC.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ReplayWindow,
  SrtpReceiver,
  SrtpSender,
  encodeRtpPacket,
  guessRoc,
  openSrtcp,
  openSrtp,
  parseSrtcp,
  parseSrtp,
  sealSrtcp,
  sealSrtp,
  type SrtpSessionOptions,
} from '../../src/formats/srtp/index.js';
import { McsecError } from '../../src/errors/index.js';
import { toHex } from '../../src/util/index.js';
import { deriveSrtcpSessionKeys } from '../../src/crypto/srtp-kdf.js';
import { loadVectors } from '../fixtures/vectors.js';

const g = loadVectors('rfc7714/aead-aes-128-gcm.json');
const sessionKeys = { key: g.hex('sessionKey'), salt: g.hex('sessionSalt') };

const master = { masterKey: new Uint8Array(16).fill(0x11), masterSalt: new Uint8Array(12).fill(0x22) };
const none = new Uint8Array(0);

function rtp(seq: number, ssrc = 0x1234_5678, payload: Uint8Array = new Uint8Array(160).fill(seq & 0xff)): Uint8Array {
  return encodeRtpPacket({
    header: { padding: false, marker: false, payloadType: 96, sequenceNumber: seq & 0xffff, timestamp: seq * 160, ssrc, csrcs: [], extension: undefined },
    payload,
    padding: none,
  });
}

const rtcp = (ssrc = 0x1234_5678): Uint8Array =>
  Uint8Array.from([0x81, 0xcc, 0x00, 0x03, ssrc >>> 24, (ssrc >>> 16) & 0xff, (ssrc >>> 8) & 0xff, ssrc & 0xff, 0x4d, 0x43, 0x50, 0x54, 0, 1, 2, 3]);

function pair(mki: Uint8Array, options: SrtpSessionOptions = {}): { tx: SrtpSender; rx: SrtpReceiver } {
  const tx = new SrtpSender({ ...master, mki }, options);
  const rx =
    mki.length === 0
      ? new SrtpReceiver({ master }, options)
      : new SrtpReceiver(
          {
            mkiLength: mki.length === 4 ? 4 : 8,
            lookup: (m) => {
              if (toHex(m) !== toHex(mki)) throw new McsecError('ERR_UNKNOWN_KEY', { field: 'srtp.mki', rule: 'unknown' });
              return master;
            },
          },
          options,
        );
  return { tx, rx };
}

const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof McsecError, String(e));
    return e.code;
  }
  return 'accepted';
};

test('RFC 7714 §16.1 / §17.1 / §17.3 through the SRTP and SRTCP packet functions', () => {
  for (const c of g.list('cases')) {
    const plain = c.hex('plain');
    const prot = c.hex('protected');
    if (c.str('kind') === 'srtp') {
      assert.equal(toHex(sealSrtp(sessionKeys, plain, 12, 0x5501a0b2, 0xf17b, 0, none, false)), toHex(prot), c.str('name'));
      const parts = parseSrtp(prot, { mkiLength: 0, rocRate: 0 });
      assert.equal(toHex(openSrtp(sessionKeys, parts, 0)), toHex(plain));
    } else {
      const encrypted = c.int('encrypted') === 1;
      assert.equal(toHex(sealSrtcp(sessionKeys, plain, c.int('index'), none, encrypted)), toHex(prot), c.str('name'));
      const parts = parseSrtcp(prot, 0);
      assert.equal(parts.encrypted, encrypted);
      assert.equal(parts.index, c.int('index'));
      assert.equal(toHex(openSrtcp(sessionKeys, parts)), toHex(plain));
    }
  }
});

test('RFC 7714 §17.3 (E = 0) is refused by default (TS 33.180 §9.4.1), accepted when allowed', () => {
  const c = g.list('cases')[2];
  assert.ok(c !== undefined);
  const prot = c.hex('protected');
  const rx = new SrtpReceiver({ master });
  assert.throws(() => rx.unprotectRtcp(prot), { code: 'ERR_UNSUPPORTED', field: 'srtcp.e' });
  // With another key the tag fails: authentication is still checked when E = 0.
  assert.throws(() => rx.unprotectRtcp(prot, { allowUnencrypted: true }), { code: 'ERR_DECRYPT', field: 'srtcp' });
});

const layouts = fc.record(
  { mki: fc.constantFrom(none, Uint8Array.of(0x10, 0, 0, 7), Uint8Array.of(0, 0, 0, 1, 0x0a, 0xbc, 0xde, 0xf0)), rocRate: fc.constantFrom(0, 1, 3) },
  { noNullPrototype: true },
);

test('round trip: SRTP and SRTCP, MKI of 0 / 4 / 8 octets, RCCm3 off / R = 1 / R = 3', () => {
  fc.assert(
    fc.property(layouts, fc.array(fc.uint8Array({ maxLength: 200 }), { minLength: 1, maxLength: 8 }), fc.nat({ max: 0xffff }), ({ mki, rocRate }, payloads, start) => {
      const { tx, rx } = pair(mki, { rocRate });
      payloads.forEach((p, i) => {
        const seq = (start + i) & 0xffff;
        const packet = rtp(seq, 0xabc, p);
        const s = tx.protectRtp(packet);
        const tag = rocRate > 0 && seq % rocRate === 0 ? 4 : 0;
        assert.equal(s.length, packet.length + 16 + mki.length + tag);
        assert.equal(toHex(rx.unprotectRtp(s)), toHex(packet));
        const c = rtcp(0xabc);
        const sc = tx.protectRtcp(c);
        assert.equal(sc.length, c.length + 16 + 4 + mki.length);
        assert.equal(toHex(rx.unprotectRtcp(sc)), toHex(c));
      });
    }),
    { numRuns: 60 },
  );
});

test('any single bit flip of an SRTP or SRTCP packet is refused, and changes no state', () => {
  fc.assert(
    fc.property(layouts, fc.nat(), fc.nat({ max: 7 }), fc.boolean(), ({ mki, rocRate }, at, bit, control) => {
      const { tx, rx } = pair(mki, { rocRate });
      // One accepted packet first, so the flipped one meets live state.
      assert.ok(rx.unprotectRtp(tx.protectRtp(rtp(100))));
      const good = control ? tx.protectRtcp(rtcp()) : tx.protectRtp(rtp(101));
      const bad = good.slice();
      const i = at % bad.length;
      bad[i] = (bad[i] as number) ^ (1 << bit);
      const unprotect = (b: Uint8Array): unknown => (control ? rx.unprotectRtcp(b) : rx.unprotectRtp(b));
      const code = codeOf(() => unprotect(bad));
      assert.notEqual(code, 'accepted');
      // Flips after the clear header (ciphertext, tag, ROC tag) fail authentication, uniformly.
      const clear = control ? 8 : 12;
      const mkiAt = good.length - mki.length - (!control && rocRate === 1 ? 4 : 0) - (control ? 4 : 0);
      if (i >= clear && i < mkiAt) assert.equal(code, 'ERR_DECRYPT', `offset ${i}`);
      // The genuine packet still goes through: nothing moved on the refusal.
      assert.ok(unprotect(good));
    }),
    { numRuns: 400 },
  );
});

test('unprotect is total on any bytes: a packet or an McsecError, never another exception', () => {
  const receivers = [
    new SrtpReceiver({ master }),
    new SrtpReceiver({ master }, { rocRate: 2 }),
    pair(Uint8Array.of(0x10, 0, 0, 7)).rx,
    pair(Uint8Array.of(0, 0, 0, 1, 0x0a, 0xbc, 0xde, 0xf0)).rx,
  ];
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 120 }),
    // Mostly well-formed: an RTP / RTCP first octet, so the decoders get past version 2.
    fc.tuple(fc.constantFrom(0x80, 0x81, 0x90, 0xa0, 0xbf), fc.uint8Array({ maxLength: 120 })).map(([b0, rest]) => Uint8Array.of(b0, ...rest)),
  );
  fc.assert(
    fc.property(bytes, fc.nat({ max: 3 }), (b, r) => {
      const rx = receivers[r] as SrtpReceiver;
      for (const f of [(): unknown => rx.unprotectRtp(b), (): unknown => rx.unprotectRtcp(b, { allowUnencrypted: true })]) {
        try {
          f();
          assert.fail('random bytes authenticated');
        } catch (e) {
          assert.ok(e instanceof McsecError, String(e));
        }
      }
    }),
    { numRuns: 2000 },
  );
});

test('replay (RFC 3711 §3.3.2): a repeat and an index older than the window are ERR_REPLAY; reordering inside it is fine', () => {
  const { tx, rx } = pair(none);
  const packets = Array.from({ length: 100 }, (_, i) => tx.protectRtp(rtp(1000 + i)));
  rx.unprotectRtp(packets[99] as Uint8Array);
  for (const i of [98, 50, 36]) rx.unprotectRtp(packets[i] as Uint8Array);
  assert.throws(() => rx.unprotectRtp(packets[50] as Uint8Array), { code: 'ERR_REPLAY', field: 'srtp.sequenceNumber', rule: 'this packet was received before' });
  assert.throws(() => rx.unprotectRtp(packets[35] as Uint8Array), { code: 'ERR_REPLAY', rule: 'the packet is older than the replay window' });
  const c = tx.protectRtcp(rtcp());
  rx.unprotectRtcp(c);
  assert.throws(() => rx.unprotectRtcp(c), { code: 'ERR_REPLAY', field: 'srtcp.index' });
});

test('the sender never protects an index twice (an AEAD IV must not repeat, RFC 7714 §8.1)', () => {
  const tx = new SrtpSender({ ...master, mki: none });
  tx.protectRtp(rtp(7));
  assert.throws(() => tx.protectRtp(rtp(7)), { code: 'ERR_REPLAY', field: 'rtp.sequenceNumber' });
  assert.throws(() => tx.setRoc(0x1234_5678, 1), { code: 'ERR_CONFIG', field: 'srtp.roc' });
});

test('ROC estimation, RFC 3711 Appendix A', () => {
  assert.equal(guessRoc(0, 100, 101), 0);
  assert.equal(guessRoc(0, 100, 65_000), -1); // before the start of the stream
  assert.equal(guessRoc(5, 100, 65_000), 4);
  assert.equal(guessRoc(5, 65_000, 10), 6);
  assert.equal(guessRoc(5, 65_000, 40_000), 5);
  assert.equal(guessRoc(5, 40_000, 7_000), 6); // 40000 - 32768 = 7232 > 7000
  assert.equal(guessRoc(5, 40_000, 7_231), 6);
  assert.equal(guessRoc(5, 40_000, 7_232), 5);
  assert.equal(guessRoc(5, 100, 32_868), 5); // SEQ - s_l = 32768, not more
  assert.equal(guessRoc(5, 100, 32_869), 4);
});

test('ROC rollover: the stream crosses SEQ 65535 -> 0, late packets from before it still open', () => {
  const { tx, rx } = pair(Uint8Array.of(0x10, 0, 0, 1));
  const seqs = Array.from({ length: 12 }, (_, i) => (65_530 + i) & 0xffff);
  const packets = seqs.map((s) => tx.protectRtp(rtp(s)));
  const order = [0, 1, 2, 3, 4, 6, 7, 8, 5, 11, 9, 10]; // 65535 arrives after 0 and 1
  for (const i of order) assert.equal(toHex(rx.unprotectRtp(packets[i] as Uint8Array)), toHex(rtp(seqs[i] as number)));
  assert.deepEqual(rx.rtpState(0x1234_5678), { roc: 1, highestSequence: 5 });
});

test('SEQ far behind the first packet (ROC would be -1) is ERR_REPLAY on both sides', () => {
  const tx = new SrtpSender({ ...master, mki: none });
  tx.protectRtp(rtp(5));
  assert.throws(() => tx.protectRtp(rtp(65_000)), { code: 'ERR_REPLAY', rule: 'the sequence number lies before the first packet of the stream' });
  const first = new SrtpSender({ ...master, mki: none }).protectRtp(rtp(5));
  const early = new SrtpSender({ ...master, mki: none }).protectRtp(rtp(65_000));
  const rx = new SrtpReceiver({ master });
  assert.ok(rx.unprotectRtp(first));
  assert.throws(() => rx.unprotectRtp(early), { code: 'ERR_REPLAY', field: 'srtp.sequenceNumber', rule: 'the sequence number lies before the first packet of the stream' });
  // A ROC agreed out of band (RFC 3711 §3.3.1) lets a receiver start in the middle of a stream.
  const tx1 = new SrtpSender({ ...master, mki: none });
  tx1.setRoc(0x1234_5678, 1);
  const rx1 = new SrtpReceiver({ master });
  rx1.setRoc(0x1234_5678, 1);
  assert.ok(rx1.unprotectRtp(tx1.protectRtp(rtp(65_000))));
  assert.deepEqual(rx1.rtpState(0x1234_5678), { roc: 1, highestSequence: 65_000 });
});

test('RCCm3 (RFC 4771, TS 33.180 §7.5.1): a late joiner takes the ROC from the tag, only once it authenticates', () => {
  const ssrc = 0x0bad_cafe;
  // R = 1 (Table E.2.2-1): every packet carries the ROC.
  const tx = new SrtpSender({ ...master, mki: none }, { rocRate: 1 });
  tx.setRoc(ssrc, 3);
  const late = new SrtpReceiver({ master }, { rocRate: 1 });
  const p = tx.protectRtp(rtp(40_000, ssrc));
  assert.equal(toHex(p.subarray(p.length - 4)), '00000003');
  // The ROC is not AAD but enters the IV: a changed ROC fails the GCM tag, state unchanged.
  const forged = p.slice();
  forged[forged.length - 1] = 4;
  assert.throws(() => late.unprotectRtp(forged), { code: 'ERR_DECRYPT', field: 'srtp' });
  assert.equal(late.rtpState(ssrc), undefined);
  assert.ok(late.unprotectRtp(p));
  assert.deepEqual(late.rtpState(ssrc), { roc: 3, highestSequence: 40_000 });

  // Without RCC the late joiner assumes ROC 0 and cannot open the stream.
  const tx0 = new SrtpSender({ ...master, mki: none });
  tx0.setRoc(ssrc, 3);
  assert.throws(() => new SrtpReceiver({ master }).unprotectRtp(tx0.protectRtp(rtp(40_000, ssrc))), { code: 'ERR_DECRYPT' });

  // R = 4: packets between ROC-carrying ones fail until one with SEQ = 0 mod 4 arrives.
  const tx4 = new SrtpSender({ ...master, mki: none }, { rocRate: 4 });
  tx4.setRoc(ssrc, 2);
  const rx4 = new SrtpReceiver({ master }, { rocRate: 4 });
  const run = [101, 102, 103, 104, 105].map((s) => tx4.protectRtp(rtp(s, ssrc)));
  assert.throws(() => rx4.unprotectRtp(run[0] as Uint8Array), { code: 'ERR_DECRYPT' });
  assert.throws(() => rx4.unprotectRtp(run[1] as Uint8Array), { code: 'ERR_DECRYPT' });
  assert.ok(rx4.unprotectRtp(run[3] as Uint8Array)); // SEQ 104 carries ROC 2
  assert.ok(rx4.unprotectRtp(run[4] as Uint8Array));
  assert.ok(rx4.unprotectRtp(run[2] as Uint8Array));
  assert.deepEqual(rx4.rtpState(ssrc), { roc: 2, highestSequence: 105 });
});

test('truncated and malformed SRTP / SRTCP are FormatErrors naming the field', () => {
  const rx = new SrtpReceiver({ master });
  assert.throws(() => rx.unprotectRtp(rtp(1).subarray(0, 27)), { code: 'ERR_TRUNCATED', field: 'srtp.authTag' });
  assert.throws(() => rx.unprotectRtp(new Uint8Array(8)), { code: 'ERR_BAD_VALUE', field: 'srtp.header.version' });
  assert.throws(() => rx.unprotectRtcp(new Uint8Array(27).fill(0x80)), { code: 'ERR_BAD_VALUE', field: 'srtcp.header.packetType' });
  assert.throws(() => rx.unprotectRtcp(Uint8Array.of(0x80, 0xc8, 0, 1, 0, 0, 0, 1)), { code: 'ERR_TRUNCATED', field: 'srtcp' });
  const tx = new SrtpSender({ ...master, mki: none });
  assert.throws(() => tx.protectRtp(Uint8Array.of(0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1)), { code: 'ERR_TRUNCATED', field: 'rtp.padding' });
  assert.throws(() => new SrtpSender({ ...master, mki: new Uint8Array(3) }), { code: 'ERR_CONFIG', field: 'srtp.mki' });
  assert.throws(() => new SrtpSender({ ...master, mki: none }, { replayWindow: 32 }), { code: 'ERR_CONFIG', field: 'srtp.replayWindow' });
});

test('ReplayWindow: a model check against a plain set of accepted indices', () => {
  fc.assert(
    fc.property(fc.array(fc.nat({ max: 400 }), { maxLength: 200 }), (indices) => {
      const w = new ReplayWindow(64);
      const seen = new Set<number>();
      let top = -1;
      for (const i of indices) {
        const want = i > top ? 'new' : top - i >= 64 ? 'too-old' : seen.has(i) ? 'replayed' : 'new';
        assert.equal(w.check(i), want);
        if (want === 'new') {
          w.accept(i);
          seen.add(i);
          top = Math.max(top, i);
        }
      }
      assert.equal(w.highest, top);
    }),
  );
});

/**
 * Two master keys (MKIs) on one receiver, as a control channel has for the CSK and a MuSiK
 * (TS 33.180 §9.4.2 / §9.4.3) and a group call for an old and a new GMK (§7.4.2).
 */
function twoKeys(options: SrtpSessionOptions = {}): { txA: SrtpSender; txB: SrtpSender; rx: SrtpReceiver; mkiA: Uint8Array; mkiB: Uint8Array } {
  const mkiA = Uint8Array.of(0x30, 0, 0, 0xa); // a CSK-ID
  const mkiB = Uint8Array.of(0x40, 0, 0, 0xb); // a MuSiK-ID
  const masterB = { masterKey: new Uint8Array(16).fill(0x33), masterSalt: new Uint8Array(12).fill(0x44) };
  const rx = new SrtpReceiver(
    {
      mkiLength: 4,
      lookup: (m) => {
        if (toHex(m) === toHex(mkiA)) return master;
        if (toHex(m) === toHex(mkiB)) return masterB;
        throw new McsecError('ERR_UNKNOWN_KEY', { field: 'srtp.mki', rule: 'unknown' });
      },
    },
    options,
  );
  return { txA: new SrtpSender({ ...master, mki: mkiA }, options), txB: new SrtpSender({ ...masterB, mki: mkiB }, options), rx, mkiA, mkiB };
}

test('replay state is per master key and SSRC: a high SRTCP index under key B leaves key A\'s stream of the same SSRC alone', () => {
  const ssrc = 0x00f1_00d5; // the floor control server's SSRC
  const { txA, txB, rx } = twoKeys();
  const a0 = txA.protectRtcp(rtcp(ssrc));
  assert.ok(rx.unprotectRtcp(a0));
  // A holder of key B sends under it with the victim stream's SSRC and the highest SRTCP index.
  const b = parseSrtcp(txB.protectRtcp(rtcp(ssrc)), 4);
  assert.equal(b.index, 0);
  const keyB = { masterKey: new Uint8Array(16).fill(0x33), masterSalt: new Uint8Array(12).fill(0x44) };
  const forged = sealSrtcp(deriveSrtcpSessionKeys(keyB), rtcp(ssrc), 0x7fff_ffff, Uint8Array.of(0x40, 0, 0, 0xb));
  assert.ok(rx.unprotectRtcp(forged));
  // Key A's next packets still open; a replay under key A is still refused, as is B's repeat.
  const a1 = txA.protectRtcp(rtcp(ssrc));
  assert.ok(rx.unprotectRtcp(a1));
  assert.ok(rx.unprotectRtcp(txA.protectRtcp(rtcp(ssrc))));
  assert.throws(() => rx.unprotectRtcp(a1), { code: 'ERR_REPLAY', field: 'srtcp.index', rule: 'this packet was received before' });
  assert.throws(() => rx.unprotectRtcp(a0), { code: 'ERR_REPLAY', field: 'srtcp.index' });
  assert.throws(() => rx.unprotectRtcp(forged), { code: 'ERR_REPLAY', field: 'srtcp.index' });
  // Interop: a server with one SSRC for its unicast (key A) and multicast (key B) streams starts
  // both at index 0; the receiver takes both.
  const { txA: uA, txB: uB, rx: r2 } = twoKeys();
  assert.ok(r2.unprotectRtcp(uA.protectRtcp(rtcp(ssrc))));
  assert.ok(r2.unprotectRtcp(uB.protectRtcp(rtcp(ssrc))));
});

test('replay state is per master key and SSRC: SRTP far ahead under key B leaves key A\'s stream of the same SSRC alone', () => {
  const ssrc = 0x0a11_ce00;
  // RCCm3 R = 1 (Table E.2.2-1, group calls): each packet carries its ROC, so one packet can jump.
  const { txA, txB, rx, mkiA, mkiB } = twoKeys({ rocRate: 1 });
  const a = [100, 101, 102].map((s) => txA.protectRtp(rtp(s, ssrc)));
  assert.ok(rx.unprotectRtp(a[0] as Uint8Array));
  // A holder of key B (an old GMK, a MuSiK) sends under it with the same SSRC at ROC 2^32 - 1.
  txB.setRoc(ssrc, 0xffff_ffff);
  assert.ok(rx.unprotectRtp(txB.protectRtp(rtp(0xfffe, ssrc))));
  assert.deepEqual(rx.rtpState(ssrc, mkiB), { roc: 0xffff_ffff, highestSequence: 0xfffe });
  // Key A's stream is where it was: its next packets open, its replays are refused.
  assert.ok(rx.unprotectRtp(a[1] as Uint8Array));
  assert.ok(rx.unprotectRtp(a[2] as Uint8Array));
  assert.deepEqual(rx.rtpState(ssrc, mkiA), { roc: 0, highestSequence: 102 });
  assert.throws(() => rx.unprotectRtp(a[1] as Uint8Array), { code: 'ERR_REPLAY', field: 'srtp.sequenceNumber', rule: 'this packet was received before' });
  assert.throws(() => rx.unprotectRtp(a[0] as Uint8Array), { code: 'ERR_REPLAY', field: 'srtp.sequenceNumber' });
});

test('a sender re-keyed mid-stream goes on with its ROC (RFC 3711 §8.1): the new key\'s first packet opens without RCC', () => {
  const ssrc = 0x0c0f_fee0;
  const mkiA = Uint8Array.of(0, 0, 0, 1);
  const mkiB = Uint8Array.of(0, 0, 0, 2);
  const keyB = { masterKey: new Uint8Array(16).fill(0x55), masterSalt: new Uint8Array(12).fill(0x66) };
  const rx = new SrtpReceiver({ mkiLength: 4, lookup: (m) => (toHex(m) === toHex(mkiA) ? master : keyB) });
  const tx = new SrtpSender({ ...master, mki: mkiA });
  for (let s = 65_534; s < 65_540; s++) assert.ok(rx.unprotectRtp(tx.protectRtp(rtp(s, ssrc)))); // ROC 0 -> 1
  const oldKey = tx.protectRtp(rtp(65_540, ssrc));
  tx.setKey({ ...keyB, mki: mkiB });
  assert.ok(rx.unprotectRtp(tx.protectRtp(rtp(65_541, ssrc))));
  assert.deepEqual(rx.rtpState(ssrc), { roc: 1, highestSequence: 5 });
  assert.ok(rx.unprotectRtp(oldKey)); // a late packet under the old key, still held
  assert.throws(() => rx.unprotectRtp(oldKey), { code: 'ERR_REPLAY' });
  // A fresh stream under a new key on an SSRC seen before at ROC 1 still opens at ROC 0.
  const rx2 = new SrtpReceiver({ mkiLength: 4, lookup: (m) => (toHex(m) === toHex(mkiA) ? master : keyB) });
  const txOld = new SrtpSender({ ...master, mki: mkiA });
  for (let s = 65_535; s < 65_538; s++) assert.ok(rx2.unprotectRtp(txOld.protectRtp(rtp(s, ssrc))));
  assert.ok(rx2.unprotectRtp(new SrtpSender({ ...keyB, mki: mkiB }).protectRtp(rtp(3, ssrc))));
  assert.deepEqual(rx2.rtpState(ssrc, mkiB), { roc: 0, highestSequence: 3 });
});

test('receiver state is bounded per distributed key: made-up SSRCs under key B never drop key A\'s contexts', () => {
  const ssrc = 0x1234_5678;
  const { txA, txB, rx } = twoKeys({ maxStreams: 4 });
  const a0 = txA.protectRtcp(rtcp(ssrc));
  assert.ok(rx.unprotectRtcp(a0));
  const b0 = txB.protectRtcp(rtcp(0x7000_0000));
  assert.ok(rx.unprotectRtcp(b0));
  for (let i = 1; i < 50; i++) assert.ok(rx.unprotectRtcp(txB.protectRtcp(rtcp(0x7000_0000 + i))));
  assert.throws(() => rx.unprotectRtcp(a0), { code: 'ERR_REPLAY', field: 'srtcp.index' });
  // Within key B the least recently used contexts went (4 kept): B's first stream starts anew,
  // which only B's holders could bring about (and they can forge B's packets anyway).
  assert.ok(rx.unprotectRtcp(b0));
  assert.throws(() => new SrtpReceiver({ master }, { maxStreams: 0 }), { code: 'ERR_CONFIG', field: 'srtp.maxStreams' });
});
