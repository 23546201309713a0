/**
 * The records of the KMS's durable state and the `KmsStore` interface (TS 33.180 §5.3 KMS):
 * domains with their master secrets, users, per-period key sets, client transport keys and
 * groups. Key material is `Uint8Array` in and out; how it is kept is the implementation's
 * business (kms-store.ts wraps every secret).
 */
import type { KmsClientKeyRotationStore } from './kms-rotation-records.js';

/** A KMS domain: user key period, public keys and master secrets. */
export interface KmsDomain {
  readonly kmsUri: string;
  /** UserKeyPeriod of the KMS certificate, seconds. */
  readonly userKeyPeriod: number;
  /** UserKeyOffset of the KMS certificate, seconds. */
  readonly userKeyOffset: number;
  /** Z_T, the KMS public key for SAKKE (RFC 6508). */
  readonly pubEncKey: Uint8Array;
  /** KPAK, the KMS public authentication key for ECCSI (RFC 6507). */
  readonly pubAuthKey: Uint8Array;
  /** z, the SAKKE master secret (stored wrapped). */
  readonly z: Uint8Array;
  /** KSAK, the ECCSI master secret (stored wrapped). */
  readonly ksak: Uint8Array;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}
/** A domain to create. */
export type NewKmsDomain = Omit<KmsDomain, 'createdAt'>;

/** A user of a KMS domain. */
export interface KmsUser {
  readonly userUri: string;
  readonly mcServiceId: string | undefined;
  readonly createdAt: number;
}
/** A user to add. */
export interface NewKmsUser {
  readonly userUri: string;
  readonly mcServiceId?: string | undefined;
}
/** Which page of users to list: up to `limit` after the URI `after`. */
export interface UserPageRequest {
  readonly after?: string | undefined;
  readonly limit?: number | undefined;
}
/** One page of users, ordered by URI; `next` continues after the last one. */
export interface KmsUserPage {
  readonly users: readonly KmsUser[];
  readonly next: string | undefined;
}

/** The key set issued to a user for one user key period. */
export interface KmsKeySet {
  readonly kmsUri: string;
  readonly userUri: string;
  readonly keyPeriodNo: number;
  /** UID, the identifier derived for the period (TS 33.180 §F.2.1). */
  readonly userId: Uint8Array;
  /** RSK, the SAKKE receiver secret key (stored wrapped). */
  readonly rsk: Uint8Array;
  /** SSK, the ECCSI secret signing key (stored wrapped). */
  readonly ssk: Uint8Array;
  /** PVT, the ECCSI public validation token. */
  readonly pvt: Uint8Array;
  readonly issuedAt: number;
}
/** A key set to store. */
export type NewKmsKeySet = Omit<KmsKeySet, 'issuedAt'>;

/** The transport keys of a KMS client (TS 33.180 §D.3.2 TrK, InK). */
export interface KmsClientKeys {
  /** The TrK-ID (§5.3.3: a 32-bit identifier, distributed out of band with the TrK). */
  readonly clientId: string;
  readonly trk: Uint8Array;
  readonly ink: Uint8Array | undefined;
  /** The InK-ID naming `ink`. */
  readonly inkId: string | undefined;
  /** The user these keys serve; undefined for keys not bound to one user. */
  readonly userUri: string | undefined;
  readonly createdAt: number;
}
/** Client keys to store. */
export interface NewKmsClientKeys {
  readonly clientId: string;
  readonly trk: Uint8Array;
  readonly ink?: Uint8Array | undefined;
  readonly inkId?: string | undefined;
  readonly userUri?: string | undefined;
}

/** An External KMS certificate held by a home KMS (§5.2.8.3: loaded manually by the operator). */
export interface KmsExternalCertificate {
  readonly kmsUri: string;
  readonly extKmsUri: string;
  /** The certificate's fields as JSON text (hex for keys), as the operator loaded it. */
  readonly certificate: string;
  /** It is the certificate of a Migration KMS (§3.1), not of a partner domain. */
  readonly migration: boolean;
  readonly addedAt: number;
}

/** A KRR uploaded for audit (D.2.8). */
export interface KmsKrrAudit {
  readonly id: string;
  readonly kmsUri: string;
  readonly userUri: string;
  readonly targetUri: string;
  readonly krr: string;
  readonly receivedAt: number;
}

/** The KMS's storage; TrK / InK rotations are kms-rotation-records.ts's part. */
export interface KmsStore extends KmsClientKeyRotationStore {
  /** Creates the domain unless it exists; returns the stored one (the first writer's). */
  createDomain(domain: NewKmsDomain): Promise<KmsDomain>;
  getDomain(kmsUri: string): Promise<KmsDomain | undefined>;
  /** Adds users in one transaction, skipping those present; returns how many were new. */
  addUsers(kmsUri: string, users: readonly NewKmsUser[]): Promise<number>;
  hasUser(kmsUri: string, userUri: string): Promise<boolean>;
  getUser(kmsUri: string, userUri: string): Promise<KmsUser | undefined>;
  /** Users ordered by URI, `limit` (default 100, at most 1000) after `after`. */
  listUsers(kmsUri: string, page?: UserPageRequest): Promise<KmsUserPage>;
  /** Stores a key set unless one exists for (kms, user, period); returns the stored one. */
  putKeySet(keySet: NewKmsKeySet): Promise<KmsKeySet>;
  getKeySet(kmsUri: string, userUri: string, keyPeriodNo: number): Promise<KmsKeySet | undefined>;
  /** Stores a client's keys unless present; returns the stored ones. */
  putClientKeys(keys: NewKmsClientKeys): Promise<KmsClientKeys>;
  getClientKeys(clientId: string): Promise<KmsClientKeys | undefined>;
  /** Removes a client's keys (for rotation); true when there were some. */
  deleteClientKeys(clientId: string): Promise<boolean>;
  /** Creates a group unless present. */
  createGroup(kmsUri: string, groupUri: string): Promise<void>;
  /** Adds users of the domain to a group, skipping present ones; returns how many were new. */
  addGroupMembers(kmsUri: string, groupUri: string, userUris: readonly string[]): Promise<number>;
  removeGroupMember(kmsUri: string, groupUri: string, userUri: string): Promise<boolean>;
  /** Member URIs, ordered. */
  listGroupMembers(kmsUri: string, groupUri: string): Promise<readonly string[]>;
  /** Loads or replaces an External KMS certificate. */
  putExternalCertificate(cert: Omit<KmsExternalCertificate, 'addedAt'>): Promise<KmsExternalCertificate>;
  /** External certificates, ordered by KMS URI. */
  listExternalCertificates(kmsUri: string): Promise<readonly KmsExternalCertificate[]>;
  /** Stores an uploaded KRR; the id is the caller's (unique). */
  addKrrAudit(record: Omit<KmsKrrAudit, 'receivedAt'>): Promise<void>;
  /** Uploaded KRRs, newest first, at most `limit` (default 100). */
  listKrrAudit(kmsUri: string, limit?: number): Promise<readonly KmsKrrAudit[]>;
}
