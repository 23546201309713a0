/**
 * Which GMKs of a group count, and the times of a new one (TS 33.180 §5.7, §E.6):
 *
 * - a GMK is *active* at t when it is not revoked (§E.6.9), its activation time is at or before t
 *   (§E.6.4) and its expiry time, if any, after t (§E.6.10);
 * - several may be active at once; the one with the most recent activation time is the one to
 *   encrypt with (§5.7: "the MC client shall use the active GMK with the most recent Activation
 *   Time"); between equal activation times the later generation wins (a tie the spec leaves open);
 * - a *current* GMK is one a member must hold: not revoked and not expired (active now, or
 *   activating later, as a GMK made ahead of its predecessor's expiry is).
 */
import type { GmsGmk } from '../../store/index.js';

/** Whether the GMK is active at `atMs` (§5.7, §E.6.4, §E.6.9, §E.6.10). */
export const isActiveGmk = (g: GmsGmk, atMs: number): boolean =>
  !g.revoked && g.activationAt <= atMs && (g.expiryAt === undefined || g.expiryAt > atMs);

/** The GMK to encrypt group media with at `atMs`: the active one activated last (§5.7). */
export function selectGmk(gmks: readonly GmsGmk[], atMs: number): GmsGmk | undefined {
  let best: GmsGmk | undefined;
  for (const g of gmks) {
    if (!isActiveGmk(g, atMs)) continue;
    if (best === undefined || g.activationAt > best.activationAt || (g.activationAt === best.activationAt && g.generation > best.generation)) best = g;
  }
  return best;
}

/** The GMKs a member of the group must hold at `atMs`: not revoked, not expired. */
export const currentGmks = (gmks: readonly GmsGmk[], atMs: number): readonly GmsGmk[] =>
  gmks.filter((g) => !g.revoked && (g.expiryAt === undefined || g.expiryAt > atMs));

/** Whole seconds (§E.6.4 / §E.6.10 carry 5 octets of seconds). */
export const wholeSeconds = (ms: number): number => Math.floor(ms / 1000) * 1000;

/**
 * Activation and expiry of a new GMK: it activates at `activationMs` (now for a rekey after a
 * membership change, so that a removed member's GMK stops being the one in use at once; the
 * predecessor's expiry for a rekey ahead of expiry), in whole seconds, and expires `lifetimeS`
 * later (0: never).
 */
export function nextGmkTimes(activationMs: number, lifetimeS: number): { readonly activationAt: number; readonly expiryAt: number | undefined } {
  const activationAt = wholeSeconds(activationMs);
  return { activationAt, expiryAt: lifetimeS === 0 ? undefined : activationAt + lifetimeS * 1000 };
}
