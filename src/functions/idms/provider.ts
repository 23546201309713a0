/**
 * The IdMS's OpenID Connect provider (TS 33.180 §5.1.2, Annex B "MCX Connect") on oidc-provider 9,
 * configured to the profile:
 *
 *   - native clients (B.4.2): response_type `code`, PKCE S256 required for every client
 *     (B.4.2.2: "The IdMS rejects the authentication request if the code_challenge parameter is
 *     not present"), loopback redirect URIs with any port (RFC 8252 §7.3), `acr_values`
 *     3gpp:acr:password; clients registered by the operator (B.3), dynamic registration off
 *   - scopes: `openid`, `offline_access` and every MCX scope of B.4.2.2; the ID token carries
 *     iss, sub, aud (client_id), exp, iat (B.2.1.2) and the MC service IDs of its scopes (B.2.1.3)
 *   - access tokens are JWTs (B.2.2.1, RFC 9068) for one MC service resource (RFC 8707): aud the
 *     resource, exp, scope, client_id (B.2.2.2) and the MC service IDs (B.2.2.3)
 *   - refresh tokens for clients registered with the refresh_token grant (B.5), refused once the
 *     user is disabled or removed (B.5.2's recommendation)
 *   - lifetimes and clock skew from the configuration (B.11, B.2.1.2)
 *   - token exchange (B.7.2) and the JWT bearer grant of a partner (B.7.4)
 *
 * State lives in the store (oidc-adapter.ts); keys come from signing-keys.ts.
 */
