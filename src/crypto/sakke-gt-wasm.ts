/**
 * Fp2PowTable (sakke-gt.ts) held in the generated WebAssembly field of sakke-arena.ts: g^r for
 * an encapsulation (RFC 6508 §6.2.1 step 3) as one product by a normalised entry 1 + t·i per
 * non-zero window of r, two Montgomery products each, and one inversion for the PF_p form.
 *
 * Not constant-time (see fp-wasm.ts).
 */
import { invMod, mod } from './fp.js';
import { Fp2PowTable } from './sakke-gt.js';
import { sakkeArena, tableBlock } from './sakke-arena.js';
import { SakkeParamSet1 } from './sakke-params.js';

const { p } = SakkeParamSet1;

/** Powers of a fixed element of PF_p[q], with the table in the module's memory. */
export class WasmFp2PowTable {
  readonly #w: number;
  readonly #bits: number;
  readonly #perWindow: number;
  readonly #addr: number;
  readonly #v: number;

  /** `g` in PF_p form, exponents below 2^bits, w-bit windows (see Fp2PowTable). */
  constructor(g: bigint, bits: number, w: number) {
    const table = new Fp2PowTable(g, p, bits, w);
    const { windows, perWindow } = table.shape;
    this.#addr = tableBlock(this, windows * perWindow, (function* () {
      for (let i = 0; i < windows; i++) for (let d = 1; d <= perWindow; d++) yield table.entry(i, d);
    })());
    const F = sakkeArena().F;
    this.#v = F.alloc(2);
    this.#w = w;
    this.#bits = bits;
    this.#perWindow = perWindow;
  }

  /** g^k in PF_p form, for 0 < k < 2^bits with g^k not the identity class. */
  powPfp(k: bigint): bigint {
    if (k <= 0n || k >= 1n << BigInt(this.#bits)) throw new RangeError('exponent out of range');
    const arena = sakkeArena();
    const F = arena.F;
    const v = this.#v;
    F.write(v, 1n);
    F.write(v + F.size, 0n);
    const mask = BigInt((1 << this.#w) - 1);
    const w = BigInt(this.#w);
    let e = k;
    for (let i = 0; e > 0n; i++, e >>= w) {
      const d = Number(e & mask);
      if (d !== 0) arena.loops.mulNorm(v, this.#addr + (i * this.#perWindow + d - 1) * F.size);
    }
    const a = F.read(v);
    return mod(F.read(v + F.size) * invMod(a, p), p);
  }
}
