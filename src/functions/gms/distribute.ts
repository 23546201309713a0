/**
 * Distribution of one GMK to members (TS 33.180 §5.7.2 step 1, Annex E.2): the GMS's signing
 * identity for now (§5.7.2 step 0), the members' registered contacts and KMS certificates
 * (§5.2.7.3), the §E.6 key parameters (MC group IDs, activation / expiry time, status with the
 * Security Gateway bit when any member's KMS certificate says IsSecurityGateway, §5.7 / D.3.2.2,
 * text); the I_MESSAGEs made on the fan-out (with SAKKE-to-self for members of another KMS,
 * §E.2) and handed to the sender slice by slice; every outcome recorded in the store. Members
 * with no registered contact are recorded as pending and get the GMK when they register.
 */
import { ErrorCode, McsecError } from '../../errors/index.js';
import type { GmsGmk, GmsGroup, GmsMember, GmsStore, NewGmsDelivery } from '../../store/index.js';
import type { FanOutJob } from './fan-out-job.js';
import type { GmkFanOut } from './fan-out-pool.js';
import { signingIdentity } from './identity.js';

/** One member's GMK message to deliver. */
export interface GmkDelivery {
  readonly groupUri: string;
  readonly gmkId: number;
  readonly memberUri: string;
  /** The registered Contact URI. */
  readonly contact: string;
  readonly imessage: Uint8Array;
}

/** What became of a delivery. */
export interface GmkDeliveryOutcome {
  readonly state: 'delivered' | 'refused' | 'failed';
  readonly status?: number | undefined;
  readonly code?: string | undefined;
}

/** Delivers GMK messages (sip.ts: a SIP MESSAGE to the contact). */
export interface GmkSender {
  send(d: GmkDelivery): Promise<GmkDeliveryOutcome>;
}

/** The logger the GMS writes to (pino fits). */
export interface GmsLogger {
  info(o: object, msg: string): void;
  warn(o: object, msg: string): void;
}

/** The outcome of distributing one GMK. */
export interface DistributionReport {
  readonly groupUri: string;
  readonly gmkId: number;
  readonly members: number;
  readonly delivered: number;
  readonly refused: number;
  readonly failed: number;
  /** Members with no registered contact: they get the GMK when they register. */
  readonly pending: number;
}

/** Called after each member's message is settled (sent and answered, or left pending). */
export type DistributionProgress = (done: number, total: number) => void;

/** What a distribution works with. */
export interface DistributionContext {
  readonly store: GmsStore;
  readonly gmsUri: string;
  readonly kmsUri: string;
  readonly fanOut: GmkFanOut;
  readonly sender: GmkSender;
  /** The I_MESSAGE time (and the key period of the GMS signing key). */
  readonly now: Date;
  readonly maxInFlight: number;
  readonly hideIdentities: boolean;
  readonly log: GmsLogger;
}

const noop = (): void => undefined;

/** Whether any member's KMS certificate says IsSecurityGateway (§5.7, D.3.2.2). */
export async function securityGatewayOf(store: GmsStore, groupUri: string): Promise<boolean> {
  const kmsUris = new Set((await store.listMembers(groupUri)).map((m) => m.kmsUri));
  for (const uri of kmsUris) if ((await store.getKmsCertificate(uri))?.isSecurityGateway === true) return true;
  return false;
}

/**
 * One GMK to the given members: the I_MESSAGEs of the registered ones made on the fan-out and
 * sent as each slice is ready, at most `maxInFlight` at once; unregistered ones left pending.
 */
