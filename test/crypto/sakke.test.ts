/**
 * SAKKE (RFC 6508) with parameter set 1 (RFC 6509): the Appendix A example byte for byte
 * (Z, RSK, R || H, g^r, decapsulation), the cached-peer path, RSK and PubEncKey validation
 * (§6.1.2, points of order q only), rejection of tampered encapsulated data, and round-trip laws.
 *
 * One KMS public key and one prepared recipient serve the whole file: SAKKE builds its tables on
 * first use, so fresh keys are made only where a test is about them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  SAKKE_ENCAPSULATED_LENGTH,
  SAKKE_POINT_LENGTH,
  SAKKE_SSV_LENGTH,
  SakkeParamSet1,
  SakkePeer,
  SakkePublicKey,
  decapsulateSsv,
  encapsulateSsv,
  extractRsk,
  generateSakkeKmsKey,
  prepareRsk,
  sakkePublicKeyOf,
  validateRsk,
} from '../../src/crypto/index.js';
import {
  SAKKE_BASE_POINT,
  decodeSakkePoint,
  encodeSakkePoint,
  sakkePairing,
} from '../../src/crypto/sakke.js';
import {
  jacobianAddAffine,
  multiply,
  toAffine,
  type AffinePoint,
} from '../../src/crypto/sakke-curve.js';
import { CryptoError, FormatError, McsecError } from '../../src/errors/index.js';
import { bigIntToBytes, bytesToBigInt, concatBytes, toHex } from '../../src/util/index.js';
import { onlyCase } from '../fixtures/vectors.js';

const { p, q, g } = SakkeParamSet1;
const L = 128;
const v = onlyCase('rfc6508/appendix-a.json');
const z = bigIntToBytes(v.big('z'), L); // the RFC prints z as a 20-octet number; secrets are L octets
const b = v.hex('b');
const ssv = v.hex('ssv');
const rsk = v.hex('rsk');
const encapsulated = v.hex('encapsulatedData');
const kms = new SakkePublicKey(v.hex('Z'));
const recipient = prepareRsk(kms, b, rsk);
const te = new TextEncoder();

// ------------------------------------------------------------------------------------------------
// Independent helpers (written here, not taken from src): modular power, points, F_p^2 powers.

const modp = (a: bigint): bigint => ((a % p) + p) % p;
function powModP(base: bigint, e: bigint): bigint {
  let r = 1n;
  let x = modp(base);
  for (let k = e; k > 0n; k >>= 1n) {
    if ((k & 1n) === 1n) r = (r * x) % p;
    x = (x * x) % p;
  }
  return r;
}
/** The point with this x and the square root y = rhs^((p+1)/4) (p = 3 mod 4). */
function liftX(x: bigint): AffinePoint {
  const rhs = modp(x * x * x - 3n * x);
  const y = powModP(rhs, (p + 1n) / 4n);
  assert.equal((y * y) % p, rhs, `x = ${x} is not the abscissa of a point`);
  return { x, y };
}
const affine = (pt: AffinePoint | null): AffinePoint => {
  assert.ok(pt !== null, 'unexpected point at infinity');
  return pt;
};
const add = (a: AffinePoint, c: AffinePoint): AffinePoint =>
  affine(toAffine(jacobianAddAffine([a.x, a.y, 1n], c, p), p));
const mul = (k: bigint, pt: AffinePoint): AffinePoint => affine(toAffine(multiply(k, pt, p), p));
const neg = (pt: AffinePoint): AffinePoint => ({ x: pt.x, y: modp(-pt.y) });
/** (1 + t·i)^e in F_p[i]/(i^2 + 1), returned in PF_p form b/a (RFC 6508 §2.1). */
function pfpPow(t: bigint, e: bigint): bigint {
  let ra = 1n;
  let rb = 0n;
  let xa = 1n;
  let xb = t;
  for (let k = e; k > 0n; k >>= 1n) {
    if ((k & 1n) === 1n) [ra, rb] = [modp(ra * xa - rb * xb), modp(ra * xb + rb * xa)];
    [xa, xb] = [modp(xa * xa - xb * xb), modp(2n * xa * xb)];
  }
  return modp(rb * powModP(ra, p - 2n));
}

/** The 2-torsion point (0, 0) of E: y^2 = x^3 - 3x. */
const T2: AffinePoint = { x: 0n, y: 0n };
/** A point of order 4: [q]X for X = (5, ·) (E(F_p)[4] is cyclic, with (0, 0) its point of order 2). */
const T4 = mul(q, liftX(5n));
const K = decodeSakkePoint(rsk, 'rsk', 'test');
const Z = decodeSakkePoint(v.hex('Z'), 'Z', 'test');

