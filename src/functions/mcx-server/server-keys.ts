/**
 * The MCX server's own identity keys (TS 33.180 §5.8.1: "The MC Server shall also be provisioned
 * by the MC KMS with key material for an identity which is authorised to act as an MCX Server"):
 * for the MDSI and each user key period, the RSK that opens CSK uploads (§E.4.1: encapsulated to
 * the MDSI's UID) and the SSK/PVT that sign key downloads (§E.4.1: signed with the MDSI's UID),
 * plus the KMSs whose users it accepts (its own, and External KMS certificates, §5.2.8.3).
 *
 * `serverKeys` works on any source of key sets (a KMS store in the same database, or a client key
 * store filled by `mcsec kms fetch`); `serverKeysFromKms` is the first. Key sets are loaded for
 * the period of the time asked and its neighbours (`prepare`), RSKs validated and prepared once
 * (RFC 6508 §6.1.2), so that opening an I_MESSAGE is synchronous (openIMessage's `recipientFor`).
 */
import {
  SakkePublicKey,
  deriveUid,
  keyPeriodNoAt,
  prepareRsk,
  type SakkeRecipient,
} from '../../crypto/index.js';
import { ConfigError, ErrorCode } from '../../errors/index.js';
import type { KeyPeriods } from '../../formats/mikey/index.js';
import type { KmsStore } from '../../store/index.js';
import { KeyIssuer, externalCertificateFromJson } from '../kms/index.js';

/** A KMS whose users this server talks to: its public keys and key periods (D.3.2). */
export interface TrustedKms extends KeyPeriods {
  readonly kmsUri: string;
  readonly kpak: Uint8Array;
  readonly kms: SakkePublicKey;
}

/** The ECCSI signing pair of one key period (RFC 6507 §5.1.1). */
export interface SigningPair {
  readonly ssk: Uint8Array;
  readonly pvt: Uint8Array;
}

/** The server's identity keys, as the MCX functions use them. */
export interface McxServerKeys extends KeyPeriods {
  readonly mdsi: string;
  readonly kmsUri: string;
  readonly kms: SakkePublicKey;
  readonly kpak: Uint8Array;
  /** Loads and prepares the key sets of the periods at `at` − 1, `at` and `at` + 1. */
  prepare(at: Date): Promise<void>;
  recipientFor(keyPeriodNo: number): SakkeRecipient | undefined;
  signerFor(keyPeriodNo: number): SigningPair | undefined;
  /** The KMS of `kmsUri` when this server trusts it (its own, or an External one). */
  trustedKms(kmsUri: string): TrustedKms | undefined;
}

/** A key set as a source hands it over. */
export interface ServerKeySet {
  readonly rsk: Uint8Array;
  readonly ssk: Uint8Array;
  readonly pvt: Uint8Array;
  /** The UID the KMS issued the keys for; derived (F.2.1) when absent. */
  readonly userId?: Uint8Array;
}

/** What `serverKeys` needs. */
export interface ServerKeysInput extends KeyPeriods {
  readonly mdsi: string;
  readonly kmsUri: string;
  readonly pubEncKey: Uint8Array;
  readonly pubAuthKey: Uint8Array;
  /** The key set of a period, or undefined when none can be had. */
  readonly keySetFor: (keyPeriodNo: number) => Promise<ServerKeySet | undefined>;
  /** Further KMSs to trust (External KMS certificates, §5.2.8.3). */
  readonly external?: readonly ExternalKms[];
}

/** An External KMS from its certificate (D.3.2). */
export interface ExternalKms extends KeyPeriods {
  readonly kmsUri: string;
  readonly kpak: Uint8Array;
  readonly pubEncKey: Uint8Array;
}

interface Loaded {
  readonly recipient: SakkeRecipient;
  readonly signer: SigningPair;
}

