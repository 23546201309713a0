/**
 * The KMS's durable state (TS 33.180 §5.3 KMS, ARCHITECTURE.md §4): the domain with its master
 * secrets (KSAK, z), users, groups, the key sets issued per user key period (the
 * UserKeyPeriodNo) and the client transport keys. `KyselyKmsStore` keeps it in SQLite or
 * PostgreSQL; secrets (KSAK, z, RSK, SSK, TrK, InK) are stored wrapped by secret-box.ts with the
 * table, column and primary key as AAD; public values (Z_T, KPAK, PVT, UID) are plain hex.
 *
 * Nothing that matters is held per process: writes that could race between instances are
 * insert-or-ignore followed by a read, so the first writer wins and every instance returns the
 * same stored row.
 */
import { ErrorCode, FormatError, McsecError, PolicyError } from '../errors/index.js';
import { fromHex, toHex } from '../util/index.js';
import type { StoreDatabase } from './database.js';
import { migrateToLatest } from './migrations.js';
import { SecretBox, storeAad } from './secret-box.js';
import { KmsRotationRows } from './kms-rotation-store.js';
import type { KmsClientKeyRotation, NewKmsClientKeyRotation } from './kms-rotation-records.js';
import type {
  KmsDomain,
  NewKmsDomain,
  KmsUser,
  NewKmsUser,
  UserPageRequest,
  KmsUserPage,
  KmsKeySet,
  NewKmsKeySet,
  KmsClientKeys,
  NewKmsClientKeys,
  KmsStore,
  KmsExternalCertificate,
  KmsKrrAudit,
} from './kms-records.js';

/** Options of `KyselyKmsStore`. */
export interface KmsStoreOptions {
  /** Milliseconds since the epoch, for created/issued times (default Date.now). */
  readonly now?: (() => number) | undefined;
}

type PrimaryKey = readonly (string | number)[];

/** Rows per INSERT statement, well under both engines' bound-parameter limits. */
const CHUNK = 500;
const KEY_CHECK = 'storage_key_check';

/** KmsStore on SQLite or PostgreSQL (database.ts), secrets wrapped by a SecretBox. */
export class KyselyKmsStore implements KmsStore {
  readonly #database: StoreDatabase;
  readonly #box: SecretBox;
  readonly #now: () => number;
  readonly #rotation: KmsRotationRows;

  /** A store on a migrated database; `open` also migrates and checks the storage key. */
  constructor(database: StoreDatabase, box: SecretBox, opts: KmsStoreOptions = {}) {
    this.#database = database;
    this.#box = box;
    this.#now = opts.now ?? Date.now;
    this.#rotation = new KmsRotationRows({ database, box, now: this.#now, getClientKeys: (id) => this.getClientKeys(id) });
  }

  /**
   * Migrates the database, then checks the storage key against a value sealed under the key
   * that first used this database: a different key is CryptoError ERR_DECRYPT at start-up.
   */
  static async open(
    database: StoreDatabase,
    box: SecretBox,
    opts: KmsStoreOptions = {},
  ): Promise<KyselyKmsStore> {
    await migrateToLatest(database);
    const store = new KyselyKmsStore(database, box, opts);
    await store.#checkStorageKey();
    return store;
  }

