/**
 * `KyselyMcxStore`: the MCX server's state (mcx-records.ts) in SQLite or PostgreSQL, on the
 * tables of migration 0005_mcx (mcx-migration.ts). CSKs, MuSiKs and SPKs are sealed with the
 * store's SecretBox (TS 33.180 §5.11 asks keys to be kept protected; ARCHITECTURE.md §4: secrets
 * encrypted at rest); a CSK's AAD binds it to its CSK-ID, user and client, so a sealed value moved
 * to another row does not open. Rows read back are checked, never asserted (a row that is not
 * what the schema says is ERR_INTERNAL naming the column).
 */
import type { Kysely } from 'kysely';
import { ErrorCode, FormatError, McsecError, PolicyError } from '../errors/index.js';
import { fromHex, toHex } from '../util/index.js';
import type { StoreDatabase } from './database.js';
import type { McxTables } from './mcx-migration.js';
import type { StoreTables } from './tables.js';
import { migrateToLatest } from './migrations.js';
import { randColumn, readRandColumn } from './rand-column.js';
import { SecretBox, storeAad } from './secret-box.js';
import type {
  McxCsk,
  McxCskOrigin,
  McxMusik,
  McxMusikDelivery,
  McxRegistration,
  McxSpk,
  McxStore,
  NewMcxCsk,
  NewMcxMusik,
  NewMcxRegistration,
  NewMcxSpk,
} from './mcx-records.js';

/** Options of `KyselyMcxStore`. */
export interface McxStoreOptions {
  /** Milliseconds since the epoch (default Date.now). */
  readonly now?: (() => number) | undefined;
}

const KEY_CHECK = 'storage_key_check';
const TRANSPORTS = new Set(['udp', 'tcp', 'tls']);

/** McxStore on SQLite or PostgreSQL, keys sealed by a SecretBox. */
export class KyselyMcxStore implements McxStore {
  readonly #db: Kysely<StoreTables & McxTables>;
  readonly #database: StoreDatabase;
  readonly #box: SecretBox;
  readonly #now: () => number;

  /** A store on a migrated database; `open` also migrates and checks the storage key. */
  constructor(database: StoreDatabase, box: SecretBox, opts: McxStoreOptions = {}) {
    this.#database = database;
    this.#db = database.db.withTables<McxTables>();
    this.#box = box;
    this.#now = opts.now ?? Date.now;
  }

  /** Migrates, then checks the storage key against the one that first used this database. */
  static async open(database: StoreDatabase, box: SecretBox, opts: McxStoreOptions = {}): Promise<KyselyMcxStore> {
    await migrateToLatest(database);
    const aad = storeAad('store_meta', 'value', [KEY_CHECK]);
    const db = database.db;
    await db
      .insertInto('store_meta')
      .values({ name: KEY_CHECK, value: box.seal(new Uint8Array(0), aad) })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await db.selectFrom('store_meta').select('value').where('name', '=', KEY_CHECK).executeTakeFirst();
    box.open(text(row?.value, 'store_meta.value'), aad, 'store.storageKey');
    return new KyselyMcxStore(database, box, opts);
  }

  /** The database this store uses. */
  get database(): StoreDatabase {
    return this.#database;
  }

  // ---- CSK (§9.2.1) ------------------------------------------------------------------------

  async replaceCsk(c: NewMcxCsk): Promise<McxCsk> {
    const cskId = keyId(c.cskId, 'csk.cskId');
    const row = {
      csk_id: cskId,
      user_uri: nonEmpty(c.userUri, 'csk.userUri'),
      client_id: nonEmpty(c.clientId, 'csk.clientId'),
      impu: nonEmpty(c.impu, 'csk.impu'),
      csk_wrapped: this.#box.seal(key16(c.csk, 'csk.csk'), cskAad(cskId, c.userUri, c.clientId)),
      origin: c.origin,
      created_at: this.#now(),
      activates_at: c.activatesAt ?? null,
      expires_at: c.expiresAt ?? null,
      rand: randColumn(c.rand, 'csk.rand'),
    };
    const clash = (): PolicyError =>
      new PolicyError(ErrorCode.FORBIDDEN, {
        field: 'csk.cskId',
        rule: 'is already held for another client (a key identifier is unique within the MC domain)',
        clause: 'TS 33.180 §5.2.2',
      });
    try {
      await this.#db.transaction().execute(async (trx) => {
        const held = await trx.selectFrom('mcx_csk').select(['user_uri', 'client_id']).where('csk_id', '=', cskId).executeTakeFirst();
        if (held !== undefined && (held.user_uri !== c.userUri || held.client_id !== c.clientId)) throw clash();
        await trx.deleteFrom('mcx_csk').where('user_uri', '=', c.userUri).where('client_id', '=', c.clientId).execute();
        await trx.deleteFrom('mcx_csk').where('csk_id', '=', cskId).execute();
        await trx.insertInto('mcx_csk').values(row).execute();
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw clash();
      throw err;
    }
    const stored = await this.getCsk(cskId);
    if (stored === undefined) throw corrupt('mcx_csk', 'row must exist after insert');
    return stored;
  }

