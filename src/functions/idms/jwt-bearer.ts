/**
 * The partner IdMS's token request (TS 33.180 §5.1.4.2 steps 3-5, Annex B.7.4 / B.7.5): the MCX
 * client presents the security token of a primary IdMS as an RFC 7523 JWT bearer assertion with
 * the scopes it wants here; the partner checks it (check-security-token.ts) and answers with an
 * access token for its own MC services (B.9: the B.2.2 format):
 *
 *   scope  = requested ∩ the B.7.4 list ∩ what the primary's users may get here (config) ∩ what
 *            the resource serves ∩ what the user's MC service IDs allow; none left: invalid_scope
 *   token  = a JWT access token of this IdMS: aud the requested (or default) resource, sub the
 *            primary's sub, client_id, scope, and the MC service IDs of the security token
 *            that the granted scopes concern (B.2.2.3)
 */
import type { TokenEndpointGrantContext } from 'oidc-provider';
import { ErrorCode, FormatError, PolicyError } from '../../errors/index.js';
import type { KyselyIdmsStore, McServiceIds } from '../../store/index.js';
import { checkSecurityToken, type TrustedIdmsSet } from './check-security-token.js';
import type { IdmsConfig } from './config.js';
import { toOAuthError } from './oauth-errors.js';
import { findResource, resourceServerInfo } from './resource-servers.js';
import { PARTNER_SCOPES, isMcxScope, serviceIdClaimsFor, splitScope, userMayHold } from './scopes.js';

/** The parameters the token endpoint passes for this grant. */
export const JWT_BEARER_PARAMS = Object.freeze(['assertion', 'scope', 'resource']);

/** What the grant handler needs. */
export interface JwtBearerDeps {
  readonly store: KyselyIdmsStore;
  readonly config: IdmsConfig;
  readonly trustedSet: TrustedIdmsSet;
  /** MC service ID claims for access tokens this handler makes (read by extraTokenClaims). */
  readonly tokenClaims: WeakMap<object, McServiceIds>;
}

const B74 = 'TS 33.180 Annex B.7.4';

/** The token endpoint handler of the JWT bearer grant. */
export function jwtBearerHandler(d: JwtBearerDeps): (ctx: TokenEndpointGrantContext) => Promise<void> {
  return async (ctx) => {
    try {
      const { params, client, provider } = ctx.oidc;
      const assertion = params['assertion'];
      if (typeof assertion !== 'string' || assertion.length === 0) {
        throw new FormatError(ErrorCode.BAD_VALUE, { field: 'jwtBearer.assertion', rule: 'is required (the security token of B.7.3)', clause: B74 });
      }
      const requested = splitScope(params.scope);
      if (requested.length === 0) throw new FormatError(ErrorCode.BAD_VALUE, { field: 'jwtBearer.scope', rule: 'is required', clause: B74 });
      const claims = await checkSecurityToken(assertion, { trustedSet: d.trustedSet, clientId: client.clientId, store: d.store, clockToleranceSec: d.config.clockToleranceSec });
      const resourceUri = typeof params.resource === 'string' ? params.resource : d.config.defaultResource;
      const resource = findResource(d.config, resourceUri);
      if (resource === undefined) throw new PolicyError(ErrorCode.NOT_FOUND, { field: 'jwtBearer.resource', rule: 'must be an MC service resource of this IdMS', clause: 'RFC 8707 §2' });
      const granted = requested.filter(
        (s) =>
          isMcxScope(s) &&
          PARTNER_SCOPES.includes(s) &&
          claims.trusted.scopes.includes(s) &&
          resource.scopes.includes(s) &&
          userMayHold(s, claims.mcServiceIds),
      );
      if (granted.length === 0) {
        throw new PolicyError(ErrorCode.FORBIDDEN, { field: 'jwtBearer.scope', rule: 'must hold a B.7.4 scope this IdMS grants to the user for the resource', clause: B74 });
      }
      const scope = granted.join(' ');
      const grant = new provider.Grant({ accountId: claims.sub, clientId: client.clientId });
      grant.addResourceScope(resource.uri, scope);
      const grantId = await grant.save();
      const at = new provider.AccessToken({ accountId: claims.sub, client, grantId, gty: 'jwt-bearer', scope });
      at.resourceServer = new provider.ResourceServer(resource.uri, resourceServerInfo(resource, d.config));
      d.tokenClaims.set(at, serviceIdClaimsFor(granted, claims.mcServiceIds));
      ctx.oidc.entity('AccessToken', at);
      const value = await at.save();
      ctx.body = { access_token: value, token_type: 'Bearer', expires_in: at.expiration, scope };
    } catch (e) {
      throw toOAuthError(e);
    }
  };
}
