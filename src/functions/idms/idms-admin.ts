/**
 * IdMS administration (TS 33.180 §5.1.2.1: "the IdMS shall be provisioned with the user's MC ID
 * and MC service IDs"; Annex B.3: clients are registered with the IdMS, the method being left to
 * the implementation): add or replace users with their password (hashed here, never stored) and
 * MC service IDs, and register native clients with their redirect URIs.
 */
import { ConfigError, ErrorCode } from '../../errors/index.js';
import type { IdmsClient, IdmsUser, KyselyIdmsStore, McServiceIds } from '../../store/index.js';
import { JWT_BEARER_GRANT, TOKEN_EXCHANGE_GRANT } from './grant-types.js';
import { hashPassword, type ScryptParams } from './password.js';

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Adds a user, or with `replace` sets its password and MC service IDs anew (its sub stays). */
export async function addUser(
  store: KyselyIdmsStore,
  u: { readonly username: string; readonly password: string; readonly mcServiceIds: McServiceIds; readonly disabled?: boolean; readonly replace?: boolean; readonly scrypt?: ScryptParams },
): Promise<{ readonly added: boolean; readonly user: IdmsUser }> {
  if (Object.values(u.mcServiceIds).every((v) => v === undefined)) {
    throw new ConfigError(ErrorCode.USAGE, { field: '--mcptt-id', rule: 'at least one MC service ID is required (MCPTT, MCVideo, MCData or MCRec)', clause: 'TS 33.180 Table 5.1.2.1-1' });
  }
  const passwordHash = await hashPassword(u.password, u.scrypt === undefined ? {} : { params: u.scrypt });
  return store.putUser({ username: u.username, passwordHash, mcServiceIds: u.mcServiceIds, disabled: u.disabled }, { replace: u.replace });
}

/** The grant types a client may be registered with. */
export const CLIENT_GRANT_TYPES = Object.freeze(['authorization_code', 'refresh_token', TOKEN_EXCHANGE_GRANT, JWT_BEARER_GRANT]);

/** Registers a native MCX client (B.3: its client_id and redirect URIs). */
export async function addClient(
  store: KyselyIdmsStore,
  c: { readonly clientId: string; readonly redirectUris: readonly string[]; readonly grantTypes?: readonly string[]; readonly name?: string; readonly secret?: string; readonly replace?: boolean },
): Promise<{ readonly added: boolean; readonly client: IdmsClient }> {
  if (!/^[\x21-\x7e]{1,200}$/.test(c.clientId)) throw new ConfigError(ErrorCode.USAGE, { field: 'client_id', rule: 'must be 1 to 200 visible ASCII characters' });
  if (c.redirectUris.length === 0) throw new ConfigError(ErrorCode.USAGE, { field: '--redirect-uri', rule: 'at least one is required', clause: 'TS 33.180 Annex B.3' });
  for (const r of c.redirectUris) {
    let u: URL;
    try {
      u = new URL(r);
    } catch {
      throw new ConfigError(ErrorCode.USAGE, { field: '--redirect-uri', rule: `must be an absolute URI (${r})` });
    }
    if (u.hash !== '') throw new ConfigError(ErrorCode.USAGE, { field: '--redirect-uri', rule: 'must not have a fragment (RFC 6749 §3.1.2)' });
    if (u.protocol === 'http:' && !LOOPBACK.has(u.hostname)) {
      throw new ConfigError(ErrorCode.USAGE, { field: '--redirect-uri', rule: 'http is only for loopback addresses (RFC 8252 §7.3); use a private-use scheme or https otherwise' });
    }
  }
  const grantTypes = c.grantTypes ?? CLIENT_GRANT_TYPES;
  for (const g of grantTypes) {
    if (!CLIENT_GRANT_TYPES.includes(g)) throw new ConfigError(ErrorCode.USAGE, { field: '--grant-type', rule: `must be one of ${CLIENT_GRANT_TYPES.join(', ')}` });
  }
  const metadata: Record<string, unknown> = {
    application_type: 'native',
    redirect_uris: [...c.redirectUris],
    grant_types: [...grantTypes],
    response_types: grantTypes.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method: c.secret === undefined ? 'none' : 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
    ...(c.name === undefined ? {} : { client_name: c.name }),
  };
  return store.putClient({ clientId: c.clientId, metadata, secret: c.secret }, { replace: c.replace });
}
