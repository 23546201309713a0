/** The IdM client of an MC UE (TS 33.180 §5.1.2, Annex B): login, refresh, token exchange, token store. */
export {
  PASSWORD_ACR,
  discoverIdms,
  exchangeForPartner,
  loginWithPassword,
  partnerAccessToken,
  refreshTokens,
  type Idms,
  type IdmsEndpoint,
  type LoginRequest,
  type SecurityToken,
} from './idm-client.js';
export { completeLoginForm, type ManualFetch } from './login-form.js';
export { readAccessToken, readTokenFile, writeTokenFile, type StoredTokens } from './token-file.js';
