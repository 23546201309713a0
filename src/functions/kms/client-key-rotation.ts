/**
 * TrK / InK rotation over the wire (TS 33.180 §5.3.3 step 2: "KMSInit Response. This response
 * contains domain parameters and optionally, a new TrK and/or a new InK"; the same for the
 * KMSKeyProv Response; Annex D.3: the KMS "may respond with a new TrK and/or a new InK").
 *
 *   1. The operator schedules a rotation for a user's clients (`scheduleClientKeyRotation`,
 *      `mcsec kms rotate-client-keys`): fresh 256-bit keys with fresh 32-bit IDs, stored sealed
 *      with the client's current TrK-ID. Scheduling again while one is pending changes nothing.
 *   2. Every KmsInit / KmsKeyProv answering a request that names the TrK in force, signed with the
 *      key in force (the InK, else the TrK; not unsigned: a TrK and a token do not get the new
 *      InK), carries the pending keys as NewTransportKey / NewIntegrityKey, wrapped (kw-aes256) under that TrK with
 *      ds:KeyName = its TrK-ID and CarriedKeyName = the new ID, as the D.3.4.1 / D.3.4.2
 *      examples; the response is still signed with the InK (or TrK) the request used. The keys
 *      are the stored ones: a client whose response was lost asks again with its old keys and
 *      gets the same new keys again, never others.
 *   3. The first signed request naming the new key (TrK-ID = new TrK-ID, or Signature-ID = new
 *      InK-ID) that passed every check of its operation completes the rotation: the old TrK-ID (or InK-ID) is retired in the store and
 *      refused from then on (ERR_UNKNOWN_KEY). Until then both are accepted. An unsigned request
 *      naming the new TrK-ID is answered under the new keys but completes nothing: the new IDs
 *      travel in clear (CarriedKeyName), so naming one proves nothing; a signature does.
 * With a maximum age (`kms serve --rotate-client-keys-after`), a request naming client keys older
 * than that with no rotation pending has a rotation of both scheduled (step 1) once it has passed
 * every check, and offered in that very answer when it is a KmsInit / KmsKeyProv.
 * All state is in the store (kms-rotation-store.ts), so several instances on one database agree.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError, ErrorCode, PolicyError } from '../../errors/index.js';
import type { KmsNewKeysInput, KmsRequest } from '../../formats/kms-xml/index.js';
import type { KmsClientKeyRotation, KmsClientKeys, KmsStore } from '../../store/index.js';
import { toHex } from '../../util/index.js';

const S533 = 'TS 33.180 §5.3.3';

/** What the operator asked: rotate the TrK, the InK or both; one client or all of the user's. */
export interface ClientKeyRotationRequest {
  readonly trk: boolean;
  readonly ink: boolean;
  /** Only the client whose TrK-ID this is (default: every client key set bound to the user). */
  readonly trkId?: string | undefined;
  readonly rng?: ((n: number) => Uint8Array) | undefined;
}

/** One scheduled (or already pending) rotation: IDs only, never keys. */
export interface ScheduledClientKeyRotation {
  readonly trkId: string;
  readonly newTrkId: string | undefined;
  readonly newInkId: string | undefined;
  /** False when a rotation was pending already (it is kept as it was). */
  readonly created: boolean;
}

/**
 * Schedules a TrK and/or InK rotation for the user's clients (see the module header, step 1).
 * A user without client keys is a ConfigError naming --user.
 */