  async #checkStorageKey(): Promise<void> {
    const aad = storeAad('store_meta', 'value', [KEY_CHECK]);
    const sealed = this.#box.seal(new Uint8Array(0), aad);
    const db = this.#database.db;
    await db
      .insertInto('store_meta')
      .values({ name: KEY_CHECK, value: sealed })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await db
      .selectFrom('store_meta')
      .select('value')
      .where('name', '=', KEY_CHECK)
      .executeTakeFirst();
    const value = text(row?.value, 'store_meta.value');
    this.#box.open(value, aad, 'store.storageKey');
  }

  async createDomain(domain: NewKmsDomain): Promise<KmsDomain> {
    const f = 'kmsDomain';
    const kmsUri = uri(domain.kmsUri, `${f}.kmsUri`);
    const pk = [kmsUri];
    await this.#database.db
      .insertInto('kms_domain')
      .values({
        kms_uri: kmsUri,
        user_key_period: int(domain.userKeyPeriod, `${f}.userKeyPeriod`, 1),
        user_key_offset: int(domain.userKeyOffset, `${f}.userKeyOffset`, 0),
        pub_enc_key: toHex(bytes(domain.pubEncKey, `${f}.pubEncKey`)),
        pub_auth_key: toHex(bytes(domain.pubAuthKey, `${f}.pubAuthKey`)),
        z_wrapped: this.#wrap(bytes(domain.z, `${f}.z`), 'kms_domain', 'z_wrapped', pk),
        ksak_wrapped: this.#wrap(bytes(domain.ksak, `${f}.ksak`), 'kms_domain', 'ksak_wrapped', pk),
        created_at: this.#now(),
      })
      .onConflict((oc) => oc.column('kms_uri').doNothing())
      .execute();
    const stored = await this.getDomain(kmsUri);
    if (stored === undefined) throw internal('kms_domain', 'row must exist after insert');
    return stored;
  }

  async getDomain(kmsUri: string): Promise<KmsDomain | undefined> {
    const row = await this.#database.db
      .selectFrom('kms_domain')
      .selectAll()
      .where('kms_uri', '=', kmsUri)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const t = 'kms_domain';
    const key = text(row.kms_uri, `${t}.kms_uri`);
    const pk = [key];
    return Object.freeze({
      kmsUri: key,
      userKeyPeriod: readInt(row.user_key_period, `${t}.user_key_period`),
      userKeyOffset: readInt(row.user_key_offset, `${t}.user_key_offset`),
      pubEncKey: readHex(row.pub_enc_key, `${t}.pub_enc_key`),
      pubAuthKey: readHex(row.pub_auth_key, `${t}.pub_auth_key`),
      z: this.#unwrap(row.z_wrapped, t, 'z_wrapped', pk),
      ksak: this.#unwrap(row.ksak_wrapped, t, 'ksak_wrapped', pk),
      createdAt: readInt(row.created_at, `${t}.created_at`),
    });
  }

  async addUsers(kmsUri: string, users: readonly NewKmsUser[]): Promise<number> {
    const now = this.#now();
    const rows = users.map((u, i) => ({
      kms_uri: kmsUri,
      user_uri: uri(u.userUri, `users[${i}].userUri`),
      mc_service_id: u.mcServiceId ?? null,
      created_at: now,
    }));
    if (rows.length === 0) return 0;
    try {
      return await this.#database.db.transaction().execute(async (trx) => {
        let added = 0;
        for (let at = 0; at < rows.length; at += CHUNK) {
          const r = await trx
            .insertInto('kms_user')
            .values(rows.slice(at, at + CHUNK))
            .onConflict((oc) => oc.columns(['kms_uri', 'user_uri']).doNothing())
            .executeTakeFirst();
          added += Number(r.numInsertedOrUpdatedRows ?? 0n);
        }
        return added;
      });
    } catch (err) {
      throw unknownParent(err, 'users.kmsUri', 'must name an existing KMS domain');
    }
  }

  async hasUser(kmsUri: string, userUri: string): Promise<boolean> {
    const row = await this.#database.db
      .selectFrom('kms_user')
      .select('user_uri')
      .where('kms_uri', '=', kmsUri)
      .where('user_uri', '=', userUri)
      .executeTakeFirst();
    return row !== undefined;
  }

  async getUser(kmsUri: string, userUri: string): Promise<KmsUser | undefined> {
    const row = await this.#database.db
      .selectFrom('kms_user')
      .select(['user_uri', 'mc_service_id', 'created_at'])
      .where('kms_uri', '=', kmsUri)
      .where('user_uri', '=', userUri)
      .executeTakeFirst();
    return row === undefined ? undefined : readUser(row);
  }

  async listUsers(
    kmsUri: string,
    page: UserPageRequest = {},
  ): Promise<KmsUserPage> {
    const limit = int(page.limit ?? 100, 'listUsers.limit', 1, 1000);
    let q = this.#database.db
      .selectFrom('kms_user')
      .select(['user_uri', 'mc_service_id', 'created_at'])
      .where('kms_uri', '=', kmsUri)
      .orderBy('user_uri')
      .limit(limit + 1);
    if (page.after !== undefined) q = q.where('user_uri', '>', page.after);
    const rows = await q.execute();
    const users = rows.slice(0, limit).map(readUser);
    const next = rows.length > limit ? users[users.length - 1]?.userUri : undefined;
    return Object.freeze({ users: Object.freeze(users), next });
  }

  async putKeySet(keySet: NewKmsKeySet): Promise<KmsKeySet> {
    const f = 'kmsKeySet';
    const kmsUri = uri(keySet.kmsUri, `${f}.kmsUri`);
    const userUri = uri(keySet.userUri, `${f}.userUri`);
    const period = int(keySet.keyPeriodNo, `${f}.keyPeriodNo`, 0);
    const pk = [kmsUri, userUri, period];
    try {
      await this.#database.db
        .insertInto('kms_key_set')
        .values({
          kms_uri: kmsUri,
          user_uri: userUri,
          key_period_no: period,
          user_id: toHex(bytes(keySet.userId, `${f}.userId`)),
          rsk_wrapped: this.#wrap(bytes(keySet.rsk, `${f}.rsk`), 'kms_key_set', 'rsk_wrapped', pk),
          ssk_wrapped: this.#wrap(bytes(keySet.ssk, `${f}.ssk`), 'kms_key_set', 'ssk_wrapped', pk),
          pvt: toHex(bytes(keySet.pvt, `${f}.pvt`)),
          issued_at: this.#now(),
        })
        .onConflict((oc) => oc.columns(['kms_uri', 'user_uri', 'key_period_no']).doNothing())
        .execute();
    } catch (err) {
      throw unknownParent(err, `${f}.userUri`, 'must name a user of the KMS domain');
    }
    const stored = await this.getKeySet(kmsUri, userUri, period);
    if (stored === undefined) throw internal('kms_key_set', 'row must exist after insert');
    return stored;
  }

  async getKeySet(
    kmsUri: string,
    userUri: string,
    keyPeriodNo: number,
  ): Promise<KmsKeySet | undefined> {
    const row = await this.#database.db
      .selectFrom('kms_key_set')
      .selectAll()
      .where('kms_uri', '=', kmsUri)
      .where('user_uri', '=', userUri)
      .where('key_period_no', '=', keyPeriodNo)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const t = 'kms_key_set';
    const k = text(row.kms_uri, `${t}.kms_uri`);
    const u = text(row.user_uri, `${t}.user_uri`);
    const p = readInt(row.key_period_no, `${t}.key_period_no`);
    const pk = [k, u, p];
    return Object.freeze({
      kmsUri: k,
      userUri: u,
      keyPeriodNo: p,
      userId: readHex(row.user_id, `${t}.user_id`),
      rsk: this.#unwrap(row.rsk_wrapped, t, 'rsk_wrapped', pk),
      ssk: this.#unwrap(row.ssk_wrapped, t, 'ssk_wrapped', pk),
      pvt: readHex(row.pvt, `${t}.pvt`),
      issuedAt: readInt(row.issued_at, `${t}.issued_at`),
    });
  }

  async putClientKeys(keys: NewKmsClientKeys): Promise<KmsClientKeys> {
    const f = 'kmsClientKeys';
    const clientId = uri(keys.clientId, `${f}.clientId`);
    const pk = [clientId];
    await this.#database.db
      .insertInto('kms_client_key')
      .values({
        client_id: clientId,
        trk_wrapped: this.#wrap(bytes(keys.trk, `${f}.trk`), 'kms_client_key', 'trk_wrapped', pk),
        ink_wrapped:
          keys.ink === undefined
            ? null
            : this.#wrap(bytes(keys.ink, `${f}.ink`), 'kms_client_key', 'ink_wrapped', pk),
        created_at: this.#now(),
        user_uri: keys.userUri === undefined ? null : uri(keys.userUri, `${f}.userUri`),
        ink_id: keys.inkId === undefined ? null : uri(keys.inkId, `${f}.inkId`),
      })
      .onConflict((oc) => oc.column('client_id').doNothing())
      .execute();
    const stored = await this.getClientKeys(clientId);
    if (stored === undefined) throw internal('kms_client_key', 'row must exist after insert');
    return stored;
  }

  async getClientKeys(clientId: string): Promise<KmsClientKeys | undefined> {
    const row = await this.#database.db
      .selectFrom('kms_client_key')
      .selectAll()
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const t = 'kms_client_key';
    const id = text(row.client_id, `${t}.client_id`);
    const pk = [id];
    return Object.freeze({
      clientId: id,
      trk: this.#unwrap(row.trk_wrapped, t, 'trk_wrapped', pk),
      ink:
        row.ink_wrapped === null
          ? undefined
          : this.#unwrap(row.ink_wrapped, t, 'ink_wrapped', pk),
      inkId: row.ink_id === null ? undefined : text(row.ink_id, `${t}.ink_id`),
      userUri: row.user_uri === null ? undefined : text(row.user_uri, `${t}.user_uri`),
      createdAt: readInt(row.created_at, `${t}.created_at`),
    });
  }

  async putExternalCertificate(cert: Omit<KmsExternalCertificate, 'addedAt'>): Promise<KmsExternalCertificate> {
    const f = 'kmsExternalCertificate';
    const row = {
      kms_uri: uri(cert.kmsUri, `${f}.kmsUri`),
      ext_kms_uri: uri(cert.extKmsUri, `${f}.extKmsUri`),
      certificate: cert.certificate,
      migration: cert.migration ? 1 : 0,
      added_at: this.#now(),
    };
    await this.#database.db
      .insertInto('kms_external_cert')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['kms_uri', 'ext_kms_uri']).doUpdateSet({
          certificate: row.certificate,
          migration: row.migration,
          added_at: row.added_at,
        }),
      )
      .execute();
    const all = await this.listExternalCertificates(row.kms_uri);
    const stored = all.find((c) => c.extKmsUri === row.ext_kms_uri);
    if (stored === undefined) throw internal('kms_external_cert', 'row must exist after insert');
    return stored;
  }

  async listExternalCertificates(kmsUri: string): Promise<readonly KmsExternalCertificate[]> {
    const rows = await this.#database.db
      .selectFrom('kms_external_cert')
      .selectAll()
      .where('kms_uri', '=', kmsUri)
      .orderBy('ext_kms_uri')
      .execute();
    const t = 'kms_external_cert';
    return Object.freeze(
      rows.map((r) =>
        Object.freeze({
          kmsUri: text(r.kms_uri, `${t}.kms_uri`),
          extKmsUri: text(r.ext_kms_uri, `${t}.ext_kms_uri`),
          certificate: text(r.certificate, `${t}.certificate`),
          migration: readInt(r.migration, `${t}.migration`) === 1,
          addedAt: readInt(r.added_at, `${t}.added_at`),
        }),
      ),
    );
  }

  async addKrrAudit(record: Omit<KmsKrrAudit, 'receivedAt'>): Promise<void> {
    const f = 'kmsKrrAudit';
    await this.#database.db
      .insertInto('kms_krr_audit')
      .values({
        id: uri(record.id, `${f}.id`),
        kms_uri: uri(record.kmsUri, `${f}.kmsUri`),
        user_uri: uri(record.userUri, `${f}.userUri`),
        target_uri: uri(record.targetUri, `${f}.targetUri`),
        krr: record.krr,
        received_at: this.#now(),
      })
      .execute();
  }

  async listKrrAudit(kmsUri: string, limit = 100): Promise<readonly KmsKrrAudit[]> {
    const rows = await this.#database.db
      .selectFrom('kms_krr_audit')
      .selectAll()
      .where('kms_uri', '=', kmsUri)
      .orderBy('received_at', 'desc')
      .orderBy('id')
      .limit(Math.min(Math.max(1, limit), 1000))
      .execute();
    const t = 'kms_krr_audit';
    return Object.freeze(
      rows.map((r) =>
        Object.freeze({
          id: text(r.id, `${t}.id`),
          kmsUri: text(r.kms_uri, `${t}.kms_uri`),
          userUri: text(r.user_uri, `${t}.user_uri`),
          targetUri: text(r.target_uri, `${t}.target_uri`),
          krr: text(r.krr, `${t}.krr`),
          receivedAt: readInt(r.received_at, `${t}.received_at`),
        }),
      ),
    );
  }

  async deleteClientKeys(clientId: string): Promise<boolean> {
    const r = await this.#database.db
      .deleteFrom('kms_client_key')
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  // TrK / InK rotation (TS 33.180 §5.3.3, D.3): kms-rotation-store.ts.
  listClientKeysOfUser(userUri: string): Promise<readonly KmsClientKeys[]> {
    return this.#rotation.listClientKeysOfUser(userUri);
  }

  putClientKeyRotation(rotation: NewKmsClientKeyRotation): Promise<KmsClientKeyRotation | undefined> {
    return this.#rotation.putClientKeyRotation(rotation);
  }

  getClientKeyRotation(clientId: string): Promise<KmsClientKeyRotation | undefined> {
    return this.#rotation.getClientKeyRotation(clientId);
  }

  findClientKeyRotation(newTrkId: string): Promise<KmsClientKeyRotation | undefined> {
    return this.#rotation.findClientKeyRotation(newTrkId);
  }

  completeClientKeyRotation(clientId: string): Promise<KmsClientKeys | undefined> {
    return this.#rotation.completeClientKeyRotation(clientId);
  }

  async createGroup(kmsUri: string, groupUri: string): Promise<void> {
    try {
      await this.#database.db
        .insertInto('kms_group')
        .values({
          kms_uri: kmsUri,
          group_uri: uri(groupUri, 'group.groupUri'),
          created_at: this.#now(),
        })
        .onConflict((oc) => oc.columns(['kms_uri', 'group_uri']).doNothing())
        .execute();
    } catch (err) {
      throw unknownParent(err, 'group.kmsUri', 'must name an existing KMS domain');
    }
  }

  async addGroupMembers(
    kmsUri: string,
    groupUri: string,
    userUris: readonly string[],
  ): Promise<number> {
    const now = this.#now();
    const rows = userUris.map((u, i) => ({
      kms_uri: kmsUri,
      group_uri: groupUri,
      user_uri: uri(u, `members[${i}]`),
      added_at: now,
    }));
    if (rows.length === 0) return 0;
    try {
      return await this.#database.db.transaction().execute(async (trx) => {
        let added = 0;
        for (let at = 0; at < rows.length; at += CHUNK) {
          const r = await trx
            .insertInto('kms_group_member')
            .values(rows.slice(at, at + CHUNK))
            .onConflict((oc) => oc.columns(['kms_uri', 'group_uri', 'user_uri']).doNothing())
            .executeTakeFirst();
          added += Number(r.numInsertedOrUpdatedRows ?? 0n);
        }
        return added;
      });
    } catch (err) {
      const rule = 'must name an existing group and users of its KMS domain';
      throw unknownParent(err, 'members', rule);
    }
  }

  async removeGroupMember(kmsUri: string, groupUri: string, userUri: string): Promise<boolean> {
    const r = await this.#database.db
      .deleteFrom('kms_group_member')
      .where('kms_uri', '=', kmsUri)
      .where('group_uri', '=', groupUri)
      .where('user_uri', '=', userUri)
      .executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  async listGroupMembers(kmsUri: string, groupUri: string): Promise<readonly string[]> {
    const rows = await this.#database.db
      .selectFrom('kms_group_member')
      .select('user_uri')
      .where('kms_uri', '=', kmsUri)
      .where('group_uri', '=', groupUri)
      .orderBy('user_uri')
      .execute();
    return Object.freeze(rows.map((r) => text(r.user_uri, 'kms_group_member.user_uri')));
  }

  #wrap(value: Uint8Array, table: string, column: string, pk: PrimaryKey): string {
    return this.#box.seal(value, storeAad(table, column, pk));
  }

  #unwrap(value: unknown, table: string, column: string, pk: PrimaryKey): Uint8Array {
    const field = `${table}.${column}`;
    return this.#box.open(text(value, field), storeAad(table, column, pk), field);
  }
}

