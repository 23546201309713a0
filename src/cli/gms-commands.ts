/**
 * `mcsec gms …`: the Group Management Server of TS 33.180 §5.7 / §7.3 (docs/gms.md).
 *
 *   gms fetch-keys --gms-uri <uri> --kms <url> --token <file> [--kms-uri <uri>] [--client-keys <json>] [--ca <pem>]
 *   gms serve [--port 5060] [--host 127.0.0.1] [--workers 2]           (prints `listening on <sip url>`)
 *   gms create-group <group-uri> --member <uri>... [--also <group-id>...] [--text <t>] [--gmk-lifetime s]
 *   gms add-member <group-uri> <uri...>      gms remove-member <group-uri> <uri...>
 *   gms rekey <group-uri> [--revoke-previous]                         (cli-progress bar on stderr)
 *   gms show <group-uri>
 *
 * All share --data-dir (default ./data), --db (SQLite path or postgres:// URL), --db-schema, the
 * storage key (MCSEC_STORAGE_KEY or --storage-key-file, default <data-dir>/storage.key) and
 * --gms-uri / --kms-uri (default: what fetch-keys recorded in <data-dir>/gms.json). Commands that
 * change a group distribute at once from this process (its own SIP endpoint on ephemeral ports)
 * to the contacts `gms serve` registered in the shared store; members not registered get their
 * GMKs when they register. Logs (pino) name fn, op, group and counts, never a key.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import pino from 'pino';
import { KmsClient } from '../client/index.js';
import { ConfigError, ErrorCode, McsecError, PolicyError } from '../errors/index.js';
import type { AccessTokenVerifier } from '../functions/authz/index.js';
import {
  GmsService,
  GmsSip,
  InlineFanOut,
  WorkerFanOut,
  gmsConfig,
  installGmsIdentity,
  type DistributionReport,
  type GmkFanOut,
  type GmsConfig,
} from '../functions/gms/index.js';
import { KyselyGmsStore, type StoreDatabase } from '../store/index.js';
import { listenSip, type SipEndpoint } from '../transport/sip/index.js';
import { fromHex } from '../util/index.js';
import { printLine } from './output.js';
import { addStoreOptions, openStore } from './store-options.js';
import { verifierOf } from './token-options.js';

interface GmsOptions {
  readonly dataDir: string;
  readonly db?: string | undefined;
  readonly dbSchema?: string | undefined;
  readonly storageKeyFile?: string | undefined;
  readonly gmsUri?: string | undefined;
  readonly kmsUri?: string | undefined;
  readonly workers?: string | undefined;
  readonly tableWindow?: string | undefined;
  readonly logLevel?: string | undefined;
}

const usage = (field: string, rule: string): ConfigError => new ConfigError(ErrorCode.USAGE, { field, rule });

const int = (v: string | undefined, field: string, min = 0): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^\d{1,15}$/.test(v) || Number(v) < min) throw usage(field, `must be an integer of at least ${min}`);
  return Number(v);
};

function withGmsOptions(c: Command): Command {
  return addStoreOptions(c)
    .option('--gms-uri <uri>', 'the GMS Server URI (default: from <data-dir>/gms.json)')
    .option('--kms-uri <uri>', 'the KMS of the GMS (default: from <data-dir>/gms.json)')
    .option('--workers <n>', 'fan-out worker threads (0: on the main thread)', '2')
    .option('--table-window <bits>', 'window of the SAKKE fan-out tables (4-12; 10: ~17 MB and ~2 s to build per table; 12: ~56 MB, ~7 s, fewer terms per member)', '10')
    .option('--log-level <level>', 'pino log level (default info for serve, warn otherwise)');
}

/** The GMS and KMS URIs: the options, else <data-dir>/gms.json. */
function identityOf(o: GmsOptions): { readonly gmsUri: string; readonly kmsUri: string } {
  let saved: Record<string, unknown> = {};
  try {
    const v: unknown = JSON.parse(readFileSync(join(o.dataDir, 'gms.json'), 'utf8'));
    if (typeof v === 'object' && v !== null) saved = { gmsUri: Reflect.get(v, 'gmsUri'), kmsUri: Reflect.get(v, 'kmsUri') };
  } catch {
    // no saved identity
  }
  const pick = (given: string | undefined, k: string, flag: string): string => {
    const v = given ?? saved[k];
    if (typeof v !== 'string' || v === '') throw usage(flag, `is required (no ${join(o.dataDir, 'gms.json')} from mcsec gms fetch-keys)`);
    return v;
  };
  return { gmsUri: pick(o.gmsUri, 'gmsUri', '--gms-uri'), kmsUri: pick(o.kmsUri, 'kmsUri', '--kms-uri') };
}

