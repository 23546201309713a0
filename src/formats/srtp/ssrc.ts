/**
 * SSRCs for SRTP senders, TS 33.180 §7.5.1: unless the MIKEY message provides one (the GMS never
 * does), the SSRC is random for each session, and SSRCs must not be generated in a way that could
 * make them collide (as two generators from the same seed would). An SSRC repeated under one
 * master key repeats AEAD IVs (RFC 7714 §8.1: the IV is the salt XOR SSRC, ROC, SEQ), so the draw
 * also avoids every SSRC already used with that key.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, McsecError } from '../../errors/index.js';

/** Draws at most this many times before calling the random source broken. */
const MAX_DRAWS = 64;

/**
 * A uniformly random 32-bit SSRC from `rng` (default: the OS CSPRNG through node:crypto), not in
 * `inUse`.
 */
export function generateSsrc(inUse: ReadonlySet<number> = new Set(), rng: (n: number) => Uint8Array = randomBytes): number {
  for (let i = 0; i < MAX_DRAWS; i++) {
    const r = rng(4);
    if (r.length !== 4) break;
    const ssrc = new DataView(r.buffer, r.byteOffset, 4).getUint32(0);
    if (!inUse.has(ssrc)) return ssrc;
  }
  throw new McsecError(ErrorCode.INTERNAL, {
    field: 'srtp.ssrc',
    rule: `no unused SSRC in ${MAX_DRAWS} draws: the random source is broken`,
    clause: 'TS 33.180 §7.5.1',
  });
}
