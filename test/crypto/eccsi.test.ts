/**
 * ECCSI (RFC 6507) on P-256: the Appendix A example replayed byte for byte through injected
 * randomness, verification (uncached, cached first time, cached again), tampering with each
 * region of the signature and of the inputs, SSK/PVT validation (§5.1.2), and sign/verify laws.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { p256 } from '@noble/curves/nist.js';
import {
  ECCSI_SIGNATURE_LENGTH,
  EccsiVerifier,
  eccsiHs,
  eccsiKpakOf,
  generateEccsiKmsKey,
  generateEccsiPair,
  signEccsi,
  validateEccsiPair,
  verifyEccsi,
  type EccsiKmsKey,
  type Rng,
} from '../../src/crypto/index.js';
import { CryptoError, FormatError } from '../../src/errors/index.js';
import { bigIntToBytes, bytesToBigInt, concatBytes, toHex } from '../../src/util/index.js';
import { loadVectors } from '../fixtures/vectors.js';

const file = loadVectors('rfc6507/appendix-a.json');
const v = file.list('cases')[0];
if (v === undefined) throw new Error('rfc6507/appendix-a.json has no case');
const G_HEX = file.str('G');
const Q = p256.Point.CURVE().n;
const ksak = v.hex('ksak');
const kpak = v.hex('kpak');
const id = v.hex('id');
const pvt = v.hex('pvt');
const ssk = v.hex('ssk');
const message = v.hex('message');
const signature = v.hex('signature');
const signer = { ssk, pvt, kpak, id };

/** An rng that hands out the given 32-octet values in turn, then fails the test. */
function replay(...values: Uint8Array[]): Rng {
  const queue = [...values];
  return (n) => {
    assert.equal(n, 32, 'ECCSI draws 32-octet scalars');
    const next = queue.shift();
    if (next === undefined) throw new Error('rng asked for more values than the vector has');
    return next;
  };
}

/** A copy of bytes with one octet XORed. */
function flip(bytes: Uint8Array, at: number, mask = 0x01): Uint8Array {
  const out = bytes.slice();
  out[at] = (out[at] as number) ^ mask;
  return out;
}

/** Asserts every verification path gives the same error. */
function rejectsEverywhere(
  msg: Uint8Array,
  sig: Uint8Array,
  k: Uint8Array,
  who: Uint8Array,
  want: { code: string; field: string; name?: string },
  warm?: EccsiVerifier,
): void {
  assert.throws(() => verifyEccsi(msg, sig, k, who), want, 'verifyEccsi');
  assert.throws(() => new EccsiVerifier().verify(msg, sig, k, who), want, 'fresh EccsiVerifier');
  if (warm !== undefined)
    assert.throws(() => warm.verify(msg, sig, k, who), want, 'warm EccsiVerifier');
}

test('the vector file is consistent: signature = r || s || PVT, idText and messageText', () => {
  assert.equal(v.str('signature'), v.str('r') + v.str('s') + v.str('pvt'));
  assert.equal(toHex(new TextEncoder().encode(v.str('idText'))), v.str('id'));
  assert.equal(toHex(new TextEncoder().encode(v.str('messageText'))), v.str('message'));
  assert.equal(toHex(p256.Point.BASE.toBytes(false)), G_HEX);
});

test('RFC 6507 Appendix A: KPAK = [KSAK]G', () => {
  assert.equal(toHex(eccsiKpakOf(ksak)), v.str('kpak'));
});

test('RFC 6507 Appendix A: HS = hash(G || KPAK || ID || PVT)', () => {
  assert.equal(toHex(eccsiHs(kpak, id, pvt)), v.str('hash_hs'));
  assert.equal(toHex(concatBytes(p256.Point.BASE.toBytes(false), kpak, id, pvt)), v.str('hsInput'));
});

test('RFC 6507 Appendix A: generateEccsiPair with v from the rng gives the SSK and PVT', () => {
  const pair = generateEccsiPair({ ksak, kpak }, id, replay(v.hex('v')));
  assert.equal(toHex(pair.pvt), v.str('pvt'));
  assert.equal(toHex(pair.ssk), v.str('ssk'));
  assert.ok(Object.isFrozen(pair));
});

