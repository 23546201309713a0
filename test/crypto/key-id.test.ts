/**
 * Key identifiers of TS 33.180 Annex G: 4-bit purpose tag (Table G-1) and 28 random bits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FormatError } from '../../src/errors/index.js';
import {
  DIVERSIFIED_KEY_TYPES,
  PurposeTag,
  decodeKeyId,
  generateKeyId,
  isKeyIdOfType,
  type KeyType,
} from '../../src/crypto/index.js';

/** Table G-1. */
const TABLE_G_1: readonly (readonly [KeyType, number])[] = [
  ['GMK', 0],
  ['PCK', 1],
  ['CSK', 2],
  ['SPK', 3],
  ['MKFC', 4],
  ['MSCCK', 5],
  ['MuSiK', 6],
];
const keyType = fc.constantFrom(...TABLE_G_1.map(([t]) => t));
const four = fc.uint8Array({ minLength: 4, maxLength: 4 });
const be = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset).getUint32(0);

test('PurposeTag is Table G-1 exactly, frozen', () => {
  assert.deepEqual(
    Object.entries(PurposeTag),
    TABLE_G_1.map(([t, n]) => [t, n]),
  );
  assert.ok(Object.isFrozen(PurposeTag));
  assert.deepEqual(DIVERSIFIED_KEY_TYPES, ['GMK']);
});

test('generateKeyId: the purpose tag of its type in the top 4 bits, the rng in the low 28', () => {
  for (const [type, tag] of TABLE_G_1) {
    const zero = generateKeyId(type, () => new Uint8Array(4));
    assert.equal(zero, tag * 2 ** 28, type);
    const ones = generateKeyId(type, () => new Uint8Array(4).fill(0xff));
    assert.equal(ones, tag * 2 ** 28 + 0x0fff_ffff, type);
  }
  assert.equal(
    generateKeyId('MuSiK', () => Uint8Array.of(0x12, 0x34, 0x56, 0x78)),
    0x62345678,
  );
});

test('generateKeyId asks the rng for 4 octets and uses its 28 low bits', () => {
  fc.assert(
    fc.property(keyType, four, (type, rnd) => {
      const asked: number[] = [];
      const id = generateKeyId(type, (n) => {
        asked.push(n);
        return rnd;
      });
      assert.deepEqual(asked, [4]);
      assert.ok(Number.isInteger(id) && id >= 0 && id <= 0xffff_ffff);
      assert.equal(id >>> 28, PurposeTag[type]);
      assert.equal(id & 0x0fff_ffff, be(rnd) & 0x0fff_ffff);
      assert.ok(isKeyIdOfType(id, type));
      const decoded = decodeKeyId(id);
      assert.deepEqual(decoded, { value: id, purposeTag: PurposeTag[type], keyType: type });
      assert.ok(Object.isFrozen(decoded));
    }),
    { numRuns: 500 },
  );
});

test('generateKeyId with the default rng varies the low bits', () => {
  const ids = new Set(Array.from({ length: 32 }, () => generateKeyId('PCK')));
  assert.ok(ids.size > 30);
  for (const id of ids) assert.equal(id >>> 28, 1);
});

test('isKeyIdOfType is false for every other type', () => {
  fc.assert(
    fc.property(keyType, keyType, four, (a, b, rnd) => {
      assert.equal(
        isKeyIdOfType(
          generateKeyId(a, () => rnd),
          b,
        ),
        a === b,
      );
    }),
  );
});

test('decodeKeyId rejects purpose tags 7-15 with ERR_UNSUPPORTED field keyId.purposeTag', () => {
  for (let tag = 7; tag <= 15; tag++) {
    for (const low of [0, 1, 0x0fff_ffff]) {
      const value = tag * 2 ** 28 + low;
      assert.throws(
        () => decodeKeyId(value),
        {
          name: 'FormatError',
          code: 'ERR_UNSUPPORTED',
          field: 'keyId.purposeTag',
        },
        value.toString(16),
      );
    }
  }
  assert.throws(() => decodeKeyId(0x7000_0000, 'mikey.gmkId'), {
    code: 'ERR_UNSUPPORTED',
    field: 'mikey.gmkId.purposeTag',
  });
});

test('decodeKeyId rejects values that are not 32-bit unsigned integers: ERR_BAD_VALUE field keyId', () => {
  for (const bad of [-1, 2 ** 32, 2 ** 53, 0.5, 1e-9, Number.NaN, Infinity, -Infinity]) {
    assert.throws(
      () => decodeKeyId(bad),
      { name: 'FormatError', code: 'ERR_BAD_VALUE', field: 'keyId' },
      String(bad),
    );
  }
  assert.throws(() => decodeKeyId(-1, 'x'), { code: 'ERR_BAD_VALUE', field: 'x' });
});

test('decodeKeyId is total over numbers: a KeyId or a FormatError', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.double(),
        fc.integer({ min: -(2 ** 33), max: 2 ** 33 }),
        fc.nat({ max: 0xffff_ffff }),
      ),
      (v) => {
        try {
          const k = decodeKeyId(v);
          assert.ok(k.purposeTag <= 6);
          assert.equal(k.value, v);
        } catch (err) {
          assert.ok(err instanceof FormatError, String(err));
          assert.ok(err.code === 'ERR_BAD_VALUE' || err.code === 'ERR_UNSUPPORTED');
        }
      },
    ),
    { numRuns: 1000 },
  );
});
