/**
 * The Group Management Server's key management (TS 33.180 §5.7, §7.3; CR §11.1.2.2), on the
 * store and the fan-out, with no SIP in it (sip.ts is the wire glue):
 *
 * - groups (MC group IDs) and members with their KMS (§5.2.7.2 item 5); a group's GMKs, each
 *   with a GMK-ID (purpose tag 0, Annex G), activation and expiry time, status and text (§E.6);
 * - distribution: one MIKEY-SAKKE I_MESSAGE per member, the GUK-ID per member (§5.2.3, §F.1.3),
 *   signed by the GMS identity, with the §E.6 key parameters naming the MC group IDs the GMK
 *   serves (§5.7: "each specified MC Group ID … shall use this GMK"), handed to the sender for the
 *   member's registered contact; members not registered get theirs when they register (§5.7.3:
 *   the GMK follows the subscription);
 * - several current GMKs per group (§5.7: the active one with the most recent activation time
 *   is used; gmk-policy.ts); a member joining gets every current GMK;
 * - rekey: on demand, when a member is removed and the group's profile says so (§5.7.3; the
 *   removed member is no longer a member, so no message is made for it), ahead of expiry
 *   (`rekeyDue`: the next GMK activates when the last one expires), and when the Security Gateway
 *   status of the group changes (§5.7: the status bit must reach all users, §E.6.9); revocation
 *   repeats the distribution with the status "revoked" (§5.7.2);
 * - GMK transfer between MC systems (CR §11.1.2.2, §7.3.3.3): a partner GMS is a member like any
 *   other (SAKKE-to-self added for members of another KMS, §E.2); as a partner, this GMS opens a
 *   GMK its primary GMS sent with its own RSK and redistributes it to its members, signed by itself.
 *
 * Every change is written to the store first; a new GMK is stored only if its generation is
 * still free, so when two instances rekey one group at once one GMK wins and only its maker
 * distributes it. Logs name fn, op, the group, counts and error codes; never a key.
 */
import { randomBytes } from 'node:crypto';
import { generateKeyId, keyPeriodNoAt } from '../../crypto/index.js';
import { ErrorCode, FormatError, McsecError, PolicyError } from '../../errors/index.js';
import { openIMessage, type ReplayCache } from '../../formats/mikey/index.js';
import type { GmsGmk, GmsGroup, GmsKmsCertificate, GmsMember, GmsStore, NewGmsMember } from '../../store/index.js';
import { equalBytes } from '../../util/index.js';
import type { GmkFanOut } from './fan-out-pool.js';
import { currentGmks, nextGmkTimes, selectGmk, wholeSeconds } from './gmk-policy.js';
import { GmsRecipients } from './identity.js';
import {
  distributeGmk,
  securityGatewayOf,
  type DistributionProgress,
  type DistributionReport,
  type GmkSender,
  type GmsLogger,
} from './distribute.js';

export type { DistributionProgress, DistributionReport, GmkDelivery, GmkDeliveryOutcome, GmkSender, GmsLogger } from './distribute.js';

/** A GMK accepted from a primary GMS: the groups it serves here and their redistribution. */
export interface AcceptedTransfer {
  readonly gmkId: number;
  readonly groups: readonly string[];
  /** The redistribution to this GMS's members (never rejects: failures are logged). */
  readonly distributed: Promise<readonly DistributionReport[]>;
}

export interface GmsServiceOptions {
  readonly store: GmsStore;
  /** The GMS Server URI: initiator of every GMK I_MESSAGE (§5.7, Annex E.2). */
  readonly gmsUri: string;
  /** The GMS's KMS (§5.2.7.2 item 6). */
  readonly kmsUri: string;
  readonly fanOut: GmkFanOut;
  readonly sender: GmkSender;
  readonly now?: (() => Date) | undefined;
  readonly rng?: ((n: number) => Uint8Array) | undefined;
  readonly logger?: GmsLogger | undefined;
  /** Messages in flight at once (default 256). */
  readonly maxInFlight?: number | undefined;
  /** Default GMK lifetime of new groups, seconds (default 30 days; 0: no expiry). */
  readonly gmkLifetime?: number | undefined;
  /** `rekeyDue` makes the next GMK this many seconds before the last one expires (default 1 day). */
  readonly rekeyLead?: number | undefined;
  /** Hide identities in the I_MESSAGEs (§E.7). */
  readonly hideIdentities?: boolean | undefined;
  /** Replay cache for GMKs received from a primary GMS (RFC 3830 §5.4). */
  readonly replayCache?: ReplayCache | undefined;
}

