/**
 * The GMS's own identity keys (TS 33.180 §5.7.2 step 0: "The GMS shall also be securely
 * provisioned with identity-specific key material for the GMS's Server URI"; §7.3.3.1: the GMS is
 * provisioned "with the same information as any MC UE by the KMS", its identity a Server URI).
 * The GMS is a KMS client: whoever fetched its key sets from the KMS (Annex D, e.g. `mcsec gms
 * fetch-keys` with the client SDK's KmsClient) hands them here; they are validated (RFC 6507
 * §5.1.2, RFC 6508 §6.1.2, UID = F.2.1 of the GMS URI for the period) and stored sealed.
 */
import {
  SakkePublicKey,
  deriveUid,
  keyPeriodNoAt,
  prepareRsk,
  validateEccsiPair,
  validateRsk,
  type SakkeRecipient,
} from '../../crypto/index.js';
import { ErrorCode, PolicyError } from '../../errors/index.js';
import type { GmsKeySet, GmsKmsCertificate, GmsStore } from '../../store/index.js';
import { equalBytes } from '../../util/index.js';

/** A KMS certificate's fields the GMS keeps (D.3.2.2). */
export interface GmsCertificateInput {
  readonly kmsUri: string;
  readonly userKeyPeriod: number;
  readonly userKeyOffset: number;
  readonly pubEncKey: Uint8Array;
  readonly pubAuthKey: Uint8Array;
  readonly isSecurityGateway?: boolean | undefined;
}

/** What the KMS gave the GMS: its home certificate, key sets, External KMS certificates. */
export interface GmsIdentityMaterial {
  readonly certificate: GmsCertificateInput;
  readonly keySets: readonly {
    readonly keyPeriodNo: number;
    readonly userId: Uint8Array;
    readonly rsk: Uint8Array;
    readonly ssk: Uint8Array;
    readonly pvt: Uint8Array;
  }[];
  readonly externalCertificates?: readonly GmsCertificateInput[] | undefined;
}

const certOf = (c: GmsCertificateInput): Omit<GmsKmsCertificate, 'updatedAt'> => ({
  kmsUri: c.kmsUri,
  userKeyPeriod: c.userKeyPeriod,
  userKeyOffset: c.userKeyOffset,
  pubEncKey: c.pubEncKey,
  pubAuthKey: c.pubAuthKey,
  isSecurityGateway: c.isSecurityGateway === true,
});

/**
 * Validates and stores the GMS identity key sets and KMS certificates; nothing is stored when a
 * check fails. Returns the key period numbers stored.
 */
export async function installGmsIdentity(store: GmsStore, gmsUri: string, m: GmsIdentityMaterial): Promise<readonly number[]> {
  const c = m.certificate;
  const kms = new SakkePublicKey(c.pubEncKey);
  for (const [i, k] of m.keySets.entries()) {
    const uid = deriveUid({ uri: gmsUri, kmsUri: c.kmsUri, userKeyPeriod: c.userKeyPeriod, userKeyOffset: c.userKeyOffset, keyPeriodNo: k.keyPeriodNo });
    if (!equalBytes(uid, k.userId)) {
      throw new PolicyError(ErrorCode.BAD_VALUE, {
        field: `gms.keySets[${i}].userId`,
        rule: 'must be the F.2.1 UID of the GMS Server URI for its key period (the GMS signs with that UID, Annex E.2)',
        clause: 'TS 33.180 §F.2.1',
      });
    }
    validateEccsiPair(c.pubAuthKey, k.userId, { ssk: k.ssk, pvt: k.pvt }); // RFC 6507 §5.1.2
    validateRsk(kms, k.userId, k.rsk); // RFC 6508 §6.1.2
  }
  await store.putKmsCertificate(certOf(c));
  for (const e of m.externalCertificates ?? []) if (e.kmsUri !== c.kmsUri) await store.putKmsCertificate(certOf(e));
  for (const k of m.keySets) await store.putKeySet({ gmsUri, kmsUri: c.kmsUri, ...k });
  return Object.freeze(m.keySets.map((k) => k.keyPeriodNo));
}

/** The GMS's signing identity at a time: its home KMS certificate and key set of that period. */
export interface GmsSigningIdentity {
  readonly certificate: GmsKmsCertificate;
  readonly keySet: GmsKeySet;
}

/** The identity for `at`, or PolicyError ERR_UNKNOWN_KEY when the KMS has not keyed that period. */
export async function signingIdentity(store: GmsStore, gmsUri: string, kmsUri: string, at: Date): Promise<GmsSigningIdentity> {
  const certificate = await store.getKmsCertificate(kmsUri);
  if (certificate === undefined) {
    throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'gms.kmsUri', rule: `no certificate of the GMS's KMS ${kmsUri} is held: fetch the GMS keys from its KMS`, clause: 'TS 33.180 §5.7.2' });
  }
  const period = keyPeriodNoAt(at, certificate.userKeyPeriod, certificate.userKeyOffset);
  const keySet = await store.getKeySet(gmsUri, period);
  if (keySet === undefined) {
    throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'gms.keySet', rule: `no GMS key set is held for key period ${period}: fetch the GMS keys from its KMS`, clause: 'TS 33.180 §5.7.2' });
  }
  return { certificate, keySet };
}

/** Prepared RSKs of the GMS by key period (derived from the store; a cache, nothing more). */
export class GmsRecipients {
  readonly #store: GmsStore;
  readonly #gmsUri: string;
  readonly #prepared = new Map<number, SakkeRecipient>();
  constructor(store: GmsStore, gmsUri: string) {
    this.#store = store;
    this.#gmsUri = gmsUri;
  }
  /** Loads and prepares the RSKs of these periods (prepareRsk is ~1 s per key). */
  async load(cert: GmsKmsCertificate, periods: readonly number[]): Promise<void> {
    const kms = new SakkePublicKey(cert.pubEncKey);
    for (const p of periods) {
      if (this.#prepared.has(p)) continue;
      const k = await this.#store.getKeySet(this.#gmsUri, p);
      if (k !== undefined) this.#prepared.set(p, prepareRsk(kms, k.userId, k.rsk));
    }
  }
  /** The prepared RSK of a period, if loaded. */
  recipientFor(keyPeriodNo: number): SakkeRecipient | undefined {
    return this.#prepared.get(keyPeriodNo);
  }
}
