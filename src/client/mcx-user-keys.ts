/**
 * The user's identity keys as the client's MCX signalling keys use them (TS 33.180 §5.3: the
 * KMS-provisioned key sets per user key period): the SSK/PVT that sign CSK uploads (§E.4.1), the
 * RSK that opens key downloads, validated and prepared on first use (RFC 6508 §6.1.2), and the
 * KMSs the client trusts. `userKeys` takes key sets from any source, `userKeysFromStore` from the
 * client key store that `mcsec kms fetch` fills (§5.3.3).
 */
import { SakkePublicKey, deriveUid, prepareRsk, type SakkeRecipient } from '../crypto/index.js';
import { ErrorCode, PolicyError } from '../errors/index.js';
import type { KeyPeriods } from '../formats/mikey/index.js';
import type { ClientKeyStore } from './key-store.js';

/** A KMS the client trusts: its public keys and key periods. */
export interface ClientTrustedKms extends KeyPeriods {
  readonly kpak: Uint8Array;
  readonly kms: SakkePublicKey;
}

/** The user's identity keys (KMS-provisioned, §5.3) as the MCX signalling keys use them. */
export interface McxUserKeys extends KeyPeriods {
  /** The MC service user ID. */
  readonly uri: string;
  readonly kmsUri: string;
  readonly kms: SakkePublicKey;
  readonly kpak: Uint8Array;
  signerFor(keyPeriodNo: number): { readonly ssk: Uint8Array; readonly pvt: Uint8Array } | undefined;
  recipientFor(keyPeriodNo: number): SakkeRecipient | undefined;
  trustedKms(kmsUri: string): ClientTrustedKms | undefined;
}

/** A key set as given to `userKeys`. */
export interface UserKeySet {
  readonly rsk: Uint8Array;
  readonly ssk: Uint8Array;
  readonly pvt: Uint8Array;
  /** The UID the KMS issued it for (derived per §F.2.1 when absent). */
  readonly userId?: Uint8Array;
}

/** User keys from key sets by key period (RSKs validated and prepared on first use). */
export function userKeys(o: KeyPeriods & { readonly uri: string; readonly kmsUri: string; readonly pubEncKey: Uint8Array; readonly pubAuthKey: Uint8Array; readonly keySetFor: (keyPeriodNo: number) => UserKeySet | undefined }): McxUserKeys {
  const kms = new SakkePublicKey(o.pubEncKey);
  const periods = { userKeyPeriod: o.userKeyPeriod, userKeyOffset: o.userKeyOffset };
  const own: ClientTrustedKms = Object.freeze({ kpak: o.pubAuthKey.slice(), kms, ...periods });
  const prepared = new Map<number, SakkeRecipient>();
  return Object.freeze({
    uri: o.uri,
    kmsUri: o.kmsUri,
    kms,
    kpak: own.kpak,
    ...periods,
    signerFor: (n: number) => {
      const k = o.keySetFor(n);
      return k === undefined ? undefined : { ssk: k.ssk, pvt: k.pvt };
    },
    recipientFor: (n: number) => {
      const held = prepared.get(n);
      if (held !== undefined) return held;
      const k = o.keySetFor(n);
      if (k === undefined) return undefined;
      const r = prepareRsk(kms, k.userId ?? deriveUid({ uri: o.uri, kmsUri: o.kmsUri, ...periods, keyPeriodNo: n }), k.rsk);
      prepared.set(n, r);
      return r;
    },
    trustedKms: (uri: string) => (uri === o.kmsUri ? own : undefined),
  });
}

/** User keys from the client key store that `mcsec kms fetch` fills (§5.3.3). */
export function userKeysFromStore(store: ClientKeyStore, kmsUri: string, userUri: string): McxUserKeys {
  const cert = store.getCertificate(kmsUri);
  if (cert === undefined) throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'clientKeyStore.certificate', rule: `holds no certificate of KMS ${kmsUri}`, clause: 'TS 33.180 §5.3.3' });
  return userKeys({
    uri: userUri,
    kmsUri,
    pubEncKey: cert.pubEncKey,
    pubAuthKey: cert.pubAuthKey,
    userKeyPeriod: cert.userKeyPeriod,
    userKeyOffset: cert.userKeyOffset,
    keySetFor: (n) => store.getKeySet(kmsUri, userUri, n),
  });
}
