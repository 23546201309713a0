/**
 * The initiator of a CSK upload must be the user the SIP request is made under (TS 33.180 §5.4:
 * "the initiating entity URI shall be the MCX Service user ID of the user"; §E.4.1: IDRi holds
 * the MC service user ID of the initiating user). The signature already proved IDRi holds the
 * keys of that identity (§5.2.2); this check binds it to the SIP request, so that a user cannot
 * upload a CSK under somebody else's registration. IDRi may be the user's Authorised Identity
 * (§9.6.3.1, authorisation fields as URI headers), compared without its fields. With identities
 * hidden (§E.7), IDRi is a UID: it must be the UID of the request's user for the message's key
 * period under the initiator's KMS (§5.2.6).
 */
import { deriveUid } from '../../crypto/index.js';
import { ErrorCode, PolicyError } from '../../errors/index.js';
import type { OpenedIMessage } from '../../formats/mikey/index.js';
import { equalBytes } from '../../util/index.js';
import { sameIdentity } from './authorised-identity.js';
import type { McxServerKeys } from './server-keys.js';

/** Checks that the upload's initiator is `userUri`; PolicyError ERR_FORBIDDEN otherwise. */
export function checkCskInitiator(opened: OpenedIMessage, userUri: string, keys: McxServerKeys): void {
  let same: boolean;
  if (opened.initiatorUri !== undefined) {
    same = sameIdentity(opened.initiatorUri, userUri);
  } else {
    const kms = keys.trustedKms(opened.initiatorKmsUri);
    same =
      kms !== undefined &&
      equalBytes(
        opened.initiatorUid,
        deriveUid({ uri: userUri, kmsUri: opened.initiatorKmsUri, userKeyPeriod: kms.userKeyPeriod, userKeyOffset: kms.userKeyOffset, keyPeriodNo: opened.keyPeriodNo }),
      );
  }
  if (!same) {
    throw new PolicyError(ErrorCode.FORBIDDEN, {
      field: 'mikey.IDRi',
      rule: 'the initiator must be the MC service user ID the SIP request is made under',
      clause: 'TS 33.180 §5.4, §E.4.1',
    });
  }
}
