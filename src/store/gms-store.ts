/**
 * The GMS's durable state (TS 33.180 §5.7, §7.3; ARCHITECTURE.md §4) on SQLite or PostgreSQL
 * (tables of migration 0004_gms, gms-migration.ts). Secrets (the GMS's RSK and SSK, every GMK)
 * are stored wrapped by secret-box.ts with the table, column and primary key as AAD; public values
 * (Z_T, KPAK, PVT, UID) are plain hex.
 *
 * Nothing that matters is held per process: GMKs are insert-or-ignore on (group, generation) and
 * (group, GMK-ID), so when two instances rekey one group at once exactly one GMK is stored and
 * only the instance that stored it distributes it; registrations and delivery records are
 * upserts any instance may write.
 */
import { ErrorCode, FormatError, McsecError, PolicyError } from '../errors/index.js';
import { fromHex, toHex } from '../util/index.js';
import type { StoreDatabase } from './database.js';
import type {
  GmsDelivery,
  GmsDeliveryState,
  GmsGmk,
  GmsGroup,
  GmsKeySet,
  GmsKmsCertificate,
  GmsMember,
  GmsRegistration,
  GmsStore,
  NewGmsDelivery,
  NewGmsGmk,
  NewGmsGroup,
  NewGmsMember,
} from './gms-records.js';
import { migrateToLatest } from './migrations.js';
import { randColumn, readRandColumn } from './rand-column.js';
import { SecretBox, storeAad } from './secret-box.js';

/** Options of `KyselyGmsStore`. */
export interface GmsStoreOptions {
  /** Milliseconds since the epoch, for stored-at times (default Date.now). */
  readonly now?: (() => number) | undefined;
}

const CHUNK = 500;
const KEY_CHECK = 'storage_key_check';
const STATES: readonly GmsDeliveryState[] = ['pending', 'delivered', 'refused', 'failed'];

/** GmsStore on SQLite or PostgreSQL (database.ts), secrets wrapped by a SecretBox. */
export class KyselyGmsStore implements GmsStore {
  readonly #database: StoreDatabase;
  readonly #box: SecretBox;
  readonly #now: () => number;

  /** A store on a migrated database; `open` also migrates and checks the storage key. */
  constructor(database: StoreDatabase, box: SecretBox, opts: GmsStoreOptions = {}) {
    this.#database = database;
    this.#box = box;
    this.#now = opts.now ?? Date.now;
  }

  /** Migrates, then checks the storage key against the value sealed by its first user. */
  static async open(database: StoreDatabase, box: SecretBox, opts: GmsStoreOptions = {}): Promise<KyselyGmsStore> {
    await migrateToLatest(database);
    const store = new KyselyGmsStore(database, box, opts);
    const aad = storeAad('store_meta', 'value', [KEY_CHECK]);
    const db = database.db;
    await db
      .insertInto('store_meta')
      .values({ name: KEY_CHECK, value: box.seal(new Uint8Array(0), aad) })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await db.selectFrom('store_meta').select('value').where('name', '=', KEY_CHECK).executeTakeFirst();
    box.open(text(row?.value, 'store_meta.value'), aad, 'store.storageKey');
    return store;
  }

  // ---- KMS certificates and the GMS identity --------------------------------------------------

  async putKmsCertificate(c: Omit<GmsKmsCertificate, 'updatedAt'>): Promise<GmsKmsCertificate> {
    const f = 'gmsKmsCertificate';
    const values = {
      user_key_period: int(c.userKeyPeriod, `${f}.userKeyPeriod`, 1),
      user_key_offset: int(c.userKeyOffset, `${f}.userKeyOffset`, 0),
      pub_enc_key: toHex(bytes(c.pubEncKey, `${f}.pubEncKey`)),
      pub_auth_key: toHex(bytes(c.pubAuthKey, `${f}.pubAuthKey`)),
      is_security_gateway: c.isSecurityGateway ? 1 : 0,
      updated_at: this.#now(),
    };
    await this.#database.db
      .insertInto('gms_kms_cert')
      .values({ kms_uri: uri(c.kmsUri, `${f}.kmsUri`), ...values })
      .onConflict((oc) => oc.column('kms_uri').doUpdateSet(values))
      .execute();
    const stored = await this.getKmsCertificate(c.kmsUri);
    if (stored === undefined) throw internal('gms_kms_cert', 'row must exist after upsert');
    return stored;
  }