  async getCsk(cskId: number): Promise<McxCsk | undefined> {
    if (!isKeyId(cskId)) return undefined;
    const row = await this.#db.selectFrom('mcx_csk').selectAll().where('csk_id', '=', cskId).executeTakeFirst();
    return row === undefined ? undefined : this.#readCsk(row);
  }

  async listCsks(userUri: string): Promise<readonly McxCsk[]> {
    const rows = await this.#db.selectFrom('mcx_csk').selectAll().where('user_uri', '=', userUri).orderBy('created_at').orderBy('csk_id').execute();
    return Object.freeze(rows.map((r) => this.#readCsk(r)));
  }

  async deleteCsks(userUri: string, clientId?: string): Promise<number> {
    let q = this.#db.deleteFrom('mcx_csk').where('user_uri', '=', userUri);
    if (clientId !== undefined) q = q.where('client_id', '=', clientId);
    const r = await q.executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async extendCsks(userUri: string, clientId: string, expiresAt: number): Promise<void> {
    const csks = await this.#db
      .selectFrom('mcx_csk')
      .select(['csk_id', 'expires_at'])
      .where('user_uri', '=', userUri)
      .where('client_id', '=', clientId)
      .execute();
    for (const c of csks) {
      const id = readInt(c.csk_id, 'mcx_csk.csk_id');
      await this.#db.updateTable('mcx_csk').set({ expires_at: int(expiresAt, 'csk.expiresAt') }).where('csk_id', '=', id).execute();
    }
  }

  #readCsk(row: Record<keyof McxTables['mcx_csk'], unknown>): McxCsk {
    const t = 'mcx_csk';
    const cskId = readInt(row.csk_id, `${t}.csk_id`);
    const userUri = text(row.user_uri, `${t}.user_uri`);
    const clientId = text(row.client_id, `${t}.client_id`);
    const origin = text(row.origin, `${t}.origin`);
    if (origin !== 'upload' && origin !== 'download') throw corrupt(`${t}.origin`, 'must be upload or download');
    return Object.freeze({
      cskId,
      userUri,
      clientId,
      impu: text(row.impu, `${t}.impu`),
      csk: this.#box.open(text(row.csk_wrapped, `${t}.csk_wrapped`), cskAad(cskId, userUri, clientId), `${t}.csk_wrapped`),
      origin: origin satisfies McxCskOrigin,
      createdAt: readInt(row.created_at, `${t}.created_at`),
      activatesAt: readOptionalInt(row.activates_at, `${t}.activates_at`),
      expiresAt: readOptionalInt(row.expires_at, `${t}.expires_at`),
      rand: readRandColumn(row.rand, `${t}.rand`),
    });
  }

  // ---- registrations (§5.8.2 step 0) ------------------------------------------------------

  async putRegistration(r: NewMcxRegistration): Promise<McxRegistration> {
    if (!TRANSPORTS.has(r.transport)) throw bad('registration.transport', 'must be udp, tcp or tls');
    const now = this.#now();
    const row = {
      user_uri: nonEmpty(r.userUri, 'registration.userUri'),
      client_id: nonEmpty(r.clientId, 'registration.clientId'),
      impu: nonEmpty(r.impu, 'registration.impu'),
      user_kms_uri: nonEmpty(r.userKmsUri, 'registration.userKmsUri'),
      contact: nonEmpty(r.contact, 'registration.contact'),
      transport: r.transport,
      host: nonEmpty(r.host, 'registration.host'),
      port: int(r.port, 'registration.port', 0, 65535),
      expires_at: int(r.expiresAt, 'registration.expiresAt'),
      updated_at: now,
    };
    await this.#db
      .insertInto('mcx_registration')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['user_uri', 'client_id']).doUpdateSet({
          impu: row.impu,
          user_kms_uri: row.user_kms_uri,
          contact: row.contact,
          transport: row.transport,
          host: row.host,
          port: row.port,
          expires_at: row.expires_at,
          updated_at: row.updated_at,
        }),
      )
      .execute();
    return Object.freeze({ ...r, updatedAt: now });
  }

