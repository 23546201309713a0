/**
 * The TS 33.220 Annex B KDF: S = FC || P0 || L0 || ... || Pn || Ln (Annex B.1), integers as the
 * shortest big-endian octet string with 0 as 0x00 (Annex B.2, as TS 33.180 §F.2.1.2 shows), and
 * derived key = HMAC-SHA-256(Key, S); HMAC-SHA-256 itself against RFC 4231 §4.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { encodeKdfInteger, hmacSha256, kdf, kdfInput, sha256 } from '../../src/crypto/index.js';
import { concatBytes, fromHex, toHex, utf8 } from '../../src/util/index.js';
import { loadVectors } from '../fixtures/vectors.js';

const rfc4231 = loadVectors('rfc4231/hmac-sha256.json');

for (const c of rfc4231.list('cases')) {
  const name = c.str('name');
  test(`RFC 4231 §4 ${name}: hmacSha256`, () => {
    const want = c.str('hmacSha256');
    const mac = hmacSha256(c.hex('key'), c.hex('data'));
    assert.equal(mac.length, 32);
    // Test case 5 prints only the first 128 bits of the MAC (RFC 4231 §4.6).
    const got = want.length === 64 ? toHex(mac) : toHex(mac.subarray(0, want.length / 2));
    assert.equal(got, want);
  });
}

test('RFC 4231 covers the seven cases and test case 5 is the truncated one', () => {
  const cases = rfc4231.list('cases');
  assert.equal(cases.length, 7);
  assert.equal(
    cases
      .filter((c) => c.str('hmacSha256').length === 32)
      .map((c) => c.str('name'))
      .join(),
    'test case 5',
  );
});

test('kdfInput: FC, then each parameter followed by its 2-octet length (Annex B.1)', () => {
  assert.equal(toHex(kdfInput(0x50, [])), '50');
  assert.equal(
    toHex(kdfInput(0x00, ['MIKEY-SAKKE-UID'])),
    '00' + toHex(utf8('MIKEY-SAKKE-UID')) + '000f',
  );
  assert.equal(
    toHex(kdfInput(0xff, [Uint8Array.of(1, 2, 3), new Uint8Array(0)])),
    'ff' + '010203' + '0003' + '0000',
  );
  // Strings are UTF-8 and L counts octets, not characters.
  assert.equal(toHex(kdfInput(0x51, ['é'])), '51' + 'c3a9' + '0002');
});

test('kdfInput: integers are minimal big-endian, 0 is one 0x00 octet (Annex B.2, TS 33.180 §F.2.1.2)', () => {
  const cases: [bigint | number, string][] = [
    [0, '00'],
    [0n, '00'],
    [1, '01'],
    [255, 'ff'],
    [256, '0100'],
    [1388, '056c'],
    [2592000, '278d00'],
    [0xffffffff, 'ffffffff'],
    [2n ** 64n, '010000000000000000'],
  ];
  for (const [n, hex] of cases) {
    assert.equal(toHex(encodeKdfInteger(n)), hex, String(n));
    const len = hex.length / 2;
    assert.equal(toHex(kdfInput(0x01, [n])), '01' + hex + len.toString(16).padStart(4, '0'));
  }
});

test('encodeKdfInteger: no leading zero octet except for 0, and it decodes back', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 2n ** 300n }), (n) => {
      const b = encodeKdfInteger(n);
      assert.ok(b.length >= 1);
      if (n !== 0n) assert.notEqual(b[0], 0);
      else assert.deepEqual(b, Uint8Array.of(0));
      assert.equal(BigInt('0x' + toHex(b)), n);
      assert.deepEqual(encodeKdfInteger(n), b);
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.maxSafeNat(), (n) => {
      assert.deepEqual(encodeKdfInteger(n), encodeKdfInteger(BigInt(n)));
    }),
  );
});

/** The shortest big-endian octets of n (one 0x00 for 0), written independently of src. */
function minimal(n: bigint): Uint8Array {
  const h = n.toString(16);
  return fromHex(h.length % 2 === 1 ? '0' + h : h);
}

