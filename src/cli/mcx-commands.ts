/**
 * `mcsec mcx serve`: the MCX server security function (TS 33.180 §9.2) on SIP over UDP and TCP
 * (one port, as SIP's 5060), and TLS when --tls-port is given (certificate from --tls-cert /
 * --tls-key, or made once in --data-dir). It prints `listening on sip:<host>:<port>` (and
 * `listening on sips:<host>:<tls-port>`) and then answers REGISTER / PUBLISH with CSK uploads.
 *
 * The server's own keys for its MDSI come from a KMS, one of two ways:
 *   --kms-uri <uri>              a KMS domain in the same store (`mcsec kms init-domain`): the
 *                                MDSI is made a user of it and its key sets issued as any user's
 *   --key-store <dir> --kms-uri  a client key store filled by `mcsec kms fetch --user <mdsi>`
 * --issuer / --audience / --jwks [--jwks-ca] check the access tokens in REGISTER / PUBLISH bodies
 * (§5.1.3.2; --require-access-token refuses a registration without one).
 * --krr <file> names the initiator KMSs accepted per user and the KRR signer: a CSK upload from
 * another KMS is answered with a signed KMS Redirect Response in a 488 (§5.2.8.2.3, Annex D.4).
 * --spk-config <file> provisions SPKs (§5.5) into the store at start; --redis shares the MIKEY
 * replay cache between instances on one PostgreSQL database. Store options as `mcsec kms`:
 * --data-dir, --db, --db-schema, --storage-key-file (or MCSEC_STORAGE_KEY).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import { ClientKeyStore } from '../client/index.js';
import { keyPeriodNoAt } from '../crypto/index.js';
import { ConfigError, ErrorCode } from '../errors/index.js';
import { MemoryReplayCache } from '../formats/mikey/index.js';
import { KyselyKmsStore, RedisReplayCache, SecretBox, STORAGE_KEY_ENV, loadStorageKey, openDatabase } from '../store/index.js';
import { KyselyMcxStore } from '../store/mcx-store.js';
import {
  McxMessaging,
  McxServerService,
  decodeKmsRedirectConfig,
  decodeSpkConfig,
  importSpks,
  mcxServerConfig,
  serveMcxSip,
  serverKeys,
  serverKeysFromKms,
  type McxServerKeys,
} from '../functions/mcx-server/index.js';
import { loadOrCreateTls } from '../transport/http/index.js';
import { SipEndpoint } from '../transport/sip/index.js';
import { printLine } from './output.js';
import { verifierOf, type TokenOptions } from './token-options.js';

interface ServeOptions extends TokenOptions {
  readonly requireAccessToken?: boolean;
  readonly dataDir: string;
  readonly db?: string;
  readonly dbSchema?: string;
  readonly storageKeyFile?: string;
  readonly kmsUri?: string;
  readonly mdsi: string;
  readonly keyStore?: string;
  readonly port: string;
  readonly tlsPort?: string;
  readonly host: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly spkConfig?: string;
  readonly krr?: string;
  readonly redis?: string;
  readonly requestWindow: string;
  readonly xmlIntegrity: string;
  readonly localDomain?: string[];
  readonly ear?: boolean;
  readonly logLevel: string;
}

const usage = (field: string, rule: string): ConfigError => new ConfigError(ErrorCode.USAGE, { field, rule });

const port = (v: string, field: string): number => {
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw usage(field, 'must be a port number 0-65535');
  return Number(v);
};

function readFile(path: string, field: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError(ErrorCode.IO, { field, rule: `must name a readable file (${path})` });
  }
}

function kmsUriOf(o: ServeOptions): string {
  if (o.kmsUri !== undefined) return o.kmsUri;
  try {
    const v: unknown = JSON.parse(readFileSync(join(o.dataDir, 'kms.json'), 'utf8'));
    const uri: unknown = typeof v === 'object' && v !== null ? Reflect.get(v, 'kmsUri') : undefined;
    if (typeof uri === 'string' && uri.length > 0) return uri;
  } catch {
    // fall through
  }
  throw usage('--kms-uri', 'is required (the KMS of the server keys)');
}

/** The MDSI's keys from a client key store (`mcsec kms fetch --user <mdsi>`). */
function keysFromKeyStore(dir: string, kmsUri: string, mdsi: string): McxServerKeys {
  const store = new ClientKeyStore(dir);
  const cert = store.getCertificate(kmsUri);
  if (cert === undefined) throw new ConfigError(ErrorCode.CONFIG, { field: '--key-store', rule: `holds no certificate of KMS ${kmsUri}: run mcsec kms fetch --user ${mdsi}` });
  return serverKeys({
    mdsi,
    kmsUri,
    pubEncKey: cert.pubEncKey,
    pubAuthKey: cert.pubAuthKey,
    userKeyPeriod: cert.userKeyPeriod,
    userKeyOffset: cert.userKeyOffset,
    keySetFor: (n) => Promise.resolve(store.getKeySet(kmsUri, mdsi, n)),
  });
}

