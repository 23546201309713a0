/** Access token checks for every mcsec server (TS 33.180 §5.1.3, Annex B.2.2). */
export {
  AccessTokenVerifier,
  KeyManagementScope,
  McServiceIdClaim,
  McServiceScope,
  authoriseKeyManagement,
  authoriseService,
  type McService,
  type AccessClaims,
  type AccessTokenVerifierOptions,
  type JwksSource,
} from './access-token.js';
