// `mcsec gms …` through the bin: `gms serve` printing `listening on <sip url>` and answering a
// member's REGISTER with the GMK of a group `gms create-group` made before the member registered;
// `gms rekey` with its progress bar reaching the member; `gms show` listing GMKs and deliveries
// without any key; `gms remove-member`; errors as one line with the code and exit status.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClientKeyStore } from '../../src/client/index.js';
import { GroupManagementClient } from '../../src/client/gmc.js';
import type { StoredGmk } from '../../src/client/gmk-store.js';
import { KeyIssuer, initDomain, keyPeriodNoOf } from '../../src/functions/kms/index.js';
import { installGmsIdentity } from '../../src/functions/gms/index.js';
import { KyselyGmsStore, KyselyKmsStore, SecretBox, loadStorageKey, openDatabase } from '../../src/store/index.js';
import { listenSip, type SipEndpoint } from '../../src/transport/sip/index.js';
import { toHex } from '../../src/util/index.js';
import { json, mcsec } from '../helpers/cli.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mcsec-gms-cli-'));
const data = join(dir, 'gms');
const KMS = 'kms.example.org';
const GMS = 'sip:gms@example.org';
const ALICE = 'sip:alice@example.org';
const GROUP = 'sip:fire@example.org';
const common = ['--data-dir', data, '--gms-uri', GMS, '--kms-uri', KMS, '--workers', '0', '--table-window', '6'];

const field = (o: unknown, k: string): unknown => (typeof o === 'object' && o !== null ? Reflect.get(o, k) : undefined);

let server: ChildProcess | undefined;
let endpoint: SipEndpoint | undefined;
let alice: GroupManagementClient | undefined;
const secrets: string[] = [];

before(async () => {
  // Keys made with the KMS's KeyIssuer directly (no KMS server in this test; the e2e test provisions
  // through a real KMS over HTTPS): the GMS identity goes into the store `gms serve` will open,
  // with the storage key file it will use; alice's into her client key store.
  const kmsDb = openDatabase('sqlite::memory:');
  const kmsStore = await KyselyKmsStore.open(kmsDb, new SecretBox(new Uint8Array(32).fill(7)));
  const { domain } = await initDomain(kmsStore, { kmsUri: KMS, userKeyPeriod: 2_419_200, userKeyOffset: 0 });
  const issuer = new KeyIssuer(kmsStore, domain);
  const period = keyPeriodNoOf(domain, new Date());
  const certificate = { kmsUri: KMS, userKeyPeriod: domain.userKeyPeriod, userKeyOffset: domain.userKeyOffset, pubEncKey: domain.pubEncKey, pubAuthKey: domain.pubAuthKey };
  const gmsKeys = issuer.make(GMS, period);
  secrets.push(toHex(gmsKeys.ssk), toHex(gmsKeys.rsk));
  const database = openDatabase(undefined, { dataDir: data });
  const store = await KyselyGmsStore.open(database, new SecretBox(loadStorageKey({ file: join(data, 'storage.key'), create: true })));
  await installGmsIdentity(store, GMS, { certificate, keySets: [gmsKeys] });
  await database.close();
  const keys = new ClientKeyStore(join(dir, 'alice'), new Uint8Array(32).fill(9));
  keys.putCertificate({ ...certificate, role: 'Root' });
  const a = issuer.make(ALICE, period);
  keys.putKeySet({ ...a, validFrom: undefined, validTo: undefined });
  await kmsDb.close();

  server = spawn(process.execPath, ['bin/mcsec.js', 'gms', 'serve', ...common, '--port', '0', '--rekey-interval', '0', '--log-level', 'warn'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MCSEC_STORAGE_KEY: '' } });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    server?.stdout?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /listening on sip:127\.0\.0\.1:(\d+)/.exec(out);
      if (m?.[1] !== undefined) resolve(Number(m[1]));
    });
    server?.on('exit', (code) => reject(new Error(`gms serve exited ${code}`)));
  });
  endpoint = await listenSip({ udp: {} });
  alice = new GroupManagementClient({ userUri: ALICE, kmsUri: KMS, keys, gmsUri: GMS, endpoint, registrar: { transport: 'udp', host: '127.0.0.1', port } });
});

after(async () => {
  server?.kill('SIGTERM');
  alice?.close();
  await endpoint?.close();
  rmSync(dir, { recursive: true, force: true });
});

const next = (gmc: GroupManagementClient): Promise<StoredGmk> => new Promise((resolve) => gmc.once('gmk', resolve));

test('mcsec gms: create-group before the member registers; serve sends the GMK on REGISTER; rekey with a progress bar; show; remove-member', async () => {
  const gmc = alice;
  assert.ok(gmc !== undefined);
  const created = json(await mcsec(['gms', 'create-group', GROUP, '--member', ALICE, '--also', 'sip:fire-video@example.org', '--text', 'Fire', ...common]));
  assert.equal(created['created'], true);
  assert.equal(field(created['distribution'], 'pending'), 1, 'alice has not registered yet');
  const first = String(field(created['distribution'], 'gmkId'));
  assert.match(first, /^0[0-9a-f]{7}$/, 'GMK-ID with purpose tag 0');

  const arrived = next(gmc);
  await gmc.register(300);
  assert.equal((await arrived).gmkId.toString(16).padStart(8, '0'), first);

  const rekey = await mcsec(['gms', 'rekey', GROUP, ...common]);
  const r = json(rekey);
  assert.equal(field(r['distribution'], 'delivered'), 1);
  assert.match(rekey.stderr, /rekey \[.*\] 1\/1 members/, 'a progress bar on stderr');
  const second = String(field(r['distribution'], 'gmkId'));
  assert.equal(gmc.activeGmk(GROUP)?.gmkId.toString(16).padStart(8, '0'), second);

  const show = await mcsec(['gms', 'show', GROUP, ...common]);
  const s = json(show);
  const gmks = s['gmks'];
  assert.ok(Array.isArray(gmks));
  assert.deepEqual(gmks.map((g) => field(g, 'gmkId')), [first, second]);
  assert.deepEqual(field(gmks[1], 'deliveries'), [{ member: ALICE, state: 'delivered', status: 200, code: null }]);
  const held = gmc.gmks().map((g) => toHex(g.gmk));
  for (const secret of [...held, ...secrets]) assert.ok(!show.stdout.includes(secret) && !rekey.stdout.includes(secret) && !rekey.stderr.includes(secret), 'no key in the output');

  const removed = json(await mcsec(['gms', 'remove-member', GROUP, ALICE, ...common]));
  assert.deepEqual(removed['removed'], [ALICE]);
  assert.equal(field(removed['distribution'], 'members'), 0, 'the rekey after the removal has nobody to send to');
  assert.equal(gmc.activeGmk(GROUP)?.gmkId.toString(16).padStart(8, '0'), second, 'alice did not get the GMK made after her removal');
});

test('mcsec gms: errors are one line with code and field; usage errors exit 2', async () => {
  const none = await mcsec(['gms', 'rekey', 'sip:no-such-group@example.org', ...common]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^mcsec: ERR_NOT_FOUND gms\.groupUri: no such group/m);
  const noMember = await mcsec(['gms', 'create-group', GROUP, ...common]);
  assert.equal(noMember.code, 2);
  const noUri = await mcsec(['gms', 'rekey', GROUP, '--data-dir', join(dir, 'empty')]);
  assert.equal(noUri.code, 2);
  assert.match(noUri.stderr, /ERR_USAGE --gms-uri/);
});