const openStoreOf = (o: GmsOptions) => openStore(o, (database, box) => KyselyGmsStore.open(database, box));

interface Running {
  readonly config: GmsConfig;
  readonly database: StoreDatabase;
  readonly store: KyselyGmsStore;
  readonly endpoint: SipEndpoint;
  readonly fanOut: GmkFanOut;
  readonly sip: GmsSip;
  readonly service: GmsService;
  readonly logger: pino.Logger;
  close(): Promise<void>;
}

/** Store, SIP endpoint (UDP and TCP on one port), fan-out pool and service. */
async function start(o: GmsOptions, listen: { readonly host: string; readonly port: number }, extra: { readonly verifier?: AccessTokenVerifier | undefined } = {}): Promise<Running> {
  const id = identityOf(o);
  const config = gmsConfig({ ...id, workers: int(o.workers, '--workers'), pointWindow: int(o.tableWindow, '--table-window') });
  const logger = pino({ level: o.logLevel ?? 'warn', base: { fn: 'gms' } });
  const { database, store } = await openStoreOf(o);
  let endpoint: SipEndpoint | undefined;
  let fanOut: GmkFanOut | undefined;
  try {
    endpoint = await listenSip({ udp: { host: listen.host, port: listen.port } }, { transactionTimeoutMs: 8000, maxConnections: 4096 });
    const port = endpoint.address('udp')?.port ?? listen.port;
    await endpoint.listen({ tcp: { host: listen.host, port } });
    const tables = { pointWindow: config.pointWindow, gtWindow: Math.min(config.pointWindow, 10), sliceSize: config.sliceSize };
    fanOut = config.workers === 0 ? new InlineFanOut(tables) : new WorkerFanOut(config.workers, tables);
    const sip = new GmsSip({ endpoint, gmsUri: config.gmsUri, maxExpires: config.maxExpires, verifier: extra.verifier, logger });
    const service = new GmsService({ store, gmsUri: config.gmsUri, kmsUri: config.kmsUri, fanOut, sender: sip, logger, gmkLifetime: config.gmkLifetime, rekeyLead: config.rekeyLead, maxInFlight: config.maxInFlight });
    const [e, f] = [endpoint, fanOut];
    return {
      config, database, store, endpoint: e, fanOut: f, sip, service, logger,
      close: async () => {
        await f.close();
        await e.close();
        await database.close();
      },
    };
  } catch (err) {
    await fanOut?.close();
    await endpoint?.close();
    await database.close();
    throw err;
  }
}

/** Runs `fn` with a progress bar on stderr over the members of the distribution. */
async function withBar<T>(label: string, fn: (progress: (done: number, total: number) => void) => Promise<T>): Promise<T> {
  const bar = new SingleBar({ format: `${label} [{bar}] {value}/{total} members  {eta_formatted} left`, stream: process.stderr, hideCursor: false, noTTYOutput: true, notTTYSchedule: 500 }, Presets.shades_classic);
  let started = false;
  try {
    return await fn((done, total) => {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    });
  } finally {
    if (started) bar.stop();
  }
}

const reportJson = (r: DistributionReport | undefined): Record<string, unknown> | null =>
  r === undefined ? null : { ...r, gmkId: r.gmkId.toString(16).padStart(8, '0') };

