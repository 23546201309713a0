/**
 * `mcsec kms …`: stand a KMS up from nothing and run it (TS 33.180 §5.3, Annex D), and the
 * client side that fetches keys from any Annex D KMS.
 *
 *   kms init-domain --kms-uri <uri> [--user-key-period s] [--user-key-offset s]
 *   kms add-user <uri...>            kms provision --users N [--next]      (bulk, progress bar)
 *   kms issue-client-keys <uri>      kms add-external-cert <response.xml> [--migration]
 *   kms rotate-client-keys --user <uri> [--trk] [--ink] [--trk-id <id>]   (§5.3.3 step 2, D.3)
 *   (or kms serve --rotate-client-keys-after <days>: by the age of the client keys)
 *   kms serve --issuer <url> --audience <aud> --jwks <file|url> [--port] [--host]
 *   kms fetch --kms <url> --token <file> --user <uri> [--kms-uri <uri>] [--client-keys <json>] [--ca <pem>]
 *
 * Server-side commands share --data-dir (default ./data), --db (SQLite path or postgres:// URL;
 * default <data-dir>/mcsec.db) and the storage key (MCSEC_STORAGE_KEY, or --storage-key-file,
 * default <data-dir>/storage.key made 0600 on first use) that seals the master secrets and keys.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import pino from 'pino';
import { ClientKeyStore, KmsClient } from '../client/index.js';
import { readAccessToken } from '../client/idm/index.js';
import { ConfigError, ErrorCode } from '../errors/index.js';
import { AccessTokenVerifier } from '../functions/authz/index.js';
import { jwksSource } from './token-options.js';
import { KmsService, addExternalCertificate, buildKmsServer, initDomain, issueClientKeys, provisionKeySets, scheduleClientKeyRotation } from '../functions/kms/index.js';
import { KyselyKmsStore, RedisReplayCache } from '../store/index.js';
import { loadOrCreateTls } from '../transport/http/index.js';
import { fromHex, toHex } from '../util/index.js';
import { printLine } from './output.js';
import { addStoreOptions, openStore } from './store-options.js';

interface StoreOptions {
  readonly dataDir: string;
  readonly db?: string | undefined;
  readonly dbSchema?: string | undefined;
  readonly storageKeyFile?: string | undefined;
  readonly kmsUri?: string | undefined;
}

const usage = (field: string, rule: string): ConfigError => new ConfigError(ErrorCode.USAGE, { field, rule });

function withStoreOptions(c: Command): Command {
  return addStoreOptions(c)
    .option('--kms-uri <uri>', 'the KMS URI of the domain (default: the one init-domain recorded in <data-dir>/kms.json)');
}

const openStoreOf = (o: StoreOptions) => openStore(o, (database, box) => KyselyKmsStore.open(database, box));

function kmsUriOf(o: StoreOptions): string {
  if (o.kmsUri !== undefined) return o.kmsUri;
  const file = join(o.dataDir, 'kms.json');
  try {
    const v: unknown = JSON.parse(readFileSync(file, 'utf8'));
    const uri: unknown = typeof v === 'object' && v !== null ? Reflect.get(v, 'kmsUri') : undefined;
    if (typeof uri === 'string' && uri.length > 0) return uri;
  } catch {
    // fall through
  }
  throw usage('--kms-uri', `is required (no ${file} from mcsec kms init-domain)`);
}

const int = (v: string, field: string, min = 0): number => {
  if (!/^\d{1,15}$/.test(v) || Number(v) < min) throw usage(field, `must be an integer of at least ${min}`);
  return Number(v);
};

export function registerKmsCommands(program: Command): void {
  const kms = program.command('kms').description('the KMS of TS 33.180 §5.3 / Annex D: run it, administer it, fetch keys from one');

  withStoreOptions(kms.command('init-domain'))
    .description('make the domain: SAKKE and ECCSI master keys, user key period (§5.3, D.3.2)')
    .option('--user-key-period <seconds>', 'UserKeyPeriod (D.3.2.2)', '2419200')
    .option('--user-key-offset <seconds>', 'UserKeyOffset from 1900-01-01 (D.3.2.2)', '0')
    .action(async (o: StoreOptions & { userKeyPeriod: string; userKeyOffset: string }) => {
      if (o.kmsUri === undefined) throw usage('--kms-uri', 'is required');
      const { database, store } = await openStoreOf(o);
      try {
        const { domain, created } = await initDomain(store, {
          kmsUri: o.kmsUri,
          userKeyPeriod: int(o.userKeyPeriod, '--user-key-period', 1),
          userKeyOffset: int(o.userKeyOffset, '--user-key-offset'),
        });
        if (o.db === undefined || !existsSync(join(o.dataDir, 'kms.json'))) writeFileSync(join(o.dataDir, 'kms.json'), `${JSON.stringify({ kmsUri: domain.kmsUri })}\n`);
        printLine(JSON.stringify({ kmsUri: domain.kmsUri, created, userKeyPeriod: domain.userKeyPeriod, userKeyOffset: domain.userKeyOffset, pubEncKey: toHex(domain.pubEncKey), pubAuthKey: toHex(domain.pubAuthKey), store: database.location }));
      } finally {
        await database.close();
      }
    });

  withStoreOptions(kms.command('add-user'))
    .description('add users (MC service IDs) to the domain')
    .argument('<uri...>', 'user URIs, e.g. sip:alice@example.org')
    .action(async (uris: string[], o: StoreOptions) => {
      const { database, store } = await openStoreOf(o);
      try {
        const added = await store.addUsers(kmsUriOf(o), uris.map((userUri) => ({ userUri, mcServiceId: userUri })));
        printLine(JSON.stringify({ added, present: uris.length - added }));
      } finally {
        await database.close();
      }
    });

  withStoreOptions(kms.command('provision'))
    .description('bulk: add N users and make their key sets now (RSK + SSK/PVT per user), with a progress bar')
    .requiredOption('--users <n>', 'how many users')
    .option('--uri-template <t>', 'user URI with {n} for the number', 'sip:user{n}@example.org')
    .option('--next', 'also the key sets of the next key period')
    .action(async (o: StoreOptions & { users: string; uriTemplate: string; next?: boolean }) => {
      const n = int(o.users, '--users', 1);
      if (!o.uriTemplate.includes('{n}')) throw usage('--uri-template', 'must contain {n}');
      const uris = Array.from({ length: n }, (_, i) => o.uriTemplate.replace('{n}', String(i + 1).padStart(String(n).length, '0')));
      const { database, store } = await openStoreOf(o);
      const bar = new SingleBar({ format: 'key sets [{bar}] {value}/{total} users  {eta_formatted} left', stream: process.stderr, hideCursor: false, noTTYOutput: true, notTTYSchedule: 2000 }, Presets.shades_classic);
      const started = Date.now();
      try {
        const kmsUri = kmsUriOf(o);
        await store.addUsers(kmsUri, uris.map((userUri) => ({ userUri, mcServiceId: userUri })));
        bar.start(n, 0);
        const made = await provisionKeySets(store, kmsUri, uris, { next: o.next === true, progress: (done) => bar.update(done) });
        bar.stop();
        const seconds = (Date.now() - started) / 1000;
        printLine(JSON.stringify({ users: n, keySetsMade: made, seconds, keySetsPerSecond: Math.round((made / seconds) * 10) / 10 }));
      } finally {
        bar.stop();
        await database.close();
      }
    });

  withStoreOptions(kms.command('issue-client-keys'))
    .description('issue a TrK and InK with their 32-bit IDs for a user, to hand over out of band (§5.3.3)')
    .argument('<uri>', 'user URI')
    .action(async (uri: string, o: StoreOptions) => {
      const { database, store } = await openStoreOf(o);
      try {
        printLine(JSON.stringify(await issueClientKeys(store, kmsUriOf(o), uri)));
      } finally {
        await database.close();
      }
    });

  withStoreOptions(kms.command('rotate-client-keys'))
    .description("schedule a new TrK and/or InK for a user's clients, sent wrapped in the next KmsInit / KmsKeyProv; the old one is retired on the client's first signed request with the new (§5.3.3 step 2, D.3)")
    .requiredOption('--user <uri>', 'user URI')
    .option('--trk', 'a new TrK (with --ink: both; neither: both)')
    .option('--ink', 'a new InK')
    .option('--trk-id <id>', "only the client whose TrK-ID this is (default: every one of the user's)")
    .action(async (o: StoreOptions & { user: string; trk?: boolean; ink?: boolean; trkId?: string }) => {
      const both = o.trk !== true && o.ink !== true;
      const { database, store } = await openStoreOf(o);
      try {
        const rotations = await scheduleClientKeyRotation(store, kmsUriOf(o), o.user, { trk: both || o.trk === true, ink: both || o.ink === true, trkId: o.trkId });
        printLine(JSON.stringify({ userUri: o.user, rotations }));
      } finally {
        await database.close();
      }
    });

  withStoreOptions(kms.command('add-external-cert'))
    .description('load the certificate of a trusted External KMS from a KMS response holding it (§5.2.8.3)')
    .argument('<file>', 'a KmsInit or KmsCertCache response XML')
    .option('--migration', 'it is the certificate of a Migration KMS')
    .action(async (file: string, o: StoreOptions & { migration?: boolean }) => {
      let xml: string;
      try {
        xml = readFileSync(file, 'utf8');
      } catch {
        throw new ConfigError(ErrorCode.IO, { field: 'file', rule: `must be readable (${file})` });
      }
      const { database, store } = await openStoreOf(o);
      try {
        const cert = await addExternalCertificate(store, kmsUriOf(o), xml, o.migration === true);
        printLine(JSON.stringify({ added: cert.kmsUri, migration: o.migration === true }));
      } finally {
        await database.close();
      }
    });

  withStoreOptions(kms.command('serve'))
    .description('serve the KMS on HTTPS under /keymanagement/identity/v1 (Annex D)')
    .option('--port <n>', 'TCP port', '8443')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .requiredOption('--issuer <url>', 'the IdMS issuer access tokens must carry (§5.1.3)')
    .requiredOption('--audience <aud...>', 'accepted token audience(s)')
    .requiredOption('--jwks <file|url>', "the IdMS's JSON Web Key Set")
    .option('--jwks-ca <pem>', 'CA certificate to trust for an https JWKS URL')
    .option('--tls-cert <pem>', 'TLS certificate (default: self-signed, made in --data-dir)')
    .option('--tls-key <pem>', 'TLS private key')
    .option('--require-signed-requests', 'refuse KMS requests without the D.2.2 signature')
    .option('--require-trk', 'never send key material unwrapped (§5.3.3, public safety behind an HTTP proxy)')
    .option('--no-sign-certificates', 'serve External KMS certificates unsigned (default: SignedKmsCertificate under the KSAK, D.3.5.1)')
    .option('--request-window <seconds>', 'accepted clock difference for request Time (D.2.2)', '30')
    .option('--log-level <level>', 'pino log level', 'info')
    .option('--redis <url>', 'Redis for the request replay cache shared by several instances (default: in memory)')
    .option('--rotate-client-keys-after <days>', 'schedule a new TrK and InK for client keys older than this, offered in the next KmsInit / KmsKeyProv (§5.3.3 step 2; default: only rotate-client-keys does)')
    .action(async (o: StoreOptions & { rotateClientKeysAfter?: string; redis?: string; port: string; host: string; issuer: string; audience: string[]; jwks: string; jwksCa?: string; tlsCert?: string; tlsKey?: string; requireSignedRequests?: boolean; requireTrk?: boolean; signCertificates: boolean; requestWindow: string; logLevel: string }) => {
      const logger = pino({ level: o.logLevel, base: { fn: 'kms' } });
      const verifier = new AccessTokenVerifier({ issuer: o.issuer, audience: o.audience, jwks: jwksSource(o.jwks, o.jwksCa) });
      const { database, store } = await openStoreOf(o);
      const kmsUri = kmsUriOf(o);
      if ((await store.getDomain(kmsUri)) === undefined) {
        await database.close();
        throw new ConfigError(ErrorCode.CONFIG, { field: '--kms-uri', rule: `no domain ${kmsUri} in ${database.location}: run mcsec kms init-domain` });
      }
      const replayCache = o.redis === undefined ? undefined : new RedisReplayCache(o.redis, 'mcsec:kms:replay:');
      const rotateClientKeysAfterMs = o.rotateClientKeysAfter === undefined ? undefined : int(o.rotateClientKeysAfter, '--rotate-client-keys-after', 1) * 86_400_000;
      const service = new KmsService({ store, kmsUri, verifier, replayCache, rotateClientKeysAfterMs, requireSignedRequests: o.requireSignedRequests === true, requireTrk: o.requireTrk === true, signExternalCertificates: o.signCertificates, requestWindowMs: int(o.requestWindow, '--request-window') * 1000 });
      const tls = await loadOrCreateTls({ dataDir: o.dataDir, certFile: o.tlsCert, keyFile: o.tlsKey, hostnames: [o.host] });
      const app = buildKmsServer({ service, tls, logger });
      await app.listen({ port: int(o.port, '--port'), host: o.host });
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : o.port;
      const host = o.host.includes(':') ? `[${o.host}]` : o.host;
      logger.info({ kmsUri, store: database.location, tlsCert: tls.certPath, created: tls.created }, 'kms ready');
      printLine(`listening on https://${host}:${port}`);
      const stop = (): void => {
        void app.close().then(() => database.close()).then(() => replayCache?.close()).then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  kms
    .command('fetch')
    .description('fetch, verify, unwrap, validate and store key material from an Annex D KMS (init, keyprov now and next, certcache)')
    .requiredOption('--kms <url>', 'KMS origin, e.g. https://kms.example.org:8443')
    .requiredOption('--token <file>', 'the access token: the token file of mcsec login, or a file holding the token alone')
    .requiredOption('--user <uri>', 'the user URI (MC service ID)')
    .option('--kms-uri <uri...>', 'KMS URI(s) this client accepts keys from (default: the host of --kms)')
    .option('--client-keys <json>', 'the TrK / InK file from issue-client-keys ({trkId, trk, inkId, ink})')
    .option('--ca <pem>', 'CA or self-signed KMS certificate to trust')
    .option('--data-dir <dir>', 'client key store folder', 'client-data')
    .option('--no-next', 'do not fetch the next key period ahead of time')
    .option('--require-signed-certificates', 'refuse External KMS certificates that are not signed by the home KMS (D.3.5.1)')
    .option('--json', 'print one JSON object')
    .action(async (o: { kms: string; token: string; user: string; kmsUri?: string[]; clientKeys?: string; ca?: string; dataDir: string; next: boolean; requireSignedCertificates?: boolean; json?: boolean }) => {
      const read = (f: string, field: string): string => {
        try {
          return readFileSync(f, 'utf8');
        } catch {
          throw new ConfigError(ErrorCode.IO, { field, rule: `must name a readable file (${f})` });
        }
      };
      let keys: { trkId: string; trk: string; inkId?: string; ink?: string } | undefined;
      if (o.clientKeys !== undefined) {
        const v: unknown = JSON.parse(read(o.clientKeys, '--client-keys'));
        const s = (k: string): string | undefined => {
          const x: unknown = typeof v === 'object' && v !== null ? Reflect.get(v, k) : undefined;
          return typeof x === 'string' ? x : undefined;
        };
        const trkId = s('trkId');
        const trk = s('trk');
        if (trkId === undefined || trk === undefined) throw usage('--client-keys', 'must hold trkId and trk (hex)');
        keys = { trkId, trk, inkId: s('inkId'), ink: s('ink') };
      }
      let host: string;
      try {
        host = new URL(o.kms).hostname;
      } catch {
        throw usage('--kms', 'must be an https URL');
      }
      // §5.3.3 step 2: a TrK / InK the KMS rotated is kept sealed in the client key store and used
      // instead of the --client-keys file it replaced; a file with a TrK-ID never held here is a
      // new out-of-band issue and wins.
      const keyStore = new ClientKeyStore(o.dataDir);
      const held = keyStore.getClientKeys((o.kmsUri ?? [host])[0] ?? host, o.user);
      const fromFile = keys === undefined ? undefined : {
        trk: { id: keys.trkId, key: fromHex(keys.trk, '--client-keys.trk') },
        ink: keys.inkId === undefined || keys.ink === undefined ? undefined : { id: keys.inkId, key: fromHex(keys.ink, '--client-keys.ink') },
      };
      const inUse = held?.trk !== undefined && (fromFile === undefined || [held.trk.id, ...held.previousTrkIds].includes(fromFile.trk.id)) ? held : fromFile;
      const client = new KmsClient({
        kmsUrl: o.kms,
        allowedKmsUris: o.kmsUri ?? [host],
        userUri: o.user,
        accessToken: readAccessToken(o.token),
        caPem: o.ca === undefined ? undefined : read(o.ca, '--ca'),
        requireSignedCertificates: o.requireSignedCertificates === true,
        trk: inUse?.trk,
        ink: inUse?.ink,
        keyStore,
      });
      const r = await client.fetchAll(keyStore, { next: o.next });
      const now = client.clientKeys;
      const summary = {
        kmsUri: r.certificate.kmsUri,
        userUri: o.user,
        signature: r.signature,
        keyPeriods: r.keySets.map((k) => ({ keyPeriodNo: k.keyPeriodNo, userId: toHex(k.userId), validFrom: k.validFrom, validTo: k.validTo, rsk: 'valid', sskPvt: 'valid' })),
        externalKms: r.externalCertificates.map((c) => c.kmsUri),
        migrationKms: r.externalCertificates.filter((c) => c.migration === true).map((c) => c.kmsUri),
        signedCertificates: r.externalCertificates.filter((c) => c.signed).length,
        disagreements: r.disagreements,
        clientKeys: { trkId: now.trk?.id, inkId: now.ink?.id, rotated: now.trk?.id !== inUse?.trk?.id || now.ink?.id !== inUse?.ink?.id },
        stored: o.dataDir,
      };
      if (o.json === true) printLine(JSON.stringify(summary));
      else {
        printLine(`KMS ${summary.kmsUri}: certificate (Root), signature ${summary.signature}`);
        for (const k of summary.keyPeriods) printLine(`  period ${k.keyPeriodNo}  ${k.validFrom ?? ''} .. ${k.validTo ?? ''}  UID ${k.userId}  RSK valid (RFC 6508 §6.1.2), SSK/PVT valid (RFC 6507 §5.1.2)`);
        for (const d of summary.disagreements) printLine(`  note: ${d.rule}`);
        if (summary.clientKeys.rotated) printLine(`  new TrK-ID ${summary.clientKeys.trkId ?? '-'}, InK-ID ${summary.clientKeys.inkId ?? '-'} from the KMS (§5.3.3), used from now on`);
        printLine(`  External KMSs: ${summary.externalKms.join(', ') || 'none'}; stored in ${summary.stored}`);
      }
    });
}
