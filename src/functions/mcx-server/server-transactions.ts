/**
 * Non-INVITE server transactions, reduced to what an MCX server needs (RFC 3261 §17.2.2): a
 * retransmitted request (same top-Via branch, sent-by and method, §17.2.3) is not handled again;
 * once the response is known it is sent again, and while the first copy is still being handled the
 * retransmission is absorbed. Without this, a REGISTER retransmitted over UDP while its CSK upload
 * is being opened would come back as a replay. Entries live for Timer J (64·T1 = 32 s) after the
 * response (or after the request, when its handling never completed).
 */
import { cseqOf, paramValue, type SipRequest, type SipResponse } from '../../formats/sip/index.js';
import { topVia } from '../../transport/sip/index.js';

const TIMER_J_MS = 32_000;

type Entry = { readonly state: 'proceeding'; readonly until: number } | { readonly state: 'completed'; readonly response: SipResponse; readonly until: number };

/** Matches requests to transactions and remembers their final responses. */
export class ServerTransactions {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** The transaction key of a request (RFC 3261 §17.2.3), or undefined without an RFC 3261 branch. */
  static keyOf(req: SipRequest): string | undefined {
    const via = topVia(req);
    const branch = paramValue(via.params, 'branch');
    if (branch === undefined || !branch.startsWith('z9hG4bK')) return undefined;
    return `${branch}|${via.host.toLowerCase()}:${via.port ?? ''}|${cseqOf(req).method}`;
  }

  /**
   * For a new request: 'new' (handle it, then call `complete`); for a retransmission: the
   * response to send again, or 'absorb' while the first copy is still being handled.
   */
  begin(key: string): 'new' | 'absorb' | SipResponse {
    const now = this.#now();
    for (const [k, e] of this.#entries) if (e.until <= now) this.#entries.delete(k);
    const e = this.#entries.get(key);
    if (e === undefined) {
      // a transaction whose handling never completed is forgotten after Timer J as well
      this.#entries.set(key, { state: 'proceeding', until: now + TIMER_J_MS });
      return 'new';
    }
    return e.state === 'proceeding' ? 'absorb' : e.response;
  }

  /** Records the final response of a transaction. */
  complete(key: string, response: SipResponse): void {
    this.#entries.set(key, { state: 'completed', response, until: this.#now() + TIMER_J_MS });
  }

  /** Transactions held. */
  get size(): number {
    return this.#entries.size;
  }
}
