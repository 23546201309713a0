/**
 * TrK / InK rotation records of the KMS store (TS 33.180 §5.3.3 step 2, Annex D.3): a rotation
 * the operator scheduled for one client, the new keys it carries and how it completes. Kept
 * apart from kms-records.ts; `KmsStore` extends `KmsClientKeyRotationStore`.
 */
import type { KmsClientKeys } from './kms-records.js';

/** A pending rotation of one client's TrK and/or InK. */
export interface KmsClientKeyRotation {
  /** The TrK-ID in force, whose kms_client_key row the rotation replaces. */
  readonly clientId: string;
  /** The new TrK-ID and TrK (256 bits), when the TrK is rotated. */
  readonly newTrkId: string | undefined;
  readonly newTrk: Uint8Array | undefined;
  /** The new InK-ID and InK, when the InK is rotated. */
  readonly newInkId: string | undefined;
  readonly newInk: Uint8Array | undefined;
  /** Milliseconds since the epoch. */
  readonly scheduledAt: number;
}
/** A rotation to schedule: a new TrK, a new InK, or both. */
export type NewKmsClientKeyRotation = Omit<KmsClientKeyRotation, 'scheduledAt'>;

/** Storage of scheduled rotations; every write is safe to repeat from several instances. */
export interface KmsClientKeyRotationStore {
  /** The client keys bound to `userUri`, ordered by TrK-ID. */
  listClientKeysOfUser(userUri: string): Promise<readonly KmsClientKeys[]>;
  /**
   * Schedules a rotation unless one is pending for the client; returns the pending one (the
   * first writer's), or undefined when the new TrK-ID is already another rotation's.
   */
  putClientKeyRotation(rotation: NewKmsClientKeyRotation): Promise<KmsClientKeyRotation | undefined>;
  /** The rotation pending for the client whose TrK-ID is `clientId`. */
  getClientKeyRotation(clientId: string): Promise<KmsClientKeyRotation | undefined>;
  /** The rotation pending whose new TrK-ID is `newTrkId`. */
  findClientKeyRotation(newTrkId: string): Promise<KmsClientKeyRotation | undefined>;
  /**
   * Completes the client's rotation in one transaction: a new TrK becomes a kms_client_key row
   * of its own (with the new InK, or the InK in force) and the old row goes; a new InK alone
   * replaces the InK in place. Returns the keys now in force; undefined when nothing was pending
   * (another instance completed it: the caller reads the keys again).
   */
  completeClientKeyRotation(clientId: string): Promise<KmsClientKeys | undefined>;
}
