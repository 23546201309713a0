/**
 * Byte helpers of src/util/bytes.ts (STYLE.md §5): hex, UTF-8, big-endian integers, constant-time
 * equality. Untrusted hex and UTF-8 fail with a FormatError ERR_BAD_VALUE naming the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  bigIntToBytes,
  bytesToBigInt,
  concatBytes,
  equalBytes,
  fromHex,
  fromUtf8,
  toBase64Url,
  toHex,
  u32be,
  utf8,
} from '../../src/util/index.js';
import { FormatError } from '../../src/errors/index.js';

const hexDigit = fc.constantFrom(...'0123456789abcdefABCDEF');

test('toHex is lowercase, two digits per octet', () => {
  assert.equal(toHex(new Uint8Array(0)), '');
  assert.equal(toHex(Uint8Array.of(0, 1, 0x0f, 0x10, 0xab, 0xff)), '00010f10abff');
});

test('fromHex(toHex(b)) = b, and toHex(fromHex(h)) = lowercase h', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      assert.deepEqual(fromHex(toHex(b)), b);
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(hexDigit, hexDigit), { maxLength: 100 }), (pairs) => {
      const h = pairs.map(([a, b]) => a + b).join('');
      assert.equal(toHex(fromHex(h)), h.toLowerCase());
    }),
    { numRuns: 500 },
  );
});

test('fromHex accepts either case', () => {
  assert.deepEqual(fromHex('AbCdEf09'), Uint8Array.of(0xab, 0xcd, 0xef, 0x09));
  assert.deepEqual(fromHex(''), new Uint8Array(0));
});

test('fromHex rejects an odd length with ERR_BAD_VALUE and the given field', () => {
  assert.throws(() => fromHex('abc', 'keys.kms.pubEncKey'), {
    name: 'FormatError',
    code: 'ERR_BAD_VALUE',
    field: 'keys.kms.pubEncKey',
  });
  assert.throws(() => fromHex('0'), { code: 'ERR_BAD_VALUE', field: 'hex' });
});

test('fromHex rejects non-hex digits (including signs, spaces, 0x) with ERR_BAD_VALUE', () => {
  for (const bad of ['zz', '0x12', '+1', '-1', ' 1', '1 ', 'g0', '１２', '\u0000\u0000', '0\n']) {
    assert.throws(
      () => fromHex(bad, 'x.y'),
      { code: 'ERR_BAD_VALUE', field: 'x.y' },
      JSON.stringify(bad),
    );
  }
});

test('fromHex is total: bytes or a FormatError ERR_BAD_VALUE, for any string', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
      try {
        const out = fromHex(s, 'f');
        assert.equal(out.length * 2, s.length);
        assert.equal(toHex(out), s.toLowerCase());
      } catch (err) {
        assert.ok(err instanceof FormatError, String(err));
        assert.equal(err.code, 'ERR_BAD_VALUE');
        assert.equal(err.field, 'f');
      }
    }),
    { numRuns: 1000 },
  );
});

test('bigIntToBytes / bytesToBigInt: big-endian, fixed width, inverse of each other', () => {
  assert.deepEqual(bigIntToBytes(0n, 3), Uint8Array.of(0, 0, 0));
  assert.deepEqual(bigIntToBytes(0x0102n, 4), Uint8Array.of(0, 0, 1, 2));
  assert.equal(bytesToBigInt(new Uint8Array(0)), 0n);
  assert.equal(bytesToBigInt(Uint8Array.of(0, 0, 1, 0)), 256n);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), (b) => {
      assert.deepEqual(bigIntToBytes(bytesToBigInt(b), b.length), b);
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: (1n << 1024n) - 1n }),
      fc.integer({ min: 128, max: 160 }),
      (n, len) => {
        const b = bigIntToBytes(n, len);
        assert.equal(b.length, len);
        assert.equal(bytesToBigInt(b), n);
      },
    ),
    { numRuns: 300 },
  );
});

test('bigIntToBytes rejects negative integers and integers wider than the length', () => {
  assert.throws(() => bigIntToBytes(-1n, 4), RangeError);
  assert.throws(() => bigIntToBytes(256n, 1), RangeError);
  assert.throws(() => bigIntToBytes(1n, 0), RangeError);
  assert.deepEqual(bigIntToBytes(255n, 1), Uint8Array.of(255));
});

test('u32be writes 4 big-endian octets of the unsigned value', () => {
  assert.deepEqual(u32be(0), Uint8Array.of(0, 0, 0, 0));
  assert.deepEqual(u32be(0x12345678), Uint8Array.of(0x12, 0x34, 0x56, 0x78));
  assert.deepEqual(u32be(0xffffffff), Uint8Array.of(0xff, 0xff, 0xff, 0xff));
  fc.assert(
    fc.property(fc.nat({ max: 0xffffffff }), (n) => {
      const b = u32be(n);
      assert.equal(new DataView(b.buffer).getUint32(0), n);
    }),
  );
});

test('equalBytes: true exactly for the same octets, false for any length difference', () => {
  assert.equal(equalBytes(new Uint8Array(0), new Uint8Array(0)), true);
  assert.equal(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2)), true);
  assert.equal(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3)), false);
  assert.equal(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 0)), false);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (a, b) => {
      assert.equal(equalBytes(a, b), toHex(a) === toHex(b));
      assert.equal(equalBytes(a, a.slice()), true);
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 64 }),
      fc.nat(),
      fc.integer({ min: 0, max: 7 }),
      (a, at, bit) => {
        const b = a.slice();
        const i = at % b.length;
        b[i] = (b[i] as number) ^ (1 << bit);
        assert.equal(equalBytes(a, b), false);
      },
    ),
  );
});

test('equalBytes compares views, not whole buffers', () => {
  const buf = Uint8Array.of(9, 1, 2, 9);
  assert.equal(equalBytes(buf.subarray(1, 3), Uint8Array.of(1, 2)), true);
});

test('concatBytes joins in order', () => {
  assert.deepEqual(concatBytes(), new Uint8Array(0));
  assert.deepEqual(
    concatBytes(Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3)),
    Uint8Array.of(1, 2, 3),
  );
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 8 }), (parts) => {
      assert.equal(toHex(concatBytes(...parts)), parts.map(toHex).join(''));
    }),
  );
});

test('utf8 / fromUtf8 round trip any well-formed string', () => {
  assert.deepEqual(
    utf8('sip:alice@example.org'),
    new TextEncoder().encode('sip:alice@example.org'),
  );
  assert.deepEqual(
    utf8('é€😀'),
    Uint8Array.of(0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80),
  );
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 50 }), (s) => {
      assert.equal(fromUtf8(utf8(s)), s);
    }),
    { numRuns: 500 },
  );
});

test('fromUtf8 rejects invalid UTF-8 with ERR_BAD_VALUE and the given field', () => {
  const bad: Uint8Array[] = [
    Uint8Array.of(0xff),
    Uint8Array.of(0xc3), // truncated sequence
    Uint8Array.of(0xc0, 0xaf), // overlong '/'
    Uint8Array.of(0xed, 0xa0, 0x80), // UTF-16 surrogate
    Uint8Array.of(0xf4, 0x90, 0x80, 0x80), // above U+10FFFF
    Uint8Array.of(0x80), // lone continuation
  ];
  for (const b of bad) {
    assert.throws(
      () => fromUtf8(b, 'keys.user.uri'),
      {
        name: 'FormatError',
        code: 'ERR_BAD_VALUE',
        field: 'keys.user.uri',
      },
      toHex(b),
    );
  }
  assert.throws(() => fromUtf8(Uint8Array.of(0xfe)), { code: 'ERR_BAD_VALUE', field: 'utf8' });
});

test('fromUtf8 is total: a string or ERR_BAD_VALUE, for any bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      try {
        const s = fromUtf8(b, 'f');
        assert.deepEqual(utf8(s), b);
      } catch (err) {
        assert.ok(err instanceof FormatError, String(err));
        assert.equal(err.code, 'ERR_BAD_VALUE');
      }
    }),
    { numRuns: 1000 },
  );
});

test('toBase64Url has no padding and uses the URL alphabet', () => {
  assert.equal(toBase64Url(Uint8Array.of(0xfb, 0xff)), '-_8');
  assert.equal(toBase64Url(new Uint8Array(0)), '');
});
