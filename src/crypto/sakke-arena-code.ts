/**
 * The functions sakke-arena.ts adds to SAKKE's field module (fp-wasm.ts), as calls of the
 * field's own functions on fixed register addresses and on parameters: the Miller loops
 * (sakke-pairing.ts's formulas) and the point formulas of E: y^2 = x^3 - 3x.
 */
import type { FieldCode } from './fp-wasm.js';
import { Op, ValType, type FunctionBody, type ModuleWriter } from './wasm-emitter.js';

/** Fixed addresses of the registers the generated loops use. */
export interface Registers {
  readonly a: number;
  readonly a2: number;
  readonly s0: number;
  readonly t1: number;
  readonly t2: number;
  readonly b: number;
  readonly c: number;
  readonly one: number;
  readonly zero: number;
  readonly w1: number;
  readonly w2: number;
  readonly w3: number;
  readonly w4: number;
  readonly flags: number;
  readonly signs: number;
  /** Temporaries of the point formulas. */
  readonly e: readonly number[];
}

/** An i32 argument: a constant address, or a parameter / local (plus a constant). */
export type Arg = number | { readonly l: number; readonly plus?: number };

/** A step of a formula: a field function and its arguments (destination first). */
export type Step = readonly [number, ...Arg[]];

/** Emits the calls of a formula, in order. */
export function formula(f: FunctionBody, steps: readonly Step[]): void {
  for (const [fn, ...args] of steps) call(f, fn, ...args);
}

export function call(f: FunctionBody, fn: number, ...args: Arg[]): void {
  for (const a of args) {
    if (typeof a === 'number') f.i32(a);
    else {
      f.get(a.l);
      if (a.plus !== undefined && a.plus !== 0) f.i32(a.plus).op(Op.i32Add);
    }
  }
  f.call(fn);
}

