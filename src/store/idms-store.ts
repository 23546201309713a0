/**
 * The IdMS's durable state (TS 33.180 §5.1.2.1, Annex B; ARCHITECTURE.md §4) in SQLite or
 * PostgreSQL. Users carry their MC ID, a random never-reassigned `sub` (B.2.1.2), the password
 * hash and the MC service IDs; clients their B.3 registration; the signing keys, cookie keys and
 * client secrets are sealed by secret-box.ts (AAD = table, column, primary key).
 *
 * OpenID Connect artefacts (authorisation codes, refresh tokens, sessions, grants, interactions)
 * are rows keyed by the SHA-256 of their id, the payload sealed: a copy of the database yields
 * neither usable codes or refresh tokens nor the claims they carry. Expired rows are purged as
 * new ones are written. Nothing is held per process, so several instances can share the load.
 */
import { createHash, randomUUID } from 'node:crypto';
import { ErrorCode, FormatError, McsecError } from '../errors/index.js';
import { fromUtf8, utf8 } from '../util/index.js';
import type { StoreDatabase } from './database.js';
import type {
  IdmsClient,
  IdmsOidcIndexes,
  IdmsOidcRecord,
  IdmsSigningKey,
  IdmsUser,
  McServiceIdClaimName,
  McServiceIds,
  NewIdmsUser,
} from './idms-records.js';
import { migrateToLatest } from './migrations.js';
import { SecretBox, storeAad } from './secret-box.js';

/** Options of `KyselyIdmsStore`. */
export interface IdmsStoreOptions {
  /** Milliseconds since the epoch (default Date.now). */
  readonly now?: (() => number) | undefined;
}

const KEY_CHECK = 'storage_key_check';
const ID_CLAIMS: readonly McServiceIdClaimName[] = ['mcptt_id', 'mcvideo_id', 'mcdata_id', 'mcrec_id'];
const MAX_TEXT = 2048;
/** How often expired OpenID Connect rows are purged, milliseconds. */
const PURGE_EVERY_MS = 60_000;

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/** The IdMS store on SQLite or PostgreSQL (database.ts), secrets sealed by a SecretBox. */
export class KyselyIdmsStore {
  readonly #database: StoreDatabase;
  readonly #box: SecretBox;
  readonly #now: () => number;
  #lastPurge = 0;

  /** A store on a migrated database; `open` also migrates and checks the storage key. */
  constructor(database: StoreDatabase, box: SecretBox, opts: IdmsStoreOptions = {}) {
    this.#database = database;
    this.#box = box;
    this.#now = opts.now ?? Date.now;
  }

  /** Migrates, then checks the storage key as the KMS store does (a wrong key is ERR_DECRYPT). */
  static async open(database: StoreDatabase, box: SecretBox, opts: IdmsStoreOptions = {}): Promise<KyselyIdmsStore> {
    await migrateToLatest(database);
    const store = new KyselyIdmsStore(database, box, opts);
    const aad = storeAad('store_meta', 'value', [KEY_CHECK]);
    await database.db
      .insertInto('store_meta')
      .values({ name: KEY_CHECK, value: box.seal(new Uint8Array(0), aad) })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await database.db.selectFrom('store_meta').select('value').where('name', '=', KEY_CHECK).executeTakeFirst();
    box.open(text(row?.value, 'store_meta.value'), aad, 'store.storageKey');
    return store;
  }

  // ---- users (§5.1.2.1) ----------------------------------------------------------------------

  /**
   * Adds a user, or with `replace` replaces its password hash, MC service IDs and state (its
   * `sub` stays). Returns whether a row was added (false: it existed, and was replaced or kept).
   */
  async putUser(user: NewIdmsUser, opts: { readonly replace?: boolean } = {}): Promise<{ readonly added: boolean; readonly user: IdmsUser }> {
    const f = 'idmsUser';
    const username = name(user.username, `${f}.username`);
    const ids = serviceIds(user.mcServiceIds, `${f}.mcServiceIds`);
    const now = this.#now();
    const values = {
      password_hash: name(user.passwordHash, `${f}.passwordHash`),
      mcptt_id: ids.mcptt_id ?? null,
      mcvideo_id: ids.mcvideo_id ?? null,
      mcdata_id: ids.mcdata_id ?? null,
      mcrec_id: ids.mcrec_id ?? null,
      disabled: user.disabled === true ? 1 : 0,
      updated_at: now,
    };
    const existed = (await this.getUser(username)) !== undefined;
    await this.#database.db
      .insertInto('idms_user')
      .values({ username, sub: randomUUID(), created_at: now, ...values })
      .onConflict((oc) => (opts.replace === true ? oc.column('username').doUpdateSet(values) : oc.column('username').doNothing()))
      .execute();
    const stored = await this.getUser(username);
    if (stored === undefined) throw internal('idms_user', 'row must exist after insert');
    return { added: !existed, user: stored };
  }