  async getKmsCertificate(kmsUri: string): Promise<GmsKmsCertificate | undefined> {
    const row = await this.#database.db.selectFrom('gms_kms_cert').selectAll().where('kms_uri', '=', kmsUri).executeTakeFirst();
    return row === undefined ? undefined : readCert(row);
  }

  async listKmsCertificates(): Promise<readonly GmsKmsCertificate[]> {
    const rows = await this.#database.db.selectFrom('gms_kms_cert').selectAll().orderBy('kms_uri').execute();
    return Object.freeze(rows.map(readCert));
  }

  async putKeySet(k: Omit<GmsKeySet, 'storedAt'>): Promise<GmsKeySet> {
    const f = 'gmsKeySet';
    const gmsUri = uri(k.gmsUri, `${f}.gmsUri`);
    const period = int(k.keyPeriodNo, `${f}.keyPeriodNo`, 0);
    const pk = [gmsUri, period];
    const values = {
      kms_uri: uri(k.kmsUri, `${f}.kmsUri`),
      user_id: toHex(bytes(k.userId, `${f}.userId`)),
      rsk_wrapped: this.#wrap(bytes(k.rsk, `${f}.rsk`), 'gms_key_set', 'rsk_wrapped', pk),
      ssk_wrapped: this.#wrap(bytes(k.ssk, `${f}.ssk`), 'gms_key_set', 'ssk_wrapped', pk),
      pvt: toHex(bytes(k.pvt, `${f}.pvt`)),
      stored_at: this.#now(),
    };
    await this.#database.db
      .insertInto('gms_key_set')
      .values({ gms_uri: gmsUri, key_period_no: period, ...values })
      .onConflict((oc) => oc.columns(['gms_uri', 'key_period_no']).doUpdateSet(values))
      .execute();
    const stored = await this.getKeySet(gmsUri, period);
    if (stored === undefined) throw internal('gms_key_set', 'row must exist after upsert');
    return stored;
  }

  async getKeySet(gmsUri: string, keyPeriodNo: number): Promise<GmsKeySet | undefined> {
    const row = await this.#database.db
      .selectFrom('gms_key_set')
      .selectAll()
      .where('gms_uri', '=', gmsUri)
      .where('key_period_no', '=', keyPeriodNo)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const t = 'gms_key_set';
    const pk = [text(row.gms_uri, `${t}.gms_uri`), readInt(row.key_period_no, `${t}.key_period_no`)];
    return Object.freeze({
      gmsUri: pk[0] as string,
      keyPeriodNo: pk[1] as number,
      kmsUri: text(row.kms_uri, `${t}.kms_uri`),
      userId: readHex(row.user_id, `${t}.user_id`),
      rsk: this.#unwrap(row.rsk_wrapped, t, 'rsk_wrapped', pk),
      ssk: this.#unwrap(row.ssk_wrapped, t, 'ssk_wrapped', pk),
      pvt: readHex(row.pvt, `${t}.pvt`),
      storedAt: readInt(row.stored_at, `${t}.stored_at`),
    });
  }

  async listKeyPeriods(gmsUri: string): Promise<readonly number[]> {
    const rows = await this.#database.db
      .selectFrom('gms_key_set')
      .select('key_period_no')
      .where('gms_uri', '=', gmsUri)
      .orderBy('key_period_no')
      .execute();
    return Object.freeze(rows.map((r) => readInt(r.key_period_no, 'gms_key_set.key_period_no')));
  }

  // ---- groups and members ---------------------------------------------------------------------