/** A copy with one octet XORed. */
function flip(bytes: Uint8Array, at: number, mask = 0x01): Uint8Array {
  const out = bytes.slice();
  out[at] = (out[at] as number) ^ mask;
  return out;
}
const withR = (r: Uint8Array): Uint8Array =>
  concatBytes(r, encapsulated.subarray(SAKKE_POINT_LENGTH));

// ------------------------------------------------------------------------------------------------
// RFC 6508 Appendix A

test('lengths: points 257 octets, SSV 16, R || H 273', () => {
  assert.equal(SAKKE_POINT_LENGTH, 257);
  assert.equal(SAKKE_SSV_LENGTH, 16);
  assert.equal(SAKKE_ENCAPSULATED_LENGTH, 273);
  assert.equal(v.str('encapsulatedData'), v.str('R') + v.str('H'));
});

test('RFC 6508 Appendix A: Z = [z]P (sakkePublicKeyOf)', () => {
  assert.equal(toHex(sakkePublicKeyOf(z)), v.str('Z'));
  assert.equal(toHex(kms.encoded), v.str('Z'));
});

test('RFC 6508 Appendix A: RSK = [(b + z)^-1]P (extractRsk)', () => {
  assert.equal(toHex(extractRsk(z, b)), v.str('rsk'));
});

test('RFC 6508 Appendix A: [b]P + Z', () => {
  assert.equal(toHex(encodeSakkePoint(kms.identityPoint(b))), v.str('bPplusZ'));
});

test('RFC 6508 Appendix A: encapsulateSsv gives R || H byte for byte, and is deterministic', () => {
  const out = encapsulateSsv(kms, b, ssv);
  assert.equal(out.length, SAKKE_ENCAPSULATED_LENGTH);
  assert.equal(toHex(out.subarray(0, SAKKE_POINT_LENGTH)), v.str('R'));
  assert.equal(toHex(out.subarray(SAKKE_POINT_LENGTH)), v.str('H'));
  assert.deepEqual(encapsulateSsv(kms, b, ssv), out);
});

test('RFC 6508 Appendix A: g^r (written independently here) and <R, K_b> are the printed value', () => {
  const r = v.big('r');
  assert.equal(pfpPow(g, r), v.big('gr'));
  assert.equal(v.str('w'), v.str('gr'));
  const R = decodeSakkePoint(v.hex('R'), 'R', 'test');
  assert.equal(sakkePairing(R, K), v.big('w'));
  // The mask: H = SSV XOR HashToIntegerRange(g^r, 2^128).
  assert.equal(bytesToBigInt(ssv) ^ v.big('mask'), v.big('H'));
});

test('RFC 6508 Appendix A: the receiver recovers the SSV (prepared, and all in one)', () => {
  assert.equal(toHex(recipient.decapsulate(encapsulated)), v.str('ssv'));
  assert.equal(toHex(recipient.decapsulate(encapsulated)), v.str('ssv'));
  assert.equal(toHex(decapsulateSsv(kms, b, rsk, encapsulated)), v.str('ssv'));
  validateRsk(kms, b, rsk);
});

test('SakkePeer (cached peer) gives the same bytes as the uncached path', () => {
  const peer = new SakkePeer(kms, b);
  assert.deepEqual(encapsulateSsv(kms, b, ssv, peer), encapsulated);
  for (let i = 0; i < 5; i++) {
    const s = Uint8Array.from({ length: 16 }, (_, j) => (i * 31 + j * 7) & 0xff);
    assert.deepEqual(encapsulateSsv(kms, b, s, peer), encapsulateSsv(kms, b, s));
  }
});

test('a peer prepared for another identity or another key object is ignored, not misused', () => {
  const other = te.encode('tel:+447700900124');
  const peer = new SakkePeer(kms, other);
  assert.deepEqual(encapsulateSsv(kms, b, ssv, peer), encapsulated);
  const sameZ = new SakkePublicKey(v.hex('Z'));
  assert.deepEqual(encapsulateSsv(sameZ, b, ssv, new SakkePeer(kms, b)), encapsulated);
});

