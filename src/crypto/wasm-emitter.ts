/**
 * A minimal WebAssembly binary writer (WebAssembly Core Specification 2.0, §5 "Binary Format"):
 * one module with its own exported memory and functions of i32/i64 parameters, whose bodies are
 * straight-line or structured code written with the opcodes below.
 *
 * Hand-written because the field arithmetic of fp-wasm.ts is generated for its modulus at run
 * time (fully unrolled, the modulus limbs as immediates), which needs a code emitter, not an
 * assembler for text: a WAT toolchain (wabt, ~1.5 MB) would parse text we would only print to
 * feed it. This writer covers exactly the sections and opcodes that generator uses.
 */

/** Value types (§5.3.1). */
export const ValType = { i32: 0x7f, i64: 0x7e, v128: 0x7b } as const;
export type ValType = (typeof ValType)[keyof typeof ValType];

/** The opcodes used by the generators (§5.4). */
export const Op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  call: 0x10,
  select: 0x1b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  i64Load: 0x29,
  i64Store: 0x37,
  i32Load8U: 0x2d,
  i64Load32S: 0x34,
  i64Load32U: 0x35,
  i64Store32: 0x3e,
  i32Const: 0x41,
  i64Const: 0x42,
  i32Eqz: 0x45,
  i32LtS: 0x48,
  i32GtU: 0x4b,
  i64Eqz: 0x50,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i64Add: 0x7c,
  i64Sub: 0x7d,
  i64Mul: 0x7e,
  i64And: 0x83,
  i64Shl: 0x86,
  i64ShrS: 0x87,
  i64ShrU: 0x88,
  i32WrapI64: 0xa7,
} as const;

/** Vector opcodes, after the 0xfd prefix (§5.4.8). */
export const SimdOp = {
  v128Load: 0x00,
  v128Store: 0x0b,
  i32x4Splat: 0x11,
  i64x2Splat: 0x12,
  i64x2ExtractLane: 0x1d,
  i64x2Add: 0xce,
  i64x2ExtmulLowI32x4U: 0xde,
  i64x2ExtmulHighI32x4U: 0xdf,
} as const;

/** An empty block type (§5.4.1). */
const BLOCK_EMPTY = 0x40;

function unsignedLeb(n: number, out: number[]): void {
  let v = n >>> 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>>= 7;
    if (v === 0) {
      out.push(byte);
      return;
    }
    out.push(byte | 0x80);
  }
}

function signedLeb(n: bigint, out: number[]): void {
  let v = n;
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    const signBit = (byte & 0x40) !== 0;
    if ((v === 0n && !signBit) || (v === -1n && signBit)) {
      out.push(byte);
      return;
    }
    out.push(byte | 0x80);
  }
}

/** The body of one function: its extra locals and its code, written op by op. */
export class FunctionBody {
  readonly #code: number[] = [];
  readonly #locals: ValType[] = [];
  readonly #params: number;

  constructor(params: number) {
    this.#params = params;
  }

  /** Declares a local of type `t`; returns its index. */
  local(t: ValType): number {
    this.#locals.push(t);
    return this.#params + this.#locals.length - 1;
  }

  /** Appends an opcode without immediates. */
  op(code: number): this {
    this.#code.push(code);
    return this;
  }

