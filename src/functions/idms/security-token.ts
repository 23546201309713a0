/**
 * The security token a primary IdMS issues by token exchange for one partner IdMS (TS 33.180
 * §5.1.4.2, Annex B.7.3, B.8): a JWS (RFC 7515) signed with the IdMS key, `typ` JWT, carrying
 *
 *   iss  the IdMS URL                 sub  the user (B.2.1.2, never reassigned)
 *   aud  [client_id, partner address] (B.8: the client and the `resource` of B.7.2)
 *   iat, exp (lifetime ttl.securityToken, B.11), jti (so a partner can refuse a replay)
 *   mcptt_id / mcvideo_id / mcdata_id / mcrec_id   the user's MC service IDs (§5.1.2.1), from
 *        which the partner binds the IDs its access token carries (B.7.5, B.2.2.3)
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, importJWK, type JWK } from 'jose';
import type { McServiceIds } from '../../store/index.js';
import { SIGNING_ALG } from './signing-keys.js';

/** What goes into a security token. */
export interface SecurityTokenInput {
  readonly issuer: string;
  readonly sub: string;
  readonly clientId: string;
  readonly partner: string;
  readonly mcServiceIds: McServiceIds;
  readonly lifetimeSec: number;
  /** Milliseconds since the epoch. */
  readonly now: number;
}

/** Signs a security token with the IdMS signing key (a private JWK with its kid). */
export async function signSecurityToken(key: JWK, t: SecurityTokenInput): Promise<string> {
  const iat = Math.floor(t.now / 1000);
  return new SignJWT({ ...t.mcServiceIds })
    .setProtectedHeader({ alg: SIGNING_ALG, typ: 'JWT', ...(key.kid === undefined ? {} : { kid: key.kid }) })
    .setIssuer(t.issuer)
    .setSubject(t.sub)
    .setAudience([t.clientId, t.partner])
    .setIssuedAt(iat)
    .setExpirationTime(iat + t.lifetimeSec)
    .setJti(randomUUID())
    .sign(await importJWK(key, SIGNING_ALG));
}
