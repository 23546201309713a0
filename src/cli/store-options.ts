/**
 * The storage options every server-side command shares (--data-dir, --db, --db-schema,
 * --storage-key-file) and the one way they open a store: the database, then the storage key
 * (MCSEC_STORAGE_KEY, or the key file, default <data-dir>/storage.key made 0600 on first use),
 * then the function's store; the database is closed again when anything after it fails.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { STORAGE_KEY_ENV, SecretBox, loadStorageKey, openDatabase, type StoreDatabase } from '../store/index.js';

export interface StoreOptions {
  readonly dataDir: string;
  readonly db?: string | undefined;
  readonly dbSchema?: string | undefined;
  readonly storageKeyFile?: string | undefined;
}

/** Adds the shared storage options to a command. */
export function addStoreOptions(c: Command): Command {
  return c
    .option('--data-dir <dir>', 'folder for the SQLite file, storage key, TLS certificate', 'data')
    .option('--db <url>', 'SQLite file or postgres:// URL (default <data-dir>/mcsec.db)')
    .option('--db-schema <name>', 'PostgreSQL schema for the tables (default public)')
    .option('--storage-key-file <file>', `storage key file (default <data-dir>/storage.key unless ${STORAGE_KEY_ENV} is set)`);
}

/** Opens the database and the function's store on it (e.g. `KyselyKmsStore.open`). */
export async function openStore<S>(
  o: StoreOptions,
  open: (database: StoreDatabase, box: SecretBox) => Promise<S>,
): Promise<{ readonly database: StoreDatabase; readonly store: S }> {
  const database = openDatabase(o.db, { dataDir: o.dataDir, schema: o.dbSchema });
  try {
    const key =
      o.storageKeyFile === undefined && (process.env[STORAGE_KEY_ENV] ?? '') !== ''
        ? loadStorageKey()
        : loadStorageKey({ file: o.storageKeyFile ?? join(o.dataDir, 'storage.key'), create: true });
    return { database, store: await open(database, new SecretBox(key)) };
  } catch (e) {
    await database.close();
    throw e;
  }
}