export function registerGmsCommands(program: Command): void {
  const gms = program.command('gms').description('the Group Management Server of TS 33.180 §5.7: groups, GMKs, distribution over SIP');

  withGmsOptions(gms.command('fetch-keys'))
    .description("fetch the GMS's own key sets and KMS certificates from its KMS (Annex D), validate and store them (§5.7.2 step 0)")
    .requiredOption('--kms <url>', 'KMS origin, e.g. https://kms.example.org:8443')
    .requiredOption('--token <file>', 'file holding the access token of the GMS')
    .option('--client-keys <json>', 'the TrK / InK file from kms issue-client-keys ({trkId, trk, inkId, ink})')
    .option('--ca <pem>', 'CA or self-signed KMS certificate to trust')
    .action(async (o: GmsOptions & { kms: string; token: string; clientKeys?: string; ca?: string }) => {
      if (o.gmsUri === undefined || o.kmsUri === undefined) throw usage('--gms-uri', '--gms-uri and --kms-uri are required');
      const read = (f: string, field: string): string => {
        try {
          return readFileSync(f, 'utf8');
        } catch {
          throw new ConfigError(ErrorCode.IO, { field, rule: `must name a readable file (${f})` });
        }
      };
      const keys: unknown = o.clientKeys === undefined ? undefined : JSON.parse(read(o.clientKeys, '--client-keys'));
      const s = (k: string): string | undefined => {
        const x: unknown = typeof keys === 'object' && keys !== null ? Reflect.get(keys, k) : undefined;
        return typeof x === 'string' ? x : undefined;
      };
      const trkId = s('trkId');
      const trk = s('trk');
      const inkId = s('inkId');
      const ink = s('ink');
      const client = new KmsClient({
        kmsUrl: o.kms,
        allowedKmsUris: [o.kmsUri],
        userUri: o.gmsUri,
        accessToken: read(o.token, '--token').trim(),
        caPem: o.ca === undefined ? undefined : read(o.ca, '--ca'),
        trk: trkId === undefined || trk === undefined ? undefined : { id: trkId, key: fromHex(trk, '--client-keys.trk') },
        ink: inkId === undefined || ink === undefined ? undefined : { id: inkId, key: fromHex(ink, '--client-keys.ink') },
      });
      const certificate = await client.init();
      const now = await client.keyProv(certificate);
      const periodEnd = new Date((certificate.userKeyOffset + (Math.max(...now.keySets.map((k) => k.keyPeriodNo)) + 1) * certificate.userKeyPeriod - 2_208_988_800) * 1000 + 1000);
      const next = await client.keyProv(certificate, periodEnd);
      const external = await client.certCache();
      const { database, store } = await openStoreOf(o);
      try {
        const keySets = [...now.keySets, ...next.keySets.filter((k) => !now.keySets.some((h) => h.keyPeriodNo === k.keyPeriodNo))];
        const periods = await installGmsIdentity(store, o.gmsUri, { certificate, keySets, externalCertificates: external });
        writeFileSync(join(o.dataDir, 'gms.json'), `${JSON.stringify({ gmsUri: o.gmsUri, kmsUri: o.kmsUri })}\n`);
        printLine(JSON.stringify({ gmsUri: o.gmsUri, kmsUri: certificate.kmsUri, keyPeriods: periods, externalKms: external.map((c) => c.kmsUri), store: database.location }));
      } finally {
        await database.close();
      }
    });

  withGmsOptions(gms.command('serve'))
    .description('run the GMS: SIP registrar for members, GMK distribution and renewal, GMK transfer from a primary GMS')
    .option('--port <n>', 'SIP port (UDP and TCP)', '5060')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--issuer <url>', 'require access tokens on REGISTER from this IdMS issuer (§5.1.3)')
    .option('--audience <aud...>', 'accepted token audience(s)')
    .option('--jwks <file|url>', "the IdMS's JSON Web Key Set")
    .option('--jwks-ca <pem>', 'CA certificate to trust for an https JWKS URL')
    .option('--rekey-interval <seconds>', 'how often to renew GMKs due to expire (0: never)', '60')
    .action(async (o: GmsOptions & { port: string; host: string; issuer?: string; audience?: string[]; jwks?: string; jwksCa?: string; rekeyInterval: string }) => {
      const verifier = verifierOf(o);
      const run = await start({ ...o, logLevel: o.logLevel ?? 'info' }, { host: o.host, port: int(o.port, '--port') ?? 5060 }, { verifier });
      run.sip.serve(run.service);
      await run.service.warm();
      const every = (int(o.rekeyInterval, '--rekey-interval') ?? 60) * 1000;
      const timer = every === 0 ? undefined : setInterval(() => {
        void run.service.rekeyDue().catch((err: unknown) => run.logger.warn({ op: 'rekeyDue', code: err instanceof McsecError ? err.code : ErrorCode.INTERNAL }, 'renewal failed'));
      }, every);
      const port = run.endpoint.address('udp')?.port ?? 0;
      const host = o.host.includes(':') ? `[${o.host}]` : o.host;
      run.logger.info({ gmsUri: run.config.gmsUri, store: run.database.location, workers: run.config.workers }, 'gms ready');
      printLine(`listening on sip:${host}:${port}`);
      const stop = (): void => {
        if (timer !== undefined) clearInterval(timer);
        void run.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  withGmsOptions(gms.command('create-group'))
    .description('create a group with its members, make its first GMK and distribute it (§5.7, §7.3.2)')
    .argument('<group-uri>', 'the MC group ID, e.g. sip:fire-team@example.org')
    .requiredOption('--member <uri...>', 'member URIs (MC service IDs, or partner GMS URIs)')
    .option('--also <group-id...>', 'further MC group IDs the same GMK serves (§5.7)')
    .option('--text <text>', 'text of the GMK key parameters (§E.6.5)')
    .option('--gmk-lifetime <seconds>', 'GMK lifetime (§E.6.10; 0: no expiry)')
    .option('--no-rekey-on-remove', 'keep the GMK when a member is removed (§5.7.3)')
    .option('--primary-gms <uri>', 'this GMS is a partner: the group GMKs come from that primary GMS (CR §11.1.2.2)')
    .action(async (groupUri: string, o: GmsOptions & { member: string[]; also?: string[]; text?: string; gmkLifetime?: string; rekeyOnRemove: boolean; primaryGms?: string }) => {
      const run = await start(o, { host: '127.0.0.1', port: 0 });
      try {
        const r = await withBar('GMK', (progress) =>
          run.service.createGroup({ groupUri, members: o.member, alsoGroupIds: o.also, text: o.text, gmkLifetime: int(o.gmkLifetime, '--gmk-lifetime'), rekeyOnRemove: o.rekeyOnRemove, primaryGmsUri: o.primaryGms }, progress),
        );
        printLine(JSON.stringify({ groupUri, created: r.created, members: o.member.length, distribution: reportJson(r.report) }));
      } finally {
        await run.close();
      }
    });

  withGmsOptions(gms.command('add-member'))
    .description('add members to a group; they get its current GMKs (§5.7.3)')
    .argument('<group-uri>', 'the MC group ID')
    .argument('<uri...>', 'member URIs')
    .action(async (groupUri: string, uris: string[], o: GmsOptions) => {
      const run = await start(o, { host: '127.0.0.1', port: 0 });
      try {
        const r = await withBar('GMK', (progress) => run.service.addMembers(groupUri, uris, progress));
        printLine(JSON.stringify({ groupUri, added: r.added, distribution: reportJson(r.report) }));
      } finally {
        await run.close();
      }
    });

  withGmsOptions(gms.command('remove-member'))
    .description('remove members from a group; the group is rekeyed unless created with --no-rekey-on-remove (§5.7.3)')
    .argument('<group-uri>', 'the MC group ID')
    .argument('<uri...>', 'member URIs')
    .action(async (groupUri: string, uris: string[], o: GmsOptions) => {
      const run = await start(o, { host: '127.0.0.1', port: 0 });
      try {
        const r = await withBar('rekey', (progress) => run.service.removeMembers(groupUri, uris, progress));
        printLine(JSON.stringify({ groupUri, removed: r.removed, distribution: reportJson(r.report) }));
      } finally {
        await run.close();
      }
    });

  withGmsOptions(gms.command('rekey'))
    .description('make a new GMK for the group and distribute it to every member (§5.7)')
    .argument('<group-uri>', 'the MC group ID')
    .option('--revoke-previous', 'also revoke the previous GMKs and distribute the revocation (§5.7.2)')
    .action(async (groupUri: string, o: GmsOptions & { revokePrevious?: boolean }) => {
      const run = await start(o, { host: '127.0.0.1', port: 0 });
      try {
        const r = await withBar('rekey', (progress) => run.service.rekey(groupUri, { reason: 'operator', revokePrevious: o.revokePrevious === true }, progress));
        printLine(JSON.stringify({ groupUri, distribution: reportJson(r) }));
      } finally {
        await run.close();
      }
    });

  withGmsOptions(gms.command('show'))
    .description('show a group: members, GMKs (IDs, times, status; never the keys) and deliveries')
    .argument('<group-uri>', 'the MC group ID')
    .action(async (groupUri: string, o: GmsOptions) => {
      const { database, store } = await openStoreOf(o);
      try {
        const group = await store.getGroup(groupUri);
        if (group === undefined) throw new PolicyError(ErrorCode.NOT_FOUND, { field: 'group-uri', rule: `no group ${groupUri} in ${database.location}` });
        const hex = (n: number): string => n.toString(16).padStart(8, '0');
        const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());
        const deliveries = await store.listDeliveries(groupUri);
        printLine(JSON.stringify({
          groupUri,
          alsoGroupIds: group.alsoGroupIds,
          primaryGmsUri: group.primaryGmsUri ?? null,
          members: (await store.listMembers(groupUri)).map((m) => ({ uri: m.memberUri, kmsUri: m.kmsUri })),
          gmks: (await store.listGmks(groupUri)).map((g) => ({
            gmkId: hex(g.gmkId), generation: g.generation, activation: iso(g.activationAt), expiry: iso(g.expiryAt), revoked: g.revoked, text: g.text, origin: g.origin ?? null,
            deliveries: deliveries.filter((d) => d.gmkId === g.gmkId).map((d) => ({ member: d.memberUri, state: d.state, status: d.status ?? null, code: d.code ?? null })),
          })),
        }));
      } finally {
        await database.close();
      }
    });
}
