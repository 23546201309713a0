/**
 * RTP (RFC 3550 §5.1, §5.3.1) and RTCP (§6.4.1) codecs and the MKIs of TS 33.180 §7.4 / §9.4.6:
 * totality on any bytes, round trips, truncation, and the rules each decoder enforces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeMki,
  decodeRtcpCompound,
  decodeRtcpPrefix,
  decodeRtpHeader,
  decodeRtpPacket,
  encodeMki,
  encodeRtcpCompound,
  encodeRtpPacket,
  groupMki,
  keyIdMki,
  type RtcpPacket,
  type RtpPacket,
  type SrtpMki,
} from '../../src/formats/srtp/index.js';
import { FormatError } from '../../src/errors/index.js';
import { fromHex } from '../../src/util/index.js';

const u32 = fc.nat({ max: 0xffff_ffff });
const words = (max: number): fc.Arbitrary<Uint8Array> =>
  fc.nat({ max }).chain((n) => fc.uint8Array({ minLength: 4 * n, maxLength: 4 * n }));

const arbRtpPacket: fc.Arbitrary<RtpPacket> = fc
  .record(
    {
      marker: fc.boolean(),
      payloadType: fc.nat({ max: 127 }),
      sequenceNumber: fc.nat({ max: 0xffff }),
      timestamp: u32,
      ssrc: u32,
      csrcs: fc.array(u32, { maxLength: 15 }),
      extension: fc.option(fc.record({ profile: fc.nat({ max: 0xffff }), data: words(8) }, { noNullPrototype: true }), { nil: undefined }),
      payload: fc.uint8Array({ maxLength: 300 }),
      padCount: fc.nat({ max: 8 }),
    },
    { noNullPrototype: true },
  )
  .map(({ payload, padCount, ...h }) => {
    const padding = new Uint8Array(padCount);
    if (padCount > 0) padding[padCount - 1] = padCount;
    return { header: { ...h, padding: padCount > 0 }, payload, padding };
  });

const arbRtcpPacket = (last: boolean): fc.Arbitrary<RtcpPacket> =>
  fc
    .record(
      {
        count: fc.nat({ max: 31 }),
        packetType: fc.integer({ min: 192, max: 223 }),
        body: words(20),
        pad: last ? fc.nat({ max: 3 }) : fc.constant(0),
      },
      { noNullPrototype: true },
    )
    .map(({ pad, body, ...p }) => {
      // Padding makes body + padding whole words: take `pad` words' worth off the body end.
      if (pad === 0 || body.length < 4) return { ...p, body, padding: new Uint8Array(0) };
      const n = pad === 1 ? 4 : pad; // 1..4 padding octets
      const padding = new Uint8Array(n);
      padding[n - 1] = n;
      return { ...p, body: body.slice(0, body.length - n), padding };
    });

const arbCompound: fc.Arbitrary<RtcpPacket[]> = fc
  .tuple(fc.array(arbRtcpPacket(false), { maxLength: 3 }), arbRtcpPacket(true))
  .map(([head, last]) => [...head, last]);

test('decodeRtpPacket / decodeRtpHeader are total: a value or a FormatError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      for (const f of [decodeRtpPacket, decodeRtpHeader]) {
        try {
          f(bytes);
        } catch (e) {
          assert.ok(e instanceof FormatError, String(e));
        }
      }
    }),
    { numRuns: 2000 },
  );
});

test('RTP round trip; cut inside the header is ERR_TRUNCATED', () => {
  fc.assert(
    fc.property(arbRtpPacket, (p) => {
      const bytes = encodeRtpPacket(p);
      assert.deepEqual(decodeRtpPacket(bytes), p);
      const { length } = decodeRtpHeader(bytes);
      assert.equal(length, 12 + 4 * p.header.csrcs.length + (p.header.extension ? 4 + p.header.extension.data.length : 0));
      assert.throws(() => decodeRtpHeader(bytes.subarray(0, length - 1)), { code: 'ERR_TRUNCATED' });
    }),
  );
});

test('RTP rules: version 2, padding count 1..rest', () => {
  assert.throws(() => decodeRtpPacket(fromHex('400000000000000000000000')), { code: 'ERR_BAD_VALUE', field: 'rtp.header.version' });
  assert.throws(() => decodeRtpPacket(fromHex('a00000000000000000000000')), { code: 'ERR_TRUNCATED', field: 'rtp.padding' });
  assert.throws(() => decodeRtpPacket(fromHex('a0000000000000000000000000')), { code: 'ERR_BAD_VALUE', field: 'rtp.padding' });
  assert.throws(() => decodeRtpPacket(fromHex('a00000000000000000000000ff04')), { code: 'ERR_BAD_VALUE', field: 'rtp.padding' });
  assert.equal(decodeRtpPacket(fromHex('a000000000000000000000000102')).padding.length, 2);
  assert.throws(() => decodeRtpPacket(new Uint8Array(65_536).fill(0x80, 0, 1)), { code: 'ERR_TOO_LARGE', field: 'rtp' });
});

test('decodeRtcpCompound is total; round trip; one octet short is ERR_TRUNCATED', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      try {
        decodeRtcpCompound(bytes);
      } catch (e) {
        assert.ok(e instanceof FormatError, String(e));
      }
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(arbCompound, (packets) => {
      const bytes = encodeRtcpCompound(packets);
      assert.deepEqual(decodeRtcpCompound(bytes), packets);
      assert.throws(() => decodeRtcpCompound(bytes.subarray(0, -1)), { code: 'ERR_TRUNCATED' });
    }),
  );
});

test('RTCP rules: version 2, PT 192-223, padding only on the last packet', () => {
  assert.throws(() => decodeRtcpCompound(fromHex('40c80000')), { code: 'ERR_BAD_VALUE', field: 'rtcp.packets[0].version' });
  assert.throws(() => decodeRtcpCompound(fromHex('80600000')), { code: 'ERR_BAD_VALUE', field: 'rtcp.packets[0].packetType' });
  assert.throws(() => decodeRtcpCompound(fromHex('a0c800010000000480c90000')), { code: 'ERR_BAD_VALUE', field: 'rtcp.packets[0].padding' });
  assert.throws(() => decodeRtcpCompound(new Uint8Array(0)), { code: 'ERR_TRUNCATED' });
  assert.deepEqual(decodeRtcpPrefix(fromHex('81cc00024d617273')), { packetType: 204, ssrc: 0x4d617273 });
  assert.throws(() => decodeRtcpPrefix(fromHex('81cc0002')), { code: 'ERR_TRUNCATED', field: 'srtcp.header.ssrc' });
});

const arbMki: fc.Arbitrary<SrtpMki> = fc.oneof(
  fc
    .tuple(fc.constantFrom(0, 1, 2, 3, 4, 5, 6), fc.nat({ max: 0x0fff_ffff }))
    .map(([tag, low]) => {
      const keyId = ((tag << 28) | low) >>> 0;
      return { form: 'key-id' as const, keyId, keyType: (['GMK', 'PCK', 'CSK', 'SPK', 'MKFC', 'MSCCK', 'MuSiK'] as const)[tag] ?? 'GMK' };
    }),
  fc.record({ form: fc.constant('gmk-guk' as const), gmkId: fc.nat({ max: 0x0fff_ffff }), gukId: fc.nat({ max: 0x0fff_ffff }) }, { noNullPrototype: true }),
);

test('MKI: total decoder, round trip, TS 33.180 §7.4 forms', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 10 }), (bytes) => {
      try {
        decodeMki(bytes);
      } catch (e) {
        assert.ok(e instanceof FormatError, String(e));
      }
    }),
  );
  fc.assert(fc.property(arbMki, (m) => assert.deepEqual(decodeMki(encodeMki(m)), m)));
  assert.deepEqual([...keyIdMki(0x1234_5678)], [0x12, 0x34, 0x56, 0x78]);
  assert.deepEqual([...groupMki(0x0000_0001, 0x0abc_def0)], [0, 0, 0, 1, 0x0a, 0xbc, 0xde, 0xf0]);
  assert.throws(() => decodeMki(new Uint8Array(5)), { code: 'ERR_BAD_LENGTH', field: 'srtp.mki' });
  assert.throws(() => decodeMki(fromHex('1000000100000002')), { code: 'ERR_BAD_VALUE', field: 'srtp.mki.gmkId' });
  assert.throws(() => decodeMki(fromHex('0000000110000002')), { code: 'ERR_BAD_VALUE', field: 'srtp.mki.gukId' });
  assert.throws(() => decodeMki(fromHex('f0000001')), { code: 'ERR_UNSUPPORTED', field: 'srtp.mki.keyId.purposeTag' });
});
