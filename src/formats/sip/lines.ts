/**
 * The line cursor under the SIP and MIME header decoders: CRLF-terminated lines (RFC 3261 §7, a
 * bare CR or LF is an error), each at most `maxLineOctets`, decoded as UTF-8 (TEXT-UTF8, RFC 3261
 * §25.1) with no control characters but HTAB. Running out before a CRLF is ERR_TRUNCATED.
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import { fromUtf8 } from '../../util/index.js';

const CR = 0x0d;
const LF = 0x0a;
const CLAUSE = 'RFC 3261 §7';

/** A cursor over CRLF-terminated lines, then raw octets. */
export class LineReader {
  readonly #buf: Uint8Array;
  readonly #where: string;
  readonly #maxLine: number;
  #at = 0;

  constructor(buf: Uint8Array, where: string, maxLineOctets: number) {
    this.#buf = buf;
    this.#where = where;
    this.#maxLine = maxLineOctets;
  }

  /** Octets read so far. */
  get offset(): number {
    return this.#at;
  }
  /** Octets left. */
  get remaining(): number {
    return this.#buf.length - this.#at;
  }
  /** The next octet, without consuming it. */
  peek(): number | undefined {
    return this.#buf[this.#at];
  }

  /** The next line without its CRLF; `field` names it in errors. */
  line(field: string): string {
    const buf = this.#buf;
    const start = this.#at;
    const end = Math.min(buf.length, start + this.#maxLine + 2);
    let i = start;
    for (; i < end; i++) {
      const b = buf[i] as number;
      if (b === CR) {
        if (i + 1 >= buf.length) break;
        if (buf[i + 1] !== LF) throw this.#bad(field, 'must not contain a bare CR');
        if (i - start > this.#maxLine) break;
        this.#at = i + 2;
        return fromUtf8(buf.subarray(start, i), `${this.#where}.${field}`);
      }
      if (b === LF) throw this.#bad(field, 'must end in CRLF, not a bare LF');
      if ((b < 0x20 && b !== 0x09) || b === 0x7f) throw this.#bad(field, 'must not contain control characters');
    }
    if (i - start > this.#maxLine) {
      throw new FormatError(ErrorCode.TOO_LARGE, {
        field: `${this.#where}.${field}`,
        rule: `lines must be at most ${this.#maxLine} octets`,
        clause: CLAUSE,
      });
    }
    throw new FormatError(ErrorCode.TRUNCATED, {
      field: `${this.#where}.${field}`,
      rule: 'ends before the CRLF that ends the line',
      clause: CLAUSE,
    });
  }

  /** Everything left, copied. */
  rest(): Uint8Array {
    const out = this.#buf.slice(this.#at);
    this.#at = this.#buf.length;
    return out;
  }

  #bad(field: string, rule: string): FormatError {
    return new FormatError(ErrorCode.BAD_VALUE, { field: `${this.#where}.${field}`, rule, clause: CLAUSE });
  }
}

/** The first index of `pattern` in `buf` at or after `from`, or -1. */
export function indexOfBytes(buf: Uint8Array, pattern: Uint8Array, from = 0): number {
  const first = pattern[0];
  if (first === undefined) return from <= buf.length ? from : -1;
  const last = buf.length - pattern.length;
  let i = buf.indexOf(first, from);
  while (i !== -1 && i <= last) {
    let j = 1;
    while (j < pattern.length && buf[i + j] === pattern[j]) j++;
    if (j === pattern.length) return i;
    i = buf.indexOf(first, i + 1);
  }
  return -1;
}