  async createGroup(g: NewGmsGroup): Promise<{ readonly group: GmsGroup; readonly created: boolean }> {
    const f = 'gmsGroup';
    const r = await this.#database.db
      .insertInto('gms_group')
      .values({
        group_uri: uri(g.groupUri, `${f}.groupUri`),
        also_group_ids: JSON.stringify(g.alsoGroupIds.map((id, i) => uri(id, `${f}.alsoGroupIds[${i}]`))),
        primary_gms_uri: g.primaryGmsUri === undefined ? null : uri(g.primaryGmsUri, `${f}.primaryGmsUri`),
        text: g.text,
        gmk_lifetime: int(g.gmkLifetime, `${f}.gmkLifetime`, 0),
        rekey_on_remove: g.rekeyOnRemove ? 1 : 0,
        created_at: this.#now(),
      })
      .onConflict((oc) => oc.column('group_uri').doNothing())
      .executeTakeFirst();
    const group = await this.getGroup(g.groupUri);
    if (group === undefined) throw internal('gms_group', 'row must exist after insert');
    return { group, created: Number(r.numInsertedOrUpdatedRows ?? 0n) > 0 };
  }

  async getGroup(groupUri: string): Promise<GmsGroup | undefined> {
    const row = await this.#database.db.selectFrom('gms_group').selectAll().where('group_uri', '=', groupUri).executeTakeFirst();
    return row === undefined ? undefined : readGroup(row);
  }

  async listGroups(): Promise<readonly GmsGroup[]> {
    const rows = await this.#database.db.selectFrom('gms_group').selectAll().orderBy('group_uri').execute();
    return Object.freeze(rows.map(readGroup));
  }

