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
  // One growing buffer: a typed array per field cost more than the encoding itself (mikey.create).
  #buf = new Uint8Array(256);
  #length = 0;
  get length(): number {
    return this.#length;
  }
  #room(n: number): number {
    const at = this.#length;
    if (at + n > this.#buf.length) {
      let size = this.#buf.length * 2;
      while (size < at + n) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.#buf.subarray(0, at));
      this.#buf = grown;
    }
    this.#length = at + n;
    return at;
  }
  u8(v: number): this {
    const at = this.#room(1);
    this.#buf[at] = v & 0xff;
    return this;
  }
  u16(v: number): this {
    const at = this.#room(2);
    this.#buf[at] = (v >>> 8) & 0xff;
    this.#buf[at + 1] = v & 0xff;
    return this;
  }
  u32(v: number): this {
    const at = this.#room(4);
    const b = this.#buf;
    b[at] = (v >>> 24) & 0xff;
    b[at + 1] = (v >>> 16) & 0xff;
    b[at + 2] = (v >>> 8) & 0xff;
    b[at + 3] = v & 0xff;
    return this;
  }
  u64(v: bigint): this {
    const x = BigInt.asUintN(64, v);
    this.u32(Number(x >> 32n));
    return this.u32(Number(x & 0xffffffffn));
  }
  bytes(b: Uint8Array): this {
    const at = this.#room(b.length); // first: it may replace the buffer
    this.#buf.set(b, at);
    return this;
  }
  /** The octets written (a copy, so the writer may be dropped or reused). */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#length);
  }
}
