/**
 * kms.keyprov for `npm run bench`: complete key provisions over HTTPS (TS 33.180 Annex D.2.4), each
 * one a keyprov for a user with no key set yet, so that the KMS derives the UID, extracts the RSK
 * and an SSK/PVT, stores them, builds the XML, wraps the keys under the user's TrK and signs the
 * response with the InK. Servers are real `mcsec kms serve` processes (1 or 2, on one store:
 * SQLite file or PostgreSQL); the bench process is the client, 8 requests in flight per server.
 * mcsec_ms is wall time per provision (so 2 processes on 2 cores can halve it); the peer is the
 * bare crypto a provision cannot avoid (extractRsk + generateEccsiPair, one core), so the ratio
 * shows the server's overhead, and per-core throughput is 1000 / (mcsec_ms × processes).
 * The client runs on the same 2 cores, which the figures include.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { deriveUid, extractRsk, generateEccsiKmsKey, generateEccsiPair, generateSakkeKmsKey } from '../src/crypto/index.js';
import { initDomain, issueClientKeys } from '../src/functions/kms/index.js';
import { KyselyKmsStore, SecretBox, loadStorageKey, openDatabase } from '../src/store/index.js';
import { encodeKmsRequest } from '../src/formats/kms-xml/index.js';
import { fromHex, toHex } from '../src/util/index.js';

export interface KmsBenchResult {
  op: string;
  mcsec_ms: number;
  peer: string;
  peer_ms: number;
  ratio: number;
}

const root = fileURLToPath(new URL('../', import.meta.url));
const KMS = 'kms.bench.example.org';
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;

/** Median ms of the bare crypto of one provision (UID + RSK + SSK/PVT), one core. */
function bareProvision(n: number): number {
  const z = generateSakkeKmsKey();
  const e = generateEccsiKmsKey();
  const times: number[] = [];
  for (let i = 0; i < n + 2; i++) {
    const t = process.hrtime.bigint();
    const uid = deriveUid({ uri: `sip:bare${i}@x`, kmsUri: KMS, userKeyPeriod: 86400, userKeyOffset: 0, keyPeriodNo: 1 });
    extractRsk(z.z, uid);
    generateEccsiPair(e, uid);
    if (i >= 2) times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(times);
}

async function startServer(args: string[]): Promise<{ readonly url: string; readonly child: ChildProcess }> {
  const child = spawn(process.execPath, ['bin/mcsec.js', 'kms', 'serve', '--port', '0', '--log-level', 'warn', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, MCSEC_FROM_SOURCE: '1' } });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /listening on (https:\/\/\S+)/.exec(out);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`kms serve exited ${code}`)));
  });
  return { url, child };
}

