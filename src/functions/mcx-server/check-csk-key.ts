/**
 * The key an I_MESSAGE carries must be one the CSK upload may carry (TS 33.180 §9.2.1.3, §E.4):
 * - its CSB-ID's purpose tag must be 2, a CSK (Annex G; §9.2.1.3: "the distributed identifier
 *   K-ID shall be the CSK-ID"); any other key is not acceptable here (PolicyError ERR_UNSUPPORTED);
 * - crypto sessions, when present, must be CS-ID 6 or 8, CSK for MCPTT / MCVideo (§E.4.3);
 * - §E.6 key parameters: a revoked key "shall not be used" (§5.2.4), an expiry time already past
 *   is ERR_EXPIRED; the activation and expiry times are returned for storing.
 */
import { ErrorCode, FormatError, PolicyError } from '../../errors/index.js';
import type { GenericIdCs, OpenedIMessage } from '../../formats/mikey/index.js';

/** The CSK validity an upload asks for, from its key parameters. */
export interface CskValidity {
  readonly activatesAt: number | undefined;
  readonly expiresAt: number | undefined;
}

/** CS-IDs of CSK crypto sessions (Table E.1.3-1). */
const CSK_CS_IDS: ReadonlySet<number> = new Set([6, 8]);

/** Checks the key of a CSK upload; returns its validity. */
export function checkCskKey(opened: OpenedIMessage, cryptoSessions: readonly GenericIdCs[], now: Date): CskValidity {
  if (opened.keyType !== 'CSK') {
    throw new PolicyError(ErrorCode.UNSUPPORTED, {
      field: 'mikey.hdr.csbId.purposeTag',
      rule: `must be 2 (CSK) in a CSK upload, not a ${opened.keyType}`,
      clause: 'TS 33.180 §9.2.1.3, Annex G',
    });
  }
  cryptoSessions.forEach((cs, i) => {
    if (!CSK_CS_IDS.has(cs.csId)) {
      throw new FormatError(ErrorCode.BAD_VALUE, { field: `mikey.hdr.csIds[${i}].csId`, rule: 'must be 6 or 8 (CSK for MCPTT / MCVideo)', clause: 'TS 33.180 §E.4.3' });
    }
  });
  const kp = opened.keyParameters;
  if (kp === undefined || kp.format === 'legacy') return { activatesAt: undefined, expiresAt: undefined };
  if (kp.status.revoked) {
    throw new PolicyError(ErrorCode.FORBIDDEN, { field: 'mikey.keyParameters.status', rule: 'a revoked key must not be used', clause: 'TS 33.180 §5.2.4, §E.6.9' });
  }
  const expiresAt = kp.expiryTime?.getTime();
  if (expiresAt !== undefined && expiresAt <= now.getTime()) {
    throw new PolicyError(ErrorCode.EXPIRED, { field: 'mikey.keyParameters.expiryTime', rule: 'must be in the future', clause: 'TS 33.180 §E.6.10' });
  }
  return { activatesAt: kp.activationTime?.getTime(), expiresAt };
}
