/**
 * Token exchange at the primary IdMS (TS 33.180 §5.1.4.2 steps 1-2, Annex B.7.2 / B.7.3, RFC
 * 8693): the MCX client presents its access token and names a partner IdMS; the IdMS checks the
 * request (check-token-exchange.ts) and the subject token (check-subject-token.ts), finds the
 * user still valid, and answers with a security token for that partner (security-token.ts):
 *
 *   { access_token: <security token>, issued_token_type: urn:ietf:params:oauth:token-type:jwt,
 *     token_type: Bearer, expires_in: ttl.securityToken }
 */
import type { TokenEndpointGrantContext } from 'oidc-provider';
import { ErrorCode, PolicyError } from '../../errors/index.js';
import type { KyselyIdmsStore } from '../../store/index.js';
import { checkSubjectToken } from './check-subject-token.js';
import { checkTokenExchangeRequest } from './check-token-exchange.js';
import { JWT_TOKEN_TYPE } from './grant-types.js';
import type { IdmsConfig } from './config.js';
import { toOAuthError } from './oauth-errors.js';
import { signSecurityToken } from './security-token.js';
import type { IdmsKeys } from './signing-keys.js';

/** What the grant handler needs. */
export interface TokenExchangeDeps {
  readonly store: KyselyIdmsStore;
  readonly config: IdmsConfig;
  readonly issuer: string;
  readonly keys: IdmsKeys;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  readonly onIssued?: ((e: { readonly client: string; readonly partner: string }) => void) | undefined;
}

/** The token endpoint handler of the token exchange grant. */
export function tokenExchangeHandler(d: TokenExchangeDeps): (ctx: TokenEndpointGrantContext) => Promise<void> {
  return async (ctx) => {
    try {
      const clientId = ctx.oidc.client.clientId;
      const req = checkTokenExchangeRequest(ctx.oidc.params, d.config.partners);
      const subject = await checkSubjectToken(req.subjectToken, {
        issuer: d.issuer,
        jwks: { keys: [...d.keys.publicJwks.keys] },
        clientId,
        clockToleranceSec: d.config.clockToleranceSec,
        now: d.now,
      });
      // B.5.2's advice for refresh applies here too: the user must still be valid.
      const user = await d.store.getUserBySub(subject.sub);
      if (user === undefined || user.disabled) {
        throw new PolicyError(ErrorCode.UNAUTHORIZED, { field: 'tokenExchange.subject_token', rule: 'must name a user who is still valid', clause: 'TS 33.180 Annex B.7.2' });
      }
      const key = d.keys.privateJwks[0];
      if (key === undefined) throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'idms.signingKey', rule: 'must exist' });
      const lifetime = d.config.ttl.securityToken;
      const token = await signSecurityToken(key, {
        issuer: d.issuer,
        sub: user.sub,
        clientId,
        partner: req.partner.resource,
        mcServiceIds: user.mcServiceIds,
        lifetimeSec: lifetime,
        now: d.now(),
      });
      d.onIssued?.({ client: clientId, partner: req.partner.resource });
      ctx.body = { access_token: token, issued_token_type: JWT_TOKEN_TYPE, token_type: 'Bearer', expires_in: lifetime };
    } catch (e) {
      throw toOAuthError(e);
    }
  };
}
