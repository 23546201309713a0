/**
 * The records of the GMS's durable state and the `GmsStore` interface (TS 33.180 §5.7, §7.3):
 * the GMS's own identity key sets from its KMS (§5.7.2 step 0, §7.3.3.1), the KMS certificates
 * of the domains of its members (§5.2.7.2 item 5), groups with their members, the GMKs of each
 * group (GMK-ID, activation and expiry time, status, text: §E.6), the members' registered
 * contacts, and what was delivered to whom. Key material is `Uint8Array` in and out; the
 * implementation keeps secrets (RSK, SSK, GMK) wrapped (gms-store.ts).
 */

/** A KMS certificate the GMS holds (D.3.2.2): its own KMS's and those of members' domains. */
export interface GmsKmsCertificate {
  readonly kmsUri: string;
  /** UserKeyPeriod, seconds. */
  readonly userKeyPeriod: number;
  /** UserKeyOffset, seconds. */
  readonly userKeyOffset: number;
  /** Z_T (SAKKE public key). */
  readonly pubEncKey: Uint8Array;
  /** KPAK (ECCSI public authentication key). */
  readonly pubAuthKey: Uint8Array;
  /** IsSecurityGateway (D.3.2.2): users of this KMS are represented by an MC Security Gateway. */
  readonly isSecurityGateway: boolean;
  readonly updatedAt: number;
}

/** One key set of the GMS's identity (its Server URI) for a user key period. */
export interface GmsKeySet {
  readonly gmsUri: string;
  readonly keyPeriodNo: number;
  readonly kmsUri: string;
  /** UID (§F.2.1) the KMS sent. */
  readonly userId: Uint8Array;
  /** RSK (stored wrapped): opens GMKs a primary GMS transfers to this one (CR §11.1.2.2). */
  readonly rsk: Uint8Array;
  /** SSK (stored wrapped): signs the GMK I_MESSAGEs (§5.7). */
  readonly ssk: Uint8Array;
  readonly pvt: Uint8Array;
  readonly storedAt: number;
}

/** A group (an MC group ID) the GMS manages or receives GMKs for. */
export interface GmsGroup {
  /** The MC group ID, e.g. sip:fire-team@example.org. */
  readonly groupUri: string;
  /** Further MC group IDs the same GMK serves (§5.7: MCPTT, MCData, MCVideo IDs). */
  readonly alsoGroupIds: readonly string[];
  /** undefined: this GMS makes the group's GMKs; otherwise the primary GMS that sends them (CR §11.1.2.2). */
  readonly primaryGmsUri: string | undefined;
  /** Text of the GMK key parameters (§E.6.5). */
  readonly text: string;
  /** Lifetime of each GMK, seconds (its expiry time, §E.6.10); 0: GMKs do not expire. */
  readonly gmkLifetime: number;
  /** Make a new GMK when a member is removed (§5.7.3: "depending on the security profile"). */
  readonly rekeyOnRemove: boolean;
  readonly createdAt: number;
}
/** A group to create. */
export type NewGmsGroup = Omit<GmsGroup, 'createdAt'>;

/** A member of a group: an MC service ID, a partner GMS URI (CR §11.1.2.2) or another server. */
export interface GmsMember {
  readonly groupUri: string;
  readonly memberUri: string;
  /** The member's KMS (§5.2.7.2 item 5). */
  readonly kmsUri: string;
  readonly addedAt: number;
}
/** A member to add. */
export type NewGmsMember = Omit<GmsMember, 'groupUri' | 'addedAt'>;

/** A GMK of a group with its key parameters (§5.7, §E.6). */
export interface GmsGmk {
  readonly groupUri: string;
  /** GMK-ID: purpose tag 0 and 28 random bits (Annex G). */
  readonly gmkId: number;
  /** 1, 2, …: the order GMKs were made or received in for this group (unique per group). */
  readonly generation: number;
  /** The 16-octet GMK (stored wrapped). */
  readonly gmk: Uint8Array;
  /** Activation time, ms since the epoch (whole seconds, as §E.6.4 sends it). */
  readonly activationAt: number;
  /** Expiry time, ms since the epoch, or undefined: no expiry (§E.6.10). */
  readonly expiryAt: number | undefined;
  /** Status: revoked (§E.6.9). */
  readonly revoked: boolean;
  readonly text: string;
  /** undefined: made here; otherwise the primary GMS it came from. */
  readonly origin: string | undefined;
  /**
   * The RAND of the GMK's MIKEY messages (16-255 octets, public): drawn once when the GMK is made,
   * or the one the primary GMS sent, so that every member derives the same SRTP keys (§7.4.2).
   * Undefined for rows stored before 0008_gms_gmk_rand.
   */
  readonly rand: Uint8Array | undefined;
  readonly createdAt: number;
}
/** A GMK to store. */
export type NewGmsGmk = Omit<GmsGmk, 'createdAt'>;

