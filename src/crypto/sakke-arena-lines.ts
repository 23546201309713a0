/**
 * The functions sakke-arena.ts adds to make a point's Miller lines in the module (used by
 * sakke-pairing-wasm.ts precomputeLinesWasm); emitted like those of sakke-arena-code.ts.
 */
import type { FieldCode } from './fp-wasm.js';
import { Op, ValType, type FunctionBody, type ModuleWriter } from './wasm-emitter.js';
import { call, formula, type Arg, type Registers } from './sakke-arena-code.js';

/**
 * Emits the functions that compute a point's Miller lines (sakke-pairing.ts precomputeLines):
 *   chain(j, k, rec, flags, signs, steps): from J = K (Jacobian at j, K affine at k), per step a
 *     record [num, den, X, Y, Z] of the tangent at C = J (λ = num/den: α and Z of dbl-2001-b)
 *     then J = 2J, and on an addition step (flag) a record of the chord through C and ±K (λ = r/Z3
 *     of madd-2007-bl, minus when the sign octet is 1) then J = J ± K; records 5 elements apart
 *   invPrep(vals, stride, count, prefix) / invFinish(vals, stride, count, prefix, inv): every
 *     vals_i (stride octets apart) replaced by its inverse, with inv = 1/prefix_(count-1)
 *     (Montgomery's trick)
 *   linesOut(rec, out, count): with den and Z inverted, λ = num·den^-1, (x, y) = (X·Z^-2, Y·Z^-3),
 *     d = λ·x - y, written as λ, d pairs at out
 */
export function emitLineFunctions(
  w: ModuleWriter,
  code: FieldCode,
  size: number,
  r: Registers,
  point: { readonly dbl: number; readonly madd: number },
): void {
  const i32 = ValType.i32;
  const copy = (f: FunctionBody, dst: Arg, src: Arg): void => call(f, code.add, dst, src, r.zero);
  const Al = r.e[3] as number; // α of dbl
  const Rr = r.e[7] as number; // r of madd
  {
    const f = w.addFunction('chain', [i32, i32, i32, i32, i32, i32]).body;
    const [J, K, REC, FL, SG, N] = [0, 1, 2, 3, 4, 5];
    const record = (numerator: number): void => {
      copy(f, { l: REC }, numerator);
      copy(f, { l: REC, plus: size }, { l: J, plus: 2 * size });
      f.get(REC).i32(5 * size).op(Op.i32Add).set(REC);
    };
    const point0 = (): void => {
      for (let c = 0; c < 3; c++) copy(f, { l: REC, plus: (2 + c) * size }, { l: J, plus: c * size });
    };
    f.begin(Op.loop);
    point0();
    call(f, point.dbl, { l: J });
    record(Al);
    f.get(FL).load8(0).begin(Op.if);
    point0();
    f.get(J).get(K).get(SG).load8(0).call(point.madd);
    record(Rr);
    f.op(Op.end);
    f.get(FL).i32(1).op(Op.i32Add).set(FL);
    f.get(SG).i32(1).op(Op.i32Add).set(SG);
    f.get(N).i32(1).op(Op.i32Sub).tee(N).br(0, true);
    f.op(Op.end);
  }
  {
    const f = w.addFunction('invPrep', [i32, i32, i32, i32]).body;
    const [V, S, N, PR] = [0, 1, 2, 3];
    copy(f, { l: PR }, { l: V });
    f.get(N).i32(1).op(Op.i32Sub).tee(N).begin(Op.if);
    f.begin(Op.loop);
    f.get(V).get(S).op(Op.i32Add).set(V);
    f.get(PR).i32(size).op(Op.i32Add).set(PR);
    call(f, code.mul, { l: PR }, { l: PR, plus: -size }, { l: V });
    f.get(N).i32(1).op(Op.i32Sub).tee(N).br(0, true);
    f.op(Op.end);
    f.op(Op.end);
  }
  {
    const f = w.addFunction('invFinish', [i32, i32, i32, i32, i32]).body;
    const [V, S, N, PR, INV] = [0, 1, 2, 3, 4];
    // From the last value down: vals_i^-1 = inv·prefix_(i-1), then inv = inv·vals_i.
    f.get(N).i32(1).op(Op.i32Sub).set(N);
    f.get(V).get(N).get(S).op(Op.i32Mul).op(Op.i32Add).set(V);
    f.get(PR).get(N).i32(size).op(Op.i32Mul).op(Op.i32Add).set(PR);
    f.get(N).begin(Op.if);
    f.begin(Op.loop);
    call(f, code.mul, r.t1, { l: INV }, { l: PR, plus: -size });
    call(f, code.mul, { l: INV }, { l: INV }, { l: V });
    copy(f, { l: V }, r.t1);
    f.get(V).get(S).op(Op.i32Sub).set(V);
    f.get(PR).i32(size).op(Op.i32Sub).set(PR);
    f.get(N).i32(1).op(Op.i32Sub).tee(N).br(0, true);
    f.op(Op.end);
    f.op(Op.end);
    copy(f, { l: V }, { l: INV });
  }
  {
    const f = w.addFunction('linesOut', [i32, i32, i32]).body;
    const [REC, OUT, N] = [0, 1, 2];
    const [Z2, X, Y, L] = [r.e[0], r.e[1], r.e[2], r.e[3]] as [number, number, number, number];
    f.begin(Op.loop);
    formula(f, [
      [code.mul, L, { l: REC }, { l: REC, plus: size }], // λ = num·den^-1
      [code.sqr, Z2, { l: REC, plus: 4 * size }], // Z^-2
      [code.mul, X, { l: REC, plus: 2 * size }, Z2], // x = X·Z^-2
      [code.mul, Y, { l: REC, plus: 3 * size }, Z2],
      [code.mul, Y, Y, { l: REC, plus: 4 * size }], // y = Y·Z^-3
      [code.mul, r.t1, L, X],
      [code.sub, { l: OUT, plus: size }, r.t1, Y], // d = λ·x - y
    ]);
    copy(f, { l: OUT }, L);
    f.get(REC).i32(5 * size).op(Op.i32Add).set(REC);
    f.get(OUT).i32(2 * size).op(Op.i32Add).set(OUT);
    f.get(N).i32(1).op(Op.i32Sub).tee(N).br(0, true);
    f.op(Op.end);
  }
}