/** An endpoint on UDP and TCP on one port (a free one for 0), and TLS when asked. */
async function listen(host: string, want: number, tls: { port: number; key: string; cert: string } | undefined): Promise<{ endpoint: SipEndpoint; port: number; tlsPort: number | undefined }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const endpoint = new SipEndpoint();
    try {
      const udp = await endpoint.listen({ udp: { host, port: want } });
      const p = udp.udp?.port ?? want;
      await endpoint.listen({ tcp: { host, port: p } });
      const t = tls === undefined ? undefined : await endpoint.listen({ tls: { host, port: tls.port, key: tls.key, cert: tls.cert } });
      return { endpoint, port: p, tlsPort: t?.tls?.port };
    } catch (err) {
      await endpoint.close();
      // with --port 0 the free UDP port may be taken on TCP: try another
      if (want !== 0) throw err;
    }
  }
  throw new ConfigError(ErrorCode.IO, { field: '--port', rule: 'found no port free for both UDP and TCP' });
}

export function registerMcxCommands(program: Command): void {
  const mcx = program.command('mcx').description('the MCX server security function of TS 33.180 §9.2: CSK upload, key download, SPK');
  mcx
    .command('serve')
    .description('serve CSK uploads (REGISTER / PUBLISH, §9.2.1.3) on SIP over UDP and TCP (and TLS)')
    .requiredOption('--mdsi <uri>', 'the MCX Server Domain Security Identifier, e.g. sip:mcptt-server@example.org (§5.4)')
    .option('--port <n>', 'SIP port for UDP and TCP (0: a free one)', '5060')
    .option('--tls-port <n>', 'also listen on SIP over TLS on this port')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--data-dir <dir>', 'folder for the SQLite file, storage key, TLS certificate', 'data')
    .option('--db <url>', 'SQLite file or postgres:// URL (default <data-dir>/mcsec.db)')
    .option('--db-schema <name>', 'PostgreSQL schema for the tables (default public)')
    .option('--storage-key-file <file>', `storage key file (default <data-dir>/storage.key unless ${STORAGE_KEY_ENV} is set)`)
    .option('--kms-uri <uri>', 'the KMS of the server keys (default: the one init-domain recorded in <data-dir>/kms.json)')
    .option('--key-store <dir>', 'take the MDSI keys from this client key store (mcsec kms fetch --user <mdsi>) instead of a KMS domain in the store')
    .option('--tls-cert <pem>', 'TLS certificate (default: self-signed, made in --data-dir)')
    .option('--tls-key <pem>', 'TLS private key')
    .option('--spk-config <file>', 'SPKs to provision (JSON, see docs/mcx-server.md)')
    .option('--krr <file>', 'KMS redirect: initiator KMSs accepted per user and the KRR signer (JSON, see docs/mcx-server.md; §5.2.8.2.3)')
    .option('--redis <url>', 'Redis for the MIKEY replay cache shared by several instances (default: in memory)')
    .option('--request-window <seconds>', 'accepted clock difference of I_MESSAGE timestamps (RFC 3830 §5.4)', '300')
    .option('--issuer <url>', 'check access tokens in REGISTER / PUBLISH bodies against this IdMS issuer (§5.1.3.2)')
    .option('--audience <aud...>', 'accepted token audience(s)')
    .option('--jwks <file|url>', "the IdMS's JSON Web Key Set")
    .option('--jwks-ca <pem>', 'CA certificate to trust for an https JWKS URL')
    .option('--require-access-token', 'refuse a registration or PUBLISH without a valid access token (needs --issuer)')
    .option('--xml-integrity <mode>', 'protected MESSAGE / INFO: XML bodies must come signed (required) or are checked when signed (if-present) (§9.3.5)', 'required')
    .option('--local-domain <host...>', "this MC system's domains; requests from others are cross-domain: SPK-protected, EAR required (default: the MDSI's host)")
    .option('--ear', 'check EARs on MESSAGE / INFO: required across domains, verified when present (§9.6.2.3, §9.6.5.4)')
    .option('--log-level <level>', 'pino log level', 'info')
    .action(async (o: ServeOptions) => {
      const logger = pino({ level: o.logLevel, base: { fn: 'mcx' } });
      if (!/^\d{1,6}$/.test(o.requestWindow) || Number(o.requestWindow) < 1) throw usage('--request-window', 'must be a positive integer of seconds');
      if (o.xmlIntegrity !== 'required' && o.xmlIntegrity !== 'if-present') throw usage('--xml-integrity', 'must be required or if-present');
      const krrFile = o.krr;
      const kmsRedirect =
        krrFile === undefined ? undefined : decodeKmsRedirectConfig(readFile(krrFile, '--krr'), (p, field) => readFile(isAbsolute(p) ? p : join(dirname(krrFile), p), field));
      const config = mcxServerConfig({ mdsi: o.mdsi, windowMs: Number(o.requestWindow) * 1000, ...(kmsRedirect === undefined ? {} : { kmsRedirect }) });
      const verifier = verifierOf(o);
      if (o.requireAccessToken === true && verifier === undefined) throw usage('--require-access-token', 'needs --issuer and --jwks');
      const sipPort = port(o.port, '--port');
      const tlsPort = o.tlsPort === undefined ? undefined : port(o.tlsPort, '--tls-port');
      const kmsUri = kmsUriOf(o);
      const database = openDatabase(o.db, { dataDir: o.dataDir, schema: o.dbSchema });
      const replayCache = o.redis === undefined ? new MemoryReplayCache() : new RedisReplayCache(o.redis, 'mcsec:mcx:replay:');
      let endpoint: SipEndpoint | undefined;
      try {
        const key =
          o.storageKeyFile === undefined && (process.env[STORAGE_KEY_ENV] ?? '') !== ''
            ? loadStorageKey()
            : loadStorageKey({ file: o.storageKeyFile ?? join(o.dataDir, 'storage.key'), create: true });
        const box = new SecretBox(key);
        const store = await KyselyMcxStore.open(database, box);
        const keys =
          o.keyStore !== undefined ? keysFromKeyStore(o.keyStore, kmsUri, o.mdsi) : await serverKeysFromKms(await KyselyKmsStore.open(database, box), kmsUri, o.mdsi);
        const service = new McxServerService({
          config,
          keys,
          store,
          replayCache,
          ...(verifier === undefined ? {} : { accessTokens: { verifier, mode: o.requireAccessToken === true ? ('required' as const) : ('optional' as const) } }),
        });
        await service.prepare();
        const period = keyPeriodNoAt(new Date(), keys.userKeyPeriod, keys.userKeyOffset);
        if (keys.recipientFor(period) === undefined) {
          throw new ConfigError(ErrorCode.CONFIG, { field: o.keyStore === undefined ? '--kms-uri' : '--key-store', rule: `holds no key set of ${o.mdsi} for the current key period ${period}` });
        }
        await service.prepare({ warm: true });
        const spks = o.spkConfig === undefined ? 0 : await importSpks(store, decodeSpkConfig(readFile(o.spkConfig, '--spk-config')));
        const tls =
          tlsPort === undefined
            ? undefined
            : { port: tlsPort, ...(await loadOrCreateTls({ dataDir: o.dataDir, certFile: o.tlsCert, keyFile: o.tlsKey, hostnames: [o.host] })) };
        const bound = await listen(o.host, sipPort, tls);
        endpoint = bound.endpoint;
        // §9.3: protected MESSAGE / INFO (protected-message.ts); EARs when asked (§9.6).
        const messaging = new McxMessaging({
          service,
          integrity: o.xmlIntegrity === 'if-present' ? 'if-present' : 'required',
          ...(o.localDomain === undefined ? {} : { localDomains: o.localDomain }),
          ...(o.ear === true ? { ears: { trustedKms: (u: string) => keys.trustedKms(u), replayCache } } : {}),
        });
        serveMcxSip(endpoint, service, { messaging, log: (e) => logger.info(e, e.op) });
        endpoint.on('protocolError', (err, peer) => logger.warn({ op: 'protocol-error', code: err.code, field: err.field, transport: peer.transport }, 'dropped'));
        const host = o.host.includes(':') ? `[${o.host}]` : o.host;
        logger.info({ mdsi: o.mdsi, kmsUri, store: database.location, spks, tlsCert: tls?.certPath }, 'mcx ready');
        printLine(`listening on sip:${host}:${bound.port}`);
        if (bound.tlsPort !== undefined) printLine(`listening on sips:${host}:${bound.tlsPort}`);
      } catch (err) {
        await endpoint?.close();
        await database.close();
        if (replayCache instanceof RedisReplayCache) await replayCache.close();
        throw err;
      }
      const running = endpoint;
      const stop = (): void => {
        void running
          .close()
          .then(() => database.close())
          .then(() => (replayCache instanceof RedisReplayCache ? replayCache.close() : undefined))
          .then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
