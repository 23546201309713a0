/**
 * `mcsec idms serve`: the IdMS on HTTPS (TS 33.180 §5.1.2.1: "protected using HTTPS"; Annex
 * B.12, TLS 1.2 or later). One TLS server carries both halves: /interaction/* goes to the fastify
 * routes of interactions.ts, everything else to oidc-provider (discovery at
 * /.well-known/openid-configuration, /auth, /token, /jwks, /token/revocation, /session/end).
 *
 * The issuer is the configured URL, or else https://<host>:<port> of the listening socket; the
 * provider is built once the port is known, so port 0 works (tests).
 *
 * oidc-provider is loaded only then. Loaded on Node 20 it prints "Unsupported runtime" on the
 * console (it asks for Node 22); mcsec runs and tests it on Node 20, so that notice goes to the
 * IdMS log as one warning line instead of the console, where the CLI keeps one line per error.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import Fastify, { LogController } from 'fastify';
import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import type { KyselyIdmsStore } from '../../store/index.js';
import type { IdmsConfig } from './config.js';
import { registerInteractionRoutes } from './interactions.js';
import { loadIdmsKeys } from './signing-keys.js';

/** What the server is built from. */
export interface IdmsServerOptions {
  readonly store: KyselyIdmsStore;
  readonly config: IdmsConfig;
  readonly tls: { readonly cert: string; readonly key: string };
  readonly logger: Logger;
  readonly port: number;
  readonly host: string;
  /** Milliseconds since the epoch, for the IdMS's own token checks (default Date.now). */
  readonly now?: (() => number) | undefined;
}

/** A listening IdMS. */
export interface RunningIdms {
  /** The issuer identifier (B.2.1.2 iss), also the base URL of every endpoint. */
  readonly issuer: string;
  /** The origin the socket listens on. */
  readonly url: string;
  readonly provider: Provider;
  /** The public JWKS (what /jwks serves). */
  readonly jwks: { readonly keys: readonly object[] };
  close(): Promise<void>;
}

/** Starts the IdMS; see the module header. */
export async function startIdmsServer(o: IdmsServerOptions): Promise<RunningIdms> {
  const keys = await loadIdmsKeys(o.store);
  let provider: Provider | undefined;
  let callback: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const app = Fastify<Server>({
    loggerInstance: o.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 16 * 1024,
    return503OnClosing: true,
    serverFactory: (handler) =>
      createServer({ cert: o.tls.cert, key: o.tls.key, minVersion: 'TLSv1.2' }, (req, res) => {
        if ((req.url ?? '').startsWith('/interaction/')) {
          handler(req, res);
        } else if (callback === undefined) {
          res.writeHead(503, { 'content-type': 'text/plain' }).end('ERR_INTERNAL the IdMS is starting\n');
        } else {
          callback(req, res);
        }
      }),
  });
  const current = (): Provider => {
    if (provider === undefined) throw new Error('the IdMS provider is not ready');
    return provider;
  };
  registerInteractionRoutes(app, { provider: current, store: o.store, config: o.config, logger: o.logger });
  app.setErrorHandler((err, req, reply) => {
    req.log.error({ op: 'interaction', err }, 'idms interaction failed');
    void reply.code(500).type('text/plain').send('ERR_INTERNAL internal error\n');
  });

  await app.listen({ port: o.port, host: o.host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : o.port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  const url = `https://${host}:${port}`;
  const issuer = o.config.issuer ?? url;
  try {
    const { buildIdmsProvider } = await loadProvider(o.logger);
    provider = buildIdmsProvider({ issuer, config: o.config, store: o.store, keys, logger: o.logger, now: o.now });
  } catch (e) {
    await app.close();
    throw e;
  }
  provider.silent = true;
  callback = provider.callback();
  return {
    issuer,
    url,
    provider,
    jwks: keys.publicJwks,
    close: () => app.close(),
  };
}

/** Loads provider.ts (and oidc-provider), its runtime notice sent to `logger`; see the header. */
async function loadProvider(logger: Logger): Promise<typeof import('./provider.js')> {
  const warn = console.warn;
  let notice: string | undefined;
  console.warn = (...args: unknown[]): void => {
    const text = args.map(String).join(' ');
    if (text.includes('oidc-provider WARNING: Unsupported runtime')) notice = text;
    else warn.apply(console, args);
  };
  try {
    return await import('./provider.js');
  } finally {
    console.warn = warn;
    if (notice !== undefined) logger.warn({ op: 'start', node: process.version }, notice.replace(/\x1b\[[\d;]*m/g, ''));
  }
}
