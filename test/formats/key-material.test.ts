/**
 * The key-material JSON of `mcsec keys check` (TS 33.180 Annex D.3 terms): both user forms,
 * hex in either case, strict rejection with code and field, and totality: any text gives a
 * KeyMaterial or a FormatError, nothing else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeKeyMaterial, type KeyMaterial } from '../../src/formats/key-material/index.js';
import { FormatError } from '../../src/errors/index.js';
import { toHex } from '../../src/util/index.js';

const hex = (n: number, byte: number): string => byte.toString(16).padStart(2, '0').repeat(n);
const kms = { pubEncKey: hex(257, 0x04), pubAuthKey: hex(65, 0x04) };
const userInputs = {
  uri: 'sip:user@example.org',
  kmsUri: 'kms.example.org',
  userKeyPeriod: 2592000,
  userKeyOffset: 0,
  keyPeriodNo: 1388,
};
const uid = '3a81fb14c3b1d0fe43c9c577104d55a6d81788bfd2f09743c4557746a5a0353b';
const full = {
  kms,
  user: userInputs,
  userDecryptKey: hex(257, 0xab),
  userSigningKeySSK: hex(32, 0x11),
  userPubTokenPVT: hex(65, 0x22),
};
const text = (v: unknown): string => JSON.stringify(v);
const rejects = (v: unknown, field: string, code = 'ERR_BAD_VALUE'): void => {
  assert.throws(
    () => decodeKeyMaterial(typeof v === 'string' ? v : text(v)),
    { name: 'FormatError', code, field },
    `${field}: ${text(v)}`.slice(0, 120),
  );
};

test('the user given by UID inputs, with every key present', () => {
  const m = decodeKeyMaterial(text(full));
  assert.deepEqual(m.user, userInputs);
  assert.equal(toHex(m.kms.pubEncKey), kms.pubEncKey);
  assert.equal(toHex(m.kms.pubAuthKey), kms.pubAuthKey);
  assert.equal(m.userDecryptKey && toHex(m.userDecryptKey), full.userDecryptKey);
  assert.equal(m.userSigningKeySSK && toHex(m.userSigningKeySSK), full.userSigningKeySSK);
  assert.equal(m.userPubTokenPVT && toHex(m.userPubTokenPVT), full.userPubTokenPVT);
  assert.ok(Object.isFrozen(m) && Object.isFrozen(m.kms) && Object.isFrozen(m.user));
});

test('the user given by its UID; absent keys are undefined', () => {
  const m = decodeKeyMaterial(text({ kms, user: { uid } }));
  assert.ok('uid' in m.user);
  assert.equal(toHex(m.user.uid), uid);
  assert.equal(m.userDecryptKey, undefined);
  assert.equal(m.userSigningKeySSK, undefined);
  assert.equal(m.userPubTokenPVT, undefined);
});

test('hex in upper, lower or mixed case, with or without 0x, decodes to the same bytes', () => {
  const lower = decodeKeyMaterial(text({ kms, user: { uid } }));
  const upper = decodeKeyMaterial(
    text({
      kms: {
        pubEncKey: kms.pubEncKey.toUpperCase(),
        pubAuthKey: '0X' + kms.pubAuthKey.toUpperCase(),
      },
      user: { uid: uid.toUpperCase() },
    }),
  );
  const mixed = decodeKeyMaterial(
    text({ kms: { ...kms, pubEncKey: '0x' + kms.pubEncKey }, user: { uid: 'Ab'.repeat(32) } }),
  );
  assert.deepEqual(upper, lower);
  assert.deepEqual(mixed.kms, lower.kms);
  assert.ok('uid' in mixed.user);
  assert.equal(toHex(mixed.user.uid), 'ab'.repeat(32));
});

test('integers may be given as decimal strings', () => {
  const m = decodeKeyMaterial(
    text({ kms, user: { ...userInputs, userKeyPeriod: '2592000', keyPeriodNo: '1388' } }),
  );
  assert.deepEqual(m.user, userInputs);
});

test('malformed JSON is ERR_BAD_VALUE field keys', () => {
  for (const bad of ['', '{', '{"kms":', 'nul', "{'kms': 1}", '{"a":1,}']) rejects(bad, 'keys');
});

test('a JSON value that is not an object is ERR_BAD_VALUE field keys', () => {
  for (const bad of [null, 1, 'x', true, [], [full]]) rejects(bad, 'keys');
});

test('unknown members are rejected at every level, naming the member', () => {
  rejects({ ...full, extra: 1 }, 'keys.extra');
  rejects({ ...full, __proto__x: 1 }, 'keys.__proto__x');
  rejects({ ...full, kms: { ...kms, pubEncKeys: 'ab' } }, 'keys.kms.pubEncKeys');
  rejects({ ...full, user: { ...userInputs, uid } }, 'keys.user.uri'); // uid form allows only uid
  rejects({ ...full, user: { ...userInputs, period: 1 } }, 'keys.user.period');
  rejects({ kms, user: { uid, uri: 'x' } }, 'keys.user.uri');
  // A "__proto__" member in the text is an own property after JSON.parse, and unknown.
  rejects(
    '{"kms":' + text(kms) + ',"user":{"uid":"' + uid + '"},"__proto__":{}}',
    'keys.__proto__',
  );
});

test('deeply nested or very long input is a FormatError, not a stack overflow', () => {
  rejects('['.repeat(100_000), 'keys');
  rejects('['.repeat(100_000) + ']'.repeat(100_000), 'keys');
  rejects('{"kms":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}', 'keys.kms');
  rejects(
    { kms: { ...kms, pubEncKey: 'ab'.repeat(100_000) + 'x' }, user: { uid } },
    'keys.kms.pubEncKey',
  );
});

test('kms and user must be objects', () => {
  rejects({ user: { uid } }, 'keys.kms');
  rejects({ kms: [], user: { uid } }, 'keys.kms');
  rejects({ kms: 'ab', user: { uid } }, 'keys.kms');
  rejects({ kms }, 'keys.user');
  rejects({ kms, user: null }, 'keys.user');
  rejects({ kms, user: [uid] }, 'keys.user');
});

test('bad hex names the member: odd length, non-hex digits, not a string', () => {
  rejects({ kms: { ...kms, pubEncKey: 'abc' }, user: { uid } }, 'keys.kms.pubEncKey');
  rejects({ kms: { ...kms, pubAuthKey: 'zz' }, user: { uid } }, 'keys.kms.pubAuthKey');
  rejects({ kms: { ...kms, pubAuthKey: 12 }, user: { uid } }, 'keys.kms.pubAuthKey');
  rejects({ kms: { pubEncKey: kms.pubEncKey }, user: { uid } }, 'keys.kms.pubAuthKey');
  rejects({ kms, user: { uid }, userDecryptKey: 'ab cd' }, 'keys.userDecryptKey');
  rejects({ kms, user: { uid }, userSigningKeySSK: null }, 'keys.userSigningKeySSK');
  rejects({ kms, user: { uid }, userPubTokenPVT: ['04'] }, 'keys.userPubTokenPVT');
  rejects({ kms, user: { uid: 'g'.repeat(64) } }, 'keys.user.uid');
});

test('a UID that is not 32 octets is ERR_BAD_VALUE field keys.user.uid', () => {
  for (const u of ['', uid.slice(2), uid + '00', '00'])
    rejects({ kms, user: { uid: u } }, 'keys.user.uid');
  rejects({ kms, user: { uid: 32 } }, 'keys.user.uid');
  rejects({ kms, user: { uid: null } }, 'keys.user.uid');
});

test('UID inputs: strings non-empty, integers non-negative and safe', () => {
  rejects({ kms, user: { ...userInputs, uri: '' } }, 'keys.user.uri');
  rejects({ kms, user: { ...userInputs, uri: 5 } }, 'keys.user.uri');
  rejects({ kms, user: { ...userInputs, kmsUri: undefined } }, 'keys.user.kmsUri');
  rejects({ kms, user: { ...userInputs, userKeyPeriod: -1 } }, 'keys.user.userKeyPeriod');
  rejects({ kms, user: { ...userInputs, userKeyPeriod: 1.5 } }, 'keys.user.userKeyPeriod');
  rejects({ kms, user: { ...userInputs, userKeyOffset: '-1' } }, 'keys.user.userKeyOffset');
  rejects({ kms, user: { ...userInputs, userKeyOffset: '1e3' } }, 'keys.user.userKeyOffset');
  rejects({ kms, user: { ...userInputs, keyPeriodNo: 2 ** 53 } }, 'keys.user.keyPeriodNo');
  rejects({ kms, user: { ...userInputs, keyPeriodNo: '9'.repeat(400) } }, 'keys.user.keyPeriodNo');
  rejects({ kms, user: { ...userInputs, keyPeriodNo: true } }, 'keys.user.keyPeriodNo');
  rejects({ kms, user: {} }, 'keys.user.uri');
});

function checkShape(m: KeyMaterial): void {
  assert.ok(m.kms.pubEncKey instanceof Uint8Array && m.kms.pubAuthKey instanceof Uint8Array);
  if ('uid' in m.user) assert.equal(m.user.uid.length, 32);
  else assert.ok(m.user.uri.length > 0 && Number.isSafeInteger(m.user.keyPeriodNo));
}

/** Asserts decodeKeyMaterial gives a KeyMaterial or a FormatError for this text. */
function total(s: string): void {
  try {
    checkShape(decodeKeyMaterial(s));
  } catch (err) {
    assert.ok(err instanceof FormatError, `not a FormatError: ${String(err)}`);
    assert.ok(err.field === 'keys' || err.field.startsWith('keys.'), err.field);
  }
}

