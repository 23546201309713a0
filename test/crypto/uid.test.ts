/**
 * The MIKEY-SAKKE UID of TS 33.180 §F.2.1 against the worked example of §F.2.1.2, and the key
 * period number P5 = floor((TIME - P4) / P3) with TIME in NTP seconds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  NTP_UNIX_OFFSET,
  deriveUid,
  kdfInput,
  keyPeriodNoAt,
  keyPeriodNoAtNtp,
  uidInput,
  type UidInput,
} from '../../src/crypto/index.js';
import { toHex } from '../../src/util/index.js';
import { onlyCase } from '../fixtures/vectors.js';

const ex = onlyCase('ts33180/f-2-1-2.json');
const example: UidInput = {
  uri: ex.str('uri'),
  kmsUri: ex.str('kmsUri'),
  userKeyPeriod: ex.int('userKeyPeriod'),
  userKeyOffset: ex.int('userKeyOffset'),
  keyPeriodNo: ex.int('currentKeyPeriodNo'),
};

test('§F.2.1.2: the hash input S octet for octet', () => {
  assert.equal(toHex(uidInput(example)), ex.str('s'));
  assert.equal(ex.str('s'), ex.str('hashInput'));
  // The same S assembled part by part as the example lists it.
  const parts = ['fc', 'p0', 'l0', 'p1', 'l1', 'p2', 'l2', 'p3', 'l3', 'p4', 'l4', 'p5', 'l5'];
  assert.equal(parts.map((k) => ex.str(k)).join(''), ex.str('s'));
});

test('§F.2.1.2: the UID, in hex and base64', () => {
  const uid = deriveUid(example);
  assert.equal(uid.length, 32);
  assert.equal(toHex(uid), ex.str('uid'));
  assert.equal(Buffer.from(uid).toString('base64'), ex.str('uidBase64'));
  assert.deepEqual(uid, new Uint8Array(createHash('sha256').update(uidInput(example)).digest()));
});

test('§F.2.1.2: the key period number for 2014-01-26T10:07:14Z is 1388', () => {
  const date = new Date('2014-01-26T10:07:14Z');
  assert.equal(Math.floor(date.getTime() / 1000) + NTP_UNIX_OFFSET, ex.int('timeNtp'));
  assert.equal(keyPeriodNoAt(date, example.userKeyPeriod, example.userKeyOffset), 1388);
  assert.equal(
    keyPeriodNoAtNtp(ex.int('timeNtp'), example.userKeyPeriod, example.userKeyOffset),
    1388,
  );
  assert.equal(ex.int('currentKeyPeriodNo'), 1388);
});

test('NTP_UNIX_OFFSET is 70 years of seconds (1900-01-01 to 1970-01-01)', () => {
  assert.equal(NTP_UNIX_OFFSET, -Date.UTC(1900, 0, 1) / 1000);
});

test('keyPeriodNo may be a bigint or a number with the same UID', () => {
  assert.deepEqual(deriveUid({ ...example, keyPeriodNo: 1388n }), deriveUid(example));
});

test('each UID input changes the UID', () => {
  const base = toHex(deriveUid(example));
  const variants: UidInput[] = [
    { ...example, uri: 'sip:user2@example.org' },
    { ...example, kmsUri: 'kms2.example.org' },
    { ...example, userKeyPeriod: 2592001 },
    { ...example, userKeyOffset: 1 },
    { ...example, keyPeriodNo: 1389 },
  ];
  for (const v of variants) assert.notEqual(toHex(deriveUid(v)), base, JSON.stringify(v));
});

test('uidInput is the KDF input of FC 0x00 and P0..P5 for any valid inputs', () => {
  fc.assert(
    fc.property(
      fc.string({ minLength: 1, maxLength: 40 }),
      fc.string({ minLength: 1, maxLength: 40 }),
      fc.integer({ min: 1, max: 2 ** 40 }),
      fc.nat(),
      fc.bigInt({ min: 0n, max: 2n ** 64n }),
      (uri, kmsUri, period, offsetSeed, keyPeriodNo) => {
        const userKeyOffset = offsetSeed % period;
        const input = { uri, kmsUri, userKeyPeriod: period, userKeyOffset, keyPeriodNo };
        const want = kdfInput(0x00, [
          'MIKEY-SAKKE-UID',
          uri,
          kmsUri,
          period,
          userKeyOffset,
          keyPeriodNo,
        ]);
        assert.deepEqual(uidInput(input), want);
      },
    ),
    { numRuns: 200 },
  );
});

test('keyPeriodNoAtNtp = floor((TIME - P4) / P3) at and around period boundaries', () => {
  assert.equal(keyPeriodNoAtNtp(0, 10, 0), 0);
  assert.equal(keyPeriodNoAtNtp(9, 10, 0), 0);
  assert.equal(keyPeriodNoAtNtp(10, 10, 0), 1);
  assert.equal(keyPeriodNoAtNtp(13, 10, 3), 1);
  assert.equal(keyPeriodNoAtNtp(12, 10, 3), 0);
  assert.equal(keyPeriodNoAtNtp(3, 10, 3), 0);
  assert.equal(keyPeriodNoAtNtp(12.9, 10, 3), 0, 'fractions of a second are dropped');
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1e8 }),
      fc.nat(),
      fc.nat({ max: 2 ** 40 }),
      (period, offsetSeed, extra) => {
        const offset = offsetSeed % period;
        const t = offset + extra;
        const n = keyPeriodNoAtNtp(t, period, offset);
        assert.ok(n * period + offset <= t && t < (n + 1) * period + offset);
      },
    ),
    { numRuns: 300 },
  );
});

test('keyPeriodNoAt with a Date agrees with keyPeriodNoAtNtp', () => {
  fc.assert(
    fc.property(
      fc.date({
        min: new Date('1970-01-01T00:00:00Z'),
        max: new Date('2100-01-01T00:00:00Z'),
        noInvalidDate: true,
      }),
      fc.integer({ min: 1, max: 1e8 }),
      (d, period) => {
        const ntp = Math.floor(d.getTime() / 1000) + NTP_UNIX_OFFSET;
        assert.equal(keyPeriodNoAt(d, period, 0), keyPeriodNoAtNtp(ntp, period, 0));
      },
    ),
    { numRuns: 200 },
  );
});

test('UserKeyOffset must be below UserKeyPeriod: field uid.userKeyOffset', () => {
  const bad = [
    { userKeyPeriod: 100, userKeyOffset: 100 },
    { userKeyPeriod: 100, userKeyOffset: 101 },
    { userKeyPeriod: 100, userKeyOffset: -1 },
    { userKeyPeriod: 100, userKeyOffset: 1.5 },
  ];
  for (const b of bad) {
    const want = { name: 'FormatError', code: 'ERR_BAD_VALUE', field: 'uid.userKeyOffset' };
    assert.throws(() => uidInput({ ...example, ...b }), want, JSON.stringify(b));
    assert.throws(() => deriveUid({ ...example, ...b }), want);
    assert.throws(() => keyPeriodNoAtNtp(1e9, b.userKeyPeriod, b.userKeyOffset), want);
    assert.throws(() => keyPeriodNoAt(new Date(), b.userKeyPeriod, b.userKeyOffset), want);
  }
  assert.equal(uidInput({ ...example, userKeyPeriod: 100, userKeyOffset: 99 }).length > 0, true);
});

test('UserKeyPeriod must be a positive integer: field uid.userKeyPeriod', () => {
  for (const period of [0, -1, 1.5, Number.NaN, Infinity, 2 ** 53]) {
    const want = { name: 'FormatError', code: 'ERR_BAD_VALUE', field: 'uid.userKeyPeriod' };
    assert.throws(
      () => uidInput({ ...example, userKeyPeriod: period, userKeyOffset: 0 }),
      want,
      String(period),
    );
    assert.throws(() => keyPeriodNoAtNtp(1e9, period, 0), want);
    assert.throws(() => keyPeriodNoAt(new Date(), period, 0), want);
  }
});

test('a time before the first key period is ERR_BAD_VALUE field uid.time', () => {
  const want = { name: 'FormatError', code: 'ERR_BAD_VALUE', field: 'uid.time' };
  assert.throws(() => keyPeriodNoAtNtp(9, 100, 10), want);
  assert.throws(() => keyPeriodNoAtNtp(-1, 100, 0), want);
  assert.throws(() => keyPeriodNoAtNtp(Number.NaN, 100, 0), want);
  assert.throws(() => keyPeriodNoAtNtp(Infinity, 100, 0), want);
  // 1899 is before NTP time 0.
  assert.throws(() => keyPeriodNoAt(new Date('1899-12-31T23:59:59Z'), 100, 0), want);
  assert.throws(() => keyPeriodNoAt(new Date(Number.NaN), 100, 0), want);
  assert.equal(keyPeriodNoAt(new Date('1900-01-01T00:00:00Z'), 100, 0), 0);
});

test('a negative key period number is ERR_BAD_VALUE field uid.keyPeriodNo', () => {
  const want = { name: 'FormatError', code: 'ERR_BAD_VALUE', field: 'uid.keyPeriodNo' };
  assert.throws(() => uidInput({ ...example, keyPeriodNo: -1 }), want);
  assert.throws(() => deriveUid({ ...example, keyPeriodNo: -1n }), want);
});

test(
  'a non-integer key period number is a FormatError, not a RangeError',
  () => {
    for (const keyPeriodNo of [1.5, Number.NaN]) {
      assert.throws(() => uidInput({ ...example, keyPeriodNo }), {
        code: 'ERR_BAD_VALUE',
        field: 'uid.keyPeriodNo',
      });
    }
  },
);
