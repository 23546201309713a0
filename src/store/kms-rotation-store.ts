/**
 * The rows behind `KmsClientKeyRotationStore` (kms-rotation-records.ts, migration
 * kms-rotation-migration.ts) for KyselyKmsStore: TrK / InK rotations of KMS clients (TS 33.180
 * §5.3.3 step 2, Annex D.3). New keys are sealed with AAD [kms_client_key_rotation, column,
 * client_id] and re-sealed under their new row's key when the rotation completes.
 *
 * Several instances on one database agree without per-process state: scheduling is
 * insert-or-ignore then read (the first writer's keys are the ones served, and re-sent on every
 * request naming the old keys); completing is one transaction that inserts the new row
 * (insert-or-ignore), then deletes the rotation and the old row, so that a second instance
 * completing the same rotation at once finds nothing left and reads the same new row.
 */
import { ErrorCode, FormatError, McsecError } from '../errors/index.js';
import { equalBytes } from '../util/index.js';
import type { StoreDatabase } from './database.js';
import type { KmsClientKeys } from './kms-records.js';
import type { KmsClientKeyRotation, NewKmsClientKeyRotation } from './kms-rotation-records.js';
import type { KmsRotationTables } from './kms-rotation-migration.js';
import { storeAad, type SecretBox } from './secret-box.js';

const T = 'kms_client_key_rotation';
const C = 'kms_client_key';

/** What KyselyKmsStore hands over: its database, box, clock and client key reader. */
export interface KmsRotationContext {
  readonly database: StoreDatabase;
  readonly box: SecretBox;
  readonly now: () => number;
  readonly getClientKeys: (clientId: string) => Promise<KmsClientKeys | undefined>;
}

interface RotationRow {
  client_id: unknown;
  new_trk_id: unknown;
  new_trk_wrapped: unknown;
  new_ink_id: unknown;
  new_ink_wrapped: unknown;
  scheduled_at: unknown;
}

/** Rotation rows of KyselyKmsStore. */
export class KmsRotationRows {
  readonly #c: KmsRotationContext;

  constructor(context: KmsRotationContext) {
    this.#c = context;
  }