export async function distributeGmk(ctx: DistributionContext, group: GmsGroup, gmk: GmsGmk, members: readonly GmsMember[], progress: DistributionProgress = noop): Promise<DistributionReport> {
  const store = ctx.store;
  const now = ctx.now;
  const nowMs = now.getTime();
  const { certificate: home, keySet } = await signingIdentity(store, ctx.gmsUri, ctx.kmsUri, now);
  const registrations = await store.getRegistrations(members.map((m) => m.memberUri), nowMs);
  const certs = new Map((await store.listKmsCertificates()).map((c) => [c.kmsUri, c]));
  const securityGateway = await securityGatewayOf(store, group.groupUri);
  const records: NewGmsDelivery[] = [];
  const record = (memberUri: string, o: GmkDeliveryOutcome | { readonly state: 'pending' }): void => {
    records.push({ groupUri: group.groupUri, gmkId: gmk.gmkId, memberUri, state: o.state, status: 'status' in o ? o.status : undefined, code: 'code' in o ? o.code : undefined });
  };
  const total = members.length;
  let done = 0;
  const settle = (): void => progress(++done, total);
  const targets: GmsMember[] = [];
  for (const m of members) {
    if (!registrations.has(m.memberUri)) {
      record(m.memberUri, { state: 'pending' });
      settle();
    } else if (!certs.has(m.kmsUri)) {
      record(m.memberUri, { state: 'failed', code: ErrorCode.UNKNOWN_KEY });
      settle();
    } else {
      targets.push(m);
    }
  }
  const kms: Record<string, { pubEncKey: Uint8Array; userKeyPeriod: number; userKeyOffset: number }> = {};
  for (const c of certs.values()) kms[c.kmsUri] = { pubEncKey: c.pubEncKey, userKeyPeriod: c.userKeyPeriod, userKeyOffset: c.userKeyOffset };
  const base = {
    gmkId: gmk.gmkId,
    rand: gmk.rand,
    timeMs: nowMs,
    keyParameters: {
      revoked: gmk.revoked,
      securityGateway,
      activationMs: gmk.activationAt,
      expiryMs: gmk.expiryAt,
      text: gmk.text,
      mcGroupIds: [group.groupUri, ...group.alsoGroupIds],
    },
    kms,
    hideIdentities: ctx.hideIdentities,
  };
  const signer = (toSelf: boolean): FanOutJob['signer'] => ({
    uri: ctx.gmsUri,
    kmsUri: ctx.kmsUri,
    userKeyPeriod: home.userKeyPeriod,
    userKeyOffset: home.userKeyOffset,
    kpak: home.pubAuthKey,
    ssk: keySet.ssk.slice(),
    pvt: keySet.pvt,
    sakkeToSelf: toSelf ? home.pubEncKey : undefined,
  });
  // §E.2: SAKKE-to-self where the GMK leaves this MC system (a member of another KMS).
  const local = targets.filter((m) => m.kmsUri === ctx.kmsUri);
  const foreign = targets.filter((m) => m.kmsUri !== ctx.kmsUri);
  const limit = ctx.maxInFlight;
  let inFlight = 0;
  const waiting: (() => void)[] = [];
  const sends: Promise<void>[] = [];
  const sendOne = async (member: GmsMember, imessage: Uint8Array): Promise<void> => {
    while (inFlight >= limit) await new Promise<void>((r) => waiting.push(r));
    inFlight++;
    let outcome: GmkDeliveryOutcome;
    try {
      outcome = await ctx.sender.send({ groupUri: group.groupUri, gmkId: gmk.gmkId, memberUri: member.memberUri, contact: registrations.get(member.memberUri)?.contact ?? '', imessage });
    } catch (err) {
      outcome = { state: 'failed', code: err instanceof McsecError ? err.code : ErrorCode.INTERNAL };
    }
    inFlight--;
    waiting.shift()?.();
    record(member.memberUri, outcome);
    settle();
  };
  for (const [part, toSelf] of [[local, false], [foreign, true]] as const) {
    if (part.length === 0) continue;
    const job: FanOutJob = { ...base, gmk: gmk.gmk.slice(), signer: signer(toSelf), recipients: part.map((m) => ({ uri: m.memberUri, kmsUri: m.kmsUri })) };
    await ctx.fanOut.run(job, (first, messages) => {
      messages.forEach((imessage, i) => {
        const member = part[first + i];
        if (member !== undefined) sends.push(sendOne(member, imessage));
      });
    });
  }
  await Promise.all(sends);
  await store.recordDeliveries(records);
  const count = (s: string): number => records.filter((r) => r.state === s).length;
  const report = { groupUri: group.groupUri, gmkId: gmk.gmkId, members: total, delivered: count('delivered'), refused: count('refused'), failed: count('failed'), pending: count('pending') };
  ctx.log.info({ fn: 'gms', op: 'distribute', ...report, gmkId: gmk.gmkId.toString(16).padStart(8, '0') }, 'distributed');
  return report;
}
