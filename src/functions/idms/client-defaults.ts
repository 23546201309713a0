/**
 * The metadata a registered MCX client gets unless it says otherwise (TS 33.180 Annex B.3, B.4.2:
 * native clients, authorization code with PKCE, no client secret), with the grants of B.5 and B.7.
 */
import type { AllClientMetadata } from 'oidc-provider';
import { JWT_BEARER_GRANT, TOKEN_EXCHANGE_GRANT } from './grant-types.js';
import { SIGNING_ALG } from './signing-keys.js';

/** Defaults for registered clients: MCX native clients (B.3, B.4.2). */
const nativeDefaults: AllClientMetadata = {
  application_type: 'native',
  grant_types: ['authorization_code', 'refresh_token', TOKEN_EXCHANGE_GRANT, JWT_BEARER_GRANT],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
  id_token_signed_response_alg: SIGNING_ALG,
};
export const NATIVE_CLIENT_DEFAULTS: Readonly<AllClientMetadata> = Object.freeze(nativeDefaults);
