/**
 * Key sets of a KMS domain (TS 33.180 §5.3, Annex D.3.3, F.2.1): for a user and a user key period,
 * the UID of F.2.1, the RSK (RFC 6508 §6.1.1) and an SSK/PVT pair (RFC 6507 §5.1.1). A key set is
 * made once and stored (first writer wins, kms-store.ts), so every KMS instance on one database
 * hands the same keys for the same (user, period): the RSK is determined by z and the UID, the
 * SSK/PVT are random and the stored pair is the one served.
 */
import {
  NTP_UNIX_OFFSET,
  deriveUid,
  extractRsk,
  generateEccsiPair,
  keyPeriodNoAt,
  keyPeriodNoAtNtp,
} from '../../crypto/index.js';
import type { KmsDomain, KmsKeySet, KmsStore } from '../../store/index.js';

/** Start and end (exclusive) of a user key period, as Dates (F.2.1: periods count from 1900). */
export function keyPeriodBounds(domain: Pick<KmsDomain, 'userKeyPeriod' | 'userKeyOffset'>, keyPeriodNo: number): { readonly from: Date; readonly to: Date } {
  const start = domain.userKeyOffset + keyPeriodNo * domain.userKeyPeriod - NTP_UNIX_OFFSET;
  return { from: new Date(start * 1000), to: new Date((start + domain.userKeyPeriod) * 1000) };
}

/** The user key period number at `date` for the domain. */
export const keyPeriodNoOf = (domain: Pick<KmsDomain, 'userKeyPeriod' | 'userKeyOffset'>, date: Date): number =>
  keyPeriodNoAt(date, domain.userKeyPeriod, domain.userKeyOffset);

/** The user key period number at an NTP-UTC time in seconds (the D.2.4 time segment). */
export const keyPeriodNoOfNtp = (domain: Pick<KmsDomain, 'userKeyPeriod' | 'userKeyOffset'>, ntpSeconds: number): number =>
  keyPeriodNoAtNtp(ntpSeconds, domain.userKeyPeriod, domain.userKeyOffset);

/** Issues and stores key sets for one domain. */
export class KeyIssuer {
  readonly #store: KmsStore;
  readonly #domain: KmsDomain;

  constructor(store: KmsStore, domain: KmsDomain) {
    this.#store = store;
    this.#domain = domain;
  }

  /** The UID of `userUri` for the period (F.2.1). */
  uidOf(userUri: string, keyPeriodNo: number): Uint8Array {
    const d = this.#domain;
    return deriveUid({ uri: userUri, kmsUri: d.kmsUri, userKeyPeriod: d.userKeyPeriod, userKeyOffset: d.userKeyOffset, keyPeriodNo });
  }

  /** The stored key set, made and stored first when there is none. */
  async keySet(userUri: string, keyPeriodNo: number): Promise<KmsKeySet> {
    const d = this.#domain;
    const held = await this.#store.getKeySet(d.kmsUri, userUri, keyPeriodNo);
    if (held !== undefined) return held;
    return this.#store.putKeySet(this.make(userUri, keyPeriodNo));
  }

  /** A fresh key set (not stored): UID, RSK, SSK/PVT. */
  make(userUri: string, keyPeriodNo: number): Omit<KmsKeySet, 'issuedAt'> {
    const d = this.#domain;
    const userId = this.uidOf(userUri, keyPeriodNo);
    const rsk = extractRsk(d.z, userId);
    const { ssk, pvt } = generateEccsiPair({ ksak: d.ksak, kpak: d.pubAuthKey }, userId);
    return { kmsUri: d.kmsUri, userUri, keyPeriodNo, userId, rsk, ssk, pvt };
  }
}
