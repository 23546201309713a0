/**
 * The SAKKE curve E: y^2 = x^3 - 3x over F_p (RFC 6508 §3.1, RFC 6509 parameter set 1): group
 * laws of the Jacobian arithmetic and of both scalar multiplications, [q]P = O, on-curve checks,
 * and the pairing: <P, P> = g (RFC 6509) and bilinearity, checked against an F_p^2 power written
 * independently here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SakkeParamSet1 } from '../../src/crypto/index.js';
import { SAKKE_BASE_POINT, sakkePairing } from '../../src/crypto/sakke.js';
import {
  FixedBaseTable,
  INFINITY,
  equalPoints,
  isOnCurve,
  jacobianAddAffine,
  jacobianDouble,
  multiply,
  negate,
  toAffine,
  toAffineBatch,
  type AffinePoint,
  type JacobianPoint,
} from '../../src/crypto/sakke-curve.js';
import { loadVectors } from '../fixtures/vectors.js';

const { p, q, g } = SakkeParamSet1;
const P = SAKKE_BASE_POINT;
const Q_BITS = q.toString(2).length;

const modp = (a: bigint): bigint => ((a % p) + p) % p;
const aff = (j: JacobianPoint): AffinePoint | null => toAffine(j, p);
const mulP = (k: bigint): AffinePoint | null => aff(multiply(k, P, p));
const sameAffine = (a: AffinePoint | null, b: AffinePoint | null, msg?: string): void => {
  if (a === null || b === null) assert.equal(a, b, msg ?? 'one side is infinity');
  else
    assert.ok(
      equalPoints(a, b),
      msg ??
        `points differ: ${a.x.toString(16).slice(0, 12)}… vs ${b.x.toString(16).slice(0, 12)}…`,
    );
};
/** a + b through the exported Jacobian formulas, either side possibly infinity. */
function addAff(a: AffinePoint | null, b: AffinePoint | null): AffinePoint | null {
  if (b === null) return a;
  return aff(jacobianAddAffine(a === null ? INFINITY : [a.x, a.y, 1n], b, p));
}
/** A Jacobian representative of an affine point with a random Z (to test non-normalised inputs). */
const scaled = (pt: AffinePoint, zz: bigint): JacobianPoint => [
  modp(pt.x * zz * zz),
  modp(pt.y * zz * zz * zz),
  zz,
];

/** (1 + t·i)^e in F_p[i]/(i^2 + 1), in PF_p form b/a (written here, independent of src). */
function powModP(base: bigint, e: bigint): bigint {
  let r = 1n;
  let x = modp(base);
  for (let k = e; k > 0n; k >>= 1n) {
    if ((k & 1n) === 1n) r = (r * x) % p;
    x = (x * x) % p;
  }
  return r;
}
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

const small = fc.bigInt({ min: 1n, max: (1n << 64n) - 1n });
const scalar = fc.bigInt({ min: 1n, max: q - 1n });
// One table for the file; a narrower window keeps its build short.
let table: FixedBaseTable | undefined;
const pTable = (): FixedBaseTable => (table ??= new FixedBaseTable(P, p, Q_BITS, 5));

test('parameter set 1 equals the RFC 6509 vector file', () => {
  const params = loadVectors('rfc6509/parameter-set-1.json').obj('params');
  assert.equal(p, params.big('p'));
  assert.equal(q, params.big('q'));
  assert.equal(P.x, params.big('Px'));
  assert.equal(P.y, params.big('Py'));
  assert.equal(g, params.big('g'));
  assert.equal(SakkeParamSet1.n, params.int('n'));
  assert.equal(SakkeParamSet1.cofactor, params.int('cofactor'));
  assert.equal(p + 1n, 4n * q);
  assert.equal(p % 4n, 3n);
  assert.ok(Object.isFrozen(SakkeParamSet1));
});