  async listRegistrations(userUri: string, now: number): Promise<readonly McxRegistration[]> {
    const t = 'mcx_registration';
    const rows = await this.#db
      .selectFrom(t)
      .selectAll()
      .where('user_uri', '=', userUri)
      .where('expires_at', '>', now)
      .orderBy('client_id')
      .execute();
    return Object.freeze(
      rows.map((row) => {
        const transport = text(row.transport, `${t}.transport`);
        if (transport !== 'udp' && transport !== 'tcp' && transport !== 'tls') throw corrupt(`${t}.transport`, 'must be udp, tcp or tls');
        return Object.freeze({
          userUri: text(row.user_uri, `${t}.user_uri`),
          clientId: text(row.client_id, `${t}.client_id`),
          impu: text(row.impu, `${t}.impu`),
          userKmsUri: text(row.user_kms_uri, `${t}.user_kms_uri`),
          contact: text(row.contact, `${t}.contact`),
          transport,
          host: text(row.host, `${t}.host`),
          port: readInt(row.port, `${t}.port`),
          expiresAt: readInt(row.expires_at, `${t}.expires_at`),
          updatedAt: readInt(row.updated_at, `${t}.updated_at`),
        });
      }),
    );
  }

  async deleteRegistration(userUri: string, clientId: string): Promise<boolean> {
    const r = await this.#db.deleteFrom('mcx_registration').where('user_uri', '=', userUri).where('client_id', '=', clientId).executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  // ---- MuSiK (§9.2.2) ----------------------------------------------------------------------

  async putMusik(m: NewMcxMusik): Promise<McxMusik> {
    const musikId = keyId(m.musikId, 'musik.musikId');
    await this.#db
      .insertInto('mcx_musik')
      .values({
        musik_id: musikId,
        group_id: m.groupId,
        musik_wrapped: this.#box.seal(key16(m.musik, 'musik.musik'), storeAad('mcx_musik', 'musik_wrapped', [musikId])),
        created_at: this.#now(),
        expires_at: m.expiresAt ?? null,
      })
      .onConflict((oc) => oc.column('musik_id').doNothing())
      .execute();
    const stored = await this.getMusik(musikId);
    if (stored === undefined) throw corrupt('mcx_musik', 'row must exist after insert');
    return stored;
  }

  async getMusik(musikId: number): Promise<McxMusik | undefined> {
    if (!isKeyId(musikId)) return undefined;
    const row = await this.#db.selectFrom('mcx_musik').selectAll().where('musik_id', '=', musikId).executeTakeFirst();
    return row === undefined ? undefined : this.#readMusik(row);
  }

  async listMusiks(): Promise<readonly McxMusik[]> {
    const rows = await this.#db.selectFrom('mcx_musik').selectAll().orderBy('created_at').orderBy('musik_id').execute();
    return Object.freeze(rows.map((r) => this.#readMusik(r)));
  }

  #readMusik(row: Record<keyof McxTables['mcx_musik'], unknown>): McxMusik {
    const t = 'mcx_musik';
    const musikId = readInt(row.musik_id, `${t}.musik_id`);
    return Object.freeze({
      musikId,
      groupId: text(row.group_id, `${t}.group_id`),
      musik: this.#box.open(text(row.musik_wrapped, `${t}.musik_wrapped`), storeAad(t, 'musik_wrapped', [musikId]), `${t}.musik_wrapped`),
      createdAt: readInt(row.created_at, `${t}.created_at`),
      expiresAt: readOptionalInt(row.expires_at, `${t}.expires_at`),
    });
  }

  async recordMusikDelivery(d: Omit<McxMusikDelivery, 'at'>): Promise<McxMusikDelivery> {
    const at = this.#now();
    const row = { musik_id: keyId(d.musikId, 'delivery.musikId'), user_uri: d.userUri, client_id: d.clientId, status: d.status, at };
    try {
      await this.#db
        .insertInto('mcx_musik_delivery')
        .values(row)
        .onConflict((oc) => oc.columns(['musik_id', 'user_uri', 'client_id']).doUpdateSet({ status: d.status, at }))
        .execute();
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'delivery.musikId', rule: 'must name a stored MuSiK' });
      throw err;
    }
    return Object.freeze({ ...d, at });
  }

  async listMusikDeliveries(musikId: number): Promise<readonly McxMusikDelivery[]> {
    const t = 'mcx_musik_delivery';
    const rows = await this.#db.selectFrom(t).selectAll().where('musik_id', '=', musikId).orderBy('user_uri').orderBy('client_id').execute();
    return Object.freeze(
      rows.map((r) => {
        const status = text(r.status, `${t}.status`);
        if (status !== 'accepted' && status !== 'rejected') throw corrupt(`${t}.status`, 'must be accepted or rejected');
        return Object.freeze({
          musikId: readInt(r.musik_id, `${t}.musik_id`),
          userUri: text(r.user_uri, `${t}.user_uri`),
          clientId: text(r.client_id, `${t}.client_id`),
          status,
          at: readInt(r.at, `${t}.at`),
        });
      }),
    );
  }

  // ---- SPK (§5.5) --------------------------------------------------------------------------