/** A member's registered contact (the GMS registrar: one binding per member URI). */
export interface GmsRegistration {
  readonly memberUri: string;
  /** The Contact URI the member registered (where GMK messages go). */
  readonly contact: string;
  readonly expiresAt: number;
  readonly updatedAt: number;
}

/** What happened to one GMK message for one member. */
export type GmsDeliveryState = 'pending' | 'delivered' | 'refused' | 'failed';

/** The delivery record of a GMK to a member. */
export interface GmsDelivery {
  readonly groupUri: string;
  readonly gmkId: number;
  readonly memberUri: string;
  readonly state: GmsDeliveryState;
  /** The final SIP status (delivered / refused), if any. */
  readonly status: number | undefined;
  /** The refusal's error code (its Warning header) or the transport error's, if any. */
  readonly code: string | undefined;
  readonly attempts: number;
  readonly updatedAt: number;
}
/** A delivery record to write (attempts and time are the store's). */
export type NewGmsDelivery = Omit<GmsDelivery, 'attempts' | 'updatedAt'>;

/** The GMS's storage. */
export interface GmsStore {
  /** Loads or replaces a KMS certificate. */
  putKmsCertificate(cert: Omit<GmsKmsCertificate, 'updatedAt'>): Promise<GmsKmsCertificate>;
  getKmsCertificate(kmsUri: string): Promise<GmsKmsCertificate | undefined>;
  /** All held KMS certificates, ordered by KMS URI. */
  listKmsCertificates(): Promise<readonly GmsKmsCertificate[]>;
  /** Stores or replaces the GMS's key set for (GMS URI, period). */
  putKeySet(keySet: Omit<GmsKeySet, 'storedAt'>): Promise<GmsKeySet>;
  getKeySet(gmsUri: string, keyPeriodNo: number): Promise<GmsKeySet | undefined>;
  /** Key period numbers held for the GMS URI, ascending. */
  listKeyPeriods(gmsUri: string): Promise<readonly number[]>;

  /** Creates a group unless present; returns the stored one and whether this call made it. */
  createGroup(group: NewGmsGroup): Promise<{ readonly group: GmsGroup; readonly created: boolean }>;
  getGroup(groupUri: string): Promise<GmsGroup | undefined>;
  listGroups(): Promise<readonly GmsGroup[]>;
  /** Adds members in one transaction, skipping present ones; returns those that were new. */
  addMembers(groupUri: string, members: readonly NewGmsMember[]): Promise<readonly string[]>;
  /** Removes members; returns those that were there. */
  removeMembers(groupUri: string, memberUris: readonly string[]): Promise<readonly string[]>;
  /** Members ordered by URI. */
  listMembers(groupUri: string): Promise<readonly GmsMember[]>;
  /** The groups a member URI belongs to, ordered. */
  groupsOf(memberUri: string): Promise<readonly string[]>;

  /**
   * Stores a GMK unless its group already has one with this generation or GMK-ID (two instances
   * rekeying at once: the first writer wins); true when this call stored it.
   */
  putGmk(gmk: NewGmsGmk): Promise<boolean>;
  /** The group's GMKs, ordered by generation. */
  listGmks(groupUri: string): Promise<readonly GmsGmk[]>;
  /** Marks a GMK revoked (§E.6.9); true when it was not already. */
  revokeGmk(groupUri: string, gmkId: number): Promise<boolean>;

  /** Stores or replaces a member's contact. */
  putRegistration(r: Omit<GmsRegistration, 'updatedAt'>): Promise<GmsRegistration>;
  /** Removes a member's contact; true when there was one. */
  deleteRegistration(memberUri: string): Promise<boolean>;
  /** The unexpired contacts at `nowMs` of the given members. */
  getRegistrations(memberUris: readonly string[], nowMs: number): Promise<ReadonlyMap<string, GmsRegistration>>;

  /** Writes delivery records (attempts counted per (group, GMK, member)). */
  recordDeliveries(records: readonly NewGmsDelivery[]): Promise<void>;
  /** Delivery records of a GMK (or of every GMK of the group), ordered by member. */
  listDeliveries(groupUri: string, gmkId?: number): Promise<readonly GmsDelivery[]>;
}