test('kdfInput equals a hand-built S for any parameters', () => {
  const param = fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    fc.string({ maxLength: 20 }),
    fc.bigInt({ min: 0n, max: 2n ** 80n }),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 255 }),
      fc.array(param, { maxLength: 6 }),
      (fcValue, ps) => {
        const parts: Uint8Array[] = [Uint8Array.of(fcValue)];
        for (const p of ps) {
          const bytes =
            typeof p === 'string'
              ? new TextEncoder().encode(p)
              : typeof p === 'bigint'
                ? minimal(p)
                : p;
          parts.push(bytes, Uint8Array.of(bytes.length >> 8, bytes.length & 0xff));
        }
        assert.deepEqual(kdfInput(fcValue, ps), concatBytes(...parts));
      },
    ),
    { numRuns: 300 },
  );
});

test('kdf = HMAC-SHA-256(key, S), 32 octets', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 64 }),
      fc.integer({ min: 0, max: 255 }),
      fc.array(fc.oneof(fc.string({ maxLength: 20 }), fc.nat(), fc.uint8Array({ maxLength: 20 })), {
        maxLength: 4,
      }),
      (key, fcValue, ps) => {
        const out = kdf(key, fcValue, ps);
        assert.equal(out.length, 32);
        const want = createHmac('sha256', key).update(kdfInput(fcValue, ps)).digest();
        assert.deepEqual(out, new Uint8Array(want));
        assert.deepEqual(out, hmacSha256(key, kdfInput(fcValue, ps)));
      },
    ),
    { numRuns: 300 },
  );
});

test('a length of 65535 octets is allowed, 65536 is ERR_TOO_LARGE for that parameter', () => {
  const s = kdfInput(0x10, [new Uint8Array(0xffff)]);
  assert.equal(s.length, 1 + 0xffff + 2);
  assert.equal(toHex(s.subarray(-2)), 'ffff');
  assert.throws(() => kdfInput(0x10, [Uint8Array.of(1), new Uint8Array(0x10000)]), {
    name: 'FormatError',
    code: 'ERR_TOO_LARGE',
    field: 'kdf.p1',
  });
});

test('FC must be one octet: ERR_BAD_VALUE field kdf.fc', () => {
  for (const bad of [-1, 256, 1.5, Number.NaN, Infinity, 0x100]) {
    assert.throws(
      () => kdfInput(bad, []),
      { name: 'FormatError', code: 'ERR_BAD_VALUE', field: 'kdf.fc' },
      String(bad),
    );
    assert.throws(() => kdf(new Uint8Array(16), bad, []), {
      code: 'ERR_BAD_VALUE',
      field: 'kdf.fc',
    });
  }
  assert.equal(kdfInput(0, []).length, 1);
  assert.equal(kdfInput(255, [])[0], 255);
});

test('negative integers are ERR_BAD_VALUE field kdf.parameter', () => {
  for (const bad of [-1, -1n, -(2n ** 70n), Number.MIN_SAFE_INTEGER]) {
    assert.throws(() => encodeKdfInteger(bad), {
      name: 'FormatError',
      code: 'ERR_BAD_VALUE',
      field: 'kdf.parameter',
    });
    assert.throws(() => kdfInput(0x50, ['x', bad]), {
      code: 'ERR_BAD_VALUE',
      field: 'kdf.parameter',
    });
  }
});

test(
  'non-integer numbers are a FormatError, not a RangeError',
  () => {
    for (const bad of [1.5, Number.NaN, Infinity]) {
      assert.throws(
        () => encodeKdfInteger(bad),
        { code: 'ERR_BAD_VALUE', field: 'kdf.parameter' },
        String(bad),
      );
    }
  },
);

test('sha256 hashes the concatenation of its parts', () => {
  assert.equal(toHex(sha256()), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 50 }), { maxLength: 5 }), (parts) => {
      const want = createHash('sha256')
        .update(concatBytes(...parts))
        .digest();
      assert.deepEqual(sha256(...parts), new Uint8Array(want));
    }),
  );
});
