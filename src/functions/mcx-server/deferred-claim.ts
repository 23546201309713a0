/**
 * A replay claim held back until every check passed (STYLE.md §6: change state last). openIMessage
 * claims its message in the replay cache as its last step (RFC 3830 §5.4); the MCX server checks
 * more after that (identity, purpose, expiry), and a message refused by those checks must leave no
 * trace. `DeferredClaim` is the ReplayCache handed to openIMessage: it records what would be
 * claimed; `commit` then claims it, atomically, in the real (memory or Redis) cache.
 */
import { ErrorCode, McsecError, PolicyError } from '../../errors/index.js';
import type { ReplayCache } from '../../formats/mikey/index.js';

/** Records one claim; `commit` makes it in `target`, or throws ERR_REPLAY. */
export class DeferredClaim implements ReplayCache {
  #held: { readonly key: string; readonly now: number; readonly expires: number } | undefined;

  claim(key: string, nowMs: number, expiresAtMs: number): boolean {
    this.#held = { key, now: nowMs, expires: expiresAtMs };
    return true;
  }

  /** Claims the recorded key in `target`; a key already there is PolicyError ERR_REPLAY. */
  async commit(target: ReplayCache, field = 'mikey'): Promise<void> {
    const h = this.#held;
    if (h === undefined) throw new McsecError(ErrorCode.INTERNAL, { field, rule: 'no replay claim was recorded' });
    if (!(await target.claim(h.key, h.now, h.expires))) {
      throw new PolicyError(ErrorCode.REPLAY, { field, rule: 'this message was received before', clause: 'RFC 3830 §5.4' });
    }
  }
}