test('generateSakkeKmsKey takes z = rng(144 octets) mod q, drawing again below 2', () => {
  const asked: number[] = [];
  const seed = new Uint8Array(144).fill(0xab);
  const draws = [new Uint8Array(144), Uint8Array.of(...new Uint8Array(143), 1), seed];
  const key = generateSakkeKmsKey((n) => {
    asked.push(n);
    const next = draws.shift();
    assert.ok(next !== undefined);
    return next;
  });
  assert.deepEqual(asked, [144, 144, 144]);
  assert.equal(toHex(key.z), toHex(bigIntToBytes(bytesToBigInt(seed) % q, L)));
  assert.deepEqual(key.zT, sakkePublicKeyOf(key.z));
  assert.ok(Object.isFrozen(key));
});

// ------------------------------------------------------------------------------------------------
// Encapsulated data: tampering and malformed input

test('a tampered coordinate of R leaves the curve: ERR_NOT_ON_CURVE sakke.encapsulatedData.R', () => {
  for (const at of [1, 64, 128, 129, 200, 256]) {
    assert.throws(
      () => recipient.decapsulate(flip(encapsulated, at)),
      {
        name: 'FormatError',
        code: 'ERR_NOT_ON_CURVE',
        field: 'sakke.encapsulatedData.R',
      },
      `octet ${at}`,
    );
  }
  // Coordinates must be below p: x + p is the same residue but not a canonical encoding.
  const R = decodeSakkePoint(v.hex('R'), 'R', 'test');
  if (R.x + p < 1n << 1024n) {
    const big = concatBytes(Uint8Array.of(4), bigIntToBytes(R.x + p, L), bigIntToBytes(R.y, L));
    assert.throws(() => recipient.decapsulate(withR(big)), {
      code: 'ERR_NOT_ON_CURVE',
      field: 'sakke.encapsulatedData.R',
    });
  }
});

test('a changed prefix of R is ERR_BAD_LENGTH sakke.encapsulatedData.R', () => {
  for (const prefix of [0x00, 0x02, 0x03, 0x05]) {
    const bad = encapsulated.slice();
    bad[0] = prefix;
    assert.throws(() => recipient.decapsulate(bad), {
      name: 'FormatError',
      code: 'ERR_BAD_LENGTH',
      field: 'sakke.encapsulatedData.R',
    });
  }
});

test('a tampered H is ERR_DECRYPT sakke.encapsulatedData', () => {
  for (const at of [257, 264, 272]) {
    assert.throws(() => recipient.decapsulate(flip(encapsulated, at)), {
      name: 'CryptoError',
      code: 'ERR_DECRYPT',
      field: 'sakke.encapsulatedData',
    });
  }
});

test('R replaced by another point on the curve is ERR_DECRYPT (order q, and outside the subgroup)', () => {
  const R = decodeSakkePoint(v.hex('R'), 'R', 'test');
  const want = { name: 'CryptoError', code: 'ERR_DECRYPT', field: 'sakke.encapsulatedData' };
  for (const other of [SAKKE_BASE_POINT, neg(R), add(R, T2), add(R, T4), T4, liftX(5n)]) {
    assert.throws(() => recipient.decapsulate(withR(encodeSakkePoint(other))), want);
  }
});

test('R = (0, 0), the point of order 2, is rejected as ERR_NOT_IN_SUBGROUP', () => {
  // (0, 0) lies on E; decodeSakkePoint refuses y = 0 as a point of order 2.
  const zero = concatBytes(Uint8Array.of(4), new Uint8Array(2 * L));
  assert.throws(() => recipient.decapsulate(withR(zero)), {
    name: 'FormatError',
    code: 'ERR_NOT_IN_SUBGROUP',
    field: 'sakke.encapsulatedData.R',
  });
});

test('encapsulated data of the wrong length is ERR_BAD_LENGTH sakke.encapsulatedData', () => {
  for (const bad of [
    encapsulated.subarray(0, 272),
    concatBytes(encapsulated, Uint8Array.of(0)),
    new Uint8Array(0),
    encapsulated.subarray(0, 257),
  ]) {
    assert.throws(() => recipient.decapsulate(bad), {
      name: 'FormatError',
      code: 'ERR_BAD_LENGTH',
      field: 'sakke.encapsulatedData',
    });
    assert.throws(() => decapsulateSsv(kms, b, rsk, bad), {
      code: 'ERR_BAD_LENGTH',
      field: 'sakke.encapsulatedData',
    });
  }
});

test('data encapsulated to another identity does not decapsulate: ERR_DECRYPT', () => {
  const out = encapsulateSsv(kms, te.encode('tel:+447700900124'), ssv);
  assert.throws(() => recipient.decapsulate(out), {
    code: 'ERR_DECRYPT',
    field: 'sakke.encapsulatedData',
  });
});

