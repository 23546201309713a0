/**
 * SIP message framing on stream transports (TCP, TLS; RFC 3261 §18.3): the head ends at the first
 * empty line, Content-Length (required on streams, §20.14) says how many body octets follow.
 * Chunks may split a message anywhere or carry several; CRLFs before a start line are skipped
 * (§7.5), and a double CRLF there is a keep-alive ping that wants a CRLF pong (RFC 5626 §3.5.1,
 * §4.4.1). Each octet is scanned once, so a sender writing one octet at a time costs linear time.
 * A framing or decoding error ends the frames of that chunk as an `error` frame, after the
 * messages completed before it: the stream cannot be resynchronised, so the caller drops the
 * connection, and every later push yields an error frame again.
 */
import { ErrorCode, FormatError, McsecError } from '../../errors/index.js';
import { decodeSipHead, decodeSipMessage, sipLimits, type SipLimits, type SipMessage } from '../../formats/sip/index.js';

/** What a chunk produced: a whole message, a keep-alive ping to answer with CRLF, or the error. */
export type SipFrame =
  | { readonly type: 'message'; readonly message: SipMessage; readonly octets: number }
  | { readonly type: 'ping' }
  | { readonly type: 'error'; readonly error: McsecError };

const CR = 0x0d;
const LF = 0x0a;

/** Incremental framer for one connection. */
export class SipStreamFramer {
  readonly #limits: SipLimits;
  #buf = new Uint8Array(4096);
  #start = 0;
  #end = 0;
  /** Where the search for the empty line resumes (relative to #start). */
  #scan = 0;
  /** Total octets of the message being collected, once its head is known. */
  #total = -1;
  #broken = false;

  constructor(limits: Partial<SipLimits> = {}) {
    this.#limits = sipLimits(limits);
  }

  /** Octets held for an incomplete message. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Feeds a chunk; returns the frames it completed, the last one an `error` frame on failure. */
  push(chunk: Uint8Array): SipFrame[] {
    if (this.#broken) {
      const error = new FormatError(ErrorCode.BAD_VALUE, {
        field: 'sip.stream',
        rule: 'cannot continue after a framing error',
        clause: 'RFC 3261 §18.3',
      });
      return [Object.freeze({ type: 'error', error })];
    }
    const out: SipFrame[] = [];
    try {
      this.#append(chunk);
      this.#drain(out);
    } catch (err) {
      this.#broken = true;
      this.#buf = new Uint8Array(0);
      this.#start = this.#end = 0;
      const error =
        err instanceof McsecError
          ? err
          : new McsecError(ErrorCode.INTERNAL, { field: 'sip.stream', rule: 'framing failed unexpectedly' });
      out.push(Object.freeze({ type: 'error', error }));
    }
    return out;
  }

  #append(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buf.length) {
      const len = this.#end - this.#start;
      const need = len + chunk.length;
      if (need <= this.#buf.length) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        const next = new Uint8Array(Math.max(need, this.#buf.length * 2));
        next.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = next;
      }
      this.#start = 0;
      this.#end = len;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  #drain(out: SipFrame[]): void {
    for (;;) {
      if (this.#total < 0) {
        const ping = this.#skipKeepAlives();
        if (ping === 'wait') break;
        if (ping === 'ping') {
          out.push(Object.freeze({ type: 'ping' }));
          continue;
        }
        if (!this.#findHead()) break;
      }
      if (this.#end - this.#start < this.#total) break;
      const bytes = this.#buf.subarray(this.#start, this.#start + this.#total);
      const message = decodeSipMessage(bytes, { limits: this.#limits });
      out.push(Object.freeze({ type: 'message', message, octets: this.#total }));
      this.#start += this.#total;
      this.#total = -1;
      this.#scan = 0;
    }
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }

  /** Skips CRLFs before a start line; 'ping' for a CRLFCRLF, 'wait' when more octets are needed. */
  #skipKeepAlives(): 'ping' | 'wait' | 'none' {
    const b = this.#buf;
    let crlfs = 0;
    let i = this.#start;
    while (i < this.#end && b[i] === CR) {
      if (i + 1 >= this.#end) return 'wait';
      if (b[i + 1] !== LF) {
        throw new FormatError(ErrorCode.BAD_VALUE, { field: 'sip.stream', rule: 'a CR before a start line must be followed by LF', clause: 'RFC 3261 §7.5' });
      }
      i += 2;
      crlfs++;
      if (crlfs === 2) {
        this.#start = i;
        return 'ping';
      }
    }
    // A lone CRLF (a pong, or padding) is skipped once the next octet shows it is not a ping.
    if (crlfs === 1 && i >= this.#end) return 'wait';
    this.#start = i;
    return i >= this.#end ? 'wait' : 'none';
  }

  /** Looks for the empty line; when found, decodes the head and sets the message length. */
  #findHead(): boolean {
    const b = this.#buf;
    const from = this.#start + Math.max(0, this.#scan - 3);
    let at = -1;
    for (let i = from; i + 3 < this.#end; i++) {
      if (b[i + 3] !== LF) continue;
      if (b[i] === CR && b[i + 1] === LF && b[i + 2] === CR) {
        at = i;
        break;
      }
    }
    const limit = this.#limits.maxHeadOctets;
    if (at < 0) {
      this.#scan = this.#end - this.#start;
      if (this.#scan > limit) {
        throw new FormatError(ErrorCode.TOO_LARGE, {
          field: 'sip.head',
          rule: `start line and headers must be at most ${limit} octets`,
          clause: 'RFC 3261 §18.3',
        });
      }
      return false;
    }
    const headEnd = at + 4 - this.#start;
    const head = decodeSipHead(b.subarray(this.#start, this.#start + headEnd), { limits: this.#limits });
    this.#total = headEnd + (head.contentLength ?? 0);
    return true;
  }
}