  async addMembers(groupUri: string, members: readonly NewGmsMember[]): Promise<readonly string[]> {
    const now = this.#now();
    const rows = members.map((m, i) => ({
      group_uri: groupUri,
      member_uri: uri(m.memberUri, `members[${i}].memberUri`),
      kms_uri: uri(m.kmsUri, `members[${i}].kmsUri`),
      added_at: now,
    }));
    if (rows.length === 0) return [];
    try {
      return await this.#database.db.transaction().execute(async (trx) => {
        const held = new Set<string>();
        for (let at = 0; at < rows.length; at += CHUNK) {
          const uris = rows.slice(at, at + CHUNK).map((r) => r.member_uri);
          const present = await trx.selectFrom('gms_member').select('member_uri').where('group_uri', '=', groupUri).where('member_uri', 'in', uris).execute();
          for (const p of present) held.add(text(p.member_uri, 'gms_member.member_uri'));
        }
        const fresh = rows.filter((r, i) => !held.has(r.member_uri) && rows.findIndex((x) => x.member_uri === r.member_uri) === i);
        for (let at = 0; at < fresh.length; at += CHUNK) {
          await trx
            .insertInto('gms_member')
            .values(fresh.slice(at, at + CHUNK))
            .onConflict((oc) => oc.columns(['group_uri', 'member_uri']).doNothing())
            .execute();
        }
        return Object.freeze(fresh.map((r) => r.member_uri));
      });
    } catch (err) {
      throw unknownParent(err, 'members.groupUri', 'must name an existing group');
    }
  }

  async removeMembers(groupUri: string, memberUris: readonly string[]): Promise<readonly string[]> {
    if (memberUris.length === 0) return [];
    return this.#database.db.transaction().execute(async (trx) => {
      const removed: string[] = [];
      for (let at = 0; at < memberUris.length; at += CHUNK) {
        const uris = memberUris.slice(at, at + CHUNK);
        const present = await trx.selectFrom('gms_member').select('member_uri').where('group_uri', '=', groupUri).where('member_uri', 'in', uris).execute();
        removed.push(...present.map((p) => text(p.member_uri, 'gms_member.member_uri')));
        await trx.deleteFrom('gms_member').where('group_uri', '=', groupUri).where('member_uri', 'in', uris).execute();
      }
      return Object.freeze(removed.sort());
    });
  }

  async listMembers(groupUri: string): Promise<readonly GmsMember[]> {
    const rows = await this.#database.db.selectFrom('gms_member').selectAll().where('group_uri', '=', groupUri).orderBy('member_uri').execute();
    const t = 'gms_member';
    return Object.freeze(
      rows.map((r) =>
        Object.freeze({
          groupUri: text(r.group_uri, `${t}.group_uri`),
          memberUri: text(r.member_uri, `${t}.member_uri`),
          kmsUri: text(r.kms_uri, `${t}.kms_uri`),
          addedAt: readInt(r.added_at, `${t}.added_at`),
        }),
      ),
    );
  }

  async groupsOf(memberUri: string): Promise<readonly string[]> {
    const rows = await this.#database.db.selectFrom('gms_member').select('group_uri').where('member_uri', '=', memberUri).orderBy('group_uri').execute();
    return Object.freeze(rows.map((r) => text(r.group_uri, 'gms_member.group_uri')));
  }

  // ---- GMKs -----------------------------------------------------------------------------------

  async putGmk(g: NewGmsGmk): Promise<boolean> {
    const f = 'gmsGmk';
    const gmkId = int(g.gmkId, `${f}.gmkId`, 0, 0xffff_ffff);
    if (g.gmk.length !== 16) throw new FormatError(ErrorCode.BAD_LENGTH, { field: `${f}.gmk`, rule: 'must be 16 octets', clause: 'TS 33.180 Annex E' });
    const pk = [g.groupUri, gmkId];
    try {
      const r = await this.#database.db
        .insertInto('gms_gmk')
        .values({
          group_uri: g.groupUri,
          gmk_id: gmkId,
          generation: int(g.generation, `${f}.generation`, 1),
          gmk_wrapped: this.#wrap(g.gmk, 'gms_gmk', 'gmk_wrapped', pk),
          activation_at: int(g.activationAt, `${f}.activationAt`, 0),
          expiry_at: g.expiryAt === undefined ? null : int(g.expiryAt, `${f}.expiryAt`, 0),
          revoked: g.revoked ? 1 : 0,
          text: g.text,
          origin: g.origin ?? null,
          created_at: this.#now(),
          rand: randColumn(g.rand, `${f}.rand`),
        })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
    } catch (err) {
      throw unknownParent(err, `${f}.groupUri`, 'must name an existing group');
    }
  }

  async listGmks(groupUri: string): Promise<readonly GmsGmk[]> {
    const rows = await this.#database.db.selectFrom('gms_gmk').selectAll().where('group_uri', '=', groupUri).orderBy('generation').execute();
    const t = 'gms_gmk';
    return Object.freeze(
      rows.map((r) => {
        const gmkId = readInt(r.gmk_id, `${t}.gmk_id`);
        const group = text(r.group_uri, `${t}.group_uri`);
        return Object.freeze({
          groupUri: group,
          gmkId,
          generation: readInt(r.generation, `${t}.generation`),
          gmk: this.#unwrap(r.gmk_wrapped, t, 'gmk_wrapped', [group, gmkId]),
          activationAt: readInt(r.activation_at, `${t}.activation_at`),
          expiryAt: r.expiry_at === null ? undefined : readInt(r.expiry_at, `${t}.expiry_at`),
          revoked: readInt(r.revoked, `${t}.revoked`) !== 0,
          text: text(r.text, `${t}.text`),
          origin: r.origin === null ? undefined : text(r.origin, `${t}.origin`),
          rand: readRandColumn(r.rand, `${t}.rand`),
          createdAt: readInt(r.created_at, `${t}.created_at`),
        });
      }),
    );
  }

  async revokeGmk(groupUri: string, gmkId: number): Promise<boolean> {
    const r = await this.#database.db
      .updateTable('gms_gmk')
      .set({ revoked: 1 })
      .where('group_uri', '=', groupUri)
      .where('gmk_id', '=', gmkId)
      .where('revoked', '=', 0)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  // ---- registrations and deliveries -----------------------------------------------------------

  async putRegistration(r: Omit<GmsRegistration, 'updatedAt'>): Promise<GmsRegistration> {
    const values = {
      contact: uri(r.contact, 'registration.contact'),
      expires_at: int(r.expiresAt, 'registration.expiresAt', 0),
      updated_at: this.#now(),
    };
    await this.#database.db
      .insertInto('gms_registration')
      .values({ member_uri: uri(r.memberUri, 'registration.memberUri'), ...values })
      .onConflict((oc) => oc.column('member_uri').doUpdateSet(values))
      .execute();
    return Object.freeze({ memberUri: r.memberUri, contact: values.contact, expiresAt: values.expires_at, updatedAt: values.updated_at });
  }

  async deleteRegistration(memberUri: string): Promise<boolean> {
    const r = await this.#database.db.deleteFrom('gms_registration').where('member_uri', '=', memberUri).executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  async getRegistrations(memberUris: readonly string[], nowMs: number): Promise<ReadonlyMap<string, GmsRegistration>> {
    const out = new Map<string, GmsRegistration>();
    const t = 'gms_registration';
    for (let at = 0; at < memberUris.length; at += CHUNK) {
      const rows = await this.#database.db
        .selectFrom('gms_registration')
        .selectAll()
        .where('member_uri', 'in', memberUris.slice(at, at + CHUNK))
        .where('expires_at', '>', nowMs)
        .execute();
      for (const r of rows) {
        const memberUri = text(r.member_uri, `${t}.member_uri`);
        out.set(memberUri, Object.freeze({
          memberUri,
          contact: text(r.contact, `${t}.contact`),
          expiresAt: readInt(r.expires_at, `${t}.expires_at`),
          updatedAt: readInt(r.updated_at, `${t}.updated_at`),
        }));
      }
    }
    return out;
  }

  async recordDeliveries(records: readonly NewGmsDelivery[]): Promise<void> {
    if (records.length === 0) return;
    const now = this.#now();
    const rows = records.map((d) => ({
      group_uri: d.groupUri,
      gmk_id: int(d.gmkId, 'delivery.gmkId', 0, 0xffff_ffff),
      member_uri: d.memberUri,
      state: d.state,
      status: d.status ?? null,
      code: d.code ?? null,
      attempts: d.state === 'pending' ? 0 : 1,
      updated_at: now,
    }));
    await this.#database.db.transaction().execute(async (trx) => {
      for (let at = 0; at < rows.length; at += CHUNK) {
        await trx
          .insertInto('gms_delivery')
          .values(rows.slice(at, at + CHUNK))
          .onConflict((oc) =>
            oc.columns(['group_uri', 'gmk_id', 'member_uri']).doUpdateSet((eb) => ({
              state: eb.ref('excluded.state'),
              status: eb.ref('excluded.status'),
              code: eb.ref('excluded.code'),
              attempts: eb('gms_delivery.attempts', '+', eb.ref('excluded.attempts')),
              updated_at: eb.ref('excluded.updated_at'),
            })),
          )
          .execute();
      }
    });
  }

  async listDeliveries(groupUri: string, gmkId?: number): Promise<readonly GmsDelivery[]> {
    let q = this.#database.db.selectFrom('gms_delivery').selectAll().where('group_uri', '=', groupUri);
    if (gmkId !== undefined) q = q.where('gmk_id', '=', gmkId);
    const rows = await q.orderBy('member_uri').orderBy('gmk_id').execute();
    const t = 'gms_delivery';
    return Object.freeze(
      rows.map((r) => {
        const state = text(r.state, `${t}.state`);
        const known = STATES.find((s) => s === state);
        if (known === undefined) throw corrupt(`${t}.state`, `must be one of ${STATES.join(', ')}`);
        return Object.freeze({
          groupUri: text(r.group_uri, `${t}.group_uri`),
          gmkId: readInt(r.gmk_id, `${t}.gmk_id`),
          memberUri: text(r.member_uri, `${t}.member_uri`),
          state: known,
          status: r.status === null ? undefined : readInt(r.status, `${t}.status`),
          code: r.code === null ? undefined : text(r.code, `${t}.code`),
          attempts: readInt(r.attempts, `${t}.attempts`),
          updatedAt: readInt(r.updated_at, `${t}.updated_at`),
        });
      }),
    );
  }

  #wrap(value: Uint8Array, table: string, column: string, pk: readonly (string | number)[]): string {
    return this.#box.seal(value, storeAad(table, column, pk));
  }

  #unwrap(value: unknown, table: string, column: string, pk: readonly (string | number)[]): Uint8Array {
    const field = `${table}.${column}`;
    return this.#box.open(text(value, field), storeAad(table, column, pk), field);
  }
}