function post(agent: Agent, ca: string, url: string, body: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, ca, headers: { 'content-type': 'application/xml', authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One configuration: `processes` servers on `db`, `count` provisions timed after a warm-up. */
async function run(label: string, db: { url?: string; schema?: string }, processes: number, count: number, log: (s: string) => void): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'mcsec-bench-kms-'));
  const keyFile = join(dir, 'storage.key');
  const box = new SecretBox(loadStorageKey({ file: keyFile, create: true }));
  const database = openDatabase(db.url, { dataDir: dir, schema: db.schema });
  const store = await KyselyKmsStore.open(database, box);
  await initDomain(store, { kmsUri: KMS, userKeyPeriod: 86_400, userKeyOffset: 0 });
  const warm = 8 * processes;
  const users = Array.from({ length: count + warm }, (_, i) => `sip:u${i}@bench.example.org`);
  await store.addUsers(KMS, users.map((userUri) => ({ userUri })));
  const keys = await Promise.all(users.map((u) => issueClientKeys(store, KMS, u)));
  await database.close();
  const idms = await generateKeyPair('ES256');
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(idms.publicKey)), kid: 'b', alg: 'ES256' }] }));
  const tokens = await Promise.all(users.map((u) => new SignJWT({ mcptt_id: u, scope: '3gpp:mc:ptt_key_management_service' }).setProtectedHeader({ alg: 'ES256', kid: 'b' }).setIssuer('https://idms.bench').setAudience('kms').setExpirationTime('1h').sign(idms.privateKey)));
  const args = ['--data-dir', dir, '--kms-uri', KMS, '--storage-key-file', keyFile, '--issuer', 'https://idms.bench', '--audience', 'kms', '--jwks', join(dir, 'jwks.json'), ...(db.url === undefined ? [] : ['--db', db.url]), ...(db.schema === undefined ? [] : ['--db-schema', db.schema])];
  const servers: { url: string; child: ChildProcess }[] = [];
  try {
    for (let i = 0; i < processes; i++) servers.push(await startServer(args));
    const ca = readFileSync(join(dir, 'tls-cert.pem'), 'utf8');
    const agent = new Agent({ keepAlive: true, maxSockets: 8 * processes });
    let next = 0;
    const one = async (i: number): Promise<void> => {
      const s = servers[i % processes];
      const u = users[i];
      const k = keys[i];
      const tok = tokens[i];
      if (s === undefined || u === undefined || k === undefined || tok === undefined) return;
      const url = `${s.url}/keymanagement/identity/v1/keyprov`;
      const body = encodeKmsRequest({ userUri: u, kmsUri: KMS, clientReqUrl: url, trkId: k.trkId, signatureId: k.inkId }, fromHex(k.ink));
      const status = await post(agent, ca, url, body, tok);
      if (status !== 200) throw new Error(`${label}: keyprov answered ${status}`);
    };
    const worker = async (limit: number): Promise<void> => {
      for (let i = next++; i < limit; i = next++) await one(i);
    };
    await Promise.all(Array.from({ length: 8 * processes }, () => worker(warm)));
    next = warm;
    const t = process.hrtime.bigint();
    await Promise.all(Array.from({ length: 8 * processes }, () => worker(warm + count)));
    const ms = Number(process.hrtime.bigint() - t) / 1e6 / count;
    agent.destroy();
    log(`${label.padEnd(28)} ${(1000 / ms).toFixed(0).padStart(5)} provisions/s (${processes} process${processes > 1 ? 'es' : ''}), ${(1000 / ms / processes).toFixed(0)} per process`);
    return ms;
  } finally {
    for (const s of servers) s.child.kill('SIGTERM');
    if (db.url !== undefined && db.schema !== undefined) {
      const d = openDatabase(db.url, { schema: db.schema });
      await d.db.schema.dropSchema(db.schema).ifExists().cascade().execute().catch(() => undefined);
      await d.close();
    }
  }
}

/** kms.keyprov on SQLite and PostgreSQL with 1 and 2 server processes. */
export async function kmsBench(log: (s: string) => void, count = 200): Promise<KmsBenchResult[]> {
  const results: KmsBenchResult[] = [];
  const bare = bareProvision(40);
  log(`bare provision crypto (UID + RSK + SSK/PVT): ${bare.toFixed(3)} ms`);
  const pgUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
  const configs: [string, { url?: string; schema?: string }, number][] = [
    ['kms.keyprov.sqlite.1proc', {}, 1],
    ['kms.keyprov.sqlite.2proc', {}, 2],
    ['kms.keyprov.postgres.1proc', { url: pgUrl, schema: `bench_${toHex(new Uint8Array(randomBytes(4)))}` }, 1],
    ['kms.keyprov.postgres.2proc', { url: pgUrl, schema: `bench_${toHex(new Uint8Array(randomBytes(4)))}` }, 2],
  ];
  for (const [op, db, processes] of configs) {
    const ms = await run(op, db, processes, count, log);
    results.push({ op, mcsec_ms: r4(ms), peer: 'mcsec-crypto', peer_ms: r4(bare), ratio: r4(ms / bare) });
  }
  return results;
}

const r4 = (x: number): number => Math.round(x * 10000) / 10000;
