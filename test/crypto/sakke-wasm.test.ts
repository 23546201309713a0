/**
 * SAKKE's WebAssembly paths against the BigInt reference of the same formulas (RFC 6508 §3.2,
 * RFC 6509 parameter set 1): Miller values (single and product), [k]Q including the scalars
 * and points where the mixed-addition formulas have exceptions (answered by the BigInt path),
 * the fixed-base tables of I_b and the table of powers of g.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SakkeParamSet1 } from '../../src/crypto/sakke-params.js';
import { SAKKE_BASE_POINT } from '../../src/crypto/sakke.js';
import { FixedBaseTable, multiply, sumAffine, toAffine, type AffinePoint } from '../../src/crypto/sakke-curve.js';
import {
  finalExponentiation,
  millerValue,
  millerValueProduct,
  pfpValue,
  precomputeLines,
  type MillerLines,
} from '../../src/crypto/sakke-pairing.js';
import { millerValueProductWasm, millerValueWasm, precomputeLinesWasm } from '../../src/crypto/sakke-pairing-wasm.js';
import { multiplyWasm, sumAffineWasm, sumTableTerms, WasmFixedBaseTable } from '../../src/crypto/sakke-curve-wasm.js';
import { Fp2PowTable } from '../../src/crypto/sakke-gt.js';
import { WasmFp2PowTable } from '../../src/crypto/sakke-gt-wasm.js';

const { p, q, g } = SakkeParamSet1;
const P = SAKKE_BASE_POINT;
const Q_BITS = q.toString(2).length;
const mulP = (k: bigint): AffinePoint => {
  const a = toAffine(multiply(k, P, p), p);
  assert.ok(a !== null);
  return a;
};
const pairingValue = (v: { a: bigint; b: bigint }): bigint => pfpValue(finalExponentiation(v, p), p);
const scalar = fc.bigInt({ min: 1n, max: q - 1n });

test('sakke-wasm: Miller values equal the BigInt ones (after the final exponentiation) at random points', () => {
  const K = mulP(0x1234_5678_9abc_def0_1234_5678n);
  const lines = precomputeLines(K, p, q);
  fc.assert(
    fc.property(scalar, (k) => {
      const Q = mulP(k);
      assert.equal(pairingValue(millerValueWasm(lines, Q)), pairingValue(millerValue(lines, Q, p)));
    }),
    { numRuns: 4 },
  );
});

test('sakke-wasm: <P, P> = g through the WebAssembly loop (RFC 6509 parameter set 1)', () => {
  assert.equal(pairingValue(millerValueWasm(precomputeLines(P, p, q), P)), g);
});

test('sakke-wasm: product Miller values equal the BigInt ones and bilinearity holds', () => {
  const lp = precomputeLines(P, p, q);
  const z = 0xfeed_beef_cafe_f00d_1234n;
  const Z = mulP(z);
  const lz = precomputeLines(Z, p, q);
  fc.assert(
    fc.property(scalar, scalar, (a, b) => {
      const A = mulP(a);
      const B = mulP(b);
      const got = pairingValue(millerValueProductWasm(lp, A, lz, B));
      assert.equal(got, pairingValue(millerValueProduct(lp, A, lz, B, p)));
      // <P, [a]P>·<[z]P, [b]P> = <P, P>^(a + z·b) = <P, [a + z·b]P>
      assert.equal(got, pairingValue(millerValueWasm(lp, mulP((a + z * b) % q))));
    }),
    { numRuns: 3 },
  );
});

test('sakke-wasm: a Jacobian evaluation point gives the same Miller value as its affine form', () => {
  const lp = precomputeLines(P, p, q);
  const A = mulP(0xabcdefn);
  const scale = 0x1234567n; // (X, Y, Z) = (λ²x, λ³y, λ)
  const jac = [(A.x * scale * scale) % p, (A.y * scale * scale * scale) % p, scale] as const;
  assert.equal(
    pairingValue(millerValueProductWasm(lp, jac, lp, P)),
    pairingValue(millerValueProductWasm(lp, A, lp, P)),
  );
});

test('sakke-wasm: lines made in the module give the Miller values of the BigInt lines', () => {
  fc.assert(
    fc.property(scalar, scalar, (a, b) => {
      const K = mulP(a);
      const Q = mulP(b);
      const mine = millerValueWasm(precomputeLinesWasm(K), Q);
      assert.equal(pairingValue(mine), pairingValue(millerValue(precomputeLines(K, p, q), Q, p)));
    }),
    { numRuns: 3 },
  );
  assert.equal(pairingValue(millerValueWasm(precomputeLinesWasm(P), P)), g, '<P, P> = g');
});

test('sakke-wasm: lines of a point not of order q are refused, as by the BigInt lines', () => {
  // A point of E(F_p) outside the order-q subgroup: x with x^3 - 3x a square, y its root
  // (p = 3 mod 4), not killed by [q].
  let x = 5n;
  let pt: AffinePoint | undefined;
  for (; pt === undefined; x += 1n) {
    const rhs = (((x * x * x - 3n * x) % p) + p) % p;
    let y = 1n;
    for (let e = (p + 1n) / 4n, b = rhs; e > 0n; e >>= 1n, b = (b * b) % p) if (e & 1n) y = (y * b) % p;
    if ((y * y) % p === rhs && y !== 0n && toAffine(multiply(q, { x, y }, p), p) !== null) pt = { x, y };
  }
  assert.throws(() => precomputeLines(pt as AffinePoint, p, q), RangeError);
  assert.throws(() => precomputeLinesWasm(pt as AffinePoint), RangeError);
  assert.throws(() => precomputeLinesWasm({ x: 0n, y: 0n }), RangeError, 'order 2');
});

test('sakke-wasm: lines of another shape are refused', () => {
  const lines = precomputeLines(P, p, q);
  const bad: MillerLines = { ...lines, addition: Uint8Array.from(lines.addition, (v, i) => (i === 3 ? 1 - v : v)) };
  assert.throws(() => millerValueWasm(bad, P), RangeError);
});

test('sakke-wasm: [k]Q equals the BigInt multiplication, random and edge scalars', () => {
  const Q = mulP(987654321987654321n);
  const check = (k: bigint, pt: AffinePoint): void => {
    const want = toAffine(multiply(k, pt, p), p);
    const got = multiplyWasm(k, pt);
    assert.deepEqual(got, want, `k = ${k}`);
  };
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), (k) => check(k, Q)), { numRuns: 20 });
  for (const k of [0n, 1n, 2n, 3n, q - 1n, q, q + 1n, 2n * q, 2n ** 256n - 1n]) check(k, Q);
});

test('sakke-wasm: [k]Q for points off the order-q subgroup goes through the exact path', () => {
  // (0, 0) has order 2: doubling it is infinity, which the formulas give as Z = 0.
  const T: AffinePoint = { x: 0n, y: 0n };
  assert.equal(multiplyWasm(2n, T), null);
  assert.deepEqual(multiplyWasm(3n, T), T);
  assert.deepEqual(multiplyWasm(5n, T), toAffine(multiply(5n, T, p), p));
});

test('sakke-wasm: sums of points (affine levels, then mixed additions) equal sumAffine, exceptions included', () => {
  const pool = [1n, 2n, 3n, 5n, 0xdeadn, q - 1n, q - 2n].map(mulP);
  const neg = (a: AffinePoint): AffinePoint => ({ x: a.x, y: p - a.y });
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(pool.length - 1), fc.boolean()), { maxLength: 120 }), (spec) => {
      const pts = spec.map(([i, n]) => (n ? neg(pool[i] as AffinePoint) : (pool[i] as AffinePoint)));
      assert.deepEqual(sumAffineWasm(pts), sumAffine(pts, p));
    }),
    { numRuns: 60 },
  );
  const A = pool[4] as AffinePoint;
  const many = Array.from({ length: 50 }, (_, i) => mulP(BigInt(i + 7) * 0x1234567n));
  // Equal and opposite points paired in the first affine level; a sum that cancels entirely.
  assert.deepEqual(sumAffineWasm([A, A, ...many]), sumAffine([A, A, ...many], p));
  assert.deepEqual(sumAffineWasm([A, neg(A), ...many]), sumAffine([A, neg(A), ...many], p));
  assert.equal(sumAffineWasm([...many, ...many.map(neg)]), null);
  assert.equal(sumAffineWasm([]), null);
});

test('sakke-wasm: the fixed-base table of a point equals the BigInt table', () => {
  const B = mulP(0x5eed_5eed_5eed_5eedn);
  const big = new FixedBaseTable(B, p, Q_BITS, 8);
  const table = new WasmFixedBaseTable(B, Q_BITS, 8);
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: q - 1n }), (k) => {
      assert.deepEqual(table.multiplyAffine(k), big.multiplyAffine(k));
    }),
    { numRuns: 30 },
  );
  assert.equal(table.multiplyAffine(0n), null);
  assert.equal(table.multiplyAffine(q), null, '[q]B is infinity (through the exact path)');
  assert.deepEqual(table.multiplyAffine(q - 1n), { x: B.x, y: p - B.y });
  assert.deepEqual(table.multiplyAffine(1n), B);
  assert.throws(() => table.multiplyAffine(1n << BigInt(Q_BITS)), RangeError);
  // Terms of several tables summed together (the GMS fan-out), exceptions through the exact path.
  const other = new WasmFixedBaseTable(P, Q_BITS, 8);
  const k1 = 0xabcdef1234567n;
  const k2 = 0x7654321fedcban;
  assert.deepEqual(sumTableTerms([...table.terms(k1), ...other.terms(k2)]), toAffine(multiply((k1 * 0x5eed_5eed_5eed_5eedn + k2) % q, P, p), p));
  const [one] = table.terms(1n) as [readonly [number, number]];
  assert.deepEqual(sumTableTerms([one, one]), mulP(2n * 0x5eed_5eed_5eed_5eedn), 'B + B (equal points)');
  assert.equal(sumTableTerms([one, [one[0], 1]]), null, 'B - B');
  assert.equal(sumTableTerms([]), null);
  // The decapsulation's TEST = R comparison, done in Jacobian form.
  const k = 0x1234_5678_9abc_def0_0fed_cba9n;
  const want = big.multiplyAffine(k);
  assert.ok(want !== null);
  assert.equal(table.multiplyEquals(k, want), true);
  assert.equal(table.multiplyEquals(k + 1n, want), false);
  assert.equal(table.multiplyEquals(k, { x: want.x, y: p - want.y }), false, 'the negative point');
  assert.equal(table.multiplyEquals(0n, want), false, 'infinity equals no affine point');
});

test('sakke-wasm: powers of g from the table in the module equal the BigInt table', () => {
  const big = new Fp2PowTable(g, p, Q_BITS, 6);
  const table = new WasmFp2PowTable(g, Q_BITS, 6);
  fc.assert(
    fc.property(scalar, (k) => {
      assert.equal(table.powPfp(k), big.powPfp(k));
    }),
    { numRuns: 30 },
  );
  assert.equal(table.powPfp(1n), g);
  assert.throws(() => table.powPfp(0n), RangeError);
});