interface CertRow {
  kms_uri: unknown;
  user_key_period: unknown;
  user_key_offset: unknown;
  pub_enc_key: unknown;
  pub_auth_key: unknown;
  is_security_gateway: unknown;
  updated_at: unknown;
}

function readCert(r: CertRow): GmsKmsCertificate {
  const t = 'gms_kms_cert';
  return Object.freeze({
    kmsUri: text(r.kms_uri, `${t}.kms_uri`),
    userKeyPeriod: readInt(r.user_key_period, `${t}.user_key_period`),
    userKeyOffset: readInt(r.user_key_offset, `${t}.user_key_offset`),
    pubEncKey: readHex(r.pub_enc_key, `${t}.pub_enc_key`),
    pubAuthKey: readHex(r.pub_auth_key, `${t}.pub_auth_key`),
    isSecurityGateway: readInt(r.is_security_gateway, `${t}.is_security_gateway`) !== 0,
    updatedAt: readInt(r.updated_at, `${t}.updated_at`),
  });
}

interface GroupRow {
  group_uri: unknown;
  also_group_ids: unknown;
  primary_gms_uri: unknown;
  text: unknown;
  gmk_lifetime: unknown;
  rekey_on_remove: unknown;
  created_at: unknown;
}

function readGroup(r: GroupRow): GmsGroup {
  const t = 'gms_group';
  let ids: unknown;
  try {
    ids = JSON.parse(text(r.also_group_ids, `${t}.also_group_ids`));
  } catch {
    ids = undefined;
  }
  if (!Array.isArray(ids) || !ids.every((x): x is string => typeof x === 'string')) {
    throw corrupt(`${t}.also_group_ids`, 'must be a JSON array of strings');
  }
  return Object.freeze({
    groupUri: text(r.group_uri, `${t}.group_uri`),
    alsoGroupIds: Object.freeze(ids),
    primaryGmsUri: r.primary_gms_uri === null ? undefined : text(r.primary_gms_uri, `${t}.primary_gms_uri`),
    text: text(r.text, `${t}.text`),
    gmkLifetime: readInt(r.gmk_lifetime, `${t}.gmk_lifetime`),
    rekeyOnRemove: readInt(r.rekey_on_remove, `${t}.rekey_on_remove`) !== 0,
    createdAt: readInt(r.created_at, `${t}.created_at`),
  });
}