interface UserRow {
  user_uri: unknown;
  mc_service_id: unknown;
  created_at: unknown;
}

function readUser(row: UserRow): KmsUser {
  const id = row.mc_service_id;
  return Object.freeze({
    userUri: text(row.user_uri, 'kms_user.user_uri'),
    mcServiceId: id === null ? undefined : text(id, 'kms_user.mc_service_id'),
    createdAt: readInt(row.created_at, 'kms_user.created_at'),
  });
}

// ---- checks on the way in (caller errors) -------------------------------------------------

function uri(value: string, field: string): string {
  if (value.length === 0 || value.length > 2048) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'must be 1 to 2048 characters' });
  }
  return value;
}

function int(value: number, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const rule = `must be an integer from ${min} to ${max}`;
    throw new FormatError(ErrorCode.BAD_VALUE, { field, rule });
  }
  return value;
}

function bytes(value: Uint8Array, field: string): Uint8Array {
  if (value.length === 0) {
    throw new FormatError(ErrorCode.BAD_LENGTH, { field, rule: 'must not be empty' });
  }
  return value;
}

function unknownParent(err: unknown, field: string, rule: string): unknown {
  if (typeof err !== 'object' || err === null || !('code' in err)) return err;
  const code = err.code;
  // SQLite: SQLITE_CONSTRAINT_FOREIGNKEY; PostgreSQL: 23503 foreign_key_violation.
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503') {
    return new PolicyError(ErrorCode.UNKNOWN_KEY, { field, rule });
  }
  return err;
}

// ---- checks on the way out (a row that is not what the schema says is a corrupt store) -----

function corrupt(field: string, rule: string): McsecError {
  return new McsecError(ErrorCode.INTERNAL, { field: `store.${field}`, rule });
}

function internal(table: string, rule: string): McsecError {
  return new McsecError(ErrorCode.INTERNAL, { field: `store.${table}`, rule });
}

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