import Provider, { errors, type Configuration, type ErrorOut, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import type { KyselyIdmsStore, McServiceIds } from '../../store/index.js';
import { TrustedIdmsSet } from './check-security-token.js';
import { TOKEN_EXCHANGE_PARAMS } from './check-token-exchange.js';
import { NATIVE_CLIENT_DEFAULTS } from './client-defaults.js';
import { JWT_BEARER_GRANT, TOKEN_EXCHANGE_GRANT } from './grant-types.js';
import type { IdmsConfig } from './config.js';
import { JWT_BEARER_PARAMS, jwtBearerHandler } from './jwt-bearer.js';
import { idmsAdapter } from './oidc-adapter.js';
import { findResource, resourceServerInfo } from './resource-servers.js';
import { MCX_SCOPES, PASSWORD_ACR, SCOPE_CLAIMS, serviceIdClaimsFor, splitScope } from './scopes.js';
import { SIGNING_ALG, type IdmsKeys } from './signing-keys.js';
import { tokenExchangeHandler } from './token-exchange.js';
import { renderErrorPage } from './login-page.js';

/** What the provider is built from. */
export interface IdmsProviderOptions {
  readonly issuer: string;
  readonly config: IdmsConfig;
  readonly store: KyselyIdmsStore;
  readonly keys: IdmsKeys;
  readonly logger: Logger;
  /** Milliseconds since the epoch, for the IdMS's own checks (default Date.now). */
  readonly now?: (() => number) | undefined;
}


/** Builds the provider (not listening; mount `provider.callback()`). */
export function buildIdmsProvider(o: IdmsProviderOptions): Provider {
  const { config, store, logger } = o;
  const now = o.now ?? Date.now;
  const tokenClaims = new WeakMap<object, McServiceIds>();
  const ttl = config.ttl;
  const claims: Record<string, string[] | null> = { openid: ['sub'], acr: null, auth_time: null, sid: null, iss: null };
  for (const scope of MCX_SCOPES) claims[scope] = [...SCOPE_CLAIMS[scope]];

  const configuration: Configuration = {
    acrValues: [PASSWORD_ACR],
    adapter: idmsAdapter(store),
    claims,
    clientBasedCORS: () => false,
    clients: config.clients.map((c) => ({ ...NATIVE_CLIENT_DEFAULTS, ...c, client_id: String(c['client_id']) })),
    clientDefaults: { ...NATIVE_CLIENT_DEFAULTS, grant_types: ['authorization_code', 'refresh_token'] },
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post'],
    clockTolerance: config.clockToleranceSec,
    conformIdTokenClaims: false,
    cookies: { keys: [...o.keys.cookieKeys] },
    enabledJWA: {
      idTokenSigningAlgValues: [SIGNING_ALG],
      userinfoSigningAlgValues: [SIGNING_ALG],
      introspectionSigningAlgValues: [SIGNING_ALG],
      authorizationSigningAlgValues: [SIGNING_ALG],
    },
    expiresWithSession: () => false,
    extraTokenClaims: async (_ctx, token) => {
      if (token.kind !== 'AccessToken') return undefined;
      const preset = tokenClaims.get(token);
      if (preset !== undefined) return { ...preset };
      const user = typeof token.accountId === 'string' ? await store.getUserBySub(token.accountId) : undefined;
      return user === undefined ? undefined : { ...serviceIdClaimsFor(splitScope(token.scope), user.mcServiceIds) };
    },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: false },
      userinfo: { enabled: false },
      revocation: { enabled: true, allowedPolicy: (_ctx, client, token) => Promise.resolve(token.clientId === client.clientId) },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.body = renderErrorPage('Sign out', `${form}<button type="submit" form="op.logoutForm" value="yes" name="logout">Sign out</button>`);
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.body = renderErrorPage('Signed out', '<p>You are signed out.</p>');
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => (oneOf === undefined ? config.defaultResource : oneOf),
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          const r = findResource(config, indicator);
          if (r === undefined) throw new errors.InvalidTarget();
          return resourceServerInfo(r, config);
        },
      },
    },
    findAccount: async (_ctx, sub) => {
      const user = await store.getUserBySub(sub);
      if (user === undefined || user.disabled) return undefined;
      return { accountId: user.sub, claims: () => ({ sub: user.sub, ...user.mcServiceIds }) };
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    jwks: { keys: [...o.keys.privateJwks] },
    pkce: { required: () => true },
    renderError: (ctx: KoaContextWithOIDC, out) => {
      ctx.type = 'html';
      ctx.body = renderErrorPage('Sign-in failed', `<p>${escapeOut(out)}</p>`);
    },
    responseTypes: ['code'],
    rotateRefreshToken: true,
    scopes: ['openid', 'offline_access', ...MCX_SCOPES],
    subjectTypes: ['public'],
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ttl.accessToken,
      AuthorizationCode: ttl.authorizationCode,
      ClientCredentials: ttl.accessToken,
      IdToken: ttl.idToken,
      RefreshToken: ttl.refreshToken,
      Session: ttl.session,
      Interaction: ttl.interaction,
      Grant: ttl.grant,
    },
  };

  const provider = new Provider(o.issuer, configuration);
  const exchange = tokenExchangeHandler({ store, config, issuer: o.issuer, keys: o.keys, now });
  provider.registerGrantType(TOKEN_EXCHANGE_GRANT, exchange, TOKEN_EXCHANGE_PARAMS);
  // B.8: a security token names this IdMS by its issuer or its token endpoint (B.7.2 resource).
  const audience = [o.issuer, provider.urlFor('token')];
  const trustedSet = new TrustedIdmsSet(config.trustedIdms, { audience, clockToleranceSec: config.clockToleranceSec, now });
  provider.registerGrantType(JWT_BEARER_GRANT, jwtBearerHandler({ store, config, trustedSet, tokenClaims }), JWT_BEARER_PARAMS);

  // Log lines name the operation, client and outcome; never a token, code or password.
  const where = (ctx: KoaContextWithOIDC) => ({ grantType: ctx.oidc.params?.['grant_type'], client: ctx.oidc.client?.clientId });
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => logger.info({ op: 'token', ...where(ctx) }, 'token issued'));
  provider.on('grant.error', (ctx: KoaContextWithOIDC, err: { error?: string; error_detail?: string }) => {
    logger.warn({ op: 'token', ...where(ctx), code: err.error, detail: err.error_detail }, 'token refused');
  });
  provider.on('authorization.error', (ctx: KoaContextWithOIDC, err: { error?: string }) => {
    logger.warn({ op: 'authorization', client: ctx.oidc.client?.clientId, code: err.error }, 'authorization refused');
  });
  provider.on('server_error', (_ctx: KoaContextWithOIDC, err: Error) => logger.error({ op: 'server', err }, 'idms internal error'));
  return provider;
}

function escapeOut(out: ErrorOut): string {
  const error = out.error;
  const description = out.error_description ?? '';
  return `${html(error)}${description === '' ? '' : `: ${html(description)}`}`;
}

const html = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