// ---- checks on the way in (caller errors) and out (a corrupt store) ---------------------------

function uri(value: string, field: string): string {
  if (value.length === 0 || value.length > 2048) throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'must be 1 to 2048 characters' });
  return value;
}

function int(value: number, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: `must be an integer from ${min} to ${max}` });
  }
  return value;
}

function bytes(value: Uint8Array, field: string): Uint8Array {
  if (value.length === 0) throw new FormatError(ErrorCode.BAD_LENGTH, { field, rule: 'must not be empty' });
  return value;
}

function unknownParent(err: unknown, field: string, rule: string): unknown {
  if (typeof err !== 'object' || err === null || !('code' in err)) return err;
  // SQLite: SQLITE_CONSTRAINT_FOREIGNKEY; PostgreSQL: 23503 foreign_key_violation.
  if (err.code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || err.code === '23503') return new PolicyError(ErrorCode.UNKNOWN_KEY, { field, rule });
  return err;
}

const corrupt = (field: string, rule: string): McsecError => new McsecError(ErrorCode.INTERNAL, { field: `store.${field}`, rule });
const internal = (table: string, rule: string): McsecError => new McsecError(ErrorCode.INTERNAL, { field: `store.${table}`, rule });

function text(value: unknown, field: string): string {
  if (typeof value !== 'string') throw corrupt(field, 'must be text');
  return value;
}

function readHex(value: unknown, field: string): Uint8Array {
  const s = text(value, field);
  if (!/^(?:[0-9a-f]{2})+$/.test(s)) throw corrupt(field, 'must be lowercase hex');
  return fromHex(s, field);
}

function readInt(value: unknown, field: string): number {
  let n: number | undefined;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'bigint') n = Number(value);
  else if (typeof value === 'string' && /^-?\d{1,16}$/.test(value)) n = Number(value);
  if (n === undefined || !Number.isSafeInteger(n)) throw corrupt(field, 'must be a safe integer');
  return n;
}
