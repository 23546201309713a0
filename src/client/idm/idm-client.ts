/**
 * The IdM client of an MC UE (TS 33.180 §5.1.2, Annex B.4 native client, B.5, B.7) on
 * openid-client 6: discovery of the IdMS, the authorization code flow with PKCE S256 and
 * `acr_values` 3gpp:acr:password (B.4.2.2), the token request with the code verifier (B.4.2.4),
 * ID token validation per OIDC Core 3.1.3.7 (B.10, done by openid-client), refresh (B.5), and
 * for a partner domain the token exchange (B.7.2) and the security token's exchange at the partner
 * IdMS for its access token (B.7.4). All HTTP goes over TLS trusting the system CAs plus the given
 * CA (B.12). The username/password step is login-form.ts (an embedded browser).
 *
 * OAuth errors from the IdMS become McsecErrors: a refused grant or login is PolicyError
 * ERR_UNAUTHORIZED naming the OAuth error code, never a token.
 */
import * as oidc from 'openid-client';
import { ErrorCode, McsecError, PolicyError } from '../../errors/index.js';
import { httpsFetch } from '../../transport/http/https-fetch.js';
import { completeLoginForm } from './login-form.js';
import type { StoredTokens } from './token-file.js';

/** RFC 8693 / RFC 7523 identifiers of B.7. */
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** B.4.2.2 acr_values. */
export const PASSWORD_ACR = '3gpp:acr:password';

/** Where the IdMS is and who the client is. */
export interface IdmsEndpoint {
  /** The IdMS issuer URL (discovery at /.well-known/openid-configuration). */
  readonly issuer: string;
  readonly clientId: string;
  /** Client secret for confidential clients (client_secret_basic, B.4.2.4); native clients have none. */
  readonly clientSecret?: string | undefined;
  /** CA certificate(s) to trust besides the system ones (a self-signed lab IdMS). */
  readonly caPem?: string | undefined;
}

/** An IdMS found by discovery. */
export interface Idms {
  readonly config: oidc.Configuration;
  readonly endpoint: IdmsEndpoint;
}

const MCX_ID_CLAIMS = ['mcptt_id', 'mcvideo_id', 'mcdata_id', 'mcrec_id'] as const;

/** Maps openid-client and OAuth errors to McsecErrors; see the module header. */
function idmError(e: unknown, field: string): unknown {
  if (e instanceof McsecError) return e;
  if (e instanceof oidc.ResponseBodyError || e instanceof oidc.AuthorizationResponseError) {
    const code = e.error === 'invalid_request' || e.error === 'invalid_scope' || e.error === 'invalid_target' ? ErrorCode.BAD_VALUE : ErrorCode.UNAUTHORIZED;
    const description = e.error_description === undefined ? '' : `: ${e.error_description}`;
    return new PolicyError(code, { field, rule: `the IdMS refused with ${e.error}${description}`, clause: 'TS 33.180 Annex B' });
  }
  const message = e instanceof Error ? e.message : String(e);
  return new McsecError(ErrorCode.IO, { field, rule: `the IdMS exchange failed: ${message}` });
}

/** Discovers the IdMS (OpenID Connect Discovery) and checks it supports PKCE S256 (B.4.2.2). */
export async function discoverIdms(e: IdmsEndpoint): Promise<Idms> {
  let config: oidc.Configuration;
  try {
    const auth = e.clientSecret === undefined ? oidc.None() : oidc.ClientSecretBasic(e.clientSecret);
    config = await oidc.discovery(new URL(e.issuer), e.clientId, undefined, auth, { [oidc.customFetch]: httpsFetch({ caPem: e.caPem }) });
  } catch (err) {
    throw idmError(err, 'idms.discovery');
  }
  const methods = config.serverMetadata().code_challenge_methods_supported;
  if (!Array.isArray(methods) || !methods.includes('S256')) {
    throw new PolicyError(ErrorCode.UNSUPPORTED, { field: 'idms.discovery.code_challenge_methods_supported', rule: 'must include S256', clause: 'TS 33.180 Annex B.4.2.2' });
  }
  return { config, endpoint: e };
}

/** What a login asks for. */
export interface LoginRequest {
  readonly username: string;
  readonly password: string;
  /** Registered redirect URI (B.3); loopback with any port, or a private-use scheme. */
  readonly redirectUri: string;
  /** Space-separated scopes (B.4.2.2); `openid` is added when missing. */
  readonly scope: string;
  /** The MC service resource the access token is for (RFC 8707); the IdMS default otherwise. */
  readonly resource?: string | undefined;
}