// ------------------------------------------------------------------------------------------------
// RSK and PubEncKey validation

test('an RSK of another identity is ERR_INVALID_KEY sakke.rsk', () => {
  const other = extractRsk(z, te.encode('tel:+447700900124'));
  const want = { name: 'CryptoError', code: 'ERR_INVALID_KEY', field: 'sakke.rsk' };
  assert.throws(() => validateRsk(kms, b, other), want);
  assert.throws(() => prepareRsk(kms, b, other), want);
  assert.throws(() => decapsulateSsv(kms, b, other, encapsulated), want);
});

test('an RSK from another KMS, P itself, or -RSK is ERR_INVALID_KEY sakke.rsk', () => {
  const otherZ = bigIntToBytes(v.big('z') + 1n, L);
  const want = { name: 'CryptoError', code: 'ERR_INVALID_KEY', field: 'sakke.rsk' };
  assert.throws(() => validateRsk(kms, b, extractRsk(otherZ, b)), want);
  assert.throws(() => validateRsk(kms, b, encodeSakkePoint(SAKKE_BASE_POINT)), want);
  assert.throws(() => validateRsk(kms, b, encodeSakkePoint(neg(K))), want);
});

test('an RSK off the curve is ERR_NOT_ON_CURVE sakke.rsk; a malformed one ERR_BAD_LENGTH', () => {
  assert.throws(() => validateRsk(kms, b, flip(rsk, 100)), {
    name: 'FormatError',
    code: 'ERR_NOT_ON_CURVE',
    field: 'sakke.rsk',
  });
  assert.throws(() => validateRsk(kms, b, flip(rsk, 256)), {
    code: 'ERR_NOT_ON_CURVE',
    field: 'sakke.rsk',
  });
  assert.throws(() => validateRsk(kms, b, rsk.subarray(1)), {
    code: 'ERR_BAD_LENGTH',
    field: 'sakke.rsk',
  });
  assert.throws(() => validateRsk(kms, b, flip(rsk, 0, 0x06)), {
    code: 'ERR_BAD_LENGTH',
    field: 'sakke.rsk',
  });
  assert.throws(() => validateRsk(kms, b, new Uint8Array(0)), {
    code: 'ERR_BAD_LENGTH',
    field: 'sakke.rsk',
  });
});

test('the point of order 2, (0, 0) as 0x04 || 0 || 0, is ERR_NOT_IN_SUBGROUP (RSK and PubEncKey)', () => {
  const zero = concatBytes(Uint8Array.of(4), new Uint8Array(2 * L));
  assert.throws(() => validateRsk(kms, b, zero), {
    name: 'FormatError',
    code: 'ERR_NOT_IN_SUBGROUP',
    field: 'sakke.rsk',
  });
  assert.throws(() => new SakkePublicKey(zero), {
    name: 'FormatError',
    code: 'ERR_NOT_IN_SUBGROUP',
    field: 'sakke.pubEncKey',
  });
});

/** Points on E that are not of order q: K_b plus 2- or 4-torsion, a 4-torsion point, a point of order 4q. */
const offSubgroupRsks = (): AffinePoint[] => [add(K, T2), add(K, T4), T4, liftX(5n)];

test('prepareRsk: an RSK on the curve but not of order q (RSK + T2, RSK + T4, T4) is ERR_INVALID_KEY sakke.rsk', () => {
  const want = { name: 'CryptoError', code: 'ERR_INVALID_KEY', field: 'sakke.rsk' };
  for (const pt of offSubgroupRsks()) {
    const bytes = encodeSakkePoint(pt);
    decodeSakkePoint(bytes, 'on the curve', 'test'); // on the curve, so only the order is wrong
    assert.throws(() => prepareRsk(kms, b, bytes), want);
    assert.throws(() => decapsulateSsv(kms, b, bytes, encapsulated), want);
  }
});

test('validateRsk is exactly the RFC 6508 §6.1.2 pairing check: it cannot see a 4-torsion part, prepareRsk can', () => {
  // <[b]P + Z, K_b + T> = <[b]P + Z, K_b> for T in E[4] (the reduced Tate pairing's second
  // argument counts modulo qE), so the RFC check accepts K_b + T; prepareRsk proves order q.
  for (const pt of [add(K, T2), add(K, T4)]) {
    validateRsk(kms, b, encodeSakkePoint(pt));
    assert.throws(() => prepareRsk(kms, b, encodeSakkePoint(pt)), { code: 'ERR_INVALID_KEY', field: 'sakke.rsk' });
  }
  // Points whose order-q part is not K_b fail the RFC check itself.
  for (const pt of [T4, liftX(5n)]) {
    assert.throws(() => validateRsk(kms, b, encodeSakkePoint(pt)), { code: 'ERR_INVALID_KEY', field: 'sakke.rsk' });
  }
});