test('RFC 6507 Appendix A: signEccsi with j from the rng gives the signature byte for byte', () => {
  const sig = signEccsi(message, signer, replay(v.hex('j')));
  assert.equal(sig.length, ECCSI_SIGNATURE_LENGTH);
  assert.equal(toHex(sig), v.str('signature'));
  // HS of the appendix (what the signature hashes first).
  assert.equal(toHex(eccsiHs(signer.kpak, signer.id, signer.pvt)), v.str('hash_hs'));
});

test('signEccsi draws again when the rng gives 0 or a value >= q', () => {
  const zero = new Uint8Array(32);
  const big = bigIntToBytes(Q, 32);
  const ones = new Uint8Array(32).fill(0xff);
  const sig = signEccsi(message, signer, replay(zero, big, ones, v.hex('j')));
  assert.equal(toHex(sig), v.str('signature'));
  const pair = generateEccsiPair({ ksak, kpak }, id, replay(zero, big, v.hex('v')));
  assert.equal(toHex(pair.ssk), v.str('ssk'));
});

test('RFC 6507 Appendix A: the signature verifies (uncached; cached first and second time)', () => {
  verifyEccsi(message, signature, kpak, id);
  const verifier = new EccsiVerifier();
  verifier.verify(message, signature, kpak, id);
  verifier.verify(message, signature, kpak, id);
  verifier.verify(message, signature, kpak, id);
});

test('validateEccsiPair accepts the Appendix A pair', () => {
  validateEccsiPair(kpak, id, { ssk, pvt });
});

test('validateEccsiPair rejects a modified SSK, another identity, another KPAK: ERR_INVALID_KEY eccsi.ssk', () => {
  const want = { name: 'CryptoError', code: 'ERR_INVALID_KEY', field: 'eccsi.ssk' };
  assert.throws(() => validateEccsiPair(kpak, id, { ssk: flip(ssk, 31), pvt }), want);
  assert.throws(() => validateEccsiPair(kpak, id, { ssk: flip(ssk, 0, 0x80), pvt }), want);
  assert.throws(() => validateEccsiPair(kpak, flip(id, 3), { ssk, pvt }), want);
  assert.throws(() => validateEccsiPair(kpak, id.subarray(1), { ssk, pvt }), want);
  assert.throws(() => validateEccsiPair(p256.Point.BASE.toBytes(false), id, { ssk, pvt }), want);
  // A valid point as PVT that is not the one the SSK was made with.
  assert.throws(
    () => validateEccsiPair(kpak, id, { ssk, pvt: p256.Point.BASE.multiply(7n).toBytes(false) }),
    want,
  );
});

test('validateEccsiPair rejects malformed inputs with a FormatError naming the input', () => {
  assert.throws(() => validateEccsiPair(kpak, id, { ssk: ssk.subarray(1), pvt }), {
    name: 'FormatError',
    code: 'ERR_BAD_LENGTH',
    field: 'eccsi.ssk',
  });
  assert.throws(() => validateEccsiPair(kpak, id, { ssk: new Uint8Array(32), pvt }), {
    code: 'ERR_BAD_SCALAR',
    field: 'eccsi.ssk',
  });
  assert.throws(() => validateEccsiPair(kpak, id, { ssk: bigIntToBytes(Q, 32), pvt }), {
    code: 'ERR_BAD_SCALAR',
    field: 'eccsi.ssk',
  });
  assert.throws(() => validateEccsiPair(kpak, id, { ssk, pvt: flip(pvt, 64) }), {
    code: 'ERR_NOT_ON_CURVE',
    field: 'eccsi.pvt',
  });
  assert.throws(() => validateEccsiPair(kpak, id, { ssk, pvt: flip(pvt, 0, 0x06) }), {
    code: 'ERR_BAD_LENGTH',
    field: 'eccsi.pvt',
  });
  assert.throws(() => validateEccsiPair(kpak, id, { ssk, pvt: pvt.subarray(0, 64) }), {
    code: 'ERR_BAD_LENGTH',
    field: 'eccsi.pvt',
  });
  assert.throws(() => validateEccsiPair(flip(kpak, 40), id, { ssk, pvt }), {
    code: 'ERR_NOT_ON_CURVE',
    field: 'eccsi.kpak',
  });
  assert.throws(() => validateEccsiPair(new Uint8Array(0), id, { ssk, pvt }), {
    code: 'ERR_BAD_LENGTH',
    field: 'eccsi.kpak',
  });
});