  get(i: number): this {
    this.#code.push(Op.localGet);
    unsignedLeb(i, this.#code);
    return this;
  }

  set(i: number): this {
    this.#code.push(Op.localSet);
    unsignedLeb(i, this.#code);
    return this;
  }

  tee(i: number): this {
    this.#code.push(Op.localTee);
    unsignedLeb(i, this.#code);
    return this;
  }

  i32(v: number): this {
    this.#code.push(Op.i32Const);
    signedLeb(BigInt(v | 0), this.#code);
    return this;
  }

  i64(v: bigint | number): this {
    this.#code.push(Op.i64Const);
    signedLeb(BigInt.asIntN(64, BigInt(v)), this.#code);
    return this;
  }

  /** i64.load32_u (or _s) with a constant byte offset (alignment 4). */
  load32(offset: number, signed = false): this {
    this.#code.push(signed ? Op.i64Load32S : Op.i64Load32U, 2);
    unsignedLeb(offset, this.#code);
    return this;
  }

  /** i32.load8_u with a constant byte offset. */
  load8(offset: number): this {
    this.#code.push(Op.i32Load8U, 0);
    unsignedLeb(offset, this.#code);
    return this;
  }

  /** i64.store32 at a constant byte offset. */
  store32(offset: number): this {
    this.#code.push(Op.i64Store32, 2);
    unsignedLeb(offset, this.#code);
    return this;
  }

  /** A vector instruction without immediates. */
  simd(op: number): this {
    this.#code.push(0xfd);
    unsignedLeb(op, this.#code);
    return this;
  }

  /** v128.load / v128.store at a constant byte offset (alignment 1: addresses need not be aligned). */
  simdMem(op: typeof SimdOp.v128Load | typeof SimdOp.v128Store, offset: number): this {
    this.#code.push(0xfd);
    unsignedLeb(op, this.#code);
    this.#code.push(0);
    unsignedLeb(offset, this.#code);
    return this;
  }

  /** i64x2.extract_lane. */
  lane64(index: 0 | 1): this {
    this.#code.push(0xfd);
    unsignedLeb(SimdOp.i64x2ExtractLane, this.#code);
    this.#code.push(index);
    return this;
  }

  /** Starts a block, loop or if with no result. */
  begin(kind: typeof Op.block | typeof Op.loop | typeof Op.if): this {
    this.#code.push(kind, BLOCK_EMPTY);
    return this;
  }

  br(depth: number, conditional = false): this {
    this.#code.push(conditional ? Op.brIf : Op.br);
    unsignedLeb(depth, this.#code);
    return this;
  }

  call(index: number): this {
    this.#code.push(Op.call);
    unsignedLeb(index, this.#code);
    return this;
  }

  /** The encoded body (§5.5.13: locals, then the expression closed by `end`). */
  encode(): number[] {
    const body: number[] = [];
    // Run-length groups of equal local types.
    const groups: [number, ValType][] = [];
    for (const t of this.#locals) {
      const last = groups[groups.length - 1];
      if (last !== undefined && last[1] === t) last[0] += 1;
      else groups.push([1, t]);
    }
    unsignedLeb(groups.length, body);
    for (const [n, t] of groups) {
      unsignedLeb(n, body);
      body.push(t);
    }
    for (const b of this.#code) body.push(b);
    body.push(Op.end);
    const out: number[] = [];
    unsignedLeb(body.length, out);
    for (const b of body) out.push(b);
    return out;
  }
}

interface FunctionDef {
  readonly name: string | undefined;
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
  readonly body: FunctionBody;
}

function section(id: number, payload: number[], out: number[]): void {
  out.push(id);
  unsignedLeb(payload.length, out);
  for (const b of payload) out.push(b);
}

function name(s: string, out: number[]): void {
  const bytes = new TextEncoder().encode(s);
  unsignedLeb(bytes.length, out);
  for (const b of bytes) out.push(b);
}

/** A module under construction: functions (exported when named) and one exported memory. */
export class ModuleWriter {
  readonly #functions: FunctionDef[] = [];
  readonly #memoryPages: number;

  /** @param memoryPages initial size of the exported memory `memory`, in 64 KiB pages */
  constructor(memoryPages: number) {
    this.#memoryPages = memoryPages;
  }

  /** Adds a function; returns its index and its body to fill in. */
  addFunction(
    exportName: string | undefined,
    params: readonly ValType[],
    results: readonly ValType[] = [],
  ): { index: number; body: FunctionBody } {
    const body = new FunctionBody(params.length);
    this.#functions.push({ name: exportName, params, results, body });
    return { index: this.#functions.length - 1, body };
  }

  /** The module's bytes. */
  encode(): Uint8Array {
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    // Type section (1): one function type per function (duplicates are allowed).
    const types: number[] = [];
    unsignedLeb(this.#functions.length, types);
    for (const f of this.#functions) {
      types.push(0x60);
      unsignedLeb(f.params.length, types);
      types.push(...f.params);
      unsignedLeb(f.results.length, types);
      types.push(...f.results);
    }
    section(1, types, out);
    // Function section (3).
    const funcs: number[] = [];
    unsignedLeb(this.#functions.length, funcs);
    this.#functions.forEach((_, i) => unsignedLeb(i, funcs));
    section(3, funcs, out);
    // Memory section (5): one memory, no maximum.
    const mem: number[] = [1, 0x00];
    unsignedLeb(this.#memoryPages, mem);
    section(5, mem, out);
    // Export section (7).
    const exps: number[] = [];
    const named = this.#functions.map((f, i) => [f.name, i] as const).filter(([n]) => n !== undefined);
    unsignedLeb(named.length + 1, exps);
    name('memory', exps);
    exps.push(0x02, 0x00);
    for (const [n, i] of named) {
      name(n as string, exps);
      exps.push(0x00);
      unsignedLeb(i, exps);
    }
    section(7, exps, out);
    // Code section (10).
    const code: number[] = [];
    unsignedLeb(this.#functions.length, code);
    for (const f of this.#functions) for (const b of f.body.encode()) code.push(b);
    section(10, code, out);
    return Uint8Array.from(out);
  }
}
