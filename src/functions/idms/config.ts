/**
 * The IdMS configuration (TS 33.180 Annex B), validated once at start-up: errors are ConfigError
 * naming the path, as oidc-provider's `features.x.y must be …`.
 *
 *   issuer            the IdMS URL (B.2.1.2 `iss`); https (B.12)
 *   resources         the MC service resource servers an access token can be for, each with the
 *                     B.4.2.2 scopes it serves; the access token `aud` is the one requested
 *   defaultResource   used when an authentication request names none (default: the first)
 *   clients           static clients (B.3): client_id, redirect_uris, …; more live in the store
 *   ttl               token lifetimes in seconds (B.11: `exp` / `expires_in` are the revocation)
 *   clockToleranceSec leeway on exp / iat / nbf, at most 30 s (B.2.1.2, B.2.2.2, B.8)
 *   partners          token exchange (B.7.2): the partner IdMS addresses a security token may be
 *                     issued for (the `resource` parameter)
 *   trustedIdms       jwt-bearer (B.7.4): primary IdMSs whose security tokens this IdMS accepts,
 *                     with their JWKS (the out-of-band provisioning of §5.1.4.2) and the scopes
 *                     their users may be given here
 */
import { ConfigError, ErrorCode } from '../../errors/index.js';
import type { JwksSource } from '../authz/index.js';
import { MCX_SCOPES, PARTNER_SCOPES, isMcxScope, type McxScope } from './scopes.js';

/** An MC service resource server (KMS, MCPTT server, GMS, …). */
export interface IdmsResource {
  readonly uri: string;
  readonly scopes: readonly McxScope[];
  /** Access token lifetime for this resource, seconds (default: ttl.accessToken). */
  readonly accessTokenTtlSec: number | undefined;
}

/** Token lifetimes, seconds. */
export interface IdmsTtl {
  readonly accessToken: number;
  readonly idToken: number;
  readonly refreshToken: number;
  readonly authorizationCode: number;
  /** The security token of token exchange (B.7.3, B.8). */
  readonly securityToken: number;
  readonly session: number;
  readonly interaction: number;
  readonly grant: number;
}

/** A partner IdMS a security token may be issued for (B.7.2 `resource`). */
export interface IdmsPartner {
  readonly resource: string;
}

/** A primary IdMS whose security tokens are accepted (B.7.4, B.8). */
export interface IdmsTrusted {
  readonly issuer: string;
  readonly jwks: JwksSource;
  /** Scopes its users may be given here (default: all of B.7.4). */
  readonly scopes: readonly McxScope[];
}

/** The validated configuration. */
export interface IdmsConfig {
  readonly issuer: string | undefined;
  readonly resources: readonly IdmsResource[];
  readonly defaultResource: string;
  readonly clients: readonly Readonly<Record<string, unknown>>[];
  readonly ttl: IdmsTtl;
  readonly clockToleranceSec: number;
  readonly partners: readonly IdmsPartner[];
  readonly trustedIdms: readonly IdmsTrusted[];
}

/** Default lifetimes: short access and security tokens, a day-long refresh token. */
export const DEFAULT_TTL: IdmsTtl = Object.freeze({
  accessToken: 3600,
  idToken: 3600,
  refreshToken: 86_400,
  authorizationCode: 60,
  securityToken: 300,
  session: 86_400,
  interaction: 600,
  grant: 86_400,
});

/** B.2.1.2: leeway for clock skew "not to exceed 30 seconds". */
export const MAX_CLOCK_TOLERANCE_SEC = 30;

const bad = (field: string, rule: string, clause?: string): ConfigError =>
  new ConfigError(ErrorCode.CONFIG, { field: `idms.${field}`, rule, ...(clause === undefined ? {} : { clause }) });

function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(field, 'must be an object');
  return v as Record<string, unknown>;
}

function arr(v: unknown, field: string): readonly unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw bad(field, 'must be an array');
  return v;
}

function url(v: unknown, field: string, o: { https?: boolean } = {}): string {
  if (typeof v !== 'string') throw bad(field, 'must be a URL string');
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw bad(field, 'must be an absolute URL');
  }
  if (u.hash !== '') throw bad(field, 'must not have a fragment');
  if (o.https === true && u.protocol !== 'https:') throw bad(field, 'must be https', 'TS 33.180 Annex B.12');
  return v;
}

function seconds(v: unknown, field: string, fallback: number, max = 366 * 86_400): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw bad(field, `must be an integer number of seconds, 1 to ${max}`);
  return v;
}

function scopes(v: unknown, field: string, allowed: readonly McxScope[]): readonly McxScope[] {
  if (v === undefined) return allowed;
  const out: McxScope[] = [];
  for (const [i, s] of arr(v, field).entries()) {
    if (typeof s !== 'string' || !isMcxScope(s) || !allowed.includes(s)) {
      throw bad(`${field}[${i}]`, `must be one of ${allowed.join(', ')}`, 'TS 33.180 Annex B.4.2.2');
    }
    out.push(s);
  }
  return Object.freeze([...new Set(out)]);
}

function jwks(v: Record<string, unknown>, field: string): JwksSource {
  if (v['jwksUri'] !== undefined) {
    const ca = v['caPem'];
    if (ca !== undefined && typeof ca !== 'string') throw bad(`${field}.caPem`, 'must be PEM text');
    return { url: url(v['jwksUri'], `${field}.jwksUri`), caPem: ca };
  }
  if (v['jwksFile'] !== undefined) {
    if (typeof v['jwksFile'] !== 'string') throw bad(`${field}.jwksFile`, 'must be a file name');
    return { file: v['jwksFile'] };
  }
  throw bad(field, 'must give jwksUri (with caPem when self-signed) or jwksFile', 'TS 33.180 §5.1.4.2');
}