/** A group to create. */
export interface CreateGroupInput {
  readonly groupUri: string;
  readonly members: readonly (string | { readonly uri: string; readonly kmsUri?: string | undefined })[];
  readonly alsoGroupIds?: readonly string[] | undefined;
  readonly text?: string | undefined;
  /** GMK lifetime, seconds (default the service's; 0: none). */
  readonly gmkLifetime?: number | undefined;
  /** Rekey when a member is removed (default true). */
  readonly rekeyOnRemove?: boolean | undefined;
  /** The group's primary GMS, when this GMS is a partner that receives its GMKs (CR §11.1.2.2). */
  readonly primaryGmsUri?: string | undefined;
}

const DAY = 86_400;
const S57 = 'TS 33.180 §5.7';
const noop = (): void => undefined;

/** The GMS key management service (see the module comment). */
export class GmsService {
  readonly gmsUri: string;
  readonly kmsUri: string;
  readonly #o: GmsServiceOptions;
  readonly #now: () => Date;
  readonly #rng: (n: number) => Uint8Array;
  readonly #log: GmsLogger;
  readonly #recipients: GmsRecipients;
  readonly #seen = new Map<string, number>();

  constructor(o: GmsServiceOptions) {
    if (o.gmsUri === '' || o.kmsUri === '') throw new FormatError(ErrorCode.BAD_VALUE, { field: 'gms.gmsUri', rule: 'GMS and KMS URIs must not be empty' });
    this.#o = o;
    this.gmsUri = o.gmsUri;
    this.kmsUri = o.kmsUri;
    this.#now = o.now ?? (() => new Date());
    this.#rng = o.rng ?? ((n) => new Uint8Array(randomBytes(n)));
    this.#log = o.logger ?? { info: noop, warn: noop };
    this.#recipients = new GmsRecipients(o.store, o.gmsUri);
  }

  /** Builds the fan-out tables of every KMS whose certificate is held (start-up, off the timed path). */
  async warm(): Promise<void> {
    const certs = await this.#o.store.listKmsCertificates();
    await this.#o.fanOut.warm(certs.map((c) => c.pubEncKey));
  }

  // ---- groups and membership ------------------------------------------------------------------

