/** The grant and token type URNs of the IdMS's extension grants (TS 33.180 Annex B.7). */

/** RFC 8693 §2.1 token exchange grant (B.7.2 grant_type). */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** RFC 8693 §3 token type of a JWT (B.7.2 subject_token_type, B.7.3 issued_token_type). */
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
/** RFC 7523 §2.1 JWT bearer grant (B.7.4 grant_type). */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