  get #db() {
    return this.#c.database.db.withTables<KmsRotationTables>();
  }

  async listClientKeysOfUser(userUri: string): Promise<readonly KmsClientKeys[]> {
    const rows = await this.#db
      .selectFrom(C)
      .select('client_id')
      .where('user_uri', '=', userUri)
      .orderBy('client_id')
      .execute();
    const keys: KmsClientKeys[] = [];
    for (const r of rows) {
      const k = await this.#c.getClientKeys(text(r.client_id, `${C}.client_id`));
      if (k !== undefined) keys.push(k);
    }
    return Object.freeze(keys);
  }

  async putClientKeyRotation(r: NewKmsClientKeyRotation): Promise<KmsClientKeyRotation | undefined> {
    const f = 'kmsClientKeyRotation';
    const clientId = id(r.clientId, `${f}.clientId`);
    if ((r.newTrkId === undefined) !== (r.newTrk === undefined) || (r.newInkId === undefined) !== (r.newInk === undefined)) {
      throw new FormatError(ErrorCode.BAD_VALUE, { field: f, rule: 'a new key needs its ID and an ID its key' });
    }
    if (r.newTrk === undefined && r.newInk === undefined) {
      throw new FormatError(ErrorCode.BAD_VALUE, { field: f, rule: 'must carry a new TrK, a new InK or both' });
    }
    if (r.newTrk !== undefined && r.newTrk.length !== 32) {
      throw new FormatError(ErrorCode.BAD_LENGTH, { field: `${f}.newTrk`, rule: 'must be 256 bits', clause: 'TS 33.180 §9.3.3' });
    }
    if (r.newInk !== undefined && r.newInk.length < 16) {
      throw new FormatError(ErrorCode.BAD_LENGTH, { field: `${f}.newInk`, rule: 'must be at least 128 bits', clause: 'TS 33.180 Annex D.3.1' });
    }
    const pk = [clientId];
    const seal = (k: Uint8Array | undefined, column: string): string | null =>
      k === undefined ? null : this.#c.box.seal(k, storeAad(T, column, pk));
    await this.#db
      .insertInto(T)
      .values({
        client_id: clientId,
        new_trk_id: r.newTrkId === undefined ? null : id(r.newTrkId, `${f}.newTrkId`),
        new_trk_wrapped: seal(r.newTrk, 'new_trk_wrapped'),
        new_ink_id: r.newInkId === undefined ? null : id(r.newInkId, `${f}.newInkId`),
        new_ink_wrapped: seal(r.newInk, 'new_ink_wrapped'),
        scheduled_at: this.#c.now(),
      })
      // Either key: a rotation pending for the client, or the new TrK-ID already taken.
      .onConflict((oc) => oc.doNothing())
      .execute();
    return this.getClientKeyRotation(clientId);
  }

  async getClientKeyRotation(clientId: string): Promise<KmsClientKeyRotation | undefined> {
    const row = await this.#db.selectFrom(T).selectAll().where('client_id', '=', clientId).executeTakeFirst();
    return row === undefined ? undefined : this.#read(row);
  }

  async findClientKeyRotation(newTrkId: string): Promise<KmsClientKeyRotation | undefined> {
    const row = await this.#db.selectFrom(T).selectAll().where('new_trk_id', '=', newTrkId).executeTakeFirst();
    return row === undefined ? undefined : this.#read(row);
  }

  async completeClientKeyRotation(clientId: string): Promise<KmsClientKeys | undefined> {
    const done = await this.#db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom(T).selectAll().where('client_id', '=', clientId).executeTakeFirst();
      const old = await trx.selectFrom(C).selectAll().where('client_id', '=', clientId).executeTakeFirst();
      if (row === undefined || old === undefined) return undefined;
      const r = this.#read(row);
      const box = this.#c.box;
      const oldInk = old.ink_wrapped === null ? undefined : box.open(text(old.ink_wrapped, `${C}.ink_wrapped`), storeAad(C, 'ink_wrapped', [clientId]), `${C}.ink_wrapped`);
      const ink = r.newInk ?? oldInk;
      const inkId = r.newInkId ?? (old.ink_id === null ? undefined : text(old.ink_id, `${C}.ink_id`));
      await trx.deleteFrom(T).where('client_id', '=', clientId).execute();
      if (r.newTrkId === undefined || r.newTrk === undefined) {
        // A new InK alone: the row keeps its TrK-ID (§5.3.3); the old InK-ID is no longer accepted.
        await trx
          .updateTable(C)
          .set({ ink_wrapped: ink === undefined ? null : box.seal(ink, storeAad(C, 'ink_wrapped', [clientId])), ink_id: inkId ?? null })
          .where('client_id', '=', clientId)
          .execute();
        return clientId;
      }
      const pk = [r.newTrkId];
      await trx
        .insertInto(C)
        .values({
          client_id: r.newTrkId,
          trk_wrapped: box.seal(r.newTrk, storeAad(C, 'trk_wrapped', pk)),
          ink_wrapped: ink === undefined ? null : box.seal(ink, storeAad(C, 'ink_wrapped', pk)),
          created_at: this.#c.now(),
          user_uri: old.user_uri === null ? null : text(old.user_uri, `${C}.user_uri`),
          ink_id: inkId ?? null,
        })
        .onConflict((oc) => oc.column('client_id').doNothing())
        .execute();
      const stored = await trx.selectFrom(C).select('trk_wrapped').where('client_id', '=', r.newTrkId).executeTakeFirst();
      const trk = stored === undefined ? undefined : box.open(text(stored.trk_wrapped, `${C}.trk_wrapped`), storeAad(C, 'trk_wrapped', pk), `${C}.trk_wrapped`);
      if (trk === undefined || !equalBytes(trk, r.newTrk)) {
        // A TrK-ID issued meanwhile to another client (a 2^-32 draw): roll back, keep the old keys.
        throw new McsecError(ErrorCode.INTERNAL, { field: `store.${C}`, rule: 'the new TrK-ID must name the rotated keys' });
      }
      // The old TrK-ID is retired: requests naming it find no keys from now on.
      await trx.deleteFrom(C).where('client_id', '=', clientId).execute();
      return r.newTrkId;
    });
    return done === undefined ? undefined : this.#c.getClientKeys(done);
  }

  #read(row: RotationRow): KmsClientKeyRotation {
    const clientId = text(row.client_id, `${T}.client_id`);
    const pk = [clientId];
    const open = (v: unknown, column: string): Uint8Array | undefined =>
      v === null ? undefined : this.#c.box.open(text(v, `${T}.${column}`), storeAad(T, column, pk), `${T}.${column}`);
    return Object.freeze({
      clientId,
      newTrkId: row.new_trk_id === null ? undefined : text(row.new_trk_id, `${T}.new_trk_id`),
      newTrk: open(row.new_trk_wrapped, 'new_trk_wrapped'),
      newInkId: row.new_ink_id === null ? undefined : text(row.new_ink_id, `${T}.new_ink_id`),
      newInk: open(row.new_ink_wrapped, 'new_ink_wrapped'),
      scheduledAt: readInt(row.scheduled_at, `${T}.scheduled_at`),
    });
  }
}

function id(value: string, field: string): string {
  if (value.length === 0 || value.length > 2048) throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'must be 1 to 2048 characters' });
  return value;
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new McsecError(ErrorCode.INTERNAL, { field: `store.${field}`, rule: 'must be text' });
  return value;
}

function readInt(value: unknown, field: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'bigint' || (typeof value === 'string' && /^-?\d{1,16}$/.test(value)) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new McsecError(ErrorCode.INTERNAL, { field: `store.${field}`, rule: 'must be a safe integer' });
  return n;
}
