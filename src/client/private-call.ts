/**
 * A private call's key and media security on an MC client (TS 33.180 §7.2, §7.4.1, §7.5):
 *
 * 1. The initiator makes a PCK (128 random bits) and a PCK-ID (purpose tag 1, Annex G) and sends
 *    them to the callee in a MIKEY-SAKKE I_MESSAGE (Annex E.3): signed with the initiator's
 *    SSK/PVT of the current key period (ECCSI), the PCK encapsulated to the callee's UID (SAKKE)
 *    — `createPrivateCallOffer`.
 * 2. The callee opens it with its RSK (`openPrivateCallOffer`): signature, decapsulation, the
 *    purpose tag of a PCK, the initiator the signalling names, the replay cache (RFC 3830 §5.4).
 * 3. Both hold the PCK with their role; `PrivateCallSession` derives the two streams' master keys
 *    (§7.4.1: TGK = PCK, CSB-ID = PCK-ID, the I_MESSAGE's RAND; CS-ID 0 for the initiator's
 *    stream and 1 for the receiver's in MCPTT, 2 / 3 in MCVideo) and sends with the 32-bit MKI
 *    PCK-ID. Received packets are opened with the other party's CS-ID.
 *
 * RCC is off by default (both parties see the call from its first packet; Table E.2.2-1's RCCm3
 * is the group call profile).
 */
import { randomBytes } from 'node:crypto';
import { generateKeyId, keyPeriodNoAt, type McMediaService, type PrivateCallOrigin } from '../crypto/index.js';
import { ErrorCode, PolicyError } from '../errors/index.js';
import { PayloadType, createIMessage, decodeMikey, openIMessage, type ReplayCache } from '../formats/mikey/index.js';
import { SrtpKeyRing, type SrtpKey } from '../formats/srtp/index.js';
import { MediaSession } from './media-session.js';
import type { McxUserKeys } from './mcx-user-keys.js';

/** A PCK as both parties hold it. */
export interface PrivateCallKey {
  readonly pck: Uint8Array;
  readonly pckId: number;
  /** The RAND of the I_MESSAGE that carried the PCK (§7.4.1). */
  readonly rand: Uint8Array;
}

/** What the initiator sends (the I_MESSAGE) and keeps (the key). */
export interface PrivateCallOffer extends PrivateCallKey {
  readonly imessage: Uint8Array;
}

/** What the callee learnt from an offer. */
export interface OpenedPrivateCall extends PrivateCallKey {
  /** The initiator's MC service ID (IDRi). */
  readonly initiatorUri: string;
}

const S72 = 'TS 33.180 §7.2';

/** Step 1: a new PCK and PCK-ID in an I_MESSAGE to the callee (Annex E.3). */
export function createPrivateCallOffer(o: {
  readonly user: McxUserKeys;
  readonly calleeUri: string;
  /** The callee's KMS; default the user's own. */
  readonly calleeKmsUri?: string;
  readonly now?: Date;
  readonly rng?: (n: number) => Uint8Array;
}): PrivateCallOffer {
  const rng = o.rng ?? ((n: number) => new Uint8Array(randomBytes(n)));
  const now = o.now ?? new Date();
  const u = o.user;
  const signer = u.signerFor(keyPeriodNoAt(now, u.userKeyPeriod, u.userKeyOffset));
  if (signer === undefined) {
    throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'privateCall.user.ssk', rule: 'no SSK/PVT is held for the current key period', clause: 'TS 33.180 §5.3' });
  }
  const calleeKmsUri = o.calleeKmsUri ?? u.kmsUri;
  const calleeKms = u.trustedKms(calleeKmsUri);
  if (calleeKms === undefined) {
    throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'privateCall.calleeKmsUri', rule: "the callee's KMS is not one the client trusts", clause: 'TS 33.180 §5.2.7.3' });
  }
  const pck = rng(16);
  const pckId = generateKeyId('PCK', rng);
  const imessage = createIMessage({
    keyType: 'PCK',
    key: pck,
    keyId: pckId,
    initiator: { uri: u.uri, kmsUri: u.kmsUri, userKeyPeriod: u.userKeyPeriod, userKeyOffset: u.userKeyOffset, kpak: u.kpak, ...signer },
    responder: { uri: o.calleeUri, kmsUri: calleeKmsUri, userKeyPeriod: calleeKms.userKeyPeriod, userKeyOffset: calleeKms.userKeyOffset, kms: calleeKms.kms },
    time: now,
    rng,
  });
  const randPayload = decodeMikey(imessage).payloads.find((p) => p.type === PayloadType.RAND);
  if (randPayload?.type !== PayloadType.RAND) throw new PolicyError(ErrorCode.INTERNAL, { field: 'mikey.rand', rule: 'the I_MESSAGE made has no RAND' });
  return Object.freeze({ pck, pckId, rand: randPayload.rand.slice(), imessage });
}