test('a PubEncKey on the curve but not of order q (Z + T2, Z + T4, T4) is ERR_NOT_IN_SUBGROUP', () => {
  for (const pt of [add(Z, T2), add(Z, T4), T4, liftX(5n)]) {
    assert.throws(() => new SakkePublicKey(encodeSakkePoint(pt)), {
      name: 'FormatError',
      code: 'ERR_NOT_IN_SUBGROUP',
      field: 'sakke.pubEncKey',
    });
  }
});

test('a malformed PubEncKey: ERR_NOT_ON_CURVE off the curve, ERR_BAD_LENGTH for the wrong form', () => {
  assert.throws(() => new SakkePublicKey(flip(v.hex('Z'), 77)), {
    code: 'ERR_NOT_ON_CURVE',
    field: 'sakke.pubEncKey',
  });
  assert.throws(() => new SakkePublicKey(v.hex('Z').subarray(0, 256)), {
    code: 'ERR_BAD_LENGTH',
    field: 'sakke.pubEncKey',
  });
  assert.throws(() => new SakkePublicKey(flip(v.hex('Z'), 0, 0x06)), {
    code: 'ERR_BAD_LENGTH',
    field: 'sakke.pubEncKey',
  });
});

test('z must be 128 octets holding an integer in [2, q-1]: ERR_BAD_SCALAR sakke.z', () => {
  const want = { name: 'FormatError', code: 'ERR_BAD_SCALAR', field: 'sakke.z' };
  const bad = [
    new Uint8Array(L),
    bigIntToBytes(1n, L),
    bigIntToBytes(q, L),
    bigIntToBytes(q + 1n, L),
    new Uint8Array(L).fill(0xff),
    v.hex('z'), // the 20-octet form printed in the RFC
    new Uint8Array(0),
    bigIntToBytes(5n, L + 1),
  ];
  for (const zz of bad) {
    assert.throws(() => sakkePublicKeyOf(zz), want, toHex(zz).slice(0, 16));
    assert.throws(() => extractRsk(zz, b), want);
  }
  sakkePublicKeyOf(bigIntToBytes(2n, L));
  sakkePublicKeyOf(bigIntToBytes(q - 1n, L));
});

test('an SSV that is not 16 octets is ERR_BAD_LENGTH sakke.ssv', () => {
  for (const n of [0, 15, 17, 32]) {
    assert.throws(() => encapsulateSsv(kms, b, new Uint8Array(n)), {
      name: 'FormatError',
      code: 'ERR_BAD_LENGTH',
      field: 'sakke.ssv',
    });
  }
});

test('an identifier of 0 or more than 256 octets is ERR_BAD_LENGTH sakke.identifier', () => {
  const want = { name: 'FormatError', code: 'ERR_BAD_LENGTH', field: 'sakke.identifier' };
  for (const id of [new Uint8Array(0), new Uint8Array(257)]) {
    assert.throws(() => encapsulateSsv(kms, id, ssv), want);
    assert.throws(() => extractRsk(z, id), want);
    assert.throws(() => validateRsk(kms, id, rsk), want);
    assert.throws(() => new SakkePeer(kms, id), want);
  }
});

test('an identifier with b + z = 0 mod q has no RSK and no I_b: ERR_BAD_SCALAR', () => {
  const id = bigIntToBytes(q - v.big('z'), L);
  assert.throws(() => extractRsk(z, id), {
    name: 'CryptoError',
    code: 'ERR_BAD_SCALAR',
    field: 'sakke.identifier',
  });
  assert.throws(() => new SakkePeer(kms, id), {
    code: 'ERR_BAD_SCALAR',
    field: 'sakke.identifier',
  });
  assert.throws(() => encapsulateSsv(kms, id, ssv), {
    name: 'CryptoError',
    code: 'ERR_BAD_SCALAR',
  });
});

