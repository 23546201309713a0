/** F_p helpers of src/crypto/fp.ts: Lehmer inversion against the plain Euclidean reference. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { batchInvert, invMod, invModEuclid, mod, powMod } from '../../src/crypto/fp.js';
import { SakkeParamSet1 } from '../../src/crypto/index.js';
import { Q as P256_Q } from '../../src/crypto/p256.js';

const moduli = [SakkeParamSet1.p, SakkeParamSet1.q, P256_Q, 7n, 65537n];

test('invMod (Lehmer) equals the plain extended Euclid and inverts, for the SAKKE p, q and P-256 q', () => {
  for (const m of moduli) {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: m - 1n }), (a) => {
        const x = invMod(a, m);
        assert.equal(x, invModEuclid(a, m));
        assert.equal(mod(x * a, m), 1n);
      }),
      { numRuns: m > 1000n ? 300 : 6 },
    );
    for (const a of [1n, 2n, m - 1n, m - 2n, m + 1n, -1n]) assert.equal(mod(invMod(a, m) * a, m), 1n);
  }
});

test('invMod of zero or of a non-unit throws RangeError (callers map it to their typed error)', () => {
  assert.throws(() => invMod(0n, SakkeParamSet1.p), RangeError);
  assert.throws(() => invMod(SakkeParamSet1.p, SakkeParamSet1.p), RangeError);
  assert.throws(() => invMod(6n, 9n), RangeError);
});

test('batchInvert agrees with invMod; powMod with Fermat', () => {
  const p = SakkeParamSet1.p;
  const xs = [1n, 2n, 3n, p - 1n, 123456789123456789n];
  assert.deepEqual(batchInvert(xs, p), xs.map((x) => invMod(x, p)));
  assert.equal(powMod(3n, p - 1n, p), 1n);
  assert.equal(powMod(12345n, p - 2n, p), invMod(12345n, p));
});
