/**
 * One unit of GMK fan-out work (TS 33.180 §5.7): a GMK, its §E.6 key parameters, the GMS signing
 * identity and a slice of members, as plain structured-cloneable data so that it can cross to a
 * worker thread (node:worker_threads). `runFanOutJob` turns it into the members' signed
 * I_MESSAGEs with `createGmkIMessages`; `FanOutTables` keeps the per-KMS encapsulation tables a
 * thread has built (public values only), so a worker builds them once, not per job.
 */
import { SakkePublicKey } from '../../crypto/index.js';
import { SakkeBatchEncapsulator, type SakkeBatchOptions } from '../../crypto/sakke-batch.js';
import { ErrorCode, PolicyError } from '../../errors/index.js';
import { toHex } from '../../util/index.js';
import { createGmkIMessages } from './gmk-i-message.js';

/** The public key and key periods of a KMS a job encrypts to. */
export interface FanOutKms {
  readonly pubEncKey: Uint8Array;
  readonly userKeyPeriod: number;
  readonly userKeyOffset: number;
}

/** A fan-out job (all members of one call; the pool cuts it into slices). */
export interface FanOutJob {
  readonly gmk: Uint8Array;
  readonly gmkId: number;
  /** The RAND of every member's message (the GMK's, §7.4.2); absent: `gmkRand(gmk, gmkId)`. */
  readonly rand?: Uint8Array | undefined;
  /** The I_MESSAGE time, ms since the epoch. */
  readonly timeMs: number;
  readonly keyParameters: {
    readonly revoked: boolean;
    readonly securityGateway: boolean;
    /** ms since the epoch (whole seconds). */
    readonly activationMs: number;
    readonly expiryMs: number | undefined;
    readonly text: string;
    readonly mcGroupIds: readonly string[];
  };
  readonly signer: {
    readonly uri: string;
    readonly kmsUri: string;
    readonly userKeyPeriod: number;
    readonly userKeyOffset: number;
    readonly kpak: Uint8Array;
    readonly ssk: Uint8Array;
    readonly pvt: Uint8Array;
    /** The signer's KMS Z_T for a SAKKE-to-self payload (§E.5); undefined: none. */
    readonly sakkeToSelf: Uint8Array | undefined;
  };
  /** Members' KMSs by KMS URI. */
  readonly kms: Readonly<Record<string, FanOutKms>>;
  readonly recipients: readonly { readonly uri: string; readonly kmsUri: string }[];
  readonly hideIdentities: boolean;
}

/** The tables one thread holds: a batch encapsulator per KMS public key. */
export class FanOutTables {
  readonly #options: SakkeBatchOptions;
  readonly #byKey = new Map<string, SakkeBatchEncapsulator>();
  readonly #publicKeys = new Map<string, SakkePublicKey>();
  constructor(options: SakkeBatchOptions = {}) {
    this.#options = options;
  }
  /** The prepared KMS public key Z_T. */
  publicKey(zT: Uint8Array): SakkePublicKey {
    const k = toHex(zT);
    let pk = this.#publicKeys.get(k);
    if (pk === undefined) this.#publicKeys.set(k, (pk = new SakkePublicKey(zT)));
    return pk;
  }
  /** The batch encapsulator of a KMS public key, its tables built on first use. */
  encapsulator(zT: Uint8Array): SakkeBatchEncapsulator {
    const k = toHex(zT);
    let e = this.#byKey.get(k);
    if (e === undefined) this.#byKey.set(k, (e = new SakkeBatchEncapsulator(this.publicKey(zT), this.#options)));
    return e;
  }
  /** Builds the tables of these KMS public keys now (and the shared ones), off the timed path. */
  warm(keys: readonly Uint8Array[]): void {
    for (const zT of keys) this.encapsulator(zT).encapsulate([Uint8Array.of(1)], new Uint8Array(16));
  }
}

/** The signed I_MESSAGE of each recipient of the job, in order. */
export function runFanOutJob(job: FanOutJob, tables: FanOutTables, rng?: (n: number) => Uint8Array): Uint8Array[] {
  const kmsOf = (uri: string): FanOutKms => {
    const k = job.kms[uri];
    if (k === undefined) {
      throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'gms.member.kmsUri', rule: 'no KMS certificate is held for this member KMS', clause: 'TS 33.180 §5.2.7.3' });
    }
    return k;
  };
  const p = job.keyParameters;
  const s = job.signer;
  return createGmkIMessages({
    gmk: job.gmk,
    gmkId: job.gmkId,
    ...(job.rand === undefined ? {} : { rand: job.rand }),
    time: new Date(job.timeMs),
    signer: {
      uri: s.uri,
      kmsUri: s.kmsUri,
      userKeyPeriod: s.userKeyPeriod,
      userKeyOffset: s.userKeyOffset,
      kpak: s.kpak,
      ssk: s.ssk,
      pvt: s.pvt,
      sakkeToSelf: s.sakkeToSelf === undefined ? undefined : tables.publicKey(s.sakkeToSelf),
    },
    recipients: job.recipients.map((r) => {
      const k = kmsOf(r.kmsUri);
      return { uri: r.uri, kmsUri: r.kmsUri, userKeyPeriod: k.userKeyPeriod, userKeyOffset: k.userKeyOffset };
    }),
    encapsulatorFor: (kmsUri) => tables.encapsulator(kmsOf(kmsUri).pubEncKey),
    keyParameters: {
      status: { revoked: p.revoked, securityGateway: p.securityGateway },
      activationTime: new Date(p.activationMs),
      ...(p.expiryMs === undefined ? {} : { expiryTime: new Date(p.expiryMs) }),
      text: p.text,
      mcGroupIds: p.mcGroupIds,
    },
    hideIdentities: job.hideIdentities,
    ...(rng === undefined ? {} : { rng }),
  });
}
