/**
 * SRTP packet index estimation, RFC 3711 §3.3.1 and Appendix A: the receiver keeps the highest
 * sequence number s_l it authenticated and its rollover counter ROC, and takes for a packet with
 * sequence number SEQ the index v * 2^16 + SEQ closest to ROC * 2^16 + s_l:
 *
 *     if s_l < 2^15:  v = ROC - 1 if SEQ - s_l > 2^15, else ROC
 *     else:           v = ROC + 1 if s_l - 2^15 > SEQ, else ROC
 *
 * v = -1 (a packet from before the stream's first index) and v = 2^32 (past the last index the
 * key may protect, RFC 3711 §9.2) fall outside the 48-bit index; callers refuse them.
 */

/** The guessed ROC v for SEQ, from the current ROC and s_l (RFC 3711 Appendix A). */
export function guessRoc(roc: number, highestSeq: number, seq: number): number {
  if (highestSeq < 0x8000) return seq - highestSeq > 0x8000 ? roc - 1 : roc;
  return highestSeq - 0x8000 > seq ? roc + 1 : roc;
}

/** The 48-bit SRTP index ROC * 2^16 + SEQ (RFC 3711 §3.3.1). */
export const srtpIndex = (roc: number, seq: number): number => roc * 0x1_0000 + seq;

/** The largest SRTP index (2^48 - 1): the key's packet budget (RFC 3711 §9.2). */
export const MAX_SRTP_INDEX = 2 ** 48 - 1;
