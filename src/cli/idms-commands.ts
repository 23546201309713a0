/**
 * `mcsec idms …` and `mcsec login`: run an IdMS (TS 33.180 §5.1.2, Annex B), provision it, and
 * log an MC client in with it.
 *
 *   idms add-user <mc-id> [--password-file f] --mcptt-id <uri> [--mcvideo-id] [--mcdata-id] [--mcrec-id]
 *   idms add-client <client_id> --redirect-uri <uri...> [--grant-type g...] [--secret-file f]
 *   idms serve [--config idms.json] [--issuer url] [--resource uri...] [--port] [--host] [--*-ttl s] [--clock-skew s]
 *   login --idms <url> --user <mc-id> --client-id <id> [--password-file f] [--ca pem] [--scope s]
 *         [--resource uri] [--redirect-uri uri] [--out tokens.json] [--refresh]
 *   token-exchange --idms <url> --token <file> --partner <url> --client-id <id> --scope s [--out f]
 *
 * Server-side commands share --data-dir, --db and the storage key with `mcsec kms` (the IdMS's
 * signing keys and client secrets are sealed with it). Passwords come from a file (`-`: standard
 * input) or, on a terminal, a prompt that does not echo; never from the command line.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import { discoverIdms, exchangeForPartner, loginWithPassword, partnerAccessToken, readTokenFile, refreshTokens, writeTokenFile, type StoredTokens } from '../client/idm/index.js';
import { ConfigError, ErrorCode } from '../errors/index.js';
import { addClient, addUser } from '../functions/idms/idms-admin.js';
import { KyselyIdmsStore } from '../store/index.js';
import { loadOrCreateTls } from '../transport/http/index.js';
import { printLine } from './output.js';
import { addStoreOptions, openStore } from './store-options.js';

interface StoreOptions {
  readonly dataDir: string;
  readonly db?: string | undefined;
  readonly dbSchema?: string | undefined;
  readonly storageKeyFile?: string | undefined;
}

const usage = (field: string, rule: string): ConfigError => new ConfigError(ErrorCode.USAGE, { field, rule });

function withStoreOptions(c: Command): Command {
  return addStoreOptions(c);
}

const openStoreOf = (o: StoreOptions) => openStore(o, (database, box) => KyselyIdmsStore.open(database, box));

function readFile(file: string, field: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch {
    throw new ConfigError(ErrorCode.IO, { field, rule: `must name a readable file (${file})` });
  }
}

/** A line typed on the terminal without echo. */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolvePw, reject) => {
    process.stderr.write(question);
    let typed = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (err?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (err === undefined) resolvePw(typed);
      else reject(err);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(usage('password', 'cancelled'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function password(file: string | undefined, field: string): Promise<string> {
  if (file !== undefined) {
    const text = readFile(file, field).replace(/\r?\n$/, '');
    if (text.length === 0) throw usage(field, 'the password file is empty');
    return text;
  }
  if (process.stdin.isTTY !== true) throw usage(field, 'is required when standard input is not a terminal');
  return promptHidden('Password: ');
}

const int = (v: string, field: string, min = 0): number => {
  if (!/^\d{1,9}$/.test(v) || Number(v) < min) throw usage(field, `must be an integer of at least ${min}`);
  return Number(v);
};

interface ServeOptions extends StoreOptions {
  readonly config?: string;
  readonly issuer?: string;
  readonly resource?: string[];
  readonly port: string;
  readonly host: string;
  readonly accessTokenTtl?: string;
  readonly idTokenTtl?: string;
  readonly refreshTokenTtl?: string;
  readonly securityTokenTtl?: string;
  readonly clockSkew?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly logLevel: string;
}

/** The configuration file with the command-line overrides, before validation. */
function serveConfig(o: ServeOptions): Record<string, unknown> {
  let base: Record<string, unknown> = {};
  if (o.config !== undefined) {
    let v: unknown;
    try {
      v = JSON.parse(readFile(o.config, '--config'));
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw usage('--config', 'must hold JSON (see docs/idms.md)');
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw usage('--config', 'must hold a JSON object');
    base = { ...v };
    // File names in the configuration are relative to it; a caFile becomes the caPem it holds.
    const dir = dirname(resolve(o.config));
    const trusted = base['trustedIdms'];
    if (Array.isArray(trusted)) {
      base['trustedIdms'] = trusted.map((t: unknown, i) => {
        if (typeof t !== 'object' || t === null) return t;
        const entry: Record<string, unknown> = { ...t };
        if (typeof entry['jwksFile'] === 'string') entry['jwksFile'] = resolve(dir, entry['jwksFile']);
        if (typeof entry['caFile'] === 'string') entry['caPem'] = readFile(resolve(dir, entry['caFile']), `idms.trustedIdms[${i}].caFile`);
        delete entry['caFile'];
        return entry;
      });
    }
  }
  if (o.issuer !== undefined) base['issuer'] = o.issuer;
  if (o.resource !== undefined) base['resources'] = o.resource.map((uri) => ({ uri }));
  const ttl: Record<string, unknown> = typeof base['ttl'] === 'object' && base['ttl'] !== null ? { ...base['ttl'] } : {};
  if (o.accessTokenTtl !== undefined) ttl['accessToken'] = int(o.accessTokenTtl, '--access-token-ttl', 1);
  if (o.idTokenTtl !== undefined) ttl['idToken'] = int(o.idTokenTtl, '--id-token-ttl', 1);
  if (o.refreshTokenTtl !== undefined) ttl['refreshToken'] = int(o.refreshTokenTtl, '--refresh-token-ttl', 1);
  if (o.securityTokenTtl !== undefined) ttl['securityToken'] = int(o.securityTokenTtl, '--security-token-ttl', 1);
  if (Object.keys(ttl).length > 0) base['ttl'] = ttl;
  if (o.clockSkew !== undefined) base['clockToleranceSec'] = int(o.clockSkew, '--clock-skew');
  return base;
}

export function registerIdmsCommands(program: Command): void {
  const idms = program.command('idms').description('the IdMS of TS 33.180 §5.1.2 / Annex B (OpenID Connect): run it, provision it');

  withStoreOptions(idms.command('add-user'))
    .description('add a user: MC ID, password (scrypt-hashed), MC service IDs (§5.1.2.1)')
    .argument('<mc-id>', 'the MC ID the user logs in with')
    .option('--password-file <file>', 'file holding the password (- for standard input); prompted on a terminal otherwise')
    .option('--mcptt-id <uri>', 'MCPTT ID (B.2.1.3 mcptt_id)')
    .option('--mcvideo-id <uri>', 'MCVideo ID (mcvideo_id)')
    .option('--mcdata-id <uri>', 'MCData ID (mcdata_id)')
    .option('--mcrec-id <uri>', 'MCRec ID (mcrec_id)')
    .option('--replace', 'replace the password and MC service IDs of an existing user')
    .option('--disabled', 'the user may neither log in nor refresh (B.5.2)')
    .action(async (name: string, o: StoreOptions & { passwordFile?: string; mcpttId?: string; mcvideoId?: string; mcdataId?: string; mcrecId?: string; replace?: boolean; disabled?: boolean }) => {
      const pw = await password(o.passwordFile, '--password-file');
      const { database, store } = await openStoreOf(o);
      try {
        const r = await addUser(store, {
          username: name,
          password: pw,
          mcServiceIds: { mcptt_id: o.mcpttId, mcvideo_id: o.mcvideoId, mcdata_id: o.mcdataId, mcrec_id: o.mcrecId },
          disabled: o.disabled === true,
          replace: o.replace === true,
        });
        printLine(JSON.stringify({ user: r.user.username, added: r.added, sub: r.user.sub, mcServiceIds: r.user.mcServiceIds, disabled: r.user.disabled }));
      } finally {
        await database.close();
      }
    });

  withStoreOptions(idms.command('add-client'))
    .description('register a native MCX client: client_id and redirect URIs (B.3)')
    .argument('<client_id>', 'the client identifier')
    .requiredOption('--redirect-uri <uri...>', 'redirect URI(s); http only on loopback (any port), or a private-use scheme')
    .option('--grant-type <type...>', 'grant types (default: authorization_code, refresh_token, token exchange, jwt-bearer)')
    .option('--name <text>', 'client name shown on the login page')
    .option('--secret-file <file>', 'client secret for a confidential client (client_secret_basic, B.4.2.4)')
    .option('--replace', 'replace an existing registration')
    .action(async (clientId: string, o: StoreOptions & { redirectUri: string[]; grantType?: string[]; name?: string; secretFile?: string; replace?: boolean }) => {
      const secret = o.secretFile === undefined ? undefined : readFile(o.secretFile, '--secret-file').trim();
      const { database, store } = await openStoreOf(o);
      try {
        const r = await addClient(store, { clientId, redirectUris: o.redirectUri, grantTypes: o.grantType, name: o.name, secret, replace: o.replace === true });
        printLine(JSON.stringify({ client_id: r.client.clientId, added: r.added, ...r.client.metadata }));
      } finally {
        await database.close();
      }
    });

  withStoreOptions(idms.command('serve'))
    .description('serve the IdMS on HTTPS: discovery, JWKS, login, code + PKCE, refresh, token exchange (Annex B)')
    .option('--config <file>', 'IdMS configuration JSON (docs/idms.md)')
    .option('--issuer <url>', 'issuer URL (default https://<host>:<port>)')
    .option('--resource <uri...>', 'MC service resource servers (access token audiences), each serving every B.4.2.2 scope')
    .option('--port <n>', 'TCP port', '9443')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--access-token-ttl <s>', 'access token lifetime, seconds (B.11)')
    .option('--id-token-ttl <s>', 'ID token lifetime, seconds')
    .option('--refresh-token-ttl <s>', 'refresh token lifetime, seconds')
    .option('--security-token-ttl <s>', 'token exchange security token lifetime, seconds (B.8)')
    .option('--clock-skew <s>', 'tolerated clock skew, seconds, at most 30 (B.2.1.2)')
    .option('--tls-cert <pem>', 'TLS certificate (default: self-signed, made in --data-dir)')
    .option('--tls-key <pem>', 'TLS private key')
    .option('--log-level <level>', 'pino log level', 'info')
    .action(async (o: ServeOptions) => {
      const { decodeIdmsConfig, startIdmsServer } = await import('../functions/idms/index.js');
      const config = decodeIdmsConfig(serveConfig(o));
      const logger = pino({ level: o.logLevel, base: { fn: 'idms' }, redact: ['password', 'access_token', 'refresh_token', 'id_token', 'code'] });
      const { database, store } = await openStoreOf(o);
      let running: Awaited<ReturnType<typeof startIdmsServer>>;
      try {
        const tls = await loadOrCreateTls({ dataDir: o.dataDir, certFile: o.tlsCert, keyFile: o.tlsKey, hostnames: [o.host] });
        running = await startIdmsServer({ store, config, tls, logger, port: int(o.port, '--port'), host: o.host });
        logger.info({ issuer: running.issuer, store: database.location, tlsCert: tls.certPath, created: tls.created }, 'idms ready');
      } catch (e) {
        await database.close();
        throw e;
      }
      printLine(`listening on ${running.url}`);
      const stop = (): void => {
        void running.close().then(() => database.close()).then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  program
    .command('login')
    .description('log in at an IdMS as a native MC client (code + PKCE, B.4.2) and store the tokens in a 0600 file')
    .requiredOption('--idms <url>', 'the IdMS issuer URL')
    .requiredOption('--client-id <id>', 'the registered client_id (B.3)')
    .option('--user <mc-id>', 'the MC ID to log in as')
    .option('--password-file <file>', 'file holding the password (- for standard input); prompted on a terminal otherwise')
    .option('--client-secret-file <file>', 'client secret, for a confidential client')
    .option('--ca <pem>', 'CA or self-signed IdMS certificate to trust')
    .option('--scope <scopes>', 'space-separated scopes (B.4.2.2)', 'openid 3gpp:mc:ptt_service 3gpp:mc:ptt_key_management_service')
    .option('--resource <uri>', 'the MC service the access token is for (its audience)')
    .option('--redirect-uri <uri>', 'the registered redirect URI', 'http://127.0.0.1/cb')
    .option('--out <file>', 'token file (mode 0600)', 'mcsec-tokens.json')
    .option('--refresh', 'use the refresh token in --out instead of logging in (B.5)')
    .action(async (o: { idms: string; clientId: string; user?: string; passwordFile?: string; clientSecretFile?: string; ca?: string; scope: string; resource?: string; redirectUri: string; out: string; refresh?: boolean }) => {
      const caPem = o.ca === undefined ? undefined : readFile(o.ca, '--ca');
      const clientSecret = o.clientSecretFile === undefined ? undefined : readFile(o.clientSecretFile, '--client-secret-file').trim();
      const idms = await discoverIdms({ issuer: o.idms, clientId: o.clientId, clientSecret, caPem });
      let tokens: StoredTokens;
      if (o.refresh === true) {
        tokens = await refreshTokens(idms, readTokenFile(o.out, '--out'), { resource: o.resource });
      } else {
        if (o.user === undefined) throw usage('--user', 'is required (or --refresh)');
        tokens = await loginWithPassword(idms, { username: o.user, password: await password(o.passwordFile, '--password-file'), redirectUri: o.redirectUri, scope: o.scope, resource: o.resource });
      }
      writeTokenFile(o.out, tokens);
      printLine(JSON.stringify(summary(tokens, o.out)));
    });

  program
    .command('token-exchange')
    .description('get an access token of a partner IdMS: token exchange at the primary (B.7.2), then the security token at the partner (B.7.4)')
    .requiredOption('--idms <url>', 'the primary IdMS issuer URL')
    .requiredOption('--token <file>', 'token file of mcsec login at the primary')
    .requiredOption('--partner <url>', 'the partner IdMS issuer URL')
    .requiredOption('--client-id <id>', 'the client_id (registered at both IdMSs)')
    .option('--partner-resource <uri>', 'the resource named in the token exchange (default: --partner)')
    .requiredOption('--scope <scopes>', 'scopes wanted at the partner (B.7.4)')
    .option('--resource <uri>', 'the partner MC service the access token is for')
    .option('--ca <pem>', 'CA to trust for the primary IdMS')
    .option('--partner-ca <pem>', 'CA to trust for the partner IdMS (default: --ca)')
    .option('--out <file>', 'token file for the partner access token (mode 0600)', 'mcsec-partner-tokens.json')
    .action(async (o: { idms: string; token: string; partner: string; clientId: string; partnerResource?: string; scope: string; resource?: string; ca?: string; partnerCa?: string; out: string }) => {
      const caPem = o.ca === undefined ? undefined : readFile(o.ca, '--ca');
      const partnerCa = o.partnerCa === undefined ? caPem : readFile(o.partnerCa, '--partner-ca');
      const primary = await discoverIdms({ issuer: o.idms, clientId: o.clientId, caPem });
      const security = await exchangeForPartner(primary, readTokenFile(o.token).access_token, o.partnerResource ?? o.partner);
      const partner = await discoverIdms({ issuer: o.partner, clientId: o.clientId, caPem: partnerCa });
      const tokens = await partnerAccessToken(partner, security.token, { scope: o.scope, resource: o.resource });
      writeTokenFile(o.out, tokens);
      printLine(JSON.stringify(summary(tokens, o.out)));
    });
}

/** What the commands print: never a token. */
function summary(t: StoredTokens, file: string): Record<string, unknown> {
  return {
    issuer: t.issuer,
    client_id: t.client_id,
    sub: t.sub ?? null,
    mc_service_ids: t.mc_service_ids ?? {},
    scope: t.scope ?? null,
    expires_at: t.expires_at === undefined ? null : new Date(t.expires_at * 1000).toISOString(),
    refresh_token: t.refresh_token !== undefined,
    stored: file,
  };
}