/** Server keys over a key set source (see the module comment). */
export function serverKeys(input: ServerKeysInput): McxServerKeys {
  const kms = new SakkePublicKey(input.pubEncKey);
  const own: TrustedKms = Object.freeze({ kmsUri: input.kmsUri, kpak: input.pubAuthKey.slice(), kms, userKeyPeriod: input.userKeyPeriod, userKeyOffset: input.userKeyOffset });
  const trusted = new Map<string, TrustedKms>([[input.kmsUri, own]]);
  for (const e of input.external ?? []) {
    trusted.set(e.kmsUri, Object.freeze({ kmsUri: e.kmsUri, kpak: e.kpak, kms: new SakkePublicKey(e.pubEncKey), userKeyPeriod: e.userKeyPeriod, userKeyOffset: e.userKeyOffset }));
  }
  const loaded = new Map<number, Loaded>();
  const loading = new Map<number, Promise<void>>();
  const load = async (n: number): Promise<void> => {
    if (loaded.has(n) || n < 0) return;
    const set = await input.keySetFor(n);
    if (set === undefined) return;
    const uid = set.userId ?? deriveUid({ uri: input.mdsi, kmsUri: input.kmsUri, userKeyPeriod: input.userKeyPeriod, userKeyOffset: input.userKeyOffset, keyPeriodNo: n });
    loaded.set(n, { recipient: prepareRsk(kms, uid, set.rsk), signer: Object.freeze({ ssk: set.ssk.slice(), pvt: set.pvt.slice() }) });
  };
  return Object.freeze({
    mdsi: input.mdsi,
    kmsUri: input.kmsUri,
    kms,
    kpak: own.kpak,
    userKeyPeriod: input.userKeyPeriod,
    userKeyOffset: input.userKeyOffset,
    async prepare(at: Date): Promise<void> {
      const n = keyPeriodNoAt(at, input.userKeyPeriod, input.userKeyOffset);
      for (const k of [n, n - 1, n + 1]) {
        if (loaded.has(k)) continue;
        let p = loading.get(k);
        if (p === undefined) {
          p = load(k).finally(() => loading.delete(k));
          loading.set(k, p);
        }
        await p;
      }
      for (const k of loaded.keys()) if (k < n - 2 || k > n + 2) loaded.delete(k);
    },
    recipientFor: (n: number) => loaded.get(n)?.recipient,
    signerFor: (n: number) => loaded.get(n)?.signer,
    trustedKms: (uri: string) => trusted.get(uri),
  });
}

/**
 * Server keys issued by a KMS domain held in the same store (a co-located KMS): the MDSI is added
 * to the domain as a user when missing and its key sets are issued like any user's (KeyIssuer);
 * the domain's External KMS certificates are trusted as well.
 */
export async function serverKeysFromKms(store: KmsStore, kmsUri: string, mdsi: string): Promise<McxServerKeys> {
  const domain = await store.getDomain(kmsUri);
  if (domain === undefined) {
    throw new ConfigError(ErrorCode.CONFIG, { field: '--kms-uri', rule: `no KMS domain ${kmsUri} in this store: run mcsec kms init-domain first` });
  }
  await store.addUsers(kmsUri, [{ userUri: mdsi, mcServiceId: mdsi }]);
  const issuer = new KeyIssuer(store, domain);
  const external = (await store.listExternalCertificates(kmsUri)).map((c) => {
    const cert = externalCertificateFromJson(c.certificate);
    return { kmsUri: cert.kmsUri, kpak: cert.pubAuthKey, pubEncKey: cert.pubEncKey, userKeyPeriod: cert.userKeyPeriod, userKeyOffset: cert.userKeyOffset };
  });
  return serverKeys({
    mdsi,
    kmsUri,
    pubEncKey: domain.pubEncKey,
    pubAuthKey: domain.pubAuthKey,
    userKeyPeriod: domain.userKeyPeriod,
    userKeyOffset: domain.userKeyOffset,
    keySetFor: async (n) => {
      const k = await issuer.keySet(mdsi, n);
      return { rsk: k.rsk, ssk: k.ssk, pvt: k.pvt, userId: k.userId };
    },
    external,
  });
}