export async function scheduleClientKeyRotation(
  store: KmsStore,
  kmsUri: string,
  userUri: string,
  o: ClientKeyRotationRequest,
): Promise<readonly ScheduledClientKeyRotation[]> {
  if (!o.trk && !o.ink) throw new ConfigError(ErrorCode.USAGE, { field: '--trk/--ink', rule: 'rotate the TrK, the InK or both', clause: S533 });
  if ((await store.getDomain(kmsUri)) === undefined) throw new ConfigError(ErrorCode.CONFIG, { field: '--kms-uri', rule: `no domain ${kmsUri} in this store: run mcsec kms init-domain first` });
  if (!(await store.hasUser(kmsUri, userUri))) throw new ConfigError(ErrorCode.CONFIG, { field: '--user', rule: 'must be a user of the domain' });
  const clients = (await store.listClientKeysOfUser(userUri)).filter((c) => o.trkId === undefined || c.clientId === o.trkId);
  if (clients.length === 0) {
    const rule = o.trkId === undefined ? 'has no client keys: run mcsec kms issue-client-keys first' : 'has no client keys with that TrK-ID';
    throw new ConfigError(ErrorCode.CONFIG, { field: o.trkId === undefined ? '--user' : '--trk-id', rule, clause: S533 });
  }
  const rng = o.rng ?? defaultRng;
  const out: ScheduledClientKeyRotation[] = [];
  for (const c of clients) {
    const held = await store.getClientKeyRotation(c.clientId);
    const { rotation: r, created } = held === undefined ? await scheduleOne(store, c, o.trk, o.ink, rng) : { rotation: held, created: false };
    out.push(Object.freeze({ trkId: c.clientId, newTrkId: r.newTrkId, newInkId: r.newInkId, created }));
  }
  return Object.freeze(out);
}

const defaultRng = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

/** Fresh keys and IDs for one client, stored unless a rotation is pending (then that one is returned, not created). */
async function scheduleOne(
  store: KmsStore,
  c: KmsClientKeys,
  trk: boolean,
  ink: boolean,
  rng: (n: number) => Uint8Array,
): Promise<{ readonly rotation: KmsClientKeyRotation; readonly created: boolean }> {
  for (let attempt = 0; ; attempt++) {
    const newTrkId = trk ? await freeTrkId(store, rng) : undefined;
    const newInkId = ink ? freeInkId(c, newTrkId, rng) : undefined;
    const newTrk = trk ? rng(32) : undefined;
    const newInk = ink ? rng(32) : undefined;
    const stored = await store.putClientKeyRotation({ clientId: c.clientId, newTrkId, newTrk, newInkId, newInk });
    newTrk?.fill(0);
    newInk?.fill(0);
    if (stored !== undefined) return { rotation: stored, created: stored.newTrkId === newTrkId && stored.newInkId === newInkId };
    // The new TrK-ID was taken meanwhile by another rotation: draw again (a few times at most).
    if (attempt >= 4) throw new ConfigError(ErrorCode.INTERNAL, { field: 'newTrkId', rule: 'no free 32-bit TrK-ID found' });
  }
}

/** A 32-bit TrK-ID (8 hex digits, as issueClientKeys) naming no client keys and no pending rotation. */
async function freeTrkId(store: KmsStore, rng: (n: number) => Uint8Array): Promise<string> {
  for (;;) {
    const id = toHex(rng(4));
    if ((await store.getClientKeys(id)) === undefined && (await store.findClientKeyRotation(id)) === undefined) return id;
  }
}

/** A 32-bit InK-ID unlike the client's TrK-ID, InK-ID and new TrK-ID (Signature-ID names one of them, D.2.2). */
function freeInkId(c: KmsClientKeys, newTrkId: string | undefined, rng: (n: number) => Uint8Array): string {
  for (;;) {
    const id = toHex(rng(4));
    if (id !== c.clientId && id !== c.inkId && id !== newTrkId) return id;
  }
}

/** The client keys a request names, and what a rotation in progress asks of the answer. */
export interface RequestClientKeys {
  /** The keys that verify the request and protect the answer (D.2.2, D.3.1). */
  readonly client: KmsClientKeys | undefined;
  /** New keys for a KmsInit / KmsKeyProv: the request named the keys in force (step 2). */
  readonly offer: KmsClientKeyRotation | undefined;
  /** Completes the rotation (step 3), true when this call did (false: nothing was pending); to call only once a signed request passed every check. */
  readonly complete: (() => Promise<boolean>) | undefined;
  /**
   * Schedules the rotation of keys past their age; to call only once the request passed every
   * check. Undefined when nothing was scheduled although the keys are still there; keys retired
   * meanwhile (another request completed a rotation) are PolicyError ERR_UNKNOWN_KEY, as a
   * request naming them from the start.
   */
  readonly due: (() => Promise<KmsClientKeyRotation | undefined>) | undefined;
}