/**
 * Step 2: the callee opens an offer. `initiatorUri`, when given (the SIP From / P-Asserted-
 * Identity), must be the I_MESSAGE's initiator.
 */
export async function openPrivateCallOffer(
  imessage: Uint8Array,
  o: { readonly user: McxUserKeys; readonly replayCache: ReplayCache; readonly initiatorUri?: string; readonly now?: Date },
): Promise<OpenedPrivateCall> {
  const u = o.user;
  const now = o.now ?? new Date();
  const opened = await openIMessage(imessage, {
    uri: u.uri,
    kmsUri: u.kmsUri,
    userKeyPeriod: u.userKeyPeriod,
    userKeyOffset: u.userKeyOffset,
    recipientFor: (n) => u.recipientFor(n),
    trustedKms: (uri) => u.trustedKms(uri),
    replayCache: o.replayCache,
    now: () => now,
  });
  if (opened.keyType !== 'PCK') {
    opened.key.fill(0);
    throw new PolicyError(ErrorCode.BAD_VALUE, { field: 'mikey.hdr.csbId', rule: 'a private call carries a PCK (purpose tag 1)', clause: 'TS 33.180 Annex G, §7.2' });
  }
  if (opened.initiatorUri === undefined || (o.initiatorUri !== undefined && opened.initiatorUri !== o.initiatorUri)) {
    opened.key.fill(0);
    throw new PolicyError(ErrorCode.FORBIDDEN, { field: 'mikey.IDRi', rule: 'must be the calling user the signalling names', clause: S72 });
  }
  return Object.freeze({ pck: opened.key, pckId: opened.keyId, rand: opened.rand.slice(), initiatorUri: opened.initiatorUri });
}

/** Step 3: one party's media security in a private call (see the module comment). */
export class PrivateCallSession extends MediaSession {
  readonly pckId: number;
  readonly role: PrivateCallOrigin;
  readonly #ring = new SrtpKeyRing();
  readonly #service: McMediaService;

  constructor(o: { readonly key: PrivateCallKey; readonly role: PrivateCallOrigin; readonly service?: McMediaService; readonly rocRate?: number; readonly replayWindow?: number }) {
    super({ mkiLength: 4, rocRate: o.rocRate ?? 0, ...(o.replayWindow === undefined ? {} : { replayWindow: o.replayWindow }) });
    this.pckId = o.key.pckId;
    this.role = o.role;
    this.#service = o.service ?? 'MCPTT';
    this.#ring.addPrivateCallKey({ pck: o.key.pck, pckId: o.key.pckId, rand: o.key.rand, localRole: o.role });
  }

  /** A random SSRC for this party's stream (§7.5.1). */
  newSsrc(): number {
    return this.#ring.newSsrc(this.senderKey());
  }

  /** Ends the call: the PCK and the keys derived from it are forgotten. */
  close(): void {
    this.#ring.removeKey(this.pckId);
  }

  protected senderKey(): SrtpKey {
    return this.#ring.senderKey(this.pckId, { service: this.#service });
  }

  protected resolveKey(mki: Uint8Array): SrtpKey {
    return this.#ring.resolve(mki, { service: this.#service });
  }
}