function stored(idms: Idms, t: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers, prev?: StoredTokens): StoredTokens {
  const claims = t.id_token === undefined ? undefined : t.claims();
  const ids: Record<string, string> = { ...(prev?.mc_service_ids ?? {}) };
  for (const k of MCX_ID_CLAIMS) {
    const v = claims?.[k];
    if (typeof v === 'string') ids[k] = v;
  }
  const expiresIn = t.expiresIn();
  return Object.freeze({
    issuer: idms.config.serverMetadata().issuer,
    client_id: idms.endpoint.clientId,
    token_type: t.token_type,
    access_token: t.access_token,
    expires_at: expiresIn === undefined ? undefined : Math.floor(Date.now() / 1000) + expiresIn,
    scope: t.scope ?? prev?.scope,
    refresh_token: t.refresh_token ?? prev?.refresh_token,
    id_token: t.id_token ?? prev?.id_token,
    sub: claims?.sub ?? prev?.sub,
    mc_service_ids: Object.keys(ids).length === 0 ? undefined : Object.freeze(ids),
  });
}

/** The authorization code flow with PKCE (B.4.2.2-B.4.2.5), the login form filled in. */
export async function loginWithPassword(idms: Idms, r: LoginRequest): Promise<StoredTokens> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const scope = r.scope.split(' ').includes('openid') ? r.scope : `openid ${r.scope}`;
  const authorizationUrl = oidc.buildAuthorizationUrl(idms.config, {
    redirect_uri: r.redirectUri,
    scope,
    state,
    acr_values: PASSWORD_ACR,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...(r.resource === undefined ? {} : { resource: r.resource }),
  });
  const callback = await completeLoginForm(httpsFetch({ caPem: idms.endpoint.caPem }), { authorizationUrl, redirectUri: r.redirectUri, username: r.username, password: r.password });
  try {
    const tokens = await oidc.authorizationCodeGrant(idms.config, callback, { pkceCodeVerifier: verifier, expectedState: state }, r.resource === undefined ? undefined : { resource: r.resource });
    return stored(idms, tokens);
  } catch (err) {
    throw idmError(err, 'idms.token');
  }
}

/** New tokens from the refresh token (B.5.2); the scope may only narrow. */
export async function refreshTokens(idms: Idms, prev: StoredTokens, o: { readonly scope?: string | undefined; readonly resource?: string | undefined } = {}): Promise<StoredTokens> {
  if (prev.refresh_token === undefined) throw new PolicyError(ErrorCode.NOT_FOUND, { field: '--token.refresh_token', rule: 'the token store holds no refresh token', clause: 'TS 33.180 Annex B.5' });
  try {
    const params: Record<string, string> = {};
    if (o.scope !== undefined) params['scope'] = o.scope;
    if (o.resource !== undefined) params['resource'] = o.resource;
    return stored(idms, await oidc.refreshTokenGrant(idms.config, prev.refresh_token, params), prev);
  } catch (err) {
    throw idmError(err, 'idms.refresh');
  }
}

/** A security token for one partner IdMS (B.7.2 / B.7.3). */
export interface SecurityToken {
  readonly token: string;
  readonly expiresIn: number | undefined;
  readonly issuedTokenType: string;
}

/** Token exchange at the primary IdMS: the access token for a security token for `partner`. */
export async function exchangeForPartner(idms: Idms, accessToken: string, partner: string): Promise<SecurityToken> {
  try {
    const r = await oidc.genericGrantRequest(idms.config, TOKEN_EXCHANGE, { resource: partner, subject_token: accessToken, subject_token_type: JWT_TYPE });
    const issued = r['issued_token_type'];
    if (issued !== JWT_TYPE) throw new PolicyError(ErrorCode.BAD_VALUE, { field: 'idms.tokenExchange.issued_token_type', rule: `must be ${JWT_TYPE}`, clause: 'TS 33.180 Annex B.7.3' });
    return Object.freeze({ token: r.access_token, expiresIn: r.expiresIn(), issuedTokenType: issued });
  } catch (err) {
    throw idmError(err, 'idms.tokenExchange');
  }
}

/** At the partner IdMS: the security token for its access token (B.7.4 / B.7.5). */
export async function partnerAccessToken(partner: Idms, securityToken: string, o: { readonly scope: string; readonly resource?: string | undefined }): Promise<StoredTokens> {
  try {
    const params: Record<string, string> = { assertion: securityToken, scope: o.scope };
    if (o.resource !== undefined) params['resource'] = o.resource;
    return stored(partner, await oidc.genericGrantRequest(partner.config, JWT_BEARER, params));
  } catch (err) {
    throw idmError(err, 'idms.partnerToken');
  }
}