test('isOnCurve: P and (0, 0) are on E; modified or out-of-range coordinates are not', () => {
  assert.ok(isOnCurve(P, p));
  assert.ok(isOnCurve({ x: 0n, y: 0n }, p));
  assert.ok(isOnCurve(negate(P, p), p));
  assert.ok(!isOnCurve({ x: P.x, y: modp(P.y + 1n) }, p));
  assert.ok(!isOnCurve({ x: modp(P.x + 1n), y: P.y }, p));
  assert.ok(!isOnCurve({ x: P.x + p, y: P.y }, p), 'x >= p');
  assert.ok(!isOnCurve({ x: P.x, y: P.y + p }, p), 'y >= p');
  assert.ok(!isOnCurve({ x: P.x - p, y: P.y }, p), 'negative x');
  assert.ok(!isOnCurve({ x: 1n, y: 1n }, p));
});

test('[q]P is infinity, [q-1]P = -P, [q+1]P = P, [0]P is infinity', () => {
  assert.equal(mulP(q), null);
  assert.equal(mulP(0n), null);
  sameAffine(mulP(q - 1n), negate(P, p));
  sameAffine(mulP(q + 1n), P);
  sameAffine(mulP(1n), P);
  sameAffine(mulP(2n), aff(jacobianDouble([P.x, P.y, 1n], p)));
});

test('[a]P + [b]P = [a + b]P for small scalars', () => {
  fc.assert(
    fc.property(small, small, (a, b) => {
      sameAffine(addAff(mulP(a), mulP(b)), mulP(a + b));
    }),
    { numRuns: 100 },
  );
});

test('[a]P + [b]P = [a + b mod q]P for full-size scalars, results on the curve', () => {
  fc.assert(
    fc.property(scalar, scalar, (a, b) => {
      const A = mulP(a);
      const sum = addAff(A, mulP(b));
      sameAffine(sum, mulP((a + b) % q));
      if (A !== null) assert.ok(isOnCurve(A, p));
      if (sum !== null) assert.ok(isOnCurve(sum, p));
    }),
    { numRuns: 20 },
  );
});

test('[a]([b]P) = [a·b]P', () => {
  fc.assert(
    fc.property(small, scalar, (a, b) => {
      const B = mulP(b);
      assert.ok(B !== null);
      sameAffine(aff(multiply(a, B, p)), mulP((a * b) % q));
    }),
    { numRuns: 15 },
  );
});

test('addition edge cases: X + X doubles, X + (-X) is infinity, O + X = X', () => {
  fc.assert(
    fc.property(scalar, (k) => {
      const X = mulP(k);
      assert.ok(X !== null);
      sameAffine(addAff(X, X), mulP((2n * k) % q));
      assert.equal(addAff(X, negate(X, p)), null);
      sameAffine(addAff(null, X), X);
      sameAffine(aff(jacobianDouble([X.x, X.y, 1n], p)), mulP((2n * k) % q));
    }),
    { numRuns: 10 },
  );
  assert.equal(aff(jacobianDouble(INFINITY, p)), null);
  assert.equal(aff(INFINITY), null);
});

test('Jacobian inputs with any Z give the same affine results', () => {
  fc.assert(
    fc.property(small, small, fc.bigInt({ min: 1n, max: p - 1n }), (a, b, zz) => {
      const A = mulP(a);
      const B = mulP(b);
      assert.ok(A !== null && B !== null);
      sameAffine(aff(scaled(A, zz)), A);
      sameAffine(aff(jacobianAddAffine(scaled(A, zz), B, p)), mulP(a + b));
      sameAffine(aff(jacobianDouble(scaled(A, zz), p)), mulP(2n * a));
      // Unreduced and negative representatives are allowed as intermediate coordinates.
      const [x, y, z] = scaled(A, zz);
      sameAffine(aff([x - p, y + p, z]), A);
    }),
    { numRuns: 30 },
  );
});

test('toAffineBatch equals toAffine point by point', () => {
  const pts: JacobianPoint[] = [1n, 2n, 3n, 1000n].map((k, i) => {
    const A = mulP(k);
    assert.ok(A !== null);
    return scaled(A, BigInt(i + 2));
  });
  const batch = toAffineBatch(pts, p);
  pts.forEach((pt, i) => sameAffine(batch[i] ?? null, aff(pt)));
});

test('FixedBaseTable.multiply(k) = multiply(k, P) for random k < q', () => {
  fc.assert(
    fc.property(scalar, (k) => {
      sameAffine(aff(pTable().multiply(k)), mulP(k));
    }),
    { numRuns: 30 },
  );
});

