/**
 * The bounds-checked cursor every binary decoder reads through (STYLE.md §6): each read names its
 * field, running out is ERR_TRUNCATED, leftovers at the end are ERR_TRAILING_BYTES. Values read
 * are copies (`slice`), so decoded structures never alias the input.
 */
import { ErrorCode, FormatError } from '../../errors/index.js';

/** A cursor over bytes; `where` prefixes every field path (e.g. "mikey.hdr"). */
export class Reader {
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  readonly #where: string;
  readonly #clause: string | undefined;
  #at = 0;

  constructor(buf: Uint8Array, where: string, clause?: string) {
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#where = where;
    this.#clause = clause;
  }

  /** Octets read so far. */
  get offset(): number {
    return this.#at;
  }
  /** Octets left. */
  get remaining(): number {
    return this.#buf.length - this.#at;
  }

  u8(field: string): number {
    return this.#view.getUint8(this.#take(1, field));
  }
  u16(field: string): number {
    return this.#view.getUint16(this.#take(2, field));
  }
  u32(field: string): number {
    return this.#view.getUint32(this.#take(4, field));
  }
  u64(field: string): bigint {
    return this.#view.getBigUint64(this.#take(8, field));
  }
  bytes(n: number, field: string): Uint8Array {
    const at = this.#take(n, field);
    return this.#buf.slice(at, at + n);
  }
  /** A sub-reader over the next n octets (for length-delimited structures). */
  sub(n: number, field: string): Reader {
    const at = this.#take(n, field);
    return new Reader(this.#buf.subarray(at, at + n), `${this.#where}.${field}`, this.#clause);
  }

  /** Throws ERR_TRAILING_BYTES unless everything was read. */
  done(): void {
    if (this.#at !== this.#buf.length) {
      throw new FormatError(ErrorCode.TRAILING_BYTES, {
        field: this.#where,
        rule: `has ${this.#buf.length - this.#at} octets left over after the last field`,
        ...(this.#clause !== undefined ? { clause: this.#clause } : {}),
      });
    }
  }

  #take(n: number, field: string): number {
    if (!Number.isInteger(n) || n < 0 || n > this.#buf.length - this.#at) {
      throw new FormatError(ErrorCode.TRUNCATED, {
        field: `${this.#where}.${field}`,
        rule: `needs ${n} octets, ${this.#buf.length - this.#at} left`,
        ...(this.#clause !== undefined ? { clause: this.#clause } : {}),
      });
    }
    const at = this.#at;
    this.#at += n;
    return at;
  }
}

/** An append-only byte builder for encoders. */
export class Writer {
  #chunks: Uint8Array[] = [];
  #length = 0;
  get length(): number {
    return this.#length;
  }
  u8(v: number): this {
    return this.bytes(Uint8Array.of(v & 0xff));
  }
  u16(v: number): this {
    return this.bytes(Uint8Array.of((v >>> 8) & 0xff, v & 0xff));
  }
  u32(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0);
    return this.bytes(b);
  }
  u64(v: bigint): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v));
    return this.bytes(b);
  }
  bytes(b: Uint8Array): this {
    this.#chunks.push(b);
    this.#length += b.length;
    return this;
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let at = 0;
    for (const c of this.#chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