test('eccsiKpakOf rejects KSAK 0, >= q and the wrong length', () => {
  assert.throws(() => eccsiKpakOf(new Uint8Array(32)), {
    name: 'FormatError',
    code: 'ERR_BAD_SCALAR',
    field: 'eccsi.ksak',
  });
  assert.throws(() => eccsiKpakOf(bigIntToBytes(Q, 32)), {
    code: 'ERR_BAD_SCALAR',
    field: 'eccsi.ksak',
  });
  assert.throws(() => eccsiKpakOf(v.hex('ksak').subarray(1)), {
    code: 'ERR_BAD_LENGTH',
    field: 'eccsi.ksak',
  });
  assert.equal(toHex(eccsiKpakOf(bigIntToBytes(1n, 32))), G_HEX);
});

test('signEccsi rejects an SSK of the wrong length or out of range', () => {
  assert.throws(() => signEccsi(message, { ...signer, ssk: ssk.subarray(2) }), {
    code: 'ERR_BAD_LENGTH',
    field: 'eccsi.ssk',
  });
  assert.throws(() => signEccsi(message, { ...signer, ssk: new Uint8Array(32) }), {
    code: 'ERR_BAD_SCALAR',
    field: 'eccsi.ssk',
  });
});

test('a tampered r or s is ERR_SIGNATURE on every path', () => {
  const warm = new EccsiVerifier();
  warm.verify(message, signature, kpak, id);
  const want = { name: 'CryptoError', code: 'ERR_SIGNATURE', field: 'eccsi.signature' };
  for (const at of [0, 15, 31, 32, 50, 63]) {
    rejectsEverywhere(message, flip(signature, at), kpak, id, want, warm);
  }
  // r = 0, s = 0, s = q, r = p - 1: out of range.
  const withR = (r: Uint8Array): Uint8Array => concatBytes(r, signature.subarray(32));
  const withS = (s: Uint8Array): Uint8Array =>
    concatBytes(signature.subarray(0, 32), s, signature.subarray(64));
  rejectsEverywhere(message, withR(new Uint8Array(32)), kpak, id, want, warm);
  rejectsEverywhere(message, withS(new Uint8Array(32)), kpak, id, want, warm);
  rejectsEverywhere(message, withS(bigIntToBytes(Q, 32)), kpak, id, want, warm);
  rejectsEverywhere(message, withR(new Uint8Array(32).fill(0xff)), kpak, id, want, warm);
  // The untampered signature still verifies on the warm verifier afterwards.
  warm.verify(message, signature, kpak, id);
});

test('s and q - s both verify: RFC 6507 §5.2.2 accepts J and -J alike (ECCSI is malleable)', () => {
  // [q - s](...) = -J has the same x-coordinate r, so the RFC's check accepts it; callers must
  // not treat a signature as a unique message identifier.
  const s = bytesToBigInt(signature.subarray(32, 64));
  const other = concatBytes(
    signature.subarray(0, 32),
    bigIntToBytes(Q - s, 32),
    signature.subarray(64),
  );
  verifyEccsi(message, other, kpak, id);
  const warm = new EccsiVerifier();
  warm.verify(message, signature, kpak, id);
  warm.verify(message, other, kpak, id);
});

test('a tampered PVT is a FormatError when it leaves the curve, ERR_SIGNATURE when it is another point', () => {
  const warm = new EccsiVerifier();
  warm.verify(message, signature, kpak, id);
  // Coordinates changed: off the curve.
  for (const at of [65, 80, 96, 97, 128]) {
    rejectsEverywhere(
      message,
      flip(signature, at),
      kpak,
      id,
      {
        name: 'FormatError',
        code: 'ERR_NOT_ON_CURVE',
        field: 'eccsi.signature.pvt',
      },
      warm,
    );
  }
  // The 0x04 prefix changed: not an uncompressed point.
  rejectsEverywhere(
    message,
    flip(signature, 64, 0x06),
    kpak,
    id,
    {
      code: 'ERR_BAD_LENGTH',
      field: 'eccsi.signature.pvt',
    },
    warm,
  );
  // Another valid point (-PVT, 2·G): on the curve, so the signature check fails.
  const neg = p256.Point.fromBytes(pvt).negate().toBytes(false);
  for (const other of [neg, p256.Point.BASE.multiply(2n).toBytes(false)]) {
    rejectsEverywhere(
      message,
      concatBytes(signature.subarray(0, 64), other),
      kpak,
      id,
      {
        name: 'CryptoError',
        code: 'ERR_SIGNATURE',
        field: 'eccsi.signature',
      },
      warm,
    );
  }
});

