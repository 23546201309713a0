// I_MESSAGEs in SIP bodies (formats/sip/mikey-parts.ts: application/mikey parts, binary or
// Content-Transfer-Encoding base64, RFC 2045 §6.8) and the one mapping of errors to SIP answers
// (formats/sip/error-status.ts): properties (round trip, totality) and the refusals by code and field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError, CryptoError, ErrorCode, FormatError, McsecError, PolicyError } from '../../src/errors/index.js';
import { createSipRequest, decodeSipMessage, encodeSipMessage, multipartBody, type MimePart, type SipRequest } from '../../src/formats/sip/index.js';
import { mikeyPart, mikeyParts, partOctets } from '../../src/formats/sip/mikey-parts.js';
import { sipErrorStatus } from '../../src/formats/sip/error-status.js';
import { utf8 } from '../../src/util/index.js';
import { partArb } from '../fixtures/sip-arbitraries.js';

const request = (body: { contentType: string; body: Uint8Array }): SipRequest =>
  createSipRequest({ method: 'REGISTER', uri: 'sip:mcx@example.org', from: { uri: 'sip:a@example.org' }, to: { uri: 'sip:a@example.org' }, via: { transport: 'UDP', host: '192.0.2.1' }, body }, (n) => new Uint8Array(n).fill(7));

test('an I_MESSAGE survives a multipart body binary and in base64 (round trip through the wire)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 2048 }), fc.constantFrom('binary' as const, 'base64' as const), fc.array(partArb, { maxLength: 3 }), (im, enc, others) => {
      const parts: MimePart[] = [...others, mikeyPart(im, enc)];
      let body;
      try {
        body = multipartBody(parts, 'mcsec-prop-boundary');
      } catch (e) {
        // an arbitrary part that contains the delimiter cannot be encoded: not this property's concern
        assert.ok(e instanceof FormatError);
        return;
      }
      const decoded = decodeSipMessage(encodeSipMessage(request(body)));
      const found = mikeyParts(decoded);
      assert.deepEqual(found.map((b) => Buffer.from(b).toString('hex')).at(-1), Buffer.from(im).toString('hex'));
    }),
    { numRuns: 300 },
  );
});

test('a base64 part is 76-character lines; a single application/mikey body is one part', () => {
  const im = new Uint8Array(300).map((_, i) => i);
  const p = mikeyPart(im, 'base64');
  assert.ok(new TextDecoder().decode(p.body).split('\r\n').every((l) => l.length <= 76));
  const single = decodeSipMessage(encodeSipMessage(request({ contentType: 'application/mikey', body: im })));
  assert.deepEqual(mikeyParts(single), [im]);
  assert.deepEqual(mikeyParts(decodeSipMessage(encodeSipMessage(request({ contentType: 'application/sdp', body: utf8('v=0\r\n') })))), []);
});

test('partOctets is total: octets or a FormatError, for any body under base64', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
      try {
        partOctets({ headers: [{ name: 'Content-Transfer-Encoding', value: 'base64' }], body: bytes }, 'sip.body');
      } catch (e) {
        assert.ok(e instanceof FormatError, String(e));
      }
    }),
    { numRuns: 2000 },
  );
});

test('bad transfer encodings: quoted-printable is ERR_UNSUPPORTED, non-base64 text ERR_BAD_VALUE, naming the part', () => {
  const part = (cte: string, body: string): MimePart => ({ headers: [{ name: 'Content-Type', value: 'application/mikey' }, { name: 'Content-Transfer-Encoding', value: cte }], body: utf8(body) });
  assert.throws(() => partOctets(part('quoted-printable', 'x'), 'sip.body.part1'), { code: 'ERR_UNSUPPORTED', field: 'sip.body.part1.headers.Content-Transfer-Encoding' });
  assert.throws(() => partOctets(part('base64', 'AB*C'), 'sip.body.part0'), { code: 'ERR_BAD_VALUE', field: 'sip.body.part0.body' });
  assert.throws(() => partOctets(part('base64', 'AB=='.replace('B', 'F')), 'sip.body'), { code: 'ERR_BAD_VALUE' }, 'non-canonical padding bits');
  assert.deepEqual(partOctets(part('BINARY', 'xyz'), 'sip.body'), utf8('xyz'));
  assert.deepEqual(partOctets(part('base64', 'AAEC\r\nAw=='), 'sip.body'), Uint8Array.of(0, 1, 2, 3));
});

test('sipErrorStatus: 400 for FormatError, 488 for UNKNOWN_KEY / UNSUPPORTED policy, 403 for other policy and crypto, 500 otherwise; the Warning is one safe quoted-string', () => {
  const f = { field: 'mikey.payload1', rule: 'must be "x"\r\nInjected: 1', clause: 'TS 33.180 Annex E.1' };
  assert.equal(sipErrorStatus(new FormatError(ErrorCode.BAD_VALUE, f), 'mcx.example').status, 400);
  assert.equal(sipErrorStatus(new PolicyError(ErrorCode.UNKNOWN_KEY, f), 'h').status, 488);
  assert.equal(sipErrorStatus(new PolicyError(ErrorCode.UNSUPPORTED, f), 'h').status, 488);
  assert.equal(sipErrorStatus(new PolicyError(ErrorCode.REPLAY, f), 'h').status, 403);
  assert.equal(sipErrorStatus(new CryptoError(ErrorCode.SIGNATURE, f), 'h').status, 403);
  assert.equal(sipErrorStatus(new ConfigError(ErrorCode.CONFIG, f), 'h').status, 500);
  assert.equal(sipErrorStatus(new McsecError(ErrorCode.INTERNAL, f), 'h').warning, '399 h "internal error"');
  assert.equal(sipErrorStatus(new Error('boom'), 'h').status, 500);
  const w = sipErrorStatus(new FormatError(ErrorCode.BAD_VALUE, f), 'mcx.example').warning;
  assert.match(w, /^399 mcx\.example "ERR_BAD_VALUE mikey\.payload1 must be 'x'  Injected: 1 \(TS 33\.180 Annex E\.1\)"$/);
  // it goes into a SIP header without breaking it
  const res = decodeSipMessage(encodeSipMessage({ kind: 'response', status: 400, reason: 'Bad Request', headers: [...request({ contentType: 'text/plain', body: utf8('x') }).headers.filter((h) => ['Via', 'From', 'To', 'Call-ID', 'CSeq'].includes(h.name)), { name: 'Warning', value: w }], body: new Uint8Array(0) }));
  assert.equal(res.headers.find((h) => h.name === 'Warning')?.value, w);
});
