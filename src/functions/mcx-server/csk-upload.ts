/**
 * The 'CSK upload' at the MCX server (TS 33.180 §9.2.1.3, §5.4, §E.4): the client's CSK arrives
 * as a MIKEY-SAKKE I_MESSAGE in an application/mikey part of its REGISTER or PUBLISH. Opening it:
 *
 *   1. the I_MESSAGE rules of Annex E, time window, initiator KMS trusted, ECCSI signature of the
 *      initiator, responder = this server's MDSI (IDRr, IDRkmsr), SAKKE decapsulation with the
 *      MDSI's RSK of the message's key period (openIMessage, formats/mikey);
 *   2. the key is a CSK, crypto sessions and key parameters fit (check-csk-key.ts);
 *   3. the initiator is the user the SIP request is made under (check-csk-initiator.ts);
 *   4. last, the message is claimed in the replay cache (RFC 3830 §5.4): `commit()`, which the
 *      caller calls once its own checks passed too (the XML parts the new CSK opens, §9.2.1.3
 *      step 2), so that a refused message leaves nothing behind (deferred-claim.ts).
 *
 * The result is the CSK to store; storing it is the caller's (service.ts), after `commit()`.
 * Nothing here reads a clock or draws randomness: `now` and the caches are inputs, so the IS proxy
 * and the SeGy can run the same steps for the clients they serve.
 */
import { decodeMikey, openIMessage, type ReplayCache } from '../../formats/mikey/index.js';
import { checkCskInitiator } from './check-csk-initiator.js';
import { checkCskKey } from './check-csk-key.js';
import { DeferredClaim } from './deferred-claim.js';
import type { McxServerKeys } from './server-keys.js';

/** What opening a CSK upload needs. */
export interface CskUploadContext {
  readonly keys: McxServerKeys;
  readonly replayCache: ReplayCache;
  readonly now: Date;
  /** Accepted clock difference, ms (RFC 3830 §5.4). */
  readonly windowMs: number;
  /** The MC service user ID the SIP request is made under (authorised-identity.ts). */
  readonly userUri: string;
}

/** An accepted CSK upload. */
export interface CskUpload {
  readonly cskId: number;
  readonly csk: Uint8Array;
  readonly userUri: string;
  /** IDRi as sent (an Authorised Identity keeps its fields), or undefined when hidden (§E.7). */
  readonly initiatorUri: string | undefined;
  /** IDRkmsi: the KMS of the user's keys, for key downloads to this user later. */
  readonly initiatorKmsUri: string;
  readonly keyPeriodNo: number;
  readonly activatesAt: number | undefined;
  readonly expiresAt: number | undefined;
  /** The I_MESSAGE's RAND: the KFC-RAND of SRTCP under this CSK (§9.4.2, §9.4.6). */
  readonly rand: Uint8Array;
}

/** An upload opened and checked, not yet claimed in the replay cache. */
export interface OpenedCskUpload extends CskUpload {
  /** Claims the message in the replay cache (step 4): ERR_REPLAY when it was seen before. */
  commit(): Promise<void>;
}

/** Opens and checks a CSK upload I_MESSAGE (steps 1-3 of the module comment; 4 is `commit`). */
export async function openCskUpload(iMessage: Uint8Array, ctx: CskUploadContext): Promise<OpenedCskUpload> {
  const { keys } = ctx;
  await keys.prepare(ctx.now);
  const claim = new DeferredClaim();
  const opened = await openIMessage(iMessage, {
    uri: keys.mdsi,
    kmsUri: keys.kmsUri,
    userKeyPeriod: keys.userKeyPeriod,
    userKeyOffset: keys.userKeyOffset,
    recipientFor: (n) => keys.recipientFor(n),
    trustedKms: (uri) => keys.trustedKms(uri),
    replayCache: claim,
    now: () => ctx.now,
    windowMs: ctx.windowMs,
  });
  const validity = checkCskKey(opened, decodeMikey(iMessage).hdr.genericIds, ctx.now);
  checkCskInitiator(opened, ctx.userUri, keys);
  return Object.freeze({
    commit: () => claim.commit(ctx.replayCache),
    cskId: opened.keyId,
    csk: opened.key,
    userUri: ctx.userUri,
    initiatorUri: opened.initiatorUri,
    initiatorKmsUri: opened.initiatorKmsUri,
    keyPeriodNo: opened.keyPeriodNo,
    rand: opened.rand,
    ...validity,
  });
}