/** Emits the Miller-loop functions: line, square, timesLine, timesTwoLines, mulNorm, miller, miller2. */
export function emitMillerFunctions(w: ModuleWriter, code: FieldCode, size: number, r: Registers): void {
  const i32 = ValType.i32;
  const s1 = r.s0 + size;

  // line(dst, line, xs, ys): dst = λ·xq + d·yi, with the splats of xq and yi at xs and ys
  const line = w.addFunction(undefined, [i32, i32, i32, i32]);
  {
    const f = line.body;
    call(f, code.dot2, r.w1, { l: 2 }, { l: 1 }, { l: 3 }, { l: 1, plus: size });
    call(f, code.redc, { l: 0 }, r.w1);
  }
  // square(v): s = v^2
  const square = w.addFunction(undefined, [i32]);
  {
    const f = square.body;
    const v0 = { l: 0 };
    const v1 = { l: 0, plus: size };
    call(f, code.add, r.t1, v0, v1);
    call(f, code.sub, r.t2, v0, v1);
    call(f, code.mul, r.s0, r.t1, r.t2);
    call(f, code.mul, s1, v0, v1);
    call(f, code.add, s1, s1, s1);
  }
  // timesLine(v): v = s·(A + i)
  const timesLine = w.addFunction(undefined, [i32]);
  {
    const f = timesLine.body;
    call(f, code.mul, r.t1, r.s0, r.a);
    call(f, code.sub, { l: 0 }, r.t1, s1);
    call(f, code.mul, r.t2, s1, r.a);
    call(f, code.add, { l: 0, plus: size }, r.s0, r.t2);
  }
  // timesTwoLines(v, s): v = s·(A + i)(A2 + i); s may be v
  const timesTwoLines = w.addFunction(undefined, [i32, i32]);
  {
    const f = timesTwoLines.body;
    const s0 = { l: 1 };
    const s1p = { l: 1, plus: size };
    call(f, code.mul, r.b, r.a, r.a2);
    call(f, code.sub, r.b, r.b, r.one);
    call(f, code.add, r.c, r.a, r.a2);
    call(f, code.mulWide, r.w1, s0, r.b);
    call(f, code.mulWide, r.w2, s1p, r.c);
    call(f, code.add, r.t1, s0, s1p);
    call(f, code.add, r.t2, r.b, r.c);
    call(f, code.mulWide, r.w3, r.t1, r.t2);
    // v0 = t0 - t1 (+ 4p²); v1 = t2 - t0 - t1 (+ 8p²): below p·R, reduced once each.
    call(f, code.subWide, r.w4, r.w1, r.w2);
    call(f, code.redc, { l: 0 }, r.w4);
    call(f, code.subWide, r.w3, r.w3, r.w1);
    call(f, code.subWide, r.w3, r.w3, r.w2);
    call(f, code.redc, { l: 0, plus: size }, r.w3);
  }
  // mulNorm(v, t): v = v·(1 + t·i), for the powers of g (sakke-gt.ts).
  {
    const f = w.addFunction('mulNorm', [i32, i32]).body;
    call(f, code.mul, r.t1, { l: 0, plus: size }, { l: 1 });
    call(f, code.mul, r.t2, { l: 0 }, { l: 1 });
    call(f, code.sub, { l: 0 }, { l: 0 }, r.t1);
    call(f, code.add, { l: 0, plus: size }, { l: 0, plus: size }, r.t2);
  }
  const loopEnd = (f: FunctionBody, flags: number, steps: number): void => {
    f.get(flags).i32(1).op(Op.i32Add).set(flags);
    f.get(steps).i32(1).op(Op.i32Sub).tee(steps).br(0, true);
    f.op(Op.end);
  };
  // miller(v, lines, xs, ys, flags, steps)
  {
    const f = w.addFunction('miller', [i32, i32, i32, i32, i32, i32]).body;
    const [V, L, XS, YS, FL, N] = [0, 1, 2, 3, 4, 5];
    f.begin(Op.loop);
    call(f, line.index, r.a, { l: L }, { l: XS }, { l: YS });
    f.get(L).i32(2 * size).op(Op.i32Add).set(L);
    call(f, square.index, { l: V });
    f.get(FL).load8(0).begin(Op.if);
    call(f, line.index, r.a2, { l: L }, { l: XS }, { l: YS });
    f.get(L).i32(2 * size).op(Op.i32Add).set(L);
    call(f, timesTwoLines.index, { l: V }, r.s0);
    f.op(Op.else);
    call(f, timesLine.index, { l: V });
    f.op(Op.end);
    loopEnd(f, FL, N);
  }
  // miller2(v, lines1, xs1, ys1, lines2, xs2, ys2, flags, steps)
  {
    const f = w.addFunction('miller2', [i32, i32, i32, i32, i32, i32, i32, i32, i32]).body;
    const [V, L1, XS1, YS1, L2, XS2, YS2, FL, N] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    const lines = (): void => {
      call(f, line.index, r.a, { l: L1 }, { l: XS1 }, { l: YS1 });
      call(f, line.index, r.a2, { l: L2 }, { l: XS2 }, { l: YS2 });
      f.get(L1).i32(2 * size).op(Op.i32Add).set(L1);
      f.get(L2).i32(2 * size).op(Op.i32Add).set(L2);
    };
    f.begin(Op.loop);
    lines();
    call(f, square.index, { l: V });
    call(f, timesTwoLines.index, { l: V }, r.s0);
    f.get(FL).load8(0).begin(Op.if);
    lines();
    call(f, timesTwoLines.index, { l: V }, { l: V });
    f.op(Op.end);
    loopEnd(f, FL, N);
  }
}

