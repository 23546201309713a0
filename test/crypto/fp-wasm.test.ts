/**
 * The generated WebAssembly field (src/crypto/fp-wasm.ts) against BigInt arithmetic: every
 * exported operation on random and edge values, long chains that keep values in the partially
 * reduced range [0, 2p), aliasing, the wide (lazily reduced) operations, and several primes
 * (SAKKE's 1024-bit p of RFC 6509, the P-256 prime, 2^521 - 1, 2^61 - 1), so the generator is
 * exercised at 37, 10, 19 and 3 limbs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WasmField } from '../../src/crypto/fp-wasm.js';
import { SakkeParamSet1 } from '../../src/crypto/sakke-params.js';

const PRIMES: Record<string, bigint> = {
  'sakke-p': SakkeParamSet1.p,
  'p-256': 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
  'p-521': 2n ** 521n - 1n,
  'm61': 2n ** 61n - 1n,
};

const modOf = (p: bigint) => (a: bigint): bigint => ((a % p) + p) % p;
const elementOf = (p: bigint): fc.Arbitrary<bigint> =>
  fc.oneof(
    fc.bigInt({ min: 0n, max: p - 1n }),
    fc.constantFrom(0n, 1n, 2n, p - 1n, p - 2n, (p - 1n) / 2n),
  );

for (const [name, p] of Object.entries(PRIMES)) {
  const mod = modOf(p);
  const F = new WasmField(p);
  const [a, b, c, r] = [F.alloc(), F.alloc(), F.alloc(), F.alloc()];
  const [w1, w2, w3] = [F.allocWide(), F.allocWide(), F.allocWide()];

  test(`fp-wasm ${name}: mul, sqr, add, sub equal BigInt`, () => {
    fc.assert(
      fc.property(elementOf(p), elementOf(p), (x, y) => {
        F.write(a, x);
        F.write(b, y);
        F.fn.mul(r, a, b);
        assert.equal(F.read(r), mod(x * y));
        F.fn.sqr(r, a);
        assert.equal(F.read(r), mod(x * x));
        F.fn.add(r, a, b);
        assert.equal(F.read(r), mod(x + y));
        F.fn.sub(r, a, b);
        assert.equal(F.read(r), mod(x - y));
      }),
      { numRuns: 300 },
    );
  });

  test(`fp-wasm ${name}: wide products and sums reduced once equal BigInt`, () => {
    fc.assert(
      fc.property(elementOf(p), elementOf(p), elementOf(p), elementOf(p), (x, y, u, v) => {
        F.write(a, x);
        F.write(b, y);
        F.write(c, u);
        F.write(r, v);
        F.fn.mulWide(w1, a, b);
        F.fn.mulWide(w2, c, r);
        F.fn.addWide(w3, w1, w2);
        F.fn.redc(a, w3);
        assert.equal(F.read(a), mod(x * y + u * v), 'x·y + u·v');
        // The difference may be negative: subWide adds 4p².
        F.fn.subWide(w3, w1, w2);
        F.fn.redc(a, w3);
        assert.equal(F.read(a), mod(x * y - u * v), 'x·y - u·v');
        // t2 - t0 - t1 of a Karatsuba product: two offsets.
        F.fn.sqrWide(w3, c);
        F.fn.subWide(w3, w3, w1);
        F.fn.subWide(w3, w3, w2);
        F.fn.redc(a, w3);
        assert.equal(F.read(a), mod(u * u - x * y - u * v), 'u² - x·y - u·v');
      }),
      { numRuns: 200 },
    );
  });

  test(`fp-wasm ${name}: dot2 (two products in one accumulation, splats of x and y) equals BigInt`, () => {
    const [xs, ys] = [F.allocSplats(), F.allocSplats()];
    fc.assert(
      fc.property(elementOf(p), elementOf(p), elementOf(p), elementOf(p), (x, y, u, v) => {
        F.write(a, x);
        F.write(b, y);
        F.fn.splats(xs, a);
        F.fn.splats(ys, b);
        F.write(c, u);
        F.write(r, v);
        F.fn.dot2(w1, xs, c, ys, r);
        F.fn.redc(a, w1);
        assert.equal(F.read(a), mod(u * x + v * y));
      }),
      { numRuns: 200 },
    );
  });

  test(`fp-wasm ${name}: a long chain stays in range and equal to BigInt`, () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(5), fc.nat(2), fc.nat(2)), { minLength: 50, maxLength: 300 }), elementOf(p), elementOf(p), (ops, x0, y0) => {
        const regs = [a, b, c];
        const vals = [x0, y0, mod(x0 + 7n)];
        regs.forEach((at, i) => F.write(at, vals[i] as bigint));
        for (const [op, i, j] of ops) {
          const [x, y] = [vals[i] as bigint, vals[j] as bigint];
          const [ra, rb] = [regs[i] as number, regs[j] as number];
          // Results overwrite operand i (aliasing).
          if (op === 0) (F.fn.mul(ra, ra, rb), (vals[i] = mod(x * y)));
          else if (op === 1) (F.fn.sqr(ra, rb), (vals[i] = mod(y * y)));
          else if (op === 2) (F.fn.add(ra, ra, rb), (vals[i] = mod(x + y)));
          else if (op === 3) (F.fn.sub(ra, ra, rb), (vals[i] = mod(x - y)));
          else if (op === 4) (F.fn.add(ra, ra, ra), (vals[i] = mod(2n * x)));
          else (F.fn.sub(ra, rb, ra), (vals[i] = mod(y - x)));
        }
        regs.forEach((at, i) => assert.equal(F.read(at), vals[i]));
      }),
      { numRuns: 40 },
    );
  });

  test(`fp-wasm ${name}: aliasing of outputs and inputs`, () => {
    const x = mod(123456789n ** 5n);
    F.write(a, x);
    F.fn.mul(a, a, a);
    assert.equal(F.read(a), mod(x * x));
    F.write(a, x);
    F.fn.sub(a, a, a);
    assert.equal(F.read(a), 0n);
    F.write(a, x);
    F.fn.sqr(a, a);
    assert.equal(F.read(a), mod(x * x));
  });
}

test('fp-wasm: an element allocated right after a full wide value multiplies correctly (padding)', () => {
  const p = PRIMES['sakke-p'] as bigint;
  const F = new WasmField(p);
  const w = F.allocWide();
  const [a, b, r] = [F.alloc(), F.alloc(), F.alloc()];
  // Fill the wide value's 2n words with ones, as a product's top words may be.
  new Int32Array(F.memory.buffer, w, 2 * F.n).fill(0x0fffffff);
  const x = p - 3n;
  const y = p / 7n;
  F.write(a, x);
  F.write(b, y);
  F.fn.mul(r, b, a);
  assert.equal(F.read(r), (x * y) % p);
  F.fn.mul(r, a, b);
  assert.equal(F.read(r), (x * y) % p);
});

test('fp-wasm: rejects an even modulus and one too large for the generator', () => {
  assert.throws(() => new WasmField(2n ** 127n), RangeError);
  assert.throws(() => new WasmField(2n ** 1800n + 1n), RangeError);
});

test('fp-wasm: blocks are zeroed when freed and reused for the same size', () => {
  const F = new WasmField(PRIMES['p-256'] as bigint);
  const blk = F.allocBlock(4);
  for (let i = 0; i < 4; i++) F.write(blk + i * F.size, BigInt(i + 5));
  F.freeBlock(blk, 4);
  assert.ok(new Uint8Array(F.memory.buffer, blk, 4 * F.size).every((v) => v === 0), 'zeroed');
  assert.equal(F.allocBlock(4), blk, 'reused');
  assert.notEqual(F.allocBlock(4), blk, 'not handed out twice');
});

test('fp-wasm: the memory grows past its first pages', () => {
  const F = new WasmField(PRIMES['sakke-p'] as bigint);
  const before = F.memory.buffer.byteLength;
  const big = F.allocBlock(Math.ceil((2 * before) / F.size));
  const last = big + (Math.ceil((2 * before) / F.size) - 1) * F.size;
  F.write(last, 42n);
  assert.ok(F.memory.buffer.byteLength > before);
  assert.equal(F.read(last), 42n);
});