  /** The user with this MC ID. */
  async getUser(username: string): Promise<IdmsUser | undefined> {
    const row = await this.#database.db.selectFrom('idms_user').selectAll().where('username', '=', username).executeTakeFirst();
    return row === undefined ? undefined : readUser(row);
  }

  /** The user with this `sub`. */
  async getUserBySub(sub: string): Promise<IdmsUser | undefined> {
    const row = await this.#database.db.selectFrom('idms_user').selectAll().where('sub', '=', sub).executeTakeFirst();
    return row === undefined ? undefined : readUser(row);
  }

  /** Removes a user; its `sub` is never given to another (the next user draws a new one). */
  async deleteUser(username: string): Promise<boolean> {
    const r = await this.#database.db.deleteFrom('idms_user').where('username', '=', username).executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  // ---- clients (B.3) -------------------------------------------------------------------------

  /** Registers a client (or with `replace` updates it); the secret is sealed. */
  async putClient(
    client: { readonly clientId: string; readonly metadata: Readonly<Record<string, unknown>>; readonly secret?: string | undefined },
    opts: { readonly replace?: boolean } = {},
  ): Promise<{ readonly added: boolean; readonly client: IdmsClient }> {
    const clientId = name(client.clientId, 'idmsClient.clientId');
    const metadata = JSON.stringify(client.metadata);
    const secret = client.secret === undefined ? null : this.#box.seal(utf8(client.secret), storeAad('idms_client', 'secret_wrapped', [clientId]));
    const now = this.#now();
    const existed = (await this.getClient(clientId)) !== undefined;
    await this.#database.db
      .insertInto('idms_client')
      .values({ client_id: clientId, metadata, secret_wrapped: secret, created_at: now })
      .onConflict((oc) =>
        opts.replace === true ? oc.column('client_id').doUpdateSet({ metadata, secret_wrapped: secret }) : oc.column('client_id').doNothing(),
      )
      .execute();
    const stored = await this.getClient(clientId);
    if (stored === undefined) throw internal('idms_client', 'row must exist after insert');
    return { added: !existed, client: stored };
  }

  /** The registered client with this id. */
  async getClient(clientId: string): Promise<IdmsClient | undefined> {
    const row = await this.#database.db.selectFrom('idms_client').selectAll().where('client_id', '=', clientId).executeTakeFirst();
    if (row === undefined) return undefined;
    const t = 'idms_client';
    const id = text(row.client_id, `${t}.client_id`);
    let metadata: unknown;
    try {
      metadata = JSON.parse(text(row.metadata, `${t}.metadata`));
    } catch {
      throw corrupt(`${t}.metadata`, 'must be JSON');
    }
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw corrupt(`${t}.metadata`, 'must be a JSON object');
    const sealed = row.secret_wrapped;
    const secret =
      sealed === null || sealed === undefined
        ? undefined
        : fromUtf8(this.#box.open(text(sealed, `${t}.secret_wrapped`), storeAad(t, 'secret_wrapped', [id]), `${t}.secret_wrapped`));
    return Object.freeze({ clientId: id, metadata: Object.freeze({ ...(metadata as Record<string, unknown>) }), secret, createdAt: readInt(row.created_at, `${t}.created_at`) });
  }

  // ---- keys and secrets ----------------------------------------------------------------------

  /** Stores a signing key (first writer wins for a kid). */
  async addSigningKey(key: { readonly kid: string; readonly alg: string; readonly privateJwk: string }): Promise<void> {
    const kid = name(key.kid, 'idmsKey.kid');
    await this.#database.db
      .insertInto('idms_key')
      .values({
        kid,
        alg: name(key.alg, 'idmsKey.alg'),
        private_jwk_wrapped: this.#box.seal(utf8(key.privateJwk), storeAad('idms_key', 'private_jwk_wrapped', [kid])),
        created_at: this.#now(),
      })
      .onConflict((oc) => oc.column('kid').doNothing())
      .execute();
  }

  /** Every signing key, oldest first (ties by kid), so that every instance orders them alike. */
  async listSigningKeys(): Promise<readonly IdmsSigningKey[]> {
    const rows = await this.#database.db.selectFrom('idms_key').selectAll().orderBy('created_at').orderBy('kid').execute();
    const t = 'idms_key';
    return Object.freeze(
      rows.map((r) => {
        const kid = text(r.kid, `${t}.kid`);
        const retired = r.retired_at;
        return Object.freeze({
          kid,
          alg: text(r.alg, `${t}.alg`),
          privateJwk: fromUtf8(this.#box.open(text(r.private_jwk_wrapped, `${t}.private_jwk_wrapped`), storeAad(t, 'private_jwk_wrapped', [kid]), `${t}.private_jwk_wrapped`)),
          createdAt: readInt(r.created_at, `${t}.created_at`),
          retiredAt: retired === null || retired === undefined ? undefined : readInt(retired, `${t}.retired_at`),
        });
      }),
    );
  }

  /** The named secret; when absent, `make()` is stored first (first writer wins). */
  async secret(secretName: string, make: () => Uint8Array): Promise<Uint8Array> {
    const aad = storeAad('idms_secret', 'value_wrapped', [secretName]);
    const db = this.#database.db;
    let row = await db.selectFrom('idms_secret').select('value_wrapped').where('name', '=', secretName).executeTakeFirst();
    if (row === undefined) {
      const value = make();
      await db
        .insertInto('idms_secret')
        .values({ name: secretName, value_wrapped: this.#box.seal(value, aad), created_at: this.#now() })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
      value.fill(0);
      row = await db.selectFrom('idms_secret').select('value_wrapped').where('name', '=', secretName).executeTakeFirst();
    }
    return this.#box.open(text(row?.value_wrapped, 'idms_secret.value_wrapped'), aad, 'idms_secret.value_wrapped');
  }

  // ---- OpenID Connect artefacts --------------------------------------------------------------

  /** Stores (or replaces) an artefact for `expiresInSec` seconds (none: until destroyed). */
  async oidcUpsert(model: string, id: string, payload: Readonly<Record<string, unknown>>, expiresInSec: number | undefined, idx: IdmsOidcIndexes = {}): Promise<void> {
    const now = this.#now();
    const idHash = sha256(id);
    const row = {
      payload_wrapped: this.#box.seal(utf8(JSON.stringify(payload)), storeAad('idms_oidc', 'payload_wrapped', [model, idHash])),
      grant_hash: idx.grantId === undefined ? null : sha256(idx.grantId),
      uid_hash: idx.uid === undefined ? null : sha256(idx.uid),
      user_code_hash: idx.userCode === undefined ? null : sha256(idx.userCode),
      expires_at: expiresInSec === undefined ? null : now + expiresInSec * 1000,
      consumed_at: null,
    };
    await this.#database.db
      .insertInto('idms_oidc')
      .values({ model, id_hash: idHash, ...row })
      .onConflict((oc) => oc.columns(['model', 'id_hash']).doUpdateSet(row))
      .execute();
    if (now - this.#lastPurge > PURGE_EVERY_MS) {
      this.#lastPurge = now;
      await this.purgeExpired();
    }
  }

  /** The artefact, unless absent or expired. */
  async oidcFind(model: string, id: string): Promise<IdmsOidcRecord | undefined> {
    return this.#readOidc(
      await this.#database.db.selectFrom('idms_oidc').selectAll().where('model', '=', model).where('id_hash', '=', sha256(id)).executeTakeFirst(),
    );
  }

  /** The artefact of `model` with this secondary key. */
  async oidcFindBy(model: string, key: 'uid' | 'userCode', value: string): Promise<IdmsOidcRecord | undefined> {
    const column = key === 'uid' ? 'uid_hash' : 'user_code_hash';
    return this.#readOidc(
      await this.#database.db.selectFrom('idms_oidc').selectAll().where('model', '=', model).where(column, '=', sha256(value)).executeTakeFirst(),
    );
  }

  /** Marks an artefact consumed (an authorisation code exchanged). */
  async oidcConsume(model: string, id: string): Promise<void> {
    await this.#database.db
      .updateTable('idms_oidc')
      .set({ consumed_at: Math.floor(this.#now() / 1000) })
      .where('model', '=', model)
      .where('id_hash', '=', sha256(id))
      .execute();
  }

  /** Removes an artefact. */
  async oidcDestroy(model: string, id: string): Promise<void> {
    await this.#database.db.deleteFrom('idms_oidc').where('model', '=', model).where('id_hash', '=', sha256(id)).execute();
  }

  /** Removes every token of a grant (a code used twice, a revoked grant). */
  async oidcRevokeByGrantId(grantId: string): Promise<void> {
    await this.#database.db.deleteFrom('idms_oidc').where('grant_hash', '=', sha256(grantId)).where('model', '!=', 'Grant').execute();
  }

  /** Removes expired artefacts and replay entries; returns how many rows went. */
  async purgeExpired(): Promise<number> {
    const now = this.#now();
    const a = await this.#database.db.deleteFrom('idms_oidc').where('expires_at', '<', now).executeTakeFirst();
    const b = await this.#database.db.deleteFrom('idms_replay').where('expires_at', '<', now).executeTakeFirst();
    return Number(a.numDeletedRows + b.numDeletedRows);
  }

  /**
   * Records `key` as used until `expiresAtMs`; false when it was already recorded and has not
   * expired (a replay). Atomic across instances: the primary key decides.
   */
  async useOnce(key: string, expiresAtMs: number): Promise<boolean> {
    const keyHash = sha256(key);
    const db = this.#database.db;
    await db.deleteFrom('idms_replay').where('key_hash', '=', keyHash).where('expires_at', '<', this.#now()).execute();
    const r = await db
      .insertInto('idms_replay')
      .values({ key_hash: keyHash, expires_at: Math.max(0, Math.floor(expiresAtMs)) })
      .onConflict((oc) => oc.column('key_hash').doNothing())
      .executeTakeFirst();
    return (r.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  #readOidc(row: Record<string, unknown> | undefined): IdmsOidcRecord | undefined {
    if (row === undefined) return undefined;
    const t = 'idms_oidc';
    const expires = row['expires_at'];
    if (expires !== null && expires !== undefined && readInt(expires, `${t}.expires_at`) <= this.#now()) return undefined;
    const model = text(row['model'], `${t}.model`);
    const idHash = text(row['id_hash'], `${t}.id_hash`);
    const plain = this.#box.open(text(row['payload_wrapped'], `${t}.payload_wrapped`), storeAad(t, 'payload_wrapped', [model, idHash]), `${t}.payload_wrapped`);
    let payload: unknown;
    try {
      payload = JSON.parse(fromUtf8(plain));
    } catch {
      throw corrupt(`${t}.payload_wrapped`, 'must hold JSON');
    } finally {
      plain.fill(0);
    }
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw corrupt(`${t}.payload_wrapped`, 'must hold a JSON object');
    const consumed = row['consumed_at'];
    return Object.freeze({
      payload: payload as Record<string, unknown>,
      consumedAt: consumed === null || consumed === undefined ? undefined : readInt(consumed, `${t}.consumed_at`),
    });
  }
}

function readUser(row: Record<string, unknown>): IdmsUser {
  const t = 'idms_user';
  const ids: Partial<Record<McServiceIdClaimName, string>> = {};
  for (const claim of ID_CLAIMS) {
    const v = row[claim];
    if (v !== null && v !== undefined) ids[claim] = text(v, `${t}.${claim}`);
  }
  return Object.freeze({
    username: text(row['username'], `${t}.username`),
    sub: text(row['sub'], `${t}.sub`),
    passwordHash: text(row['password_hash'], `${t}.password_hash`),
    mcServiceIds: Object.freeze(ids),
    disabled: readInt(row['disabled'], `${t}.disabled`) !== 0,
    createdAt: readInt(row['created_at'], `${t}.created_at`),
    updatedAt: readInt(row['updated_at'], `${t}.updated_at`),
  });
}

function name(value: string, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TEXT) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: `must be 1 to ${MAX_TEXT} characters` });
  }
  return value;
}

function serviceIds(ids: McServiceIds, field: string): McServiceIds {
  const out: Partial<Record<McServiceIdClaimName, string>> = {};
  for (const claim of ID_CLAIMS) {
    const v = ids[claim];
    if (v !== undefined) out[claim] = name(v, `${field}.${claim}`);
  }
  return out;
}

// ---- checks on the way out (a row that is not what the schema says is a corrupt store) -------

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

function readInt(value: unknown, field: string): number {
  let n: number | undefined;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'bigint') n = Number(value);
  else if (typeof value === 'string' && /^-?\d{1,16}$/.test(value)) n = Number(value);
  if (n === undefined || !Number.isSafeInteger(n)) throw corrupt(field, 'must be a safe integer');
  return n;
}
