/**
 * The records of the MCX server's durable state and the `McxStore` interface (TS 33.180 §9.2):
 * the CSKs clients uploaded (§9.2.1.3) or were sent (§9.2.1.4), each bound to the MC service user
 * and the client; the registrations key downloads are sent to (§5.8.2 step 0); the MuSiKs the
 * server made (§9.2.2) and which clients accepted or rejected them; the SPKs provisioned per
 * partner (§5.5, §9.2.3). Keys are `Uint8Array` in and out; mcx-store.ts seals them at rest.
 */

/** Where a CSK came from: a client's CSK upload, or the server's key download. */
export type McxCskOrigin = 'upload' | 'download';

/** A Client-Server Key held for one client of one MC service user (TS 33.180 §9.2.1). */
export interface McxCsk {
  /** CSK-ID, purpose tag 2 (Annex G). */
  readonly cskId: number;
  /** The MC service user ID the CSK belongs to (IDRi of the upload, §E.4.1). */
  readonly userUri: string;
  /** The client (device) of that user: its +sip.instance, or its Contact URI. */
  readonly clientId: string;
  /** The SIP core identity (IMPU) the upload came under (§5.4: IMPU, MC service user ID, CSK). */
  readonly impu: string;
  readonly csk: Uint8Array;
  readonly origin: McxCskOrigin;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  /** From the §E.6 activation time, when one was sent. */
  readonly activatesAt: number | undefined;
  /** The earlier of the §E.6 expiry time and the registration's expiry, when known. */
  readonly expiresAt: number | undefined;
  /**
   * The RAND of the MIKEY message that carried the CSK (16-255 octets, public): the KFC-RAND of
   * SRTCP under this CSK (§9.4.2, §9.4.6). Undefined for rows stored before 0007_mcx_csk_rand.
   */
  readonly rand: Uint8Array | undefined;
}
/** A CSK to store. */
export type NewMcxCsk = Omit<McxCsk, 'createdAt'>;

/** Where a registered client is reached for key downloads (TS 33.180 §5.8.2 step 0). */
export interface McxRegistration {
  readonly userUri: string;
  readonly clientId: string;
  readonly impu: string;
  /** The KMS of the user's keys (IDRkmsi of its CSK upload, else the server's own KMS). */
  readonly userKmsUri: string;
  /** The Contact URI the client registered. */
  readonly contact: string;
  /** The transport and source address the REGISTER arrived on. */
  readonly transport: 'udp' | 'tcp' | 'tls';
  readonly host: string;
  readonly port: number;
  readonly expiresAt: number;
  readonly updatedAt: number;
}
/** A registration to store (insert or replace). */
export type NewMcxRegistration = Omit<McxRegistration, 'updatedAt'>;

/** A Multicast Signalling Key made by this server (TS 33.180 §9.2.2). */
export interface McxMusik {
  /** MuSiK-ID, purpose tag 6 (Annex G). */
  readonly musikId: number;
  /** What it protects: '' for MuSiKAll, else the MC group ID of a MuSiKGRP (§9.2.2). */
  readonly groupId: string;
  readonly musik: Uint8Array;
  readonly createdAt: number;
  readonly expiresAt: number | undefined;
}
/** A MuSiK to store. */
export type NewMcxMusik = Omit<McxMusik, 'createdAt'>;

/** Whether a client took a MuSiK (§9.2.2: a rejecting client gets signalling on unicast only). */
export interface McxMusikDelivery {
  readonly musikId: number;
  readonly userUri: string;
  readonly clientId: string;
  readonly status: 'accepted' | 'rejected';
  readonly at: number;
}

/** A Signalling Protection Key shared with a partner server or domain (TS 33.180 §5.5). */
export interface McxSpk {
  /** SPK-ID, purpose tag 3 (Annex G). */
  readonly spkId: number;
  /** The partner: a domain name or server URI, as configured. */
  readonly partner: string;
  readonly spk: Uint8Array;
  /** SPK-RAND, 128 bits (§5.5); the KFC-RAND between servers (§9.4.6). */
  readonly spkRand: Uint8Array;
  readonly createdAt: number;
  readonly expiresAt: number | undefined;
}
/** An SPK to store. */
export type NewMcxSpk = Omit<McxSpk, 'createdAt'>;

/** The MCX server's durable state. */
export interface McxStore {
  /**
   * Stores a CSK for (userUri, clientId) and removes that client's other CSKs, in one
   * transaction. A CSK-ID already held for another client is PolicyError ERR_FORBIDDEN
   * (§5.2.2: the key identifier is unique within the MC domain); nothing changes then.
   */
  replaceCsk(csk: NewMcxCsk): Promise<McxCsk>;
  getCsk(cskId: number): Promise<McxCsk | undefined>;
  /** The CSKs of a user, oldest first. */
  listCsks(userUri: string): Promise<readonly McxCsk[]>;
  /** Removes the CSKs of a user (of one client when given); returns how many went. */
  deleteCsks(userUri: string, clientId?: string): Promise<number>;
  /** Sets the expiry of a client's CSKs (a registration refresh), never past their own. */
  extendCsks(userUri: string, clientId: string, expiresAt: number): Promise<void>;

  putRegistration(r: NewMcxRegistration): Promise<McxRegistration>;
  /** The unexpired registrations of a user at `now`. */
  listRegistrations(userUri: string, now: number): Promise<readonly McxRegistration[]>;
  deleteRegistration(userUri: string, clientId: string): Promise<boolean>;

  putMusik(m: NewMcxMusik): Promise<McxMusik>;
  getMusik(musikId: number): Promise<McxMusik | undefined>;
  listMusiks(): Promise<readonly McxMusik[]>;
  recordMusikDelivery(d: Omit<McxMusikDelivery, 'at'>): Promise<McxMusikDelivery>;
  listMusikDeliveries(musikId: number): Promise<readonly McxMusikDelivery[]>;

  /** Inserts or replaces the SPK with this SPK-ID (provisioning is idempotent). */
  putSpk(s: NewMcxSpk): Promise<McxSpk>;
  getSpk(spkId: number): Promise<McxSpk | undefined>;
  /** The SPKs of a partner, newest first (all partners when undefined). */
  listSpks(partner?: string): Promise<readonly McxSpk[]>;
}
