/**
 * What the IdMS grants a logged-in user (TS 33.180 §5.1.2.1, Annex B.4.2.2): of the scopes the
 * authentication request names, `openid` and `offline_access`, and each MCX scope the user has
 * the MC service ID for (scopes.ts); for the requested resource server (the access token
 * audience), those of its scopes. Everything else requested is recorded as rejected, so that
 * oidc-provider does not ask again. MCX clients are registered by the operator (B.3), so no
 * consent page is shown: the policy is the consent.
 */
import type { Grant, Provider } from 'oidc-provider';
import type { IdmsUser } from '../../store/index.js';
import type { IdmsConfig } from './config.js';
import { findResource } from './resource-servers.js';
import { isMcxScope, splitScope, userMayHold } from './scopes.js';

/** The resource indicators of an authorisation request (RFC 8707), or the default one. */
export function requestedResources(params: Readonly<Record<string, unknown>>, config: IdmsConfig): string[] {
  const r = params['resource'];
  if (typeof r === 'string' && r.length > 0) return [r];
  if (Array.isArray(r)) return r.filter((x): x is string => typeof x === 'string');
  return [config.defaultResource];
}

/** Adds to `grant` (new or existing) what the policy allows for this request; returns its id. */
export async function applyGrantPolicy(
  provider: Provider,
  o: { readonly grantId: string | undefined; readonly clientId: string; readonly user: IdmsUser; readonly params: Readonly<Record<string, unknown>>; readonly config: IdmsConfig },
): Promise<string> {
  let grant: Grant | undefined = o.grantId === undefined ? undefined : await provider.Grant.find(o.grantId);
  grant ??= new provider.Grant({ accountId: o.user.sub, clientId: o.clientId });
  const requested = splitScope(o.params['scope']);
  const ids = o.user.mcServiceIds;
  const oidc = requested.filter((s) => s === 'openid' || s === 'offline_access' || isMcxScope(s));
  grant.addOIDCScope(oidc.filter((s) => userMayHold(s, ids)));
  const refusedOidc = oidc.filter((s) => !userMayHold(s, ids));
  if (refusedOidc.length > 0) grant.rejectOIDCScope(refusedOidc);
  for (const uri of requestedResources(o.params, o.config)) {
    const resource = findResource(o.config, uri);
    if (resource === undefined) continue;
    const served = requested.filter((s) => isMcxScope(s) && resource.scopes.includes(s));
    const allowed = served.filter((s) => userMayHold(s, ids));
    if (allowed.length > 0) grant.addResourceScope(uri, allowed.join(' '));
    const refused = served.filter((s) => !userMayHold(s, ids));
    if (refused.length > 0) grant.rejectResourceScope(uri, refused.join(' '));
  }
  return grant.save();
}