/** Validates a configuration value (parsed JSON, possibly overridden by command-line options). */
export function decodeIdmsConfig(value: unknown): IdmsConfig {
  const c = obj(value ?? {}, '(root)');
  const known = new Set(['issuer', 'resources', 'defaultResource', 'clients', 'ttl', 'clockToleranceSec', 'partners', 'trustedIdms']);
  for (const k of Object.keys(c)) if (!known.has(k)) throw bad(k, 'is not a known setting');

  const issuer = c['issuer'] === undefined ? undefined : url(c['issuer'], 'issuer', { https: true });
  if (issuer !== undefined && (new URL(issuer).search !== '' || issuer.endsWith('/'))) throw bad('issuer', 'must have no query and no trailing slash');

  const resources = arr(c['resources'], 'resources').map((r, i): IdmsResource => {
    const o = obj(r, `resources[${i}]`);
    return Object.freeze({
      uri: url(o['uri'], `resources[${i}].uri`),
      scopes: scopes(o['scopes'], `resources[${i}].scopes`, MCX_SCOPES),
      accessTokenTtlSec: o['accessTokenTtlSec'] === undefined ? undefined : seconds(o['accessTokenTtlSec'], `resources[${i}].accessTokenTtlSec`, 0),
    });
  });
  if (resources.length === 0) throw bad('resources', 'must name at least one MC service resource server (the access token audience)', 'TS 33.180 Annex B.2.2');
  if (new Set(resources.map((r) => r.uri)).size !== resources.length) throw bad('resources', 'must not name a resource twice');
  const defaultResource = c['defaultResource'] === undefined ? (resources[0]?.uri ?? '') : url(c['defaultResource'], 'defaultResource');
  if (!resources.some((r) => r.uri === defaultResource)) throw bad('defaultResource', 'must be one of resources[].uri');

  const clients = arr(c['clients'], 'clients').map((cl, i) => {
    const o = obj(cl, `clients[${i}]`);
    if (typeof o['client_id'] !== 'string' || o['client_id'].length === 0) throw bad(`clients[${i}].client_id`, 'is required', 'TS 33.180 Annex B.3');
    if (!Array.isArray(o['redirect_uris']) || o['redirect_uris'].length === 0) throw bad(`clients[${i}].redirect_uris`, 'must list the redirect URIs', 'TS 33.180 Annex B.3');
    return Object.freeze({ ...o });
  });

  const t = c['ttl'] === undefined ? {} : obj(c['ttl'], 'ttl');
  for (const k of Object.keys(t)) if (!(k in DEFAULT_TTL)) throw bad(`ttl.${k}`, `is not a known lifetime (${Object.keys(DEFAULT_TTL).join(', ')})`);
  const ttl: IdmsTtl = Object.freeze({
    accessToken: seconds(t['accessToken'], 'ttl.accessToken', DEFAULT_TTL.accessToken),
    idToken: seconds(t['idToken'], 'ttl.idToken', DEFAULT_TTL.idToken),
    refreshToken: seconds(t['refreshToken'], 'ttl.refreshToken', DEFAULT_TTL.refreshToken),
    authorizationCode: seconds(t['authorizationCode'], 'ttl.authorizationCode', DEFAULT_TTL.authorizationCode, 600),
    securityToken: seconds(t['securityToken'], 'ttl.securityToken', DEFAULT_TTL.securityToken, 3600),
    session: seconds(t['session'], 'ttl.session', DEFAULT_TTL.session),
    interaction: seconds(t['interaction'], 'ttl.interaction', DEFAULT_TTL.interaction, 3600),
    grant: seconds(t['grant'], 'ttl.grant', DEFAULT_TTL.grant),
  });

  const tol = c['clockToleranceSec'] ?? 30;
  if (typeof tol !== 'number' || !Number.isInteger(tol) || tol < 0 || tol > MAX_CLOCK_TOLERANCE_SEC) {
    throw bad('clockToleranceSec', `must be an integer from 0 to ${MAX_CLOCK_TOLERANCE_SEC}`, 'TS 33.180 Annex B.2.1.2');
  }

  const partners = arr(c['partners'], 'partners').map((p, i): IdmsPartner => {
    const o = obj(p, `partners[${i}]`);
    return Object.freeze({ resource: url(o['resource'], `partners[${i}].resource`) });
  });
  const trustedIdms = arr(c['trustedIdms'], 'trustedIdms').map((p, i): IdmsTrusted => {
    const o = obj(p, `trustedIdms[${i}]`);
    return Object.freeze({
      issuer: url(o['issuer'], `trustedIdms[${i}].issuer`),
      jwks: jwks(o, `trustedIdms[${i}]`),
      scopes: scopes(o['scopes'], `trustedIdms[${i}].scopes`, PARTNER_SCOPES),
    });
  });
  if (new Set(trustedIdms.map((p) => p.issuer)).size !== trustedIdms.length) throw bad('trustedIdms', 'must not name an issuer twice');

  return Object.freeze({
    issuer,
    resources: Object.freeze(resources),
    defaultResource,
    clients: Object.freeze(clients),
    ttl,
    clockToleranceSec: tol,
    partners: Object.freeze(partners),
    trustedIdms: Object.freeze(trustedIdms),
  });
}
