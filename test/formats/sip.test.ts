/**
 * The SIP codec (src/formats/sip): RFC 3261 vectors and their negative variants, header
 * normalisation (compact forms, folding, comma lists), Content-Length rules for streams and
 * datagrams, limits, multipart MIME bodies, the request/response builders, and fast-check
 * properties: totality on arbitrary and mutated input, round trip, truncation, stability.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FormatError } from '../../src/errors/index.js';
import {
  ContentType,
  createSipRequest,
  createSipResponse,
  cseqOf,
  decodeMediaType,
  decodeMultipart,
  decodeNameAddr,
  decodeSipBody,
  decodeSipHead,
  decodeSipMessage,
  decodeVia,
  encodeMultipart,
  encodeSipMessage,
  encodeVia,
  findPart,
  headerValue,
  headerValues,
  multipartBody,
  sipLimits,
  tagOf,
  type MimePart,
  type SipMessage,
  type SipRequest,
} from '../../src/formats/sip/index.js';
import { fromUtf8, utf8 } from '../../src/util/index.js';
import { loadVectors } from '../fixtures/vectors.js';
import { boundaryArb, messageArb, partArb } from '../fixtures/sip-arbitraries.js';

const vectors = loadVectors('rfc3261/messages.json');
const bytesOf = (s: string): Uint8Array => utf8(s);
const text = (b: Uint8Array): string => fromUtf8(b);

const total = (bytes: Uint8Array, datagram = false): void => {
  try {
    const m = decodeSipMessage(bytes, { datagram });
    assert.ok(Object.isFrozen(m) && Object.isFrozen(m.headers));
  } catch (err) {
    assert.ok(err instanceof FormatError, String(err));
  }
};

test('RFC 3261 vectors decode, and re-encode to the same message', () => {
  for (const c of vectors.list('cases')) {
    const m = decodeSipMessage(bytesOf(c.str('text')));
    assert.equal(m.kind, c.str('kind'), c.str('name'));
    if (m.kind === 'request') assert.equal(m.method, c.str('method'));
    else assert.equal(m.status, c.int('status'));
    assert.equal(m.headers.length, c.int('headerCount'), c.str('name'));
    assert.equal(m.body.length, c.int('bodyOctets'));
    assert.ok(Object.isFrozen(m) && m.headers.every(Object.isFrozen));
    const again = decodeSipMessage(encodeSipMessage(m));
    assert.deepEqual(again, m, c.str('name'));
  }
});

test('RFC 3261 negative vectors: each names its code and field', () => {
  for (const c of vectors.list('rejects')) {
    assert.throws(() => decodeSipMessage(bytesOf(c.str('text'))), (err: unknown) => {
      assert.ok(err instanceof FormatError, `${c.str('name')}: ${String(err)}`);
      assert.equal(err.code, c.str('code'), c.str('name'));
      assert.equal(err.field, c.str('field'), `${c.str('name')}: ${err.message}`);
      return true;
    });
  }
});

test('compact forms become full names, folding becomes one space, lists split in order (§7.3)', () => {
  const c = vectors.list('cases')[2];
  assert.ok(c !== undefined);
  const m = decodeSipMessage(bytesOf(c.str('text')));
  assert.deepEqual(headerValues(m, 'Via'), [
    'SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8',
    'SIP/2.0/TCP [2001:db8::9]:5061;branch=z9hG4bK2;rport',
  ]);
  assert.deepEqual(headerValues(m, 'k'), ['100rel', 'timer']);
  assert.equal(headerValue(m, 'subject'), "I know you're there, pick up the phone and talk to me!");
  assert.equal(headerValue(m, 'From'), '"Alice, of Atlanta" <sip:alice@atlanta.com>;tag=1928301774');
  assert.deepEqual(
    m.headers.map((h) => h.name),
    ['Via', 'Via', 'Max-Forwards', 'To', 'From', 'Call-ID', 'CSeq', 'Contact', 'Supported', 'Supported', 'Subject', 'Content-Type', 'Content-Length'],
  );
  const out = text(encodeSipMessage(m));
  assert.match(out, /\r\nVia: SIP\/2\.0\/TCP \[2001:db8::9\]:5061;branch=z9hG4bK2;rport\r\n/);
  assert.doesNotMatch(out, /\r\n[a-z]:/);
});

test('Via, name-addr and media type helpers', () => {
  const v = decodeVia('SIP / 2.0 / tcp [2001:db8::1] : 5061 ;branch=z9hG4bKx ;rport;received=2001:db8::2');
  assert.equal(v.transport, 'TCP');
  assert.equal(v.host, '[2001:db8::1]');
  assert.equal(v.port, 5061);
  assert.equal(encodeVia(v), 'SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bKx;rport;received=2001:db8::2');
  assert.throws(() => decodeVia('SIP/2.0/UDP host:70000'), { code: 'ERR_BAD_VALUE', field: 'sip.headers.Via.sentBy' });
  assert.throws(() => decodeVia('SIP/2.0/UDP h;rport=x'), { code: 'ERR_BAD_VALUE', field: 'sip.headers.Via;rport' });
  const n = decodeNameAddr('"A \\"B\\"" <sip:a@b;transport=tcp>;tag=77', 'f');
  assert.equal(n.displayName, 'A "B"');
  assert.equal(n.uri, 'sip:a@b;transport=tcp');
  assert.equal(tagOf(n), '77');
  const bare = decodeNameAddr('sip:a@b;tag=9', 'f');
  assert.equal(bare.uri, 'sip:a@b');
  assert.equal(tagOf(bare), '9');
  assert.throws(() => decodeNameAddr('Bob <sip:a@b', 'f'), { code: 'ERR_BAD_VALUE', field: 'f' });
  const t = decodeMediaType('Multipart/Mixed ; boundary="a b:c"');
  assert.equal(t.essence, 'multipart/mixed');
  assert.equal(t.params.get('boundary'), 'a b:c');
  assert.throws(() => decodeMediaType('multipart/mixed;boundary="bad "'), { code: 'ERR_BAD_VALUE' });
});

const opts = vectors.list('cases')[4]?.str('text') ?? '';
const f1 = vectors.list('cases')[0]?.str('text') ?? '';

test('datagrams: no Content-Length means the rest; octets past it are discarded (§18.3)', () => {
  const noLength = opts.replace('Content-Length: 0\r\n', '') + '';
  const a = decodeSipMessage(bytesOf(noLength), { datagram: true });
  assert.equal(a.body.length, 0);
  assert.equal(headerValue(a, 'Content-Length'), undefined);
  const withBody = noLength.replace('Accept:', 'Content-Type: text/plain\r\nAccept:') + 'hello';
  assert.equal(text(decodeSipMessage(bytesOf(withBody), { datagram: true }).body), 'hello');
  const extra = decodeSipMessage(bytesOf(f1 + 'JUNK'), { datagram: true });
  assert.equal(extra.body.length, Number(headerValue(extra, 'Content-Length')));
  assert.throws(() => decodeSipMessage(bytesOf(f1.slice(0, -3)), { datagram: true }), { code: 'ERR_TRUNCATED', field: 'sip.body' });
  // encoding always states the length
  assert.match(text(encodeSipMessage(a)), /\r\nContent-Length: 0\r\n\r\n$/);
});

test('limits: body, head, line and header count are ERR_TOO_LARGE; limits are configurable', () => {
  const big = opts.replace('Content-Length: 0', 'Content-Type: text/plain\r\nContent-Length: 100') + 'x'.repeat(100);
  assert.equal(decodeSipMessage(bytesOf(big)).body.length, 100);
  assert.throws(() => decodeSipMessage(bytesOf(big), { limits: { maxBodyOctets: 99 } }), { code: 'ERR_TOO_LARGE', field: 'sip.headers.Content-Length' });
  assert.throws(() => decodeSipMessage(bytesOf(big), { datagram: true, limits: { maxBodyOctets: 99 } }), { code: 'ERR_TOO_LARGE' });
  const longLine = opts.replace('Accept: application/sdp', `X-Long: ${'a'.repeat(5000)}`);
  assert.throws(() => decodeSipMessage(bytesOf(longLine)), { code: 'ERR_TOO_LARGE', field: 'sip.headers[7]' });
  const folded = opts.replace('Accept: application/sdp', `X-Long: a${'\r\n b'.repeat(2100)}`);
  assert.throws(() => decodeSipMessage(bytesOf(folded)), { code: 'ERR_TOO_LARGE' });
  const many = opts.replace('Accept: application/sdp', Array.from({ length: 100 }, (_, i) => `X-H${i}: v`).join('\r\n'));
  assert.throws(() => decodeSipMessage(bytesOf(many)), { code: 'ERR_TOO_LARGE', field: 'sip.headers' });
  const list = opts.replace('Accept: application/sdp', `Supported: ${Array.from({ length: 100 }, (_, i) => `o${i}`).join(',')}`);
  assert.throws(() => decodeSipMessage(bytesOf(list)), { code: 'ERR_TOO_LARGE', field: 'sip.headers' });
  const head = opts.replace('Accept: application/sdp', Array.from({ length: 20 }, (_, i) => `X-H${i}: ${'v'.repeat(1000)}`).join('\r\n'));
  assert.throws(() => decodeSipMessage(bytesOf(head)), { code: 'ERR_TOO_LARGE', field: 'sip.head' });
  assert.equal(decodeSipMessage(bytesOf(head), { limits: { maxHeadOctets: 32 * 1024 } }).kind, 'request');
  assert.throws(() => sipLimits({ maxBodyOctets: 0 }), { code: 'ERR_CONFIG', field: 'sip.limits.maxBodyOctets' });
  assert.throws(() => sipLimits({ maxLineOctets: 1e6 }), { code: 'ERR_CONFIG' });
});

test('the encoder refuses header injection and invalid start lines', () => {
  const m = decodeSipMessage(bytesOf(opts));
  assert.throws(() => encodeSipMessage({ ...m, headers: [...m.headers, { name: 'X-A', value: 'v\r\nVia: evil' }] }), {
    code: 'ERR_BAD_VALUE',
    field: 'sip.headers.X-A',
  });
  assert.throws(() => encodeSipMessage({ ...m, headers: [...m.headers, { name: 'Bad Name', value: 'v' }] }), { code: 'ERR_BAD_VALUE' });
  if (m.kind !== 'request') throw new Error('request expected');
  assert.throws(() => encodeSipMessage({ ...m, uri: 'sip:a b' }), { code: 'ERR_BAD_VALUE', field: 'sip.startLine.uri' });
  assert.throws(() => encodeSipMessage({ ...m, method: 'OPTIONS\r\n' }), { code: 'ERR_BAD_VALUE', field: 'sip.startLine.method' });
  assert.throws(() => encodeSipMessage({ kind: 'response', status: 200, reason: 'OK\r\nX: y', headers: m.headers, body: m.body }), {
    code: 'ERR_BAD_VALUE',
    field: 'sip.startLine.reason',
  });
  assert.throws(() => encodeSipMessage({ ...m, headers: m.headers.filter((h) => h.name !== 'CSeq') }), { code: 'ERR_BAD_VALUE', field: 'sip.headers.CSeq' });
});

const mcInfo = bytesOf('<?xml version="1.0" encoding="UTF-8"?>\r\n<mcpttinfo xmlns="urn:3gpp:ns:mcpttInfo:1.0"><mcptt-Params/></mcpttinfo>');

test('multipart/mixed: MC parts, preamble and epilogue ignored, part without headers, headers-only part', () => {
  const parts: MimePart[] = [
    { headers: [{ name: 'Content-Type', value: ContentType.MIKEY }], body: Uint8Array.of(1, 0, 26, 0x0d, 0x0a, 0x2d, 0x2d) },
    { headers: [{ name: 'Content-Type', value: ContentType.MCPTT_INFO }, { name: 'Content-ID', value: '<info@mc.example>' }], body: mcInfo },
    { headers: [{ name: 'Content-Type', value: ContentType.MC_SIGNALLING_EAR }], body: new Uint8Array(0) },
  ];
  const { contentType, body } = multipartBody(parts, 'b0undary');
  assert.equal(contentType, 'multipart/mixed;boundary=b0undary');
  assert.deepEqual(decodeMultipart(body, 'b0undary'), parts);
  const framed = utf8(`preamble text\r\n${text(body)}epilogue`);
  assert.deepEqual(decodeMultipart(framed, 'b0undary'), parts);
  const raw = bytesOf('--x  \r\n\r\nno headers\r\n--x\r\nContent-Type: text/plain\r\n--x--');
  const got = decodeMultipart(raw, 'x');
  assert.deepEqual(got.map((p) => [p.headers.length, text(p.body)]), [[0, 'no headers'], [1, '']]);
  assert.equal(findPart(parts, 'APPLICATION/vnd.3gpp.mcptt-info+xml')?.body, mcInfo);
  const req = createSipRequest({
    method: 'MESSAGE',
    uri: 'sip:mcptt-server@mc.example',
    from: { uri: 'sip:alice@mc.example' },
    to: { uri: 'sip:mcptt-server@mc.example' },
    via: { transport: 'UDP', host: '192.0.2.1', port: 5060 },
    body: { contentType, body },
  });
  assert.deepEqual(decodeSipBody(req), parts);
  assert.deepEqual(decodeSipBody(decodeSipMessage(bytesOf(opts))), []);
});

test('multipart rejections name the rule', () => {
  const b = (s: string): Uint8Array => bytesOf(s);
  assert.throws(() => decodeMultipart(b('no boundary here'), 'x'), { code: 'ERR_TRUNCATED', field: 'sip.body' });
  assert.throws(() => decodeMultipart(b('--x\r\nA: b\r\n\r\nc'), 'x'), { code: 'ERR_TRUNCATED', field: 'sip.body.part0' });
  assert.throws(() => decodeMultipart(b('--x--\r\n'), 'x'), { code: 'ERR_BAD_VALUE', field: 'sip.body' });
  assert.throws(() => decodeMultipart(b('--x\r\n\r\na\r\n--xy\r\n\r\nb\r\n--x--'), 'x'), { code: 'ERR_BAD_VALUE', field: 'sip.body.part0' });
  assert.throws(() => decodeMultipart(b('--xjunk\r\n\r\na\r\n--x--'), 'x'), { code: 'ERR_BAD_VALUE', field: 'sip.body.part0' });
  assert.throws(() => decodeMultipart(b('--x\r\nContent-Type: nonsense\r\n\r\na\r\n--x--'), 'x'), { code: 'ERR_BAD_VALUE', field: 'sip.body.part0.headers.Content-Type' });
  const many = `${'--x\r\n\r\np\r\n'.repeat(17)}--x--`;
  assert.throws(() => decodeMultipart(b(many), 'x'), { code: 'ERR_TOO_LARGE', field: 'sip.body.parts' });
  assert.throws(() => encodeMultipart([{ headers: [], body: b('a\r\n--x') }], 'x'), { code: 'ERR_BAD_VALUE', field: 'sip.body.part0' });
  assert.throws(() => encodeMultipart([], 'x'), { code: 'ERR_BAD_VALUE' });
  assert.throws(() => encodeMultipart([{ headers: [], body: b('') }], 'x '), { code: 'ERR_BAD_VALUE', field: 'sip.body.boundary' });
});

test('createSipResponse copies Via rows, From, Call-ID, CSeq, To and adds a To tag (§8.2.6)', () => {
  const seq = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
  const rng = (n: number): Uint8Array => Uint8Array.from(seq.slice(0, n));
  const req = createSipRequest(
    {
      method: 'INVITE',
      uri: 'sip:bob@biloxi.com',
      from: { uri: 'sip:alice@atlanta.com', displayName: 'Alice' },
      to: { uri: 'sip:bob@biloxi.com' },
      via: { transport: 'udp', host: 'pc33.atlanta.com', rport: true },
      cseq: 7,
      contact: 'sip:alice@pc33.atlanta.com',
      headers: [{ name: 'Timestamp', value: '54' }],
    },
    rng,
  );
  assert.equal(headerValue(req, 'Via'), 'SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK0102030405060708090a0b0c0d0e0f10;rport');
  assert.equal(headerValue(req, 'From'), '"Alice" <sip:alice@atlanta.com>;tag=0102030405060708');
  assert.deepEqual(cseqOf(req), { seq: 7, method: 'INVITE' });
  const twoVias: SipRequest = { ...req, headers: [{ name: 'Via', value: 'SIP/2.0/TCP proxy.example;branch=z9hG4bKp' }, ...req.headers] };
  const ok = createSipResponse(twoVias, 200, { toTag: 'bobtag', headers: [{ name: 'Contact', value: '<sip:bob@192.0.2.4>' }] });
  assert.equal(ok.reason, 'OK');
  assert.deepEqual(headerValues(ok, 'Via'), headerValues(twoVias, 'Via'));
  for (const h of ['From', 'Call-ID', 'CSeq']) assert.equal(headerValue(ok, h), headerValue(req, h));
  assert.equal(headerValue(ok, 'To'), '<sip:bob@biloxi.com>;tag=bobtag');
  assert.equal(headerValue(ok, 'Timestamp'), undefined);
  const trying = createSipResponse(req, 100);
  assert.equal(headerValue(trying, 'To'), '<sip:bob@biloxi.com>');
  assert.equal(headerValue(trying, 'Timestamp'), '54');
  const tagged = createSipResponse({ ...req, headers: req.headers.map((h) => (h.name === 'To' ? { ...h, value: '<sip:bob@biloxi.com>;tag=t1' } : h)) }, 486);
  assert.equal(headerValue(tagged, 'To'), '<sip:bob@biloxi.com>;tag=t1');
  assert.equal(tagged.reason, 'Busy Here');
  assert.equal(decodeSipHead(encodeSipMessage(ok)).contentLength, 0);
});

// ---- properties ----

const RUNS = 2000;

test('decodeSipMessage is total on arbitrary octets (stream and datagram rules)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), (b, d) => total(b, d)),
    { numRuns: RUNS },
  );
});

test('decodeSipMessage is total on mutations and cuts of valid messages', () => {
  const seeds = vectors.list('cases').map((c) => bytesOf(c.str('text')));
  fc.assert(
    fc.property(
      fc.nat(seeds.length - 1),
      fc.array(fc.tuple(fc.nat(4096), fc.constantFrom(0x00, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x2c, 0x3a, 0x3b, 0x3c, 0x3e, 0x2d, 0x41, 0xc3, 0xff)), { minLength: 1, maxLength: 4 }),
      fc.nat(4096),
      fc.boolean(),
      (i, edits, cut, datagram) => {
        const seed = seeds[i] ?? new Uint8Array(0);
        const b = seed.slice(0, Math.max(1, Math.min(seed.length, cut + seed.length / 2)));
        for (const [at, v] of edits) if (at < b.length) b[at] = v;
        total(b, datagram);
      },
    ),
    { numRuns: RUNS },
  );
});

test('round trip: decode(encode(m)) equals m, and one octet less is ERR_TRUNCATED', () => {
  fc.assert(
    fc.property(messageArb, (m) => {
      const bytes = encodeSipMessage(m);
      assert.deepEqual(decodeSipMessage(bytes), m);
      assert.throws(() => decodeSipMessage(bytes.subarray(0, -1)), { code: 'ERR_TRUNCATED' });
    }),
    { numRuns: RUNS },
  );
});

test('stability: serialize(parse(x)) is a fixed point for every x that decodes', () => {
  const seeds = vectors.list('cases').map((c) => bytesOf(c.str('text')));
  fc.assert(
    fc.property(fc.nat(seeds.length - 1), fc.array(fc.tuple(fc.nat(4096), fc.nat(255)), { maxLength: 3 }), (i, edits) => {
      const b = (seeds[i] ?? new Uint8Array(0)).slice();
      for (const [at, v] of edits) if (at < b.length) b[at] = v;
      let m: SipMessage;
      try {
        m = decodeSipMessage(b, { datagram: true });
      } catch {
        return;
      }
      const once = encodeSipMessage(m);
      assert.deepEqual(encodeSipMessage(decodeSipMessage(once)), once);
    }),
    { numRuns: RUNS },
  );
});

test('multipart round trip and totality', () => {
  fc.assert(
    fc.property(fc.array(partArb, { minLength: 1, maxLength: 5 }), boundaryArb, (parts, boundary) => {
      let body: Uint8Array;
      try {
        body = encodeMultipart(parts, boundary);
      } catch (err) {
        assert.ok(err instanceof FormatError && err.code === 'ERR_BAD_VALUE', String(err));
        return;
      }
      assert.deepEqual(decodeMultipart(body, boundary), parts);
    }),
    { numRuns: RUNS },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1024 }), (b) => {
      const withBoundary = utf8(`--q\r\n${text(b.map((x) => (x === 0 ? 0x20 : x)).filter((x) => x < 0x80))}\r\n--q--`);
      for (const input of [b, withBoundary]) {
        try {
          decodeMultipart(input, 'q');
        } catch (err) {
          assert.ok(err instanceof FormatError, String(err));
        }
      }
    }),
    { numRuns: RUNS },
  );
});