  /**
   * Creates a group with its members; a group this GMS keys gets its first GMK, distributed. For
   * a group that exists already, the members are added as `addMembers` does.
   */
  async createGroup(input: CreateGroupInput, progress?: DistributionProgress): Promise<{ readonly group: GmsGroup; readonly created: boolean; readonly report: DistributionReport | undefined }> {
    const store = this.#o.store;
    const { group, created } = await store.createGroup({
      groupUri: input.groupUri,
      alsoGroupIds: input.alsoGroupIds ?? [],
      primaryGmsUri: input.primaryGmsUri,
      text: input.text ?? '',
      gmkLifetime: input.gmkLifetime ?? this.#o.gmkLifetime ?? 30 * DAY,
      rekeyOnRemove: input.rekeyOnRemove ?? true,
    });
    this.#log.info({ fn: 'gms', op: 'createGroup', group: group.groupUri, created, members: input.members.length }, 'group');
    if (!created) return { group, created, report: (await this.addMembers(group.groupUri, input.members, progress)).report };
    await store.addMembers(group.groupUri, input.members.map((m) => this.#member(m)));
    if (group.primaryGmsUri !== undefined) return { group, created, report: undefined };
    return { group, created, report: await this.rekey(group.groupUri, { reason: 'group created' }, progress) };
  }

  /**
   * Adds members; they get every current GMK of the group. When a new member's KMS is a Security
   * Gateway's and the group's GMKs do not say so yet, the group is rekeyed instead (§5.7).
   */
  async addMembers(groupUri: string, members: CreateGroupInput['members'], progress?: DistributionProgress): Promise<{ readonly added: readonly string[]; readonly report: DistributionReport | undefined }> {
    const group = await this.#group(groupUri);
    const wasGateway = await securityGatewayOf(this.#o.store, group.groupUri);
    const added = await this.#o.store.addMembers(groupUri, members.map((m) => this.#member(m)));
    this.#log.info({ fn: 'gms', op: 'addMembers', group: groupUri, added: added.length }, 'members');
    if (added.length === 0) return { added, report: undefined };
    if (group.primaryGmsUri === undefined && !wasGateway && (await securityGatewayOf(this.#o.store, groupUri))) {
      return { added, report: await this.rekey(groupUri, { reason: 'a member is represented by an MC Security Gateway' }, progress) };
    }
    return { added, report: await this.#deliverCurrent(group, new Set(added), progress) };
  }

  /**
   * Removes members; a group keyed here whose profile asks for it is rekeyed, and the removed
   * members, no longer members, get no message (§5.7.3).
   */
  async removeMembers(groupUri: string, memberUris: readonly string[], progress?: DistributionProgress): Promise<{ readonly removed: readonly string[]; readonly report: DistributionReport | undefined }> {
    const group = await this.#group(groupUri);
    const removed = await this.#o.store.removeMembers(groupUri, memberUris);
    this.#log.info({ fn: 'gms', op: 'removeMembers', group: groupUri, removed: removed.length }, 'members');
    if (removed.length === 0 || !group.rekeyOnRemove || group.primaryGmsUri !== undefined) return { removed, report: undefined };
    return { removed, report: await this.rekey(groupUri, { reason: 'member removed' }, progress) };
  }

  // ---- GMKs -----------------------------------------------------------------------------------

  /**
   * Makes the group's next GMK (activation `activationAt`, default now) and distributes it to
   * every member; with `revokePrevious` the earlier current GMKs are revoked and the revocation
   * distributed too (§5.7.2). A group whose GMKs come from a primary GMS cannot be rekeyed here.
   */
  async rekey(groupUri: string, o: { readonly reason?: string; readonly activationAt?: Date; readonly revokePrevious?: boolean } = {}, progress?: DistributionProgress): Promise<DistributionReport> {
    const group = await this.#group(groupUri);
    if (group.primaryGmsUri !== undefined) {
      throw new PolicyError(ErrorCode.FORBIDDEN, { field: 'gms.group.primaryGmsUri', rule: 'the GMKs of this group are made by its primary GMS', clause: 'TS 33.180 CR §11.1.2.2' });
    }
    const store = this.#o.store;
    const nowMs = this.#now().getTime();
    for (let attempt = 0; attempt < 4; attempt++) {
      const held = await store.listGmks(groupUri);
      const generation = held.reduce((m, g) => Math.max(m, g.generation), 0) + 1;
      const gmkId = generateKeyId('GMK', this.#rng);
      if (held.some((g) => g.gmkId === gmkId)) continue; // a 28-bit collision: draw again
      const times = nextGmkTimes(o.activationAt?.getTime() ?? nowMs, group.gmkLifetime);
      const gmk = this.#rng(16);
      // One random RAND per GMK (RFC 3830 §6.11), kept: every member's message carries it (§7.4.2).
      const stored = await store.putGmk({ groupUri, gmkId, generation, gmk, ...times, revoked: false, text: group.text, origin: undefined, rand: this.#rng(16) });
      if (!stored) {
        // Another instance stored this generation first: it distributes its GMK.
        const winner = (await store.listGmks(groupUri)).find((g) => g.generation === generation);
        if (winner !== undefined) {
          this.#log.info({ fn: 'gms', op: 'rekey', group: groupUri, generation, outcome: 'superseded' }, 'rekey');
          return { groupUri, gmkId: winner.gmkId, members: 0, delivered: 0, refused: 0, failed: 0, pending: 0 };
        }
        continue;
      }
      this.#log.info({ fn: 'gms', op: 'rekey', group: groupUri, generation, reason: o.reason ?? 'requested' }, 'rekey');
      gmk.fill(0);
      const fresh = (await store.listGmks(groupUri)).find((g) => g.gmkId === gmkId);
      if (fresh === undefined) throw new McsecError(ErrorCode.INTERNAL, { field: 'store.gms_gmk', rule: 'the stored GMK must be readable' });
      const members = await store.listMembers(groupUri);
      const report = await this.#send(group, fresh, members, progress);
      if (o.revokePrevious === true) {
        for (const old of currentGmks(held, nowMs)) await this.revoke(groupUri, old.gmkId);
      }
      return report;
    }
    throw new McsecError(ErrorCode.INTERNAL, { field: 'gms.rekey', rule: 'could not store a new GMK' });
  }

  /** Marks a GMK revoked and sends the revocation to every member (§5.7.2, §E.6.9). */
  async revoke(groupUri: string, gmkId: number, progress?: DistributionProgress): Promise<DistributionReport> {
    const group = await this.#group(groupUri);
    const store = this.#o.store;
    await store.revokeGmk(groupUri, gmkId);
    const gmk = (await store.listGmks(groupUri)).find((g) => g.gmkId === gmkId);
    if (gmk === undefined) throw new PolicyError(ErrorCode.NOT_FOUND, { field: 'gms.gmkId', rule: 'no such GMK in this group', clause: S57 });
    this.#log.info({ fn: 'gms', op: 'revoke', group: groupUri, gmkId: gmkId.toString(16) }, 'revoke');
    return this.#send(group, gmk, await store.listMembers(groupUri), progress);
  }

  /**
   * Rekeys every group keyed here whose latest GMK expires within the lead time (§E.6.10); the
   * new GMK activates when the latest expires. Returns the reports of the groups rekeyed.
   */
  async rekeyDue(): Promise<readonly DistributionReport[]> {
    const nowMs = this.#now().getTime();
    const lead = (this.#o.rekeyLead ?? DAY) * 1000;
    const reports: DistributionReport[] = [];
    for (const group of await this.#o.store.listGroups()) {
      if (group.primaryGmsUri !== undefined || group.gmkLifetime === 0) continue;
      const gmks = await this.#o.store.listGmks(group.groupUri);
      const latest = gmks.filter((g) => !g.revoked).reduce<GmsGmk | undefined>((m, g) => (m === undefined || g.activationAt > m.activationAt ? g : m), undefined);
      if (latest === undefined || latest.expiryAt === undefined || latest.expiryAt - lead > nowMs) continue;
      reports.push(await this.rekey(group.groupUri, { reason: 'expiry', activationAt: new Date(Math.max(latest.expiryAt, nowMs)) }));
    }
    return reports;
  }

  /** The GMK the group's members encrypt with at `at` (§5.7), and every current one. */
  async gmksOf(groupUri: string, at: Date = this.#now()): Promise<{ readonly inUse: GmsGmk | undefined; readonly current: readonly GmsGmk[] }> {
    const gmks = await this.#o.store.listGmks(groupUri);
    return { inUse: selectGmk(gmks, at.getTime()), current: currentGmks(gmks, at.getTime()) };
  }

  // ---- registration -----------------------------------------------------------------------------

  /** Records a member's contact (`deliverPending` then sends it the current GMKs it lacks). */
  async register(memberUri: string, contact: string, expiresS: number): Promise<void> {
    const nowMs = this.#now().getTime();
    await this.#o.store.putRegistration({ memberUri, contact, expiresAt: nowMs + expiresS * 1000 });
    this.#log.info({ fn: 'gms', op: 'register', expires: expiresS }, 'registered');
  }

  /** Removes a member's contact. */
  async unregister(memberUri: string): Promise<void> {
    await this.#o.store.deleteRegistration(memberUri);
  }

  /** Whether the URI is a member of some group (a registrar only binds members). */
  async isMember(memberUri: string): Promise<boolean> {
    return (await this.#o.store.groupsOf(memberUri)).length > 0;
  }

  /** Sends a member every current GMK of its groups not yet delivered to it (after it registered). */
  async deliverPending(memberUri: string): Promise<readonly DistributionReport[]> {
    const store = this.#o.store;
    const reports: DistributionReport[] = [];
    for (const groupUri of await store.groupsOf(memberUri)) {
      const group = await this.#group(groupUri);
      const delivered = new Set((await store.listDeliveries(groupUri)).filter((d) => d.memberUri === memberUri && d.state === 'delivered').map((d) => d.gmkId));
      const member = (await store.listMembers(groupUri)).filter((m) => m.memberUri === memberUri);
      for (const gmk of currentGmks(await store.listGmks(groupUri), this.#now().getTime())) {
        if (!delivered.has(gmk.gmkId)) reports.push(await this.#send(group, gmk, member));
      }
    }
    return reports;
  }

  // ---- GMK transfer from a primary GMS (CR §11.1.2.2) -------------------------------------------

  /**
   * Opens a GMK I_MESSAGE a primary GMS sent to this GMS (as a member, CR §11.1.2.2 step 1),
   * checks that it is the primary GMS of the groups its key parameters name, stores the GMK for
   * them, and starts redistributing it to their members signed by this GMS (§7.3.3.3 step 11);
   * resolves once it is stored, so that the primary GMS gets its answer without waiting for the
   * redistribution. Refusals are typed errors; nothing is stored (and the replay cache is not
   * written) unless all checks passed.
   */
  async acceptTransfer(imessage: Uint8Array, progress?: DistributionProgress): Promise<AcceptedTransfer> {
    const store = this.#o.store;
    const now = this.#now();
    const home = await this.#certificate(this.kmsUri);
    const period = keyPeriodNoAt(now, home.userKeyPeriod, home.userKeyOffset);
    await this.#recipients.load(home, [period - 1, period, period + 1]);
    const certs = new Map((await store.listKmsCertificates()).map((c) => [c.kmsUri, c]));
    let claim: [string, number, number] | undefined;
    const opened = await openIMessage(imessage, {
      uri: this.gmsUri,
      kmsUri: this.kmsUri,
      userKeyPeriod: home.userKeyPeriod,
      userKeyOffset: home.userKeyOffset,
      recipientFor: (p) => this.#recipients.recipientFor(p),
      trustedKms: (uri) => {
        const c = certs.get(uri);
        return c === undefined ? undefined : { kpak: c.pubAuthKey, userKeyPeriod: c.userKeyPeriod, userKeyOffset: c.userKeyOffset };
      },
      // The claim is made below, once every check passed (STYLE.md §6).
      replayCache: { claim: (k, n, e) => ((claim = [k, n, e]), true) },
      now: () => now,
    });
    const field = 'mikey.keyParameters';
    if (opened.keyType !== 'GMK') throw new PolicyError(ErrorCode.BAD_VALUE, { field: 'mikey.hdr.csbId', rule: 'must carry a GMK (purpose tag 0)', clause: 'TS 33.180 Annex G' });
    const kp = opened.keyParameters;
    if (kp === undefined || kp.format !== 'current' || kp.mcGroupIds === undefined || kp.mcGroupIds.length === 0) {
      throw new PolicyError(ErrorCode.BAD_VALUE, { field, rule: 'must name the MC group IDs of the GMK', clause: 'TS 33.180 §E.6.3' });
    }
    const primary = opened.initiatorUri;
    const groups: GmsGroup[] = [];
    for (const { id } of kp.mcGroupIds) {
      const g = await store.getGroup(id);
      if (g !== undefined && primary !== undefined && g.primaryGmsUri === primary) groups.push(g);
    }
    if (groups.length === 0) {
      throw new PolicyError(ErrorCode.FORBIDDEN, { field: `${field}.mcGroupIds`, rule: 'no group here has the initiator as its primary GMS', clause: 'TS 33.180 CR §11.1.2.2' });
    }
    for (const g of groups) {
      const same = (await store.listGmks(g.groupUri)).find((x) => x.gmkId === opened.keyId);
      if (same !== undefined && !equalBytes(same.gmk, opened.key)) {
        throw new PolicyError(ErrorCode.BAD_VALUE, { field: 'mikey.hdr.csbId', rule: 'the GMK-ID is held for another GMK', clause: 'TS 33.180 §5.7.2' });
      }
    }
    if (claim === undefined || !(await (this.#o.replayCache ?? this.#memoryReplay()).claim(...claim))) {
      throw new PolicyError(ErrorCode.REPLAY, { field: 'mikey', rule: 'this message was received before', clause: 'RFC 3830 §5.4' });
    }
    const fresh: GmsGroup[] = [];
    for (const g of groups) {
      const gmks = await store.listGmks(g.groupUri);
      const same = gmks.find((x) => x.gmkId === opened.keyId);
      if (same === undefined) {
        const generation = gmks.reduce((m, x) => Math.max(m, x.generation), 0) + 1;
        await store.putGmk({
          groupUri: g.groupUri,
          gmkId: opened.keyId,
          generation,
          gmk: opened.key,
          activationAt: wholeSeconds((kp.activationTime ?? opened.time).getTime()),
          expiryAt: kp.expiryTime?.getTime(),
          revoked: kp.status.revoked,
          text: kp.text,
          origin: primary,
          // the primary's RAND: its members and ours must derive the same SRTP keys (§7.4.2)
          rand: opened.rand,
        });
      } else if (kp.status.revoked && !same.revoked) {
        await store.revokeGmk(g.groupUri, same.gmkId);
      } else {
        continue; // nothing new: not redistributed
      }
      this.#log.info({ fn: 'gms', op: 'acceptTransfer', group: g.groupUri, revoked: kp.status.revoked }, 'GMK from the primary GMS');
      fresh.push(g);
    }
    opened.key.fill(0);
    const distributed = (async (): Promise<readonly DistributionReport[]> => {
      const reports: DistributionReport[] = [];
      for (const g of fresh) {
        try {
          const gmk = (await store.listGmks(g.groupUri)).find((x) => x.gmkId === opened.keyId);
          if (gmk !== undefined) reports.push(await this.#send(g, gmk, await store.listMembers(g.groupUri), progress));
        } catch (err) {
          this.#log.warn({ fn: 'gms', op: 'redistribute', group: g.groupUri, code: err instanceof McsecError ? err.code : ErrorCode.INTERNAL }, 'redistribution failed');
        }
      }
      return reports;
    })();
    return { gmkId: opened.keyId, groups: fresh.map((g) => g.groupUri), distributed };
  }

  // ---- internals -----------------------------------------------------------------------------

  #member(m: CreateGroupInput['members'][number]): NewGmsMember {
    return typeof m === 'string' ? { memberUri: m, kmsUri: this.kmsUri } : { memberUri: m.uri, kmsUri: m.kmsUri ?? this.kmsUri };
  }

  async #group(groupUri: string): Promise<GmsGroup> {
    const g = await this.#o.store.getGroup(groupUri);
    if (g === undefined) throw new PolicyError(ErrorCode.NOT_FOUND, { field: 'gms.groupUri', rule: 'no such group', clause: S57 });
    return g;
  }

  async #certificate(kmsUri: string): Promise<GmsKmsCertificate> {
    const c = await this.#o.store.getKmsCertificate(kmsUri);
    if (c === undefined) throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'gms.kmsUri', rule: `no certificate of KMS ${kmsUri} is held`, clause: 'TS 33.180 §5.2.7.3' });
    return c;
  }

  /** Every current GMK to the members (all, or those in `only`). */
  async #deliverCurrent(group: GmsGroup, only: ReadonlySet<string> | undefined, progress?: DistributionProgress): Promise<DistributionReport | undefined> {
    const members = (await this.#o.store.listMembers(group.groupUri)).filter((m) => only === undefined || only.has(m.memberUri));
    let last: DistributionReport | undefined;
    for (const gmk of currentGmks(await this.#o.store.listGmks(group.groupUri), this.#now().getTime())) {
      last = await this.#send(group, gmk, members, progress);
    }
    return last;
  }

  /** One GMK to these members (distribute.ts), with this service's store, fan-out and sender. */
  #send(group: GmsGroup, gmk: GmsGmk, members: readonly GmsMember[], progress?: DistributionProgress): Promise<DistributionReport> {
    const o = this.#o;
    return distributeGmk(
      { store: o.store, gmsUri: this.gmsUri, kmsUri: this.kmsUri, fanOut: o.fanOut, sender: o.sender, now: this.#now(), maxInFlight: o.maxInFlight ?? 256, hideIdentities: o.hideIdentities === true, log: this.#log },
      group,
      gmk,
      members,
      progress,
    );
  }

  #memoryReplay(): ReplayCache {
    return {
      claim: (key, nowMs, expiresAtMs) => {
        for (const [k, e] of this.#seen) if (e <= nowMs) this.#seen.delete(k);
        if (this.#seen.has(key)) return false;
        this.#seen.set(key, expiresAtMs);
        return true;
      },
    };
  }
}