test('an identifier equal to q (b = 0 mod q, I_b = Z) still round-trips', () => {
  const id = bigIntToBytes(q, L);
  const key = extractRsk(z, id);
  assert.deepEqual(key, encodeSakkePoint(mul(modInverseQ(v.big('z')), SAKKE_BASE_POINT)));
  validateRsk(kms, id, key);
  assert.throws(() => validateRsk(kms, id, rsk), { code: 'ERR_INVALID_KEY', field: 'sakke.rsk' });
  const data = encapsulateSsv(kms, id, ssv);
  assert.deepEqual(prepareRsk(kms, id, key).decapsulate(data), ssv);
});

function modInverseQ(a: bigint): bigint {
  // a^(q-2) mod q (q prime).
  let r = 1n;
  let x = a % q;
  for (let e = q - 2n; e > 0n; e >>= 1n) {
    if ((e & 1n) === 1n) r = (r * x) % q;
    x = (x * x) % q;
  }
  return r;
}

// ------------------------------------------------------------------------------------------------
// Properties

const arbSsv = fc.uint8Array({ minLength: 16, maxLength: 16 });

test('property: decapsulate(encapsulate(ssv)) = ssv for random SSVs', () => {
  fc.assert(
    fc.property(arbSsv, (s) => {
      const data = encapsulateSsv(kms, b, s);
      assert.equal(data.length, SAKKE_ENCAPSULATED_LENGTH);
      assert.deepEqual(recipient.decapsulate(data), s);
    }),
    { numRuns: 20 },
  );
});

test('property: random identities get RSKs that validate and decapsulate', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), arbSsv, (id, s) => {
      const key = extractRsk(z, id);
      validateRsk(kms, id, key);
      const data = encapsulateSsv(kms, id, s);
      assert.deepEqual(prepareRsk(kms, id, key).decapsulate(data), s);
      // Another identity's RSK does not validate for this one.
      assert.throws(() => validateRsk(kms, id, rsk), {
        code: 'ERR_INVALID_KEY',
        field: 'sakke.rsk',
      });
    }),
    { numRuns: 5 },
  );
});

test('property: validateRsk and prepareRsk both refuse a random point of order q as an RSK', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 1n, max: q - 1n }), (k) => {
      const bytes = encodeSakkePoint(mul(k, SAKKE_BASE_POINT));
      const want = { name: 'CryptoError', code: 'ERR_INVALID_KEY', field: 'sakke.rsk' };
      assert.throws(() => validateRsk(kms, b, bytes), want);
      assert.throws(() => prepareRsk(kms, b, bytes), want);
    }),
    { numRuns: 5 },
  );
});

test('property: a fresh KMS key works end to end', () => {
  const key = generateSakkeKmsKey();
  const pub = new SakkePublicKey(key.zT);
  const id = te.encode('2024-01\0tel:+447700900999\0');
  const k = extractRsk(key.z, id);
  const prepared = prepareRsk(pub, id, k);
  fc.assert(
    fc.property(arbSsv, (s) => {
      assert.deepEqual(prepared.decapsulate(encapsulateSsv(pub, id, s)), s);
    }),
    { numRuns: 5 },
  );
  assert.throws(() => validateRsk(kms, id, k), { code: 'ERR_INVALID_KEY', field: 'sakke.rsk' });
});

test('property: flipping any bit of R || H gives a typed error, never a wrong SSV', () => {
  const data = encapsulateSsv(kms, b, ssv);
  fc.assert(
    fc.property(fc.nat({ max: SAKKE_ENCAPSULATED_LENGTH * 8 - 1 }), (bit) => {
      const at = bit >> 3;
      const bad = flip(data, at, 1 << (bit & 7));
      const want =
        at === 0
          ? { name: 'FormatError', code: 'ERR_BAD_LENGTH', field: 'sakke.encapsulatedData.R' }
          : at < SAKKE_POINT_LENGTH
            ? { name: 'FormatError', code: 'ERR_NOT_ON_CURVE', field: 'sakke.encapsulatedData.R' }
            : { name: 'CryptoError', code: 'ERR_DECRYPT', field: 'sakke.encapsulatedData' };
      assert.throws(() => recipient.decapsulate(bad), want, `bit ${bit}`);
    }),
    { numRuns: 40 },
  );
});

test('property: decapsulation of arbitrary 273 octets is an McsecError, never a value', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 273, maxLength: 273 }), (bytes) => {
      try {
        recipient.decapsulate(bytes);
        assert.fail('random bytes decapsulated');
      } catch (err) {
        assert.ok(err instanceof FormatError || err instanceof CryptoError, String(err));
        assert.ok(err instanceof McsecError);
      }
    }),
    { numRuns: 100 },
  );
});
