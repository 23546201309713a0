/**
 * SIPp (Debian sip-tester) as an independent SIP peer against `mcsec mcx serve` (spawned through
 * the bin, as an operator runs it) on loopback, over UDP (`-t u1`) and TCP (`-t t1`): REGISTERs
 * with a TS 33.180 §9.2.1.3 CSK upload (test/fixtures/sipp/mcx-csk-register.xml), whose
 * I_MESSAGEs the test made beforehand with a user's KMS-issued keys and hands to SIPp in an -inf
 * CSV. Every valid upload must get a 200 and be stored for its client; tampered uploads must get a
 * 403 and leave nothing stored; and the check is live: valid uploads run against the "expect 403"
 * scenario must fail. Then protected signalling (test/fixtures/sipp/mcx-protected-message.xml):
 * each call uploads a CSK and sends a MESSAGE whose mcptt-info is encrypted and signed under it
 * (§9.3.4, §9.3.5): 200; with one octet of ciphertext changed: 403; under a CSK never uploaded:
 * 488. SIPp's exit code and its statistics file decide. A missing sipp fails the run.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keyPeriodNoAt } from '../../src/crypto/index.js';
import { KeyIssuer, initDomain } from '../../src/functions/kms/index.js';
import { McxClientKeys } from '../../src/client/mcx-client-keys.js';
import { userKeys, type UserKeySet } from '../../src/client/mcx-user-keys.js';
import { KyselyKmsStore, SecretBox, loadStorageKey, openDatabase } from '../../src/store/index.js';
import { KyselyMcxStore } from '../../src/store/mcx-store.js';
import { ContentType, headerValue } from '../../src/formats/sip/index.js';
import { MCPTT_INFO_POLICY, protectSipXmlBodies } from '../../src/formats/xmlenc/index.js';
import { toBase64 } from '../../src/util/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const template = readFileSync(fileURLToPath(new URL('../fixtures/sipp/mcx-csk-register.xml', import.meta.url)), 'utf8');
const messageTemplate = readFileSync(fileURLToPath(new URL('../fixtures/sipp/mcx-protected-message.xml', import.meta.url)), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'mcsec-sipp-mcx-'));
const data = join(dir, 'mcx');
const KMS = 'kms.mcx.test';
const MDSI = 'sip:mcx-server@mcx.test';
const ALICE = 'sip:alice@mcx.test';
const CALLS = 10;

let server: ChildProcess | undefined;
let port = 0;
let alice: McxClientKeys;

after(() => {
  server?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

function sippVersion(): string {
  const r = spawnSync('sipp', ['-v'], { encoding: 'utf8' });
  if (r.error !== undefined) {
    throw new Error(`sipp is not installed: install sip-tester (apt-get install -y sip-tester) to run the SIP interop test (${r.error.message})`);
  }
  return /SIPp v[^\s]+/.exec(`${r.stdout}${r.stderr}`)?.[0] ?? 'SIPp (version unknown)';
}

before(async () => {
  // The KMS domain and Alice's keys, in the store `mcx serve` will use (the MDSI's keys are issued
  // by the server itself from the same domain, --kms-uri).
  const database = openDatabase(undefined, { dataDir: data });
  try {
    const box = new SecretBox(loadStorageKey({ file: join(data, 'storage.key'), create: true }));
    const kms = await KyselyKmsStore.open(database, box);
    const { domain } = await initDomain(kms, { kmsUri: KMS, userKeyPeriod: 86_400, userKeyOffset: 0 });
    await kms.addUsers(KMS, [{ userUri: ALICE }]);
    const issuer = new KeyIssuer(kms, domain);
    const n = keyPeriodNoAt(new Date(), domain.userKeyPeriod, domain.userKeyOffset);
    const sets = new Map<number, UserKeySet>();
    for (const k of [n - 1, n, n + 1]) {
      const s = await issuer.keySet(ALICE, k);
      sets.set(k, { rsk: s.rsk, ssk: s.ssk, pvt: s.pvt, userId: s.userId });
    }
    const keys = userKeys({ uri: ALICE, kmsUri: KMS, pubEncKey: domain.pubEncKey, pubAuthKey: domain.pubAuthKey, userKeyPeriod: domain.userKeyPeriod, userKeyOffset: domain.userKeyOffset, keySetFor: (k) => sets.get(k) });
    alice = new McxClientKeys({ user: keys, server: { mdsi: MDSI } });
  } finally {
    await database.close();
  }
  server = spawn(process.execPath, ['bin/mcsec.js', 'mcx', 'serve', '--data-dir', data, '--kms-uri', KMS, '--mdsi', MDSI, '--port', '0', '--log-level', 'warn'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MCSEC_STORAGE_KEY: '' },
  });
  port = await new Promise<number>((resolve, reject) => {
    let out = '';
    let err = '';
    server?.stdout?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /listening on sip:127\.0\.0\.1:(\d+)/.exec(out);
      if (m?.[1] !== undefined) resolve(Number(m[1]));
    });
    server?.stderr?.setEncoding('utf8').on('data', (c: string) => (err += c));
    server?.on('exit', (code) => reject(new Error(`mcx serve exited ${code}: ${err}`)));
  });
});

interface SippRun {
  readonly code: number | null;
  readonly successful: number;
  readonly failed: number;
  readonly output: string;
}

/** Runs sipp with the scenario expecting `expect`, the CSV of uploads (or other `rows`), to completion. */
async function runSipp(name: string, flag: 'u1' | 't1', expect: number, uploads: readonly Uint8Array[], o: { readonly template?: string; readonly rows?: readonly string[] } = {}): Promise<SippRun> {
  const scenario = join(dir, `${name}.xml`);
  writeFileSync(scenario, (o.template ?? template).replaceAll('@EXPECT@', String(expect)));
  const csv = join(dir, `${name}.csv`);
  writeFileSync(csv, `SEQUENTIAL\n${(o.rows ?? uploads.map((u) => `${toBase64(u)};${ALICE}`)).join('\n')}\n`);
  const stats = join(dir, `${name}-stats.csv`);
  const errors = join(dir, `${name}-errors.log`);
  const child = spawn(
    'sipp',
    [`127.0.0.1:${port}`, '-sf', scenario, '-inf', csv, '-t', flag, '-i', '127.0.0.1', '-m', String(o.rows?.length ?? uploads.length), '-r', '20', '-l', '5', '-nostdin', '-timeout', '60s', '-timeout_error', '-trace_stat', '-stf', stats, '-trace_err', '-error_file', errors],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += String(d)));
  child.stderr.on('data', (d: Buffer) => (output += String(d)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (existsSync(errors)) output += `\n--- sipp error log ---\n${readFileSync(errors, 'utf8').slice(0, 4000)}`;
  const lines = existsSync(stats) ? readFileSync(stats, 'utf8').trim().split('\n') : [];
  const header = (lines[0] ?? '').split(';');
  const last = (lines.at(-1) ?? '').split(';');
  const column = (n: string): number => {
    const i = header.indexOf(n);
    return i < 0 ? -1 : Number(last[i]);
  };
  return { code, successful: column('SuccessfulCall(C)'), failed: column('FailedCall(C)'), output };
}

/** What the server stored for Alice, read from its database as another process. */
async function storedCskIds(): Promise<Set<number>> {
  const database = openDatabase(undefined, { dataDir: data });
  try {
    const store = await KyselyMcxStore.open(database, new SecretBox(loadStorageKey({ file: join(data, 'storage.key') })));
    return new Set((await store.listCsks(ALICE)).map((c) => c.cskId));
  } finally {
    await database.close();
  }
}

/** Fresh uploads of Alice (each its own CSK and I_MESSAGE: a repeated one would be a replay). */
function uploads(n: number): { readonly iMessages: Uint8Array[]; readonly cskIds: number[] } {
  const made = Array.from({ length: n }, () => alice.createCskUpload());
  return { iMessages: made.map((m) => m.iMessage), cskIds: made.map((m) => m.cskId) };
}

/** An upload with one octet of its SAKKE payload flipped: the ECCSI signature no longer verifies. */
function tampered(m: Uint8Array): Uint8Array {
  const t = m.slice();
  const at = Math.floor(t.length / 2);
  t[at] = (t[at] ?? 0) ^ 0x80;
  return t;
}

for (const [transport, flag] of [
  ['udp', 'u1'],
  ['tcp', 't1'],
] as const) {
  test(`sipp REGISTER with CSK uploads over ${transport.toUpperCase()} (-t ${flag}) to mcx serve: ${CALLS} calls get 200, every CSK stored`, { timeout: 180_000 }, async () => {
    const version = sippVersion();
    const u = uploads(CALLS);
    const run = await runSipp(`ok-${flag}`, flag, 200, u.iMessages);
    assert.equal(run.code, 0, `${version} exit code\n${run.output}`);
    assert.equal(run.successful, CALLS, run.output);
    assert.equal(run.failed, 0, run.output);
    const held = await storedCskIds();
    assert.deepEqual(u.cskIds.filter((id) => !held.has(id)), [], 'every uploaded CSK-ID is stored');
  });

  test(`sipp REGISTER with tampered CSK uploads over ${transport.toUpperCase()} (-t ${flag}): ${CALLS} calls get 403, nothing stored`, { timeout: 180_000 }, async () => {
    const version = sippVersion();
    const u = uploads(CALLS);
    const run = await runSipp(`tampered-${flag}`, flag, 403, u.iMessages.map(tampered));
    assert.equal(run.code, 0, `${version} exit code\n${run.output}`);
    assert.equal(run.successful, CALLS, run.output);
    assert.equal(run.failed, 0, run.output);
    const held = await storedCskIds();
    assert.deepEqual(u.cskIds.filter((id) => held.has(id)), [], 'no tampered CSK-ID is stored');
  });
}

test('the scenario check is live: valid uploads run against the 403 scenario fail every call', { timeout: 180_000 }, async () => {
  sippVersion();
  const u = uploads(CALLS);
  const run = await runSipp('live-u1', 'u1', 403, u.iMessages);
  assert.notEqual(run.code, 0, run.output);
  assert.equal(run.successful, 0, run.output);
  assert.equal(run.failed, CALLS, run.output);
});

/** The mcptt-info of the protected MESSAGEs: one line, no ';' (the CSV separator). */
const INFO = `<?xml version="1.0" encoding="UTF-8"?><mcpttinfo xmlns="urn:3gpp:ns:mcpttInfo:1.0"><mcptt-Params><mcptt-access-token><mcpttString>eyJhbGciOiJFUzI1NiJ9.e30.c2ln</mcpttString></mcptt-access-token><mcptt-calling-user-id><mcpttURI>${ALICE}</mcpttURI></mcptt-calling-user-id><mcptt-called-party-id><mcpttURI>sip:bob@mcx.test</mcpttURI></mcptt-called-party-id></mcptt-Params></mcpttinfo>`;

/**
 * CSV rows of protected-MESSAGE calls: a fresh CSK upload, and the mcptt-info encrypted and
 * signed under that CSK (or, with `foreign`, under another CSK never uploaded), `change`d after.
 */
function protectedRows(n: number, o: { readonly change?: (xml: string) => string; readonly foreign?: boolean } = {}): string[] {
  return Array.from({ length: n }, () => {
    const u = alice.createCskUpload();
    const k = o.foreign === true ? alice.createCskUpload() : u;
    const [info, sigs] = protectSipXmlBodies([{ contentType: ContentType.MCPTT_INFO, xml: INFO, policy: MCPTT_INFO_POLICY }], {
      key: { xpk: k.csk, xpkId: k.cskId, purpose: 'CSK', mcServiceUserId: ALICE },
      contentIdDomain: 'mcx.test',
    });
    assert.ok(info !== undefined && sigs !== undefined);
    const xml = new TextDecoder().decode(info.body);
    assert.ok(!/[\r\n;]/.test(xml), 'the protected body fits one CSV field');
    const cid = (headerValue(info, 'Content-ID') ?? '').replace(/^<|>$/g, '');
    return [toBase64(u.iMessage), ALICE, (o.change ?? ((x: string) => x))(xml), cid, toBase64(sigs.body)].join(';');
  });
}

/** One octet of the first CipherValue changed. */
const flipCipher = (xml: string): string => xml.replace(/<xenc:CipherValue>(.)/, (_, c: string) => `<xenc:CipherValue>${c === 'A' ? 'B' : 'A'}`);

for (const [transport, flag] of [
  ['udp', 'u1'],
  ['tcp', 't1'],
] as const) {
  test(`sipp protected MESSAGE over ${transport.toUpperCase()} (-t ${flag}): CSK upload then a MESSAGE encrypted and signed under it: ${CALLS} calls get 200`, { timeout: 180_000 }, async () => {
    const version = sippVersion();
    const run = await runSipp(`msg-ok-${flag}`, flag, 200, [], { template: messageTemplate, rows: protectedRows(CALLS) });
    assert.equal(run.code, 0, `${version} exit code\n${run.output}`);
    assert.equal(run.successful, CALLS, run.output);
    assert.equal(run.failed, 0, run.output);
  });

  test(`sipp protected MESSAGE over ${transport.toUpperCase()} (-t ${flag}): a changed ciphertext gets 403, a CSK never uploaded 488`, { timeout: 180_000 }, async () => {
    const version = sippVersion();
    const tampered = await runSipp(`msg-tampered-${flag}`, flag, 403, [], { template: messageTemplate, rows: protectedRows(CALLS, { change: flipCipher }) });
    assert.equal(tampered.code, 0, `${version} exit code\n${tampered.output}`);
    assert.equal(tampered.successful, CALLS, tampered.output);
    const foreign = await runSipp(`msg-foreign-${flag}`, flag, 488, [], { template: messageTemplate, rows: protectedRows(CALLS, { foreign: true }) });
    assert.equal(foreign.code, 0, `${version} exit code\n${foreign.output}`);
    assert.equal(foreign.successful, CALLS, foreign.output);
  });
}

test('the protected-MESSAGE scenario check is live: good MESSAGEs run against the 403 scenario fail every call', { timeout: 180_000 }, async () => {
  sippVersion();
  const run = await runSipp('msg-live-u1', 'u1', 403, [], { template: messageTemplate, rows: protectedRows(CALLS) });
  assert.notEqual(run.code, 0, run.output);
  assert.equal(run.successful, 0, run.output);
  assert.equal(run.failed, CALLS, run.output);
});