/** Emits the point functions: dbl, madd, gather, set, pairPrep, pairFinish. */
export function emitPointFunctions(
  w: ModuleWriter,
  code: FieldCode,
  size: number,
  r: Registers,
): { readonly dbl: number; readonly madd: number } {
  const i32 = ValType.i32;
  let dblIndex = -1;
  let maddIndex = -1;
  // dbl(j): J = [2]J in Jacobian coordinates on y^2 = x^3 - 3x (a = -3: dbl-2001-b, Bernstein-
  // Lange Explicit-Formulas Database), X, Y, Z at j, j + size, j + 2·size.
  {
    const fn = w.addFunction('dbl', [i32]);
    dblIndex = fn.index;
    const f = fn.body;
    const X = { l: 0 };
    const Y = { l: 0, plus: size };
    const Z = { l: 0, plus: 2 * size };
    const [D, G, Bt, Al, T1, T2, T3] = r.e as [number, number, number, number, number, number, number];
    const { mul, sqr, add, sub } = code;
    formula(f, [
      [sqr, D, Z], // δ = Z²
      [sqr, G, Y], // γ = Y²
      [mul, Bt, X, G], // β = X·γ
      [sub, T1, X, D],
      [add, T2, X, D],
      [mul, Al, T1, T2],
      [add, T1, Al, Al],
      [add, Al, T1, Al], // α = 3(X - δ)(X + δ)
      [add, T1, Y, Z],
      [sqr, T1, T1],
      [sub, T1, T1, G],
      [sub, Z, T1, D], // Z3 = (Y + Z)² - γ - δ
      [sqr, T1, Al],
      [add, T2, Bt, Bt],
      [add, T2, T2, T2], // 4β
      [add, T3, T2, T2],
      [sub, X, T1, T3], // X3 = α² - 8β
      [sub, T1, T2, X],
      [mul, T1, Al, T1],
      [sqr, G, G],
      [add, G, G, G],
      [add, G, G, G],
      [add, G, G, G], // 8γ²
      [sub, Y, T1, G], // Y3 = α(4β - X3) - 8γ²
    ]);
  }
  // madd(j, a, neg): J = J ± A for an affine A (x at a, y at a + size), minus when neg != 0:
  // madd-2007-bl. H = 0 (J = ±A) and J at infinity are not handled: they give Z = 0, which
  // callers check for.
  {
    const fn = w.addFunction('madd', [i32, i32, i32]);
    maddIndex = fn.index;
    const f = fn.body;
    const X = { l: 0 };
    const Y = { l: 0, plus: size };
    const Z = { l: 0, plus: 2 * size };
    const x2 = { l: 1 };
    const y2 = { l: 1, plus: size };
    const [ZZ, U2, S2, H, HH, I, Jv, Rr, V] = r.e as [number, number, number, number, number, number, number, number, number];
    const [T1, T2] = [r.t1, r.t2];
    const { mul, sqr, add, sub } = code;
    formula(f, [
      [sqr, ZZ, Z], // Z1Z1
      [mul, U2, x2, ZZ], // U2 = x2·Z1Z1
      [mul, S2, Z, ZZ],
      [mul, S2, y2, S2], // S2 = y2·Z1·Z1Z1
    ]);
    f.get(2).begin(Op.if);
    call(f, sub, S2, r.zero, S2); // -A
    f.op(Op.end);
    formula(f, [
      [sub, H, U2, X], // H = U2 - X1
      [sqr, HH, H],
      [add, I, HH, HH],
      [add, I, I, I], // I = 4·HH
      [mul, Jv, H, I], // J = H·I
      [sub, Rr, S2, Y],
      [add, Rr, Rr, Rr], // r = 2(S2 - Y1)
      [mul, V, X, I], // V = X1·I
      [sqr, T1, Rr],
      [sub, T1, T1, Jv],
      [sub, T1, T1, V],
      [sub, X, T1, V], // X3 = r² - J - 2V
      [sub, T1, V, X],
      [mul, T1, Rr, T1],
      [mul, T2, Y, Jv],
      [add, T2, T2, T2],
      [sub, Y, T1, T2], // Y3 = r(V - X3) - 2·Y1·J
      [add, T1, Z, H],
      [sqr, T1, T1],
      [sub, T1, T1, ZZ],
      [sub, Z, T1, HH], // Z3 = (Z1 + H)² - Z1Z1 - HH
    ]);
  }
  // Affine additions of pairs of points with one shared inversion (Montgomery's trick), for
  // sums of many table points. Points are (x, y) at 2·size apart.
  //   gather(dst, src, neg): dst = ±src
  //   pairPrep(pts, count, dens, prefix): den_i = x(pts[2i+1]) - x(pts[2i]), prefix_i = Π den_j≤i
  //   pairFinish(pts, out, count, dens, prefix, inv): with inv = 1/prefix_(count-1),
  //     out_i = pts[2i] + pts[2i+1] (chord slopes; equal x is the caller's exception)
  const gather = w.addFunction('gather', [i32, i32, i32]);
  {
    const f = gather.body;
    call(f, code.add, { l: 0 }, { l: 1 }, r.zero);
    f.get(2).begin(Op.if);
    call(f, code.sub, { l: 0, plus: size }, r.zero, { l: 1, plus: size });
    f.op(Op.else);
    call(f, code.add, { l: 0, plus: size }, { l: 1, plus: size }, r.zero);
    f.op(Op.end);
  }
  // set(j, a, neg): J = ±A with Z = 1.
  {
    const f = w.addFunction('set', [i32, i32, i32]).body;
    call(f, gather.index, { l: 0 }, { l: 1 }, { l: 2 });
    call(f, code.add, { l: 0, plus: 2 * size }, r.one, r.zero);
  }
  {
    const f = w.addFunction('pairPrep', [i32, i32, i32, i32]).body;
    const [PT, N, D, PR] = [0, 1, 2, 3];
    call(f, code.sub, { l: D }, { l: PT, plus: 2 * size }, { l: PT });
    call(f, code.add, { l: PR }, { l: D }, r.zero);
    f.get(N).i32(1).op(Op.i32Sub).tee(N).begin(Op.if);
    f.begin(Op.loop);
    f.get(PT).i32(4 * size).op(Op.i32Add).set(PT);
    f.get(D).i32(size).op(Op.i32Add).set(D);
    f.get(PR).i32(size).op(Op.i32Add).set(PR);
    call(f, code.sub, { l: D }, { l: PT, plus: 2 * size }, { l: PT });
    call(f, code.mul, { l: PR }, { l: PR, plus: -size }, { l: D });
    f.get(N).i32(1).op(Op.i32Sub).tee(N).br(0, true);
    f.op(Op.end);
    f.op(Op.end);
  }
  {
    const f = w.addFunction('pairFinish', [i32, i32, i32, i32, i32, i32]).body;
    const [PT, OUT, N, D, PR, INV] = [0, 1, 2, 3, 4, 5];
    const L = r.e[0] as number;
    const [T1, T2] = [r.t1, r.t2];
    // Start at the last pair: PT, OUT, D, PR point at index count - 1.
    f.get(N).i32(1).op(Op.i32Sub).set(N);
    f.get(PT).get(N).i32(4 * size).op(Op.i32Mul).op(Op.i32Add).set(PT);
    f.get(OUT).get(N).i32(2 * size).op(Op.i32Mul).op(Op.i32Add).set(OUT);
    f.get(D).get(N).i32(size).op(Op.i32Mul).op(Op.i32Add).set(D);
    f.get(PR).get(N).i32(size).op(Op.i32Mul).op(Op.i32Add).set(PR);
    f.begin(Op.loop);
    // T1 = 1/den_i: inv·prefix_(i-1) (inv itself for i = 0); then inv = inv·den_i.
    f.get(N).begin(Op.if);
    call(f, code.mul, T1, { l: INV }, { l: PR, plus: -size });
    call(f, code.mul, { l: INV }, { l: INV }, { l: D });
    f.op(Op.else);
    call(f, code.add, T1, { l: INV }, r.zero);
    f.op(Op.end);
    const x1 = { l: PT };
    const y1 = { l: PT, plus: size };
    const x2 = { l: PT, plus: 2 * size };
    const y2 = { l: PT, plus: 3 * size };
    const x3 = { l: OUT };
    const y3 = { l: OUT, plus: size };
    formula(f, [
      [code.sub, T2, y2, y1],
      [code.mul, L, T2, T1], // λ = (y2 - y1)/(x2 - x1)
      [code.sqr, T2, L],
      [code.sub, T2, T2, x1],
      [code.sub, x3, T2, x2], // x3 = λ² - x1 - x2
      [code.sub, T2, x1, x3],
      [code.mul, T2, L, T2],
      [code.sub, y3, T2, y1], // y3 = λ(x1 - x3) - y1
    ]);
    f.get(PT).i32(4 * size).op(Op.i32Sub).set(PT);
    f.get(OUT).i32(2 * size).op(Op.i32Sub).set(OUT);
    f.get(D).i32(size).op(Op.i32Sub).set(D);
    f.get(PR).i32(size).op(Op.i32Sub).set(PR);
    f.get(N).i32(1).op(Op.i32Sub).tee(N).i32(0).op(Op.i32LtS).op(Op.i32Eqz).br(0, true);
    f.op(Op.end);
  }
  return { dbl: dblIndex, madd: maddIndex };
}
