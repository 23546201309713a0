/**
 * SipStreamFramer (RFC 3261 §18.3 stream framing): the same byte stream cut at every possible
 * place, several messages in one chunk, one octet at a time, CRLF keep-alives (RFC 5626 §4.4.1),
 * and framing errors (missing Content-Length, oversize head or body) as typed error frames, after
 * the messages completed before them, and after which the framer refuses to continue.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FormatError } from '../../src/errors/index.js';
import { createSipRequest, encodeSipMessage, type SipMessage } from '../../src/formats/sip/index.js';
import { SipStreamFramer, type SipFrame } from '../../src/transport/sip/index.js';
import { concatBytes, utf8 } from '../../src/util/index.js';

const message = (i: number, body = ''): Uint8Array =>
  encodeSipMessage(
    createSipRequest({
      method: 'MESSAGE',
      uri: 'sip:server@mc.example',
      from: { uri: 'sip:alice@mc.example', tag: `t${i}` },
      to: { uri: 'sip:server@mc.example' },
      via: { transport: 'TCP', host: 'client.mc.example', branch: `z9hG4bK${i}` },
      callId: `call-${i}`,
      cseq: i + 1,
      ...(body === '' ? {} : { body: { contentType: 'text/plain', body: utf8(body) } }),
    }),
  );

const messages = (frames: SipFrame[]): SipMessage[] => frames.flatMap((f) => (f.type === 'message' ? [f.message] : []));
const callIds = (frames: SipFrame[]): string[] =>
  messages(frames).map((m) => m.headers.find((h) => h.name === 'Call-ID')?.value ?? '');

const stream = concatBytes(message(0, 'hello\r\n\r\nworld'), utf8('\r\n\r\n'), message(1), utf8('\r\n'), message(2, 'x'.repeat(3000)));

test('one chunk with several messages and a keep-alive ping between them', () => {
  const f = new SipStreamFramer();
  const frames = f.push(stream);
  assert.deepEqual(callIds(frames), ['call-0', 'call-1', 'call-2']);
  assert.deepEqual(frames.map((x) => x.type), ['message', 'ping', 'message', 'message']);
  assert.equal(f.buffered, 0);
  const first = messages(frames)[0];
  assert.equal(first !== undefined && new TextDecoder().decode(first.body), 'hello\r\n\r\nworld');
});

test('one octet at a time gives the same frames', () => {
  const f = new SipStreamFramer();
  const frames: SipFrame[] = [];
  for (let i = 0; i < stream.length; i++) frames.push(...f.push(stream.subarray(i, i + 1)));
  assert.deepEqual(frames.map((x) => x.type), ['message', 'ping', 'message', 'message']);
  assert.deepEqual(callIds(frames), ['call-0', 'call-1', 'call-2']);
});

test('any split into chunks gives the same frames (fast-check)', () => {
  const whole = new SipStreamFramer().push(stream);
  fc.assert(
    fc.property(fc.array(fc.nat(stream.length), { maxLength: 12 }), (cuts) => {
      const points = [...new Set([0, ...cuts, stream.length])].sort((a, b) => a - b);
      const f = new SipStreamFramer();
      const frames: SipFrame[] = [];
      for (let i = 1; i < points.length; i++) frames.push(...f.push(stream.subarray(points[i - 1], points[i])));
      assert.deepEqual(frames, whole);
    }),
    { numRuns: 500 },
  );
});

test('a lone CRLF (a pong) is skipped without a ping; CRLFCRLF alone is a ping', () => {
  const f = new SipStreamFramer();
  assert.deepEqual(f.push(utf8('\r\n')), []);
  assert.deepEqual(callIds(f.push(message(5))), ['call-5']);
  assert.deepEqual(f.push(utf8('\r\n\r\n')), [{ type: 'ping' }]);
  assert.deepEqual(f.push(utf8('\r\n\r')), []);
  assert.deepEqual(f.push(utf8('\n')), [{ type: 'ping' }]);
});

/** Feeds chunks; the last frame must be the error (code, field); then the framer stays broken. */
const expectError = (chunks: Uint8Array[], code: string, field: string, limits = {}): SipFrame[] => {
  const f = new SipStreamFramer(limits);
  const frames = chunks.flatMap((c) => f.push(c));
  const last = frames.at(-1);
  assert.ok(last?.type === 'error', `an error frame last, got ${frames.map((x) => x.type).join(',')}`);
  assert.ok(last.error instanceof FormatError, String(last.error));
  assert.equal(last.error.code, code);
  assert.equal(last.error.field, field, last.error.message);
  assert.equal(frames.filter((x) => x.type === 'error').length, 1);
  const after = f.push(message(9));
  assert.equal(after.length, 1);
  assert.ok(after[0]?.type === 'error' && after[0].error.code === 'ERR_BAD_VALUE' && after[0].error.field === 'sip.stream');
  return frames;
};

test('framing errors are typed error frames, and the framer refuses to continue after one', () => {
  const noLength = utf8('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nMax-Forwards: 70\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n');
  expectError([noLength], 'ERR_BAD_VALUE', 'sip.headers.Content-Length');
  expectError([utf8('OPTIONS sip:a@b SIP/2.0\r\nX: '), utf8('y'.repeat(20_000))], 'ERR_TOO_LARGE', 'sip.head');
  const big = message(3, 'z'.repeat(2000));
  expectError([big], 'ERR_TOO_LARGE', 'sip.headers.Content-Length', { maxBodyOctets: 1000 });
  expectError([utf8('\r\rINVITE')], 'ERR_BAD_VALUE', 'sip.stream');
  expectError([utf8('garbage line\r\n\r\n')], 'ERR_BAD_VALUE', 'sip.startLine');
});

test('messages completed before an error in the same chunk are delivered first', () => {
  const frames = expectError([concatBytes(message(1), message(2), utf8('garbage line\r\n\r\n'))], 'ERR_BAD_VALUE', 'sip.startLine');
  assert.deepEqual(callIds(frames), ['call-1', 'call-2']);
});

test('a slow sender of an oversized head is cut off at the cap, not at the end', () => {
  const f = new SipStreamFramer({ maxHeadOctets: 1024, maxLineOctets: 1024 });
  const start = utf8('OPTIONS sip:a@b SIP/2.0\r\n');
  assert.deepEqual(f.push(start), []);
  let fed = start.length;
  let frames: SipFrame[] = [];
  while (frames.length === 0) {
    frames = f.push(utf8('X'));
    fed++;
  }
  assert.ok(frames[0]?.type === 'error' && frames[0].error.code === 'ERR_TOO_LARGE' && frames[0].error.field === 'sip.head');
  assert.ok(fed <= 1025, `stopped after ${fed} octets`);
});
