/** The IdMS (TS 33.180 §5.1.2, Annex B): OpenID Connect provider, login, token exchange, administration. */
export { DEFAULT_TTL, MAX_CLOCK_TOLERANCE_SEC, decodeIdmsConfig, type IdmsConfig, type IdmsPartner, type IdmsResource, type IdmsTrusted, type IdmsTtl } from './config.js';
export { startIdmsServer, type IdmsServerOptions, type RunningIdms } from './idms-server.js';
export { CLIENT_GRANT_TYPES, addClient, addUser } from './idms-admin.js';
export { DEFAULT_SCRYPT, hashPassword, verifyPassword, type ScryptParams } from './password.js';
export { MCX_SCOPES, McxScope, PARTNER_SCOPES, PASSWORD_ACR, SCOPE_CLAIMS, serviceIdClaimsFor, userMayHold } from './scopes.js';
export { JWT_BEARER_GRANT, JWT_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from './grant-types.js';
export { NATIVE_CLIENT_DEFAULTS } from './client-defaults.js';
export { SIGNING_ALG } from './signing-keys.js';