test('a tampered message or identifier is ERR_SIGNATURE', () => {
  const warm = new EccsiVerifier();
  warm.verify(message, signature, kpak, id);
  const want = { name: 'CryptoError', code: 'ERR_SIGNATURE', field: 'eccsi.signature' };
  rejectsEverywhere(flip(message, 0), signature, kpak, id, want, warm);
  rejectsEverywhere(message.subarray(0, 7), signature, kpak, id, want, warm);
  rejectsEverywhere(concatBytes(message, Uint8Array.of(0)), signature, kpak, id, want, warm);
  rejectsEverywhere(new Uint8Array(0), signature, kpak, id, want, warm);
  rejectsEverywhere(message, signature, kpak, flip(id, 10), want, warm);
  rejectsEverywhere(message, signature, kpak, id.subarray(0, 25), want, warm);
  rejectsEverywhere(message, signature, kpak, new Uint8Array(0), want, warm);
});

test('a tampered KPAK: off the curve is ERR_NOT_ON_CURVE eccsi.kpak; another point is ERR_SIGNATURE', () => {
  const warm = new EccsiVerifier();
  warm.verify(message, signature, kpak, id);
  rejectsEverywhere(
    message,
    signature,
    flip(kpak, 20),
    id,
    { name: 'FormatError', code: 'ERR_NOT_ON_CURVE', field: 'eccsi.kpak' },
    warm,
  );
  rejectsEverywhere(
    message,
    signature,
    flip(kpak, 64),
    id,
    { code: 'ERR_NOT_ON_CURVE', field: 'eccsi.kpak' },
    warm,
  );
  rejectsEverywhere(
    message,
    signature,
    kpak.subarray(0, 64),
    id,
    { code: 'ERR_BAD_LENGTH', field: 'eccsi.kpak' },
    warm,
  );
  const other = p256.Point.BASE.multiply(3n).toBytes(false);
  rejectsEverywhere(
    message,
    signature,
    other,
    id,
    { name: 'CryptoError', code: 'ERR_SIGNATURE', field: 'eccsi.signature' },
    warm,
  );
});

test('a signature of the wrong length is ERR_BAD_LENGTH eccsi.signature', () => {
  const want = { name: 'FormatError', code: 'ERR_BAD_LENGTH', field: 'eccsi.signature' };
  for (const sig of [
    signature.subarray(0, 128),
    concatBytes(signature, Uint8Array.of(0)),
    new Uint8Array(0),
    new Uint8Array(64),
  ]) {
    rejectsEverywhere(message, sig, kpak, id, want);
  }
});

test(
  'the cached verifier gives the same verdict as the uncached one for a KPAK/ID split differently',
  () => {
    const warm = new EccsiVerifier();
    warm.verify(message, signature, kpak, id);
    const kpak66 = concatBytes(kpak, id.subarray(0, 1));
    const id25 = id.subarray(1);
    assert.throws(() => verifyEccsi(message, signature, kpak66, id25), {
      code: 'ERR_BAD_LENGTH',
      field: 'eccsi.kpak',
    });
    assert.throws(() => warm.verify(message, signature, kpak66, id25), {
      code: 'ERR_BAD_LENGTH',
      field: 'eccsi.kpak',
    });
  },
);

test('a failed verification does not poison the cache', () => {
  const verifier = new EccsiVerifier();
  assert.throws(() => verifier.verify(flip(message, 1), signature, kpak, id), {
    code: 'ERR_SIGNATURE',
  });
  verifier.verify(message, signature, kpak, id);
  assert.throws(() => verifier.verify(flip(message, 1), signature, kpak, id), {
    code: 'ERR_SIGNATURE',
  });
});