  async putSpk(s: NewMcxSpk): Promise<McxSpk> {
    const spkId = keyId(s.spkId, 'spk.spkId');
    const row = {
      spk_id: spkId,
      partner: nonEmpty(s.partner, 'spk.partner'),
      spk_wrapped: this.#box.seal(key16(s.spk, 'spk.spk'), storeAad('mcx_spk', 'spk_wrapped', [spkId])),
      spk_rand: toHex(key16(s.spkRand, 'spk.spkRand')),
      created_at: this.#now(),
      expires_at: s.expiresAt ?? null,
    };
    await this.#db
      .insertInto('mcx_spk')
      .values(row)
      .onConflict((oc) =>
        oc.column('spk_id').doUpdateSet({ partner: row.partner, spk_wrapped: row.spk_wrapped, spk_rand: row.spk_rand, expires_at: row.expires_at }),
      )
      .execute();
    const stored = await this.getSpk(spkId);
    if (stored === undefined) throw corrupt('mcx_spk', 'row must exist after insert');
    return stored;
  }

  async getSpk(spkId: number): Promise<McxSpk | undefined> {
    if (!isKeyId(spkId)) return undefined;
    const row = await this.#db.selectFrom('mcx_spk').selectAll().where('spk_id', '=', spkId).executeTakeFirst();
    return row === undefined ? undefined : this.#readSpk(row);
  }

  async listSpks(partner?: string): Promise<readonly McxSpk[]> {
    let q = this.#db.selectFrom('mcx_spk').selectAll();
    if (partner !== undefined) q = q.where('partner', '=', partner);
    const rows = await q.orderBy('created_at', 'desc').orderBy('spk_id', 'desc').execute();
    return Object.freeze(rows.map((r) => this.#readSpk(r)));
  }

  #readSpk(row: Record<keyof McxTables['mcx_spk'], unknown>): McxSpk {
    const t = 'mcx_spk';
    const spkId = readInt(row.spk_id, `${t}.spk_id`);
    const rand = text(row.spk_rand, `${t}.spk_rand`);
    if (!/^[0-9a-f]{32}$/.test(rand)) throw corrupt(`${t}.spk_rand`, 'must be 32 lowercase hex digits');
    return Object.freeze({
      spkId,
      partner: text(row.partner, `${t}.partner`),
      spk: this.#box.open(text(row.spk_wrapped, `${t}.spk_wrapped`), storeAad(t, 'spk_wrapped', [spkId]), `${t}.spk_wrapped`),
      spkRand: fromHex(rand),
      createdAt: readInt(row.created_at, `${t}.created_at`),
      expiresAt: readOptionalInt(row.expires_at, `${t}.expires_at`),
    });
  }
}

const cskAad = (cskId: number, userUri: string, clientId: string): Uint8Array => storeAad('mcx_csk', 'csk_wrapped', [cskId, userUri, clientId]);

// ---- checks on the way in (caller errors) ---------------------------------------------------

const isKeyId = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff;

function bad(field: string, rule: string, clause?: string): FormatError {
  return new FormatError(ErrorCode.BAD_VALUE, { field, rule, ...(clause === undefined ? {} : { clause }) });
}

function keyId(v: number, field: string): number {
  if (!isKeyId(v)) throw bad(field, 'must be a 32-bit unsigned integer', 'TS 33.180 Annex G');
  return v;
}

function key16(v: Uint8Array, field: string): Uint8Array {
  if (v.length !== 16) throw new FormatError(ErrorCode.BAD_LENGTH, { field, rule: 'must be 16 octets (128 bits)', clause: 'TS 33.180 §5.5, §9.2' });
  return v;
}

function nonEmpty(v: string, field: string): string {
  if (v.length === 0 || v.length > 2048) throw bad(field, 'must be 1 to 2048 characters');
  return v;
}

function int(v: number, field: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(v) || v < min || v > max) throw bad(field, `must be an integer from ${min} to ${max}`);
  return v;
}

function errCode(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
}
// SQLite SQLITE_CONSTRAINT_PRIMARYKEY / _UNIQUE; PostgreSQL 23505 unique_violation.
const isUniqueViolation = (err: unknown): boolean => ['SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_CONSTRAINT_UNIQUE', '23505'].includes(errCode(err));
const isForeignKeyViolation = (err: unknown): boolean => ['SQLITE_CONSTRAINT_FOREIGNKEY', '23503'].includes(errCode(err));

// ---- checks on the way out (a row that is not what the schema says is a corrupt store) -------

function corrupt(field: string, rule: string): McsecError {
  return new McsecError(ErrorCode.INTERNAL, { field: `store.${field}`, rule });
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

function readOptionalInt(value: unknown, field: string): number | undefined {
  return value === null || value === undefined ? undefined : readInt(value, field);
}
