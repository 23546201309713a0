/**
 * Opens the store's database from the `--db` option (ARCHITECTURE.md §4): SQLite through
 * better-sqlite3 for one machine (the default, a file under the data folder), PostgreSQL through
 * a `pg` pool when several instances share the load. Both sit behind one Kysely instance.
 *
 *   (absent)                  → <dataDir>/mcsec.db (SQLite)
 *   ./x.db, /var/x.db         → that SQLite file
 *   sqlite:x.db, sqlite:///var/x.db, sqlite::memory:
 *   postgres://…, postgresql://… → PostgreSQL; tables live in `schema` (default `public`)
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { ConfigError, ErrorCode } from '../errors/index.js';
import type { StoreTables } from './tables.js';

/** Which engine a database runs on. */
export type StoreDialect = 'sqlite' | 'postgres';

/** An open store database. */
export interface StoreDatabase {
  readonly db: Kysely<StoreTables>;
  readonly dialect: StoreDialect;
  /** The PostgreSQL schema holding the tables; undefined for SQLite. */
  readonly schema: string | undefined;
  /** Where the data lives, without any password: a file path or a redacted URL. */
  readonly location: string;
  /**
   * Runs `fn` holding a database-wide write lock on SQLite (`BEGIN IMMEDIATE`, so that two
   * processes migrating one file take turns); on PostgreSQL it just runs `fn`, as Kysely's
   * migrator takes an advisory lock there.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** Closes the connection or pool. */
  close(): Promise<void>;
}

/** Options of `openDatabase`. */
export interface OpenDatabaseOptions {
  /** Folder of the default SQLite file (default `data`); created when missing. */
  readonly dataDir?: string | undefined;
  /** PostgreSQL schema for the tables (default `public`); created by the migrations. */
  readonly schema?: string | undefined;
  /** Largest number of PostgreSQL connections in the pool (default 10). */
  readonly poolSize?: number | undefined;
  /** How long SQLite waits for another writer, in milliseconds (default 5000). */
  readonly busyTimeoutMs?: number | undefined;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const DEFAULT_FILE = 'mcsec.db';

/** Opens the database `url` names (see the module header); a bad URL is ConfigError naming --db. */
export function openDatabase(
  url: string | undefined,
  opts: OpenDatabaseOptions = {},
): StoreDatabase {
  if (url === undefined) {
    const dir = opts.dataDir ?? 'data';
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch {
      throw new ConfigError(ErrorCode.IO, {
        field: '--data-dir',
        rule: 'must be a folder mcsec can create and write',
      });
    }
    return openSqlite(join(dir, DEFAULT_FILE), opts);
  }
  if (/^postgres(ql)?:\/\//i.test(url)) return openPostgres(url, opts);
  if (/^sqlite:/i.test(url)) return openSqlite(url.replace(/^sqlite:(\/\/)?/i, ''), opts);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw badDb('must be a SQLite file, a sqlite: URL or a postgres:// URL');
  }
  return openSqlite(url, opts);
}

function badDb(rule: string): ConfigError {
  return new ConfigError(ErrorCode.CONFIG, { field: '--db', rule });
}

function openSqlite(file: string, opts: OpenDatabaseOptions): StoreDatabase {
  if (file === '') throw badDb('must name a SQLite file');
  const busyTimeoutMs = opts.busyTimeoutMs ?? 5000;
  let handle: BetterSqlite3.Database;
  try {
    handle = new BetterSqlite3(file, { timeout: busyTimeoutMs });
  } catch {
    throw new ConfigError(ErrorCode.IO, {
      field: '--db',
      rule: 'must name a SQLite file that can be opened (is its folder there?)',
    });
  }
  try {
    if (file !== ':memory:') handle.pragma('journal_mode = WAL');
    handle.pragma('foreign_keys = ON');
    handle.pragma('synchronous = NORMAL');
  } catch {
    handle.close();
    throw new ConfigError(ErrorCode.IO, {
      field: '--db',
      rule: 'must name a SQLite database file',
    });
  }
  const db = new Kysely<StoreTables>({ dialect: new SqliteDialect({ database: handle }) });
  return Object.freeze({
    db,
    dialect: 'sqlite' as const,
    schema: undefined,
    location: file,
    exclusive: <T>(fn: () => Promise<T>) => sqliteExclusive(handle, busyTimeoutMs, fn),
    close: () => db.destroy(),
  });
}

/**
 * BEGIN IMMEDIATE without blocking the event loop: better-sqlite3 waits synchronously for a busy
 * database, which would stall another connection of this same process that holds the lock, so
 * the wait is a loop of non-blocking attempts instead.
 */
async function sqliteExclusive<T>(
  handle: BetterSqlite3.Database,
  busyTimeoutMs: number,
  fn: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + busyTimeoutMs;
  handle.pragma('busy_timeout = 0');
  try {
    for (;;) {
      try {
        handle.exec('BEGIN IMMEDIATE');
        break;
      } catch (err) {
        if (!isSqliteBusy(err) || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  } finally {
    handle.pragma(`busy_timeout = ${busyTimeoutMs}`);
  }
  try {
    const out = await fn();
    handle.exec('COMMIT');
    return out;
  } catch (err) {
    if (handle.inTransaction) handle.exec('ROLLBACK');
    throw err;
  }
}

function isSqliteBusy(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === 'SQLITE_BUSY';
}

function openPostgres(url: string, opts: OpenDatabaseOptions): StoreDatabase {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badDb('must be a valid postgres:// URL');
  }
  if (parsed.hostname === '' && !parsed.searchParams.has('host')) {
    throw badDb('must name a host in the postgres:// URL');
  }
  const schema = opts.schema ?? 'public';
  if (!SCHEMA_NAME.test(schema)) {
    throw new ConfigError(ErrorCode.CONFIG, {
      field: '--db-schema',
      rule: 'must be a lowercase SQL identifier (letters, digits, _; at most 63)',
    });
  }
  const poolSize = opts.poolSize ?? 10;
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new ConfigError(ErrorCode.CONFIG, {
      field: '--db-pool-size',
      rule: 'must be a positive integer',
    });
  }
  const options = `-c search_path=${schema}`;
  const pool = new pg.Pool({ connectionString: url, max: poolSize, options });
  // An idle client that loses its server is dropped by the pool; the next query reports it.
  pool.on('error', () => undefined);
  const db = new Kysely<StoreTables>({ dialect: new PostgresDialect({ pool }) });
  if (parsed.password !== '') parsed.password = '***';
  return Object.freeze({
    db,
    dialect: 'postgres' as const,
    schema,
    location: parsed.toString(),
    exclusive: <T>(fn: () => Promise<T>) => fn(),
    close: () => db.destroy(),
  });
}