test('a verifier bounded to one signer still verifies signers in turn', () => {
  const verifier = new EccsiVerifier(1);
  const kms = generateEccsiKmsKey();
  const other = new TextEncoder().encode('tel:+447700900124');
  const pair = generateEccsiPair(kms, other);
  const sig2 = signEccsi(message, { ...pair, kpak: kms.kpak, id: other });
  for (let i = 0; i < 3; i++) {
    verifier.verify(message, signature, kpak, id);
    verifier.verify(message, sig2, kms.kpak, other);
  }
  assert.throws(() => verifier.verify(message, sig2, kpak, other), { code: 'ERR_SIGNATURE' });
});

// Properties: one KMS per run is cheap on P-256 (OpenSSL does the scalar multiplications).
const arbKms = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((seed): EccsiKmsKey => {
  let first = true;
  return generateEccsiKmsKey((n) => {
    if (first) {
      first = false;
      return seed;
    }
    return new Uint8Array(n).fill(0x42);
  });
});
const arbId = fc.uint8Array({ minLength: 1, maxLength: 64 });
const arbMessage = fc.uint8Array({ maxLength: 300 });
const shared = new EccsiVerifier();

test('property: a fresh pair validates, and sign then verify succeeds on every path', () => {
  fc.assert(
    fc.property(arbKms, arbId, arbMessage, (kms, who, msg) => {
      assert.deepEqual(eccsiKpakOf(kms.ksak), kms.kpak);
      const pair = generateEccsiPair(kms, who);
      validateEccsiPair(kms.kpak, who, pair);
      const sig = signEccsi(msg, { ...pair, kpak: kms.kpak, id: who });
      assert.equal(sig.length, ECCSI_SIGNATURE_LENGTH);
      assert.deepEqual(sig.subarray(64), pair.pvt);
      verifyEccsi(msg, sig, kms.kpak, who);
      shared.verify(msg, sig, kms.kpak, who);
      shared.verify(msg, sig, kms.kpak, who);
    }),
    { numRuns: 40 },
  );
});

test('property: flipping one bit of the signature is rejected, with the code of the region hit', () => {
  fc.assert(
    fc.property(
      arbKms,
      arbId,
      arbMessage,
      fc.nat({ max: ECCSI_SIGNATURE_LENGTH * 8 - 1 }),
      (kms, who, msg, bit) => {
        const pair = generateEccsiPair(kms, who);
        const sig = signEccsi(msg, { ...pair, kpak: kms.kpak, id: who });
        const verifier = new EccsiVerifier();
        verifier.verify(msg, sig, kms.kpak, who);
        const bad = flip(sig, bit >> 3, 1 << (bit & 7));
        const at = bit >> 3;
        const want =
          at < 64
            ? { name: 'CryptoError', code: 'ERR_SIGNATURE', field: 'eccsi.signature' }
            : at === 64
              ? { name: 'FormatError', code: 'ERR_BAD_LENGTH', field: 'eccsi.signature.pvt' }
              : { name: 'FormatError', code: 'ERR_NOT_ON_CURVE', field: 'eccsi.signature.pvt' };
        rejectsEverywhere(msg, bad, kms.kpak, who, want, verifier);
      },
    ),
    { numRuns: 50 },
  );
});

test('property: flipping one bit of the message or the identifier is ERR_SIGNATURE', () => {
  fc.assert(
    fc.property(
      arbKms,
      arbId,
      fc.uint8Array({ minLength: 1, maxLength: 300 }),
      fc.nat(),
      fc.boolean(),
      (kms, who, msg, bit, inMessage) => {
        const pair = generateEccsiPair(kms, who);
        const sig = signEccsi(msg, { ...pair, kpak: kms.kpak, id: who });
        const verifier = new EccsiVerifier();
        verifier.verify(msg, sig, kms.kpak, who);
        const want = { name: 'CryptoError', code: 'ERR_SIGNATURE', field: 'eccsi.signature' };
        if (inMessage) {
          const b = bit % (msg.length * 8);
          rejectsEverywhere(flip(msg, b >> 3, 1 << (b & 7)), sig, kms.kpak, who, want, verifier);
        } else {
          const b = bit % (who.length * 8);
          rejectsEverywhere(msg, sig, kms.kpak, flip(who, b >> 3, 1 << (b & 7)), want, verifier);
        }
      },
    ),
    { numRuns: 50 },
  );
});

