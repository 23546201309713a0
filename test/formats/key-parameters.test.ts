/**
 * The Key Parameters IE of TS 33.180 §E.6 (Table E.6.1-1): its exact octets, the Status bits of
 * §E.6.9 (revocation, Security Gateway), the 0 times of §E.6.4 / §E.6.10, the conditional MC Group
 * IDs of §E.6.3, the Reserved IE of §E.6.6; typed refusals for truncated, lengthened and wrong
 * values; fast-check totality and round trip; and the legacy (non-§8.5.4) extension data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { KeyType } from '../../src/crypto/index.js';
import { FormatError } from '../../src/errors/index.js';
import {
  GROUP_KEY_TYPES,
  decodeKeyParameters,
  decodeKeyParametersExtension,
  encodeKeyParameters,
  keyParametersOf,
  type KeyParameters,
} from '../../src/formats/mikey/index.js';
import { concatBytes, fromHex, toHex, utf8 } from '../../src/util/index.js';

const KEY_TYPES: readonly KeyType[] = ['GMK', 'PCK', 'CSK', 'SPK', 'MKFC', 'MSCCK', 'MuSiK'];
const t = (iso: string): Date => new Date(iso);

const gmk: KeyParameters = {
  iei: 0,
  keyType: 'GMK',
  status: { revoked: false, securityGateway: true, undefinedBits: 0 },
  activationTime: t('2026-11-28T12:00:00Z'),
  expiryTime: undefined,
  text: 'Fire A',
  mcGroupIds: [{ iei: 0, id: 'sip:fire@example.org' }],
  reserved: undefined,
};

test('the octets of a GMK key parameters IE: key type, status, times, text, MC Group IDs (Table E.6.1-1)', () => {
  const bytes = encodeKeyParameters(gmk);
  const at = (new Date('2026-11-28T12:00:00Z').getTime() / 1000).toString(16).padStart(10, '0');
  const group = toHex(utf8('sip:fire@example.org'));
  const content =
    '00' + // key type GMK (Table E.6.11-1)
    '00000003' + // status: bit 0 not revoked, bit 1 Security Gateway (Table E.6.9-1)
    at + // activation time
    '0000000000' + // expiry time 0: never
    '0006' + toHex(utf8('Fire A')) + // text, LV-E
    '0018' + '01' + '00' + '0014' + group; // MC Group IDs: length 24, one TLV-E group ID
  assert.equal(toHex(bytes), '00' + (content.length / 2).toString(16).padStart(4, '0') + content);
  assert.deepEqual(decodeKeyParameters(bytes), gmk);
  assert.ok(Object.isFrozen(decodeKeyParameters(bytes).status));
});

test('every key type round-trips; MC Group IDs only for GMK, MKFC and MuSiK (§E.6.3)', () => {
  for (const keyType of KEY_TYPES) {
    const group = GROUP_KEY_TYPES.includes(keyType);
    const kp = keyParametersOf({ text: keyType, ...(group ? { mcGroupIds: ['sip:g1@x', { iei: 0x7a, id: 'sip:g2@x' }] } : {}) }, keyType);
    const back = decodeKeyParameters(encodeKeyParameters(kp));
    assert.deepEqual(back, kp, keyType);
    assert.equal(back.status.revoked, false);
    assert.equal(back.mcGroupIds?.length, group ? 2 : undefined);
    if (!group) assert.throws(() => keyParametersOf({ mcGroupIds: ['sip:g@x'] }, keyType), { code: 'ERR_BAD_VALUE', field: 'keyParameters.mcGroupIds' });
  }
  assert.deepEqual(keyParametersOf({}, 'MuSiK').mcGroupIds, []);
});

test('status: bit 0 clear is revoked; undefined bits are kept but mean nothing (§E.6.9)', () => {
  const revoked = keyParametersOf({ status: { revoked: true } }, 'PCK');
  const bytes = encodeKeyParameters(revoked);
  assert.equal(toHex(bytes.subarray(4, 8)), '00000000');
  assert.equal(decodeKeyParameters(bytes).status.revoked, true);
  const odd = bytes.slice();
  odd[4] = 0x80;
  odd[7] = 0x01;
  assert.deepEqual(decodeKeyParameters(odd).status, { revoked: false, securityGateway: false, undefinedBits: 0x8000_0000 });
  assert.deepEqual(encodeKeyParameters(decodeKeyParameters(odd)), odd);
});

test('a key without groups may carry the §E.6.3 "no group" form (length 1, number 0), and a Reserved IE after it', () => {
  const kp = { ...keyParametersOf({}, 'PCK'), mcGroupIds: [], reserved: { iei: 5, value: fromHex('cafe') } };
  const bytes = encodeKeyParameters(kp);
  assert.ok(toHex(bytes).endsWith('000100' + '05' + '0002' + 'cafe'));
  assert.deepEqual(decodeKeyParameters(bytes), kp);
  const onlyReserved = { ...kp, mcGroupIds: undefined };
  assert.deepEqual(decodeKeyParameters(encodeKeyParameters(onlyReserved)), onlyReserved);
  // The one Reserved IE that would read as the "no group" form is refused rather than sent.
  assert.throws(() => encodeKeyParameters({ ...onlyReserved, reserved: { iei: 0, value: new Uint8Array(256) } }), { code: 'ERR_BAD_VALUE', field: 'keyParameters.reserved' });
});

test('refusals: truncated, lengthened, wrong key type, missing groups, bad UTF-8, time 0 given as a date', () => {
  const bytes = encodeKeyParameters(gmk);
  for (let n = 0; n < bytes.length; n++) {
    assert.throws(() => decodeKeyParameters(bytes.subarray(0, n)), { code: 'ERR_TRUNCATED' }, `length ${n}`);
  }
  assert.throws(() => decodeKeyParameters(concatBytes(bytes, Uint8Array.of(0))), { code: 'ERR_TRAILING_BYTES', field: 'keyParameters' });
  const longer = bytes.slice();
  new DataView(longer.buffer).setUint16(1, bytes.length - 3 + 1);
  assert.throws(() => decodeKeyParameters(longer), { code: 'ERR_TRUNCATED', field: 'keyParameters.content' });
  const shorter = bytes.slice();
  new DataView(shorter.buffer).setUint16(1, bytes.length - 3 - 1);
  assert.throws(() => decodeKeyParameters(shorter), { code: 'ERR_TRAILING_BYTES', field: 'keyParameters' });
  const kt = bytes.slice();
  kt[3] = 7;
  assert.throws(() => decodeKeyParameters(kt), { name: 'FormatError', code: 'ERR_UNSUPPORTED', field: 'keyParameters.keyType', clause: 'TS 33.180 §E.6.11' });
  const noGroups = encodeKeyParameters({ ...gmk, keyType: 'PCK', mcGroupIds: undefined });
  const asGmk = noGroups.slice();
  asGmk[3] = 0;
  assert.throws(() => decodeKeyParameters(asGmk), { code: 'ERR_BAD_VALUE', field: 'keyParameters.mcGroupIds', clause: 'TS 33.180 §E.6.3' });
  const groupCount = bytes.slice();
  groupCount[3 + 1 + 4 + 5 + 5 + 2 + 6 + 2] = 2; // says two group IDs, holds one
  assert.throws(() => decodeKeyParameters(groupCount), { code: 'ERR_TRUNCATED', field: 'keyParameters.mcGroupIds.groupId1.iei' });
  const badText = bytes.slice();
  badText[3 + 1 + 4 + 5 + 5 + 2] = 0xff;
  assert.throws(() => decodeKeyParameters(badText), { code: 'ERR_BAD_VALUE', field: 'keyParameters.text' });
  assert.throws(() => encodeKeyParameters({ ...gmk, expiryTime: new Date(500) }), { code: 'ERR_BAD_VALUE', field: 'keyParameters.expiryTime' });
  assert.throws(() => encodeKeyParameters({ ...gmk, activationTime: new Date(-1000) }), { code: 'ERR_BAD_VALUE', field: 'keyParameters.activationTime' });
  assert.throws(() => keyParametersOf({ keyType: 'PCK' }, 'GMK'), { code: 'ERR_BAD_VALUE', field: 'keyParameters.keyType' });
});

test('extension data that is not an MCData Protected Payload (bit 7 of the first octet clear) is legacy, kept raw', () => {
  // A TS 33.179-era layout: MCPTT group ID (length 2 + ID + padding), activation time (8), text, status.
  const legacy = concatBytes(fromHex('000b'), utf8('sip:fire@x'), new Uint8Array(1), new Uint8Array(8), fromHex('0000'), fromHex('01'));
  assert.deepEqual(decodeKeyParametersExtension(legacy, 0x0123_4567, 'mikey.payload7'), { format: 'legacy', raw: legacy });
  assert.deepEqual(decodeKeyParametersExtension(new Uint8Array(0), 1, 'mikey.payload7'), { format: 'legacy', raw: new Uint8Array(0) });
  // With bit 7 set it must be a whole Protected Payload: a short one is ERR_TRUNCATED, not legacy.
  assert.throws(() => decodeKeyParametersExtension(fromHex('4300'), 1, 'mikey.payload7'), { code: 'ERR_TRUNCATED', field: 'mikey.payload7.protectedPayload.dateTime' });
});

const arbKeyParameters: fc.Arbitrary<KeyParameters> = fc
  .record(
    {
      iei: fc.nat(255),
      keyType: fc.constantFrom(...KEY_TYPES),
      status: fc.record(
        { revoked: fc.boolean(), securityGateway: fc.boolean(), undefinedBits: fc.nat(0xffff_ffff).map((v) => (v & ~3) >>> 0) },
        { noNullPrototype: true },
      ),
      activationTime: fc.option(fc.integer({ min: 1, max: 2 ** 40 - 1 }).map((s) => new Date(s * 1000)), { nil: undefined }),
      expiryTime: fc.option(fc.integer({ min: 1, max: 2 ** 40 - 1 }).map((s) => new Date(s * 1000)), { nil: undefined }),
      text: fc.string({ maxLength: 20 }),
      groups: fc.array(fc.record({ iei: fc.nat(255), id: fc.string({ maxLength: 12 }) }, { noNullPrototype: true }), { maxLength: 4 }),
      noGroupForm: fc.boolean(),
      reserved: fc.option(fc.record({ iei: fc.nat(255), value: fc.uint8Array({ maxLength: 30 }) }, { noNullPrototype: true }), { nil: undefined }),
    },
    { noNullPrototype: true },
  )
  .map(({ groups, noGroupForm, ...rest }) => ({
    ...rest,
    mcGroupIds: GROUP_KEY_TYPES.includes(rest.keyType) ? groups : noGroupForm ? [] : undefined,
  }));

test('decodeKeyParameters is total: a value or a FormatError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), fc.uint8Array({ maxLength: 60 }), (tail, content) => {
      for (const bytes of [tail, concatBytes(Uint8Array.of(0, content.length >> 8, content.length & 0xff), content)]) {
        try {
          decodeKeyParameters(bytes);
        } catch (err) {
          assert.ok(err instanceof FormatError, String(err));
        }
      }
    }),
    { numRuns: 2000 },
  );
});

test('round trip: decode(encode(kp)) = kp, and kp minus its last octet is ERR_TRUNCATED', () => {
  fc.assert(
    fc.property(arbKeyParameters, (kp) => {
      const bytes = encodeKeyParameters(kp);
      assert.deepEqual(decodeKeyParameters(bytes), kp);
      assert.throws(() => decodeKeyParameters(bytes.subarray(0, -1)), { code: 'ERR_TRUNCATED' });
    }),
    { numRuns: 500 },
  );
});