test('totality: any string is a KeyMaterial or a FormatError', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), total), { numRuns: 500 });
});

test('totality: any JSON value is a KeyMaterial or a FormatError', () => {
  fc.assert(fc.property(fc.json({ maxDepth: 4 }), total), { numRuns: 500 });
});

test('totality: near-valid documents with arbitrary member values', () => {
  const anyValue = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(uid, uid.toUpperCase(), '0x' + uid, kms.pubEncKey, '', '0', '12', 'zz'),
    fc.nat().map(String),
  );
  const arbUser = fc.oneof(
    fc.record({ uid: anyValue }, { requiredKeys: [] }),
    fc.record(
      {
        uri: anyValue,
        kmsUri: anyValue,
        userKeyPeriod: anyValue,
        userKeyOffset: anyValue,
        keyPeriodNo: anyValue,
      },
      { requiredKeys: [] },
    ),
    anyValue,
  );
  const doc = fc.record(
    {
      kms: fc.oneof(
        fc.record({ pubEncKey: anyValue, pubAuthKey: anyValue }, { requiredKeys: [] }),
        anyValue,
      ),
      user: arbUser,
      userDecryptKey: anyValue,
      userSigningKeySSK: anyValue,
      userPubTokenPVT: anyValue,
      other: anyValue,
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(doc, (d) => total(text(d))),
    { numRuns: 1000 },
  );
});

test('round trip: a generated valid document decodes to its own values', () => {
  const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
  fc.assert(
    fc.property(
      bytes(0, 300),
      bytes(0, 80),
      bytes(32, 32),
      fc.option(bytes(0, 300), { nil: undefined }),
      fc.boolean(),
      (enc, auth, u, rsk, upper) => {
        const h = (b: Uint8Array): string => (upper ? toHex(b).toUpperCase() : toHex(b));
        const m = decodeKeyMaterial(
          text({
            kms: { pubEncKey: h(enc), pubAuthKey: h(auth) },
            user: { uid: h(u) },
            userDecryptKey: rsk && h(rsk),
          }),
        );
        assert.deepEqual(m.kms.pubEncKey, enc);
        assert.deepEqual(m.kms.pubAuthKey, auth);
        assert.ok('uid' in m.user);
        assert.deepEqual(m.user.uid, u);
        assert.deepEqual(m.userDecryptKey, rsk);
      },
    ),
    { numRuns: 300 },
  );
});