test('verification failures are CryptoError or FormatError, never anything else, for random signatures', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 129, maxLength: 129 }), (sig) => {
      try {
        verifyEccsi(message, sig, kpak, id);
        assert.fail('a random signature verified');
      } catch (err) {
        assert.ok(err instanceof CryptoError || err instanceof FormatError, String(err));
      }
    }),
    { numRuns: 200 },
  );
});

test('signEccsi decodes the signer keys: a 64-octet PVT or a KPAK off the curve is refused', () => {
  const kmsKey = generateEccsiKmsKey();
  const me = Uint8Array.of(1, 2, 3);
  const pair = generateEccsiPair(kmsKey, me);
  assert.throws(() => signEccsi(Uint8Array.of(1), { ...pair, pvt: pair.pvt.subarray(1), kpak: kmsKey.kpak, id: me }), {
    code: 'ERR_BAD_LENGTH',
    field: 'eccsi.pvt',
  });
  const offCurve = kmsKey.kpak.slice();
  offCurve[64] = (offCurve[64] as number) ^ 1;
  assert.throws(() => signEccsi(Uint8Array.of(1), { ...pair, kpak: offCurve, id: me }), { code: 'ERR_NOT_ON_CURVE', field: 'eccsi.kpak' });
  assert.throws(() => generateEccsiPair({ ...kmsKey, kpak: offCurve }, me), { code: 'ERR_NOT_ON_CURVE', field: 'eccsi.kpak' });
});

test('an rng that never yields a usable scalar is a typed error, not a hang', () => {
  const kmsKey = generateEccsiKmsKey();
  assert.throws(() => generateEccsiPair(kmsKey, Uint8Array.of(1), () => new Uint8Array(32)), { code: 'ERR_BAD_SCALAR', field: 'eccsi.rng' });
});

test('a signer whose signature fails is not cached: its valid signatures later take the first-verification path', () => {
  const kmsKey = generateEccsiKmsKey();
  const me = Uint8Array.of(9);
  const pair = generateEccsiPair(kmsKey, me);
  const msg = Uint8Array.of(1, 2, 3);
  const good = signEccsi(msg, { ...pair, kpak: kmsKey.kpak, id: me });
  const bad = good.slice();
  bad[40] = (bad[40] as number) ^ 1;
  const v = new EccsiVerifier(1);
  assert.throws(() => v.verify(msg, bad, kmsKey.kpak, me), { code: 'ERR_SIGNATURE' });
  v.verify(msg, good, kmsKey.kpak, me);
  v.verify(msg, good, kmsKey.kpak, me);
  assert.throws(() => v.verify(msg, bad, kmsKey.kpak, me), { code: 'ERR_SIGNATURE' });
  assert.throws(() => new EccsiVerifier(Number.NaN), RangeError);
});

test('signing and pair generation check the PVT and KPAK every time, also after a valid use of the same array', () => {
  const kms = generateEccsiKmsKey();
  const id = new TextEncoder().encode('sip:cache@example.org');
  const pair = generateEccsiPair(kms, id);
  const key = { ...pair, kpak: kms.kpak, id, pvt: pair.pvt.slice() };
  signEccsi(new Uint8Array(8), key);
  // The same array, changed in place to a point off the curve, is refused.
  key.pvt[64] = (key.pvt[64] as number) ^ 1;
  assert.throws(() => signEccsi(new Uint8Array(8), key), { code: 'ERR_NOT_ON_CURVE', field: 'eccsi.pvt' });
  const kpak = kms.kpak.slice();
  generateEccsiPair({ ksak: kms.ksak, kpak }, id);
  kpak[64] = (kpak[64] as number) ^ 1;
  assert.throws(() => generateEccsiPair({ ksak: kms.ksak, kpak }, id), { code: 'ERR_NOT_ON_CURVE', field: 'eccsi.kpak' });
});
