/**
 * SIP fuzzing (FUZZ_RUNS, default 100,000 per property): decodeSipMessage, decodeMultipart and
 * SipStreamFramer are total (a frozen value or a FormatError, nothing else) on arbitrary octets,
 * on SIP-shaped text built from grammar pieces, and on mutations of real messages; generated
 * messages round-trip; serialize(parse(x)) is a fixed point. Run: node scripts/run-tests.mjs
 * test/fuzz/sip.fuzz.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FormatError } from '../../src/errors/index.js';
import { decodeMultipart, decodeSipMessage, encodeMultipart, encodeSipMessage, type SipMessage } from '../../src/formats/sip/index.js';
import { SipStreamFramer } from '../../src/transport/sip/index.js';
import { utf8 } from '../../src/util/index.js';
import { loadVectors } from '../fixtures/vectors.js';
import { boundaryArb, messageArb, partArb } from '../fixtures/sip-arbitraries.js';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 100_000);
const seeds = loadVectors('rfc3261/messages.json')
  .list('cases')
  .map((c) => utf8(c.str('text')));

const isFormatError = (err: unknown): void => assert.ok(err instanceof FormatError, String(err));

const total = (bytes: Uint8Array, datagram: boolean): void => {
  try {
    const m = decodeSipMessage(bytes, { datagram });
    assert.ok(Object.isFrozen(m) && Object.isFrozen(m.headers));
  } catch (err) {
    isFormatError(err);
  }
};

const framerTotal = (bytes: Uint8Array, cuts: number[]): void => {
  const f = new SipStreamFramer();
  const points = [...new Set([0, ...cuts.filter((c) => c < bytes.length), bytes.length])].sort((a, b) => a - b);
  for (let i = 1; i < points.length; i++) {
    for (const frame of f.push(bytes.subarray(points[i - 1], points[i]))) {
      if (frame.type === 'error') isFormatError(frame.error);
      else if (frame.type === 'message') assert.ok(Object.isFrozen(frame.message));
    }
  }
};

/** SIP-shaped text: a start line, a shuffle of the required headers and odd extras, a body. */
const startLines = fc.constantFrom(
  'INVITE sip:a@b SIP/2.0', 'INVITE sips:a@b;transport=tls SIP/2.0', 'SIP/2.0 200 OK', 'SIP/2.0 100 ',
  'SIP/2.0 180 Ringing', 'MESSAGE sip:x@[::1]:5060 SIP/2.0', 'INVITE sip:a@b SIP/3.0', 'INVITE  sip:a@b SIP/2.0', '--q',
);
const required = [
  'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'Max-Forwards: 70', 'From: "A, B" <sip:a@b>;tag=1', 'To: <sip:b@c>',
  'Call-ID: c@h', 'CSeq: 1 INVITE',
];
const extras = fc.constantFrom(
  'v: SIP/2.0/TCP [::1]:5;rport, SIP/2.0/UDP x', 'f: sip:a@b;tag=2', 't: B <sip:b@c>', 'i: x', 'Content-Length: 0',
  'l: 5', 'Content-Length: 99999999999999999999', 'c: multipart/mixed;boundary=q', 'Content-Type: application/sdp',
  'k: a, b,', 'k: a, b', ' folded', '\tfolded', 'Subject: "unterminated', 'Contact: *', 'm: <sip:c@d>;expires=1, <sip:e@f>',
  'Route: <sip:p;lr>', 'X: \u00e9\u00e8', 'Via: SIP/2.0/UDP [::1', 'To: <sip:b@c', 'From: sip:a@b;tag',
);
const bodies = fc.constantFrom('', 'hello', '--q\r\nContent-Type: application/vnd.3gpp.mcptt-info+xml\r\n\r\n<x/>\r\n--q--\r\n', '--q--', '\r\n');
const shapedArb = fc
  .tuple(startLines, fc.shuffledSubarray(required, { minLength: 4 }), fc.array(extras, { maxLength: 4 }), bodies, fc.oneof({ arbitrary: fc.constant('\r\n'), weight: 15 }, { arbitrary: fc.constant('\n'), weight: 1 }))
  .chain(([start, req, ex, body, eol]) =>
    fc.shuffledSubarray([...req, ...ex], { minLength: req.length }).map((hs) => utf8(`${[start, ...hs].join(eol)}${eol}${eol}${body}`)),
  );

test(`SIP decoder is total on ${RUNS} arbitrary inputs`, () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), total), { numRuns: RUNS });
});

test(`SIP decoder is total on ${RUNS} SIP-shaped inputs`, () => {
  fc.assert(fc.property(shapedArb, fc.boolean(), total), { numRuns: RUNS });
});

test(`SIP decoder is total on ${RUNS} mutations of real messages`, () => {
  fc.assert(
    fc.property(
      fc.nat(seeds.length - 1),
      fc.array(fc.tuple(fc.nat(4096), fc.nat(255)), { minLength: 1, maxLength: 6 }),
      fc.nat(4096),
      fc.boolean(),
      (i, edits, cut, datagram) => {
        const seed = seeds[i] ?? new Uint8Array(0);
        const b = seed.slice(0, Math.max(1, seed.length - (cut % seed.length)));
        for (const [at, v] of edits) if (at < b.length) b[at] = v;
        total(b, datagram);
      },
    ),
    { numRuns: RUNS },
  );
});

test(`stream framer is total on ${RUNS} chunked inputs`, () => {
  const stream = (() => {
    const all = seeds.map((s) => [s, utf8('\r\n\r\n')]).flat();
    const out = new Uint8Array(all.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of all) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  })();
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 2048 }),
        shapedArb,
        fc.array(fc.tuple(fc.nat(stream.length - 1), fc.nat(255)), { maxLength: 4 }).map((edits) => {
          const b = stream.slice();
          for (const [at, v] of edits) b[at] = v;
          return b;
        }),
      ),
      fc.array(fc.nat(4096), { maxLength: 16 }),
      framerTotal,
    ),
    { numRuns: RUNS },
  );
});

test(`${Math.floor(RUNS / 10)} generated messages round-trip, and serialize(parse(x)) is stable`, () => {
  fc.assert(
    fc.property(messageArb, (m: SipMessage) => {
      const bytes = encodeSipMessage(m);
      const back = decodeSipMessage(bytes);
      assert.deepEqual(back, m);
      assert.deepEqual(encodeSipMessage(back), bytes);
    }),
    { numRuns: Math.floor(RUNS / 10) },
  );
});

test(`multipart decoder is total on ${RUNS} inputs; ${Math.floor(RUNS / 10)} generated bodies round-trip`, () => {
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 1024 }), shapedArb), (b) => {
      try {
        decodeMultipart(b, 'q');
      } catch (err) {
        isFormatError(err);
      }
    }),
    { numRuns: RUNS },
  );
  fc.assert(
    fc.property(fc.array(partArb, { minLength: 1, maxLength: 5 }), boundaryArb, (parts, boundary) => {
      let body: Uint8Array;
      try {
        body = encodeMultipart(parts, boundary);
      } catch (err) {
        isFormatError(err);
        return;
      }
      assert.deepEqual(decodeMultipart(body, boundary), parts);
    }),
    { numRuns: Math.floor(RUNS / 10) },
  );
});
