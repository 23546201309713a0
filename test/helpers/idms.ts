// An IdMS for tests (TS 33.180 Annex B): a fresh SQLite store in a temporary folder, a self-signed
// TLS certificate, users and clients added through the admin functions, `idms serve` in-process on
// a loopback port. Log lines are kept in memory so tests can search them for secrets.
import { mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { addClient, addUser, decodeIdmsConfig, startIdmsServer, type RunningIdms } from '../../src/functions/idms/index.js';
import { KyselyIdmsStore, SecretBox, openDatabase, type StoreDatabase } from '../../src/store/index.js';
import { loadOrCreateTls } from '../../src/transport/http/index.js';

/** Low scrypt cost for tests (the default costs ~0.1 s a hash). */
export const TEST_SCRYPT = { logN: 10, r: 8, p: 1 } as const;

export interface TestIdms {
  readonly idms: RunningIdms;
  readonly store: KyselyIdmsStore;
  readonly database: StoreDatabase;
  readonly caPem: string;
  readonly dir: string;
  readonly lines: string[];
  close(): Promise<void>;
}

export interface TestIdmsOptions {
  readonly config?: Record<string, unknown>;
  readonly now?: () => number;
  readonly dir?: string;
  /** Listening port (default 0: any); see `freePort` for two IdMSs that must know each other. */
  readonly port?: number;
}

/** A loopback port free a moment ago, so that two IdMSs can be configured with each other's URL. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Starts an IdMS with `config` (resources default to one KMS resource). */
export async function startTestIdms(o: TestIdmsOptions = {}): Promise<TestIdms> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'mcsec-idms-'));
  const database = openDatabase(undefined, { dataDir: dir });
  const store = await KyselyIdmsStore.open(database, new SecretBox(new Uint8Array(randomBytes(32))));
  const tls = await loadOrCreateTls({ dataDir: dir });
  const lines: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _e, cb) { lines.push(chunk.toString('utf8')); cb(); } });
  const config = decodeIdmsConfig({ resources: [{ uri: 'https://kms.example.org' }], ...o.config });
  const idms = await startIdmsServer({ store, config, tls, logger: pino({ level: 'debug' }, stream), port: o.port ?? 0, host: '127.0.0.1', now: o.now });
  return {
    idms, store, database, caPem: tls.cert, dir, lines,
    close: async () => { await idms.close(); await database.close(); },
  };
}

export const ALICE = { username: 'alice', password: 'correct horse battery staple', mcptt: 'sip:alice@example.org' } as const;
export const CLIENT_ID = 'mcptt-client';
export const REDIRECT = 'http://127.0.0.1/cb';

/** Alice (MCPTT ID only) and the native client. */
export async function provisionAlice(store: KyselyIdmsStore, clientId = CLIENT_ID): Promise<void> {
  await addUser(store, { username: ALICE.username, password: ALICE.password, mcServiceIds: { mcptt_id: ALICE.mcptt }, scrypt: TEST_SCRYPT });
  await addClient(store, { clientId, redirectUris: [REDIRECT] });
}
