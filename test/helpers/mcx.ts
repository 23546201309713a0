// A KMS domain and MCX stores made in-process for MCX server tests: the KMS pieces of the library
// (initDomain, KeyIssuer) issue the keys of the server's MDSI and of the users, as a KMS would.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyPeriodNoAt } from '../../src/crypto/index.js';
import { KeyIssuer, initDomain } from '../../src/functions/kms/index.js';
import { serverKeysFromKms, type McxServerKeys } from '../../src/functions/mcx-server/index.js';
import { userKeys, type McxUserKeys, type UserKeySet } from '../../src/client/mcx-user-keys.js';
import { KyselyKmsStore, SecretBox, openDatabase, type KmsDomain, type StoreDatabase } from '../../src/store/index.js';
import { KyselyMcxStore } from '../../src/store/mcx-store.js';

export const KMS_URI = 'kms.mcx.test';
export const MDSI = 'sip:mcx-server@mcx.test';

export interface McxWorld {
  readonly dir: string;
  readonly database: StoreDatabase;
  readonly box: SecretBox;
  readonly kmsStore: KyselyKmsStore;
  readonly mcxStore: KyselyMcxStore;
  readonly domain: KmsDomain;
  readonly serverKeys: McxServerKeys;
  /** The keys of a user (added to the domain), key sets of the periods around now. */
  userKeysOf(uri: string): Promise<McxUserKeys>;
  close(): Promise<void>;
}

/** A domain on a fresh SQLite file (or the given database), the MDSI's keys, an MCX store. */
export async function mcxWorld(o: { database?: StoreDatabase; dir?: string } = {}): Promise<McxWorld> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'mcsec-mcx-'));
  const database = o.database ?? openDatabase(undefined, { dataDir: dir });
  const box = new SecretBox(new Uint8Array(randomBytes(32)));
  const kmsStore = await KyselyKmsStore.open(database, box);
  const { domain } = await initDomain(kmsStore, { kmsUri: KMS_URI, userKeyPeriod: 86_400, userKeyOffset: 0 });
  const mcxStore = await KyselyMcxStore.open(database, box);
  const serverKeys = await serverKeysFromKms(kmsStore, KMS_URI, MDSI);
  const issuer = new KeyIssuer(kmsStore, domain);
  return {
    dir,
    database,
    box,
    kmsStore,
    mcxStore,
    domain,
    serverKeys,
    async userKeysOf(uri: string): Promise<McxUserKeys> {
      await kmsStore.addUsers(KMS_URI, [{ userUri: uri }]);
      const n = keyPeriodNoAt(new Date(), domain.userKeyPeriod, domain.userKeyOffset);
      const sets = new Map<number, UserKeySet>();
      for (const k of [n - 1, n, n + 1]) {
        const s = await issuer.keySet(uri, k);
        sets.set(k, { rsk: s.rsk, ssk: s.ssk, pvt: s.pvt, userId: s.userId });
      }
      return userKeys({ uri, kmsUri: KMS_URI, pubEncKey: domain.pubEncKey, pubAuthKey: domain.pubAuthKey, userKeyPeriod: domain.userKeyPeriod, userKeyOffset: domain.userKeyOffset, keySetFor: (k) => sets.get(k) });
    },
    close: () => database.close(),
  };
}
