/**
 * The MC service resource servers the IdMS issues access tokens for (TS 33.180 §5.1.3: KMS,
 * MCPTT / MCVideo / MCData servers, CMS, GMS, location and recording servers), as oidc-provider
 * resource indicators (RFC 8707): every access token is a JWT (B.2.2.1, RFC 9068) signed ES256
 * whose `aud` is the resource the client asked for (or the default one), with the scopes that
 * resource serves.
 */
import type { ResourceServer } from 'oidc-provider';
import type { IdmsConfig, IdmsResource } from './config.js';
import { SIGNING_ALG } from './signing-keys.js';

/** oidc-provider's description of one resource server. */
export function resourceServerInfo(r: IdmsResource, config: IdmsConfig): ResourceServer {
  return {
    scope: r.scopes.join(' '),
    audience: r.uri,
    accessTokenTTL: r.accessTokenTtlSec ?? config.ttl.accessToken,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: SIGNING_ALG } },
  };
}

/** The configured resource with this URI. */
export const findResource = (config: IdmsConfig, uri: string): IdmsResource | undefined => config.resources.find((r) => r.uri === uri);