/** Rotation of client keys by age: keys older than `maxAgeMs` at `now` (ms since the epoch). */
export interface ClientKeyAgePolicy {
  readonly maxAgeMs: number;
  readonly now: number;
  readonly rng?: ((n: number) => Uint8Array) | undefined;
}

/** Resolves the request's TrK-ID (and, for an InK rotation, Signature-ID) against the store. */
export async function clientKeysOfRequest(store: KmsStore, request: KmsRequest, age?: ClientKeyAgePolicy): Promise<RequestClientKeys> {
  const none = { offer: undefined, complete: undefined, due: undefined };
  const trkId = request.trkId;
  if (trkId === undefined) return { client: undefined, ...none };
  const held = await store.getClientKeys(trkId);
  if (held !== undefined) {
    const r = await store.getClientKeyRotation(trkId);
    if (r !== undefined && r.newTrkId === undefined && r.newInk !== undefined && r.newInkId !== undefined && request.signatureId === r.newInkId) {
      // The client signs with the new InK of an InK-only rotation.
      return { ...none, client: { ...held, ink: r.newInk, inkId: r.newInkId }, complete: async () => (await store.completeClientKeyRotation(trkId)) !== undefined };
    }
    const old = r === undefined && age !== undefined && age.now - held.createdAt >= age.maxAgeMs;
    const due = old ? () => scheduleAged(store, held, age) : undefined;
    return { ...none, client: held, offer: r, due };
  }
  const r = await store.findClientKeyRotation(trkId);
  const old = r === undefined ? undefined : await store.getClientKeys(r.clientId);
  if (r === undefined || r.newTrk === undefined || old === undefined) {
    // Another instance may have completed the rotation between the two reads.
    return { ...none, client: await store.getClientKeys(trkId) };
  }
  const client: KmsClientKeys = {
    clientId: trkId,
    trk: r.newTrk,
    ink: r.newInk ?? old.ink,
    inkId: r.newInkId ?? old.inkId,
    userUri: old.userUri,
    createdAt: r.scheduledAt,
  };
  return { ...none, client, complete: async () => (await store.completeClientKeyRotation(r.clientId)) !== undefined };
}

/**
 * A rotation by age for `held`. A request still using the old keys may get here after another
 * one retired them (their row went; the new rotation row's foreign key fails): then no rotation,
 * and the request is answered as one naming retired keys (ERR_UNKNOWN_KEY).
 */
async function scheduleAged(store: KmsStore, held: KmsClientKeys, age: ClientKeyAgePolicy): Promise<KmsClientKeyRotation | undefined> {
  try {
    return (await scheduleOne(store, held, true, true, age.rng ?? defaultRng)).rotation;
  } catch {
    if ((await store.getClientKeys(held.clientId)) !== undefined) return undefined;
    throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'kmsRequest.TrK-ID', rule: 'must name a TrK this KMS issued to the user', clause: S533 });
  }
}

/** The NewTransportKey / NewIntegrityKey of an offer, for the encoder to wrap under the request's TrK. */
export function newKeysOf(offer: KmsClientKeyRotation | undefined): KmsNewKeysInput {
  if (offer === undefined) return {};
  const trk = offer.newTrk === undefined ? [] : [{ key: offer.newTrk, carriedKeyName: offer.newTrkId }];
  const ink = offer.newInk === undefined ? [] : [{ key: offer.newInk, carriedKeyName: offer.newInkId }];
  return { newTransportKeys: trk, newIntegrityKeys: ink };
}