test('FixedBaseTable edge scalars: 0, 1, small, q-1, q, and the largest 2^bits - 1', () => {
  const t = pTable();
  assert.equal(aff(t.multiply(0n)), null);
  sameAffine(aff(t.multiply(1n)), P);
  for (let k = 2n; k < 70n; k++) sameAffine(aff(t.multiply(k)), mulP(k), `k = ${k}`);
  sameAffine(aff(t.multiply(q - 1n)), negate(P, p));
  assert.equal(aff(t.multiply(q)), null);
  const top = (1n << BigInt(Q_BITS)) - 1n;
  sameAffine(aff(t.multiply(top)), mulP(top % q));
  // Scalars made of all-maximal or all-half digits exercise the signed recoding's carries.
  const allOnes = (1n << 1000n) - 1n;
  sameAffine(aff(t.multiply(allOnes)), mulP(allOnes % q));
  let halves = 0n;
  for (let i = 0; i < 200; i++) halves = (halves << 5n) | 16n;
  sameAffine(aff(t.multiply(halves)), mulP(halves % q));
  assert.throws(() => t.multiply(-1n), RangeError);
  assert.throws(() => t.multiply(1n << BigInt(Q_BITS)), RangeError);
});

test('FixedBaseTable of every window width agrees with multiply (64-bit scalars)', () => {
  const A = mulP(0x1234567n);
  assert.ok(A !== null);
  for (const w of [2, 3, 4, 6, 7, 8]) {
    const t = new FixedBaseTable(A, p, 64, w);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (k) => {
        sameAffine(aff(t.multiply(k)), aff(multiply(k, A, p)), `w = ${w}, k = ${k}`);
      }),
      { numRuns: 25 },
    );
    sameAffine(
      aff(t.multiply((1n << 64n) - 1n)),
      aff(multiply((1n << 64n) - 1n, A, p)),
      `w = ${w}, top`,
    );
  }
});

test('a point of small order: (0, 0) doubles to infinity, and a table refuses it as a base', () => {
  const T = { x: 0n, y: 0n };
  assert.equal(aff(jacobianDouble([0n, 0n, 1n], p)), null);
  assert.equal(aff(multiply(2n, T, p)), null);
  sameAffine(aff(multiply(3n, T, p)), T);
  assert.throws(() => new FixedBaseTable(T, p, 16, 4), RangeError);
});

test('<P, P> = g, the g printed in RFC 6509', () => {
  assert.equal(sakkePairing(P, P), g);
});

test('<-P, P> = g^-1, which in PF_p form is -g', () => {
  assert.equal(sakkePairing(negate(P, p), P), modp(-g));
});

test('the independent F_p^2 power agrees: g^1 = g, g^q is the identity class', () => {
  assert.equal(pfpPow(g, 1n), g);
  assert.equal(pfpPow(g, q), 0n); // a + 0·i: the class of 1
  assert.notEqual(pfpPow(g, 2n), g);
});

test('bilinearity: <[a]P, [b]P> = <[a·b]P, P> = g^(a·b)', () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: 2n, max: (1n << 32n) - 1n }),
      fc.bigInt({ min: 2n, max: (1n << 32n) - 1n }),
      (a, b) => {
        const A = mulP(a);
        const B = mulP(b);
        const AB = mulP(a * b);
        assert.ok(A !== null && B !== null && AB !== null);
        const e = sakkePairing(A, B);
        assert.equal(e, sakkePairing(AB, P));
        assert.equal(e, pfpPow(g, a * b));
      },
    ),
    { numRuns: 4 },
  );
});

test('bilinearity with a full-size scalar, and symmetry <A, B> = <B, A>', () => {
  const a = q - 12345n;
  const A = mulP(a);
  const B = mulP(7n);
  assert.ok(A !== null && B !== null);
  const e = sakkePairing(A, B);
  assert.equal(e, sakkePairing(B, A));
  assert.equal(e, pfpPow(g, (a * 7n) % q));
});

test('pairing of points outside the order-q subgroup is refused', () => {
  const T = { x: 0n, y: 0n };
  const PT = addAff(P, T);
  assert.ok(PT !== null && isOnCurve(PT, p));
  assert.throws(() => sakkePairing(PT, P), RangeError);
});
