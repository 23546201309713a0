/**
 * The rules of a token exchange request at the primary IdMS (TS 33.180 Annex B.7.2, RFC 8693
 * §2.1): `subject_token` present, `subject_token_type` the JWT token type, `resource` one partner
 * IdMS this IdMS is configured to issue security tokens for (a security token is specific to one
 * partner, §5.1.4.2 NOTE), `audience` and `requested_token_type` consistent when given.
 */
import { ErrorCode, FormatError, PolicyError } from '../../errors/index.js';
import type { IdmsPartner } from './config.js';
import { JWT_TOKEN_TYPE } from './grant-types.js';


const B72 = 'TS 33.180 Annex B.7.2';

/** The parameters the token endpoint passes for this grant. */
export const TOKEN_EXCHANGE_PARAMS = Object.freeze(['resource', 'audience', 'subject_token', 'subject_token_type', 'requested_token_type', 'scope']);

const one = (v: unknown, field: string): string | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'must be one non-empty value', clause: B72 });
  return v;
};

/** A checked token exchange request. */
export interface TokenExchangeRequest {
  readonly subjectToken: string;
  readonly partner: IdmsPartner;
}

/** Checks the request parameters; FormatError for a malformed one, PolicyError for a refused one. */
export function checkTokenExchangeRequest(params: Readonly<Record<string, unknown>>, partners: readonly IdmsPartner[]): TokenExchangeRequest {
  const subjectToken = one(params['subject_token'], 'tokenExchange.subject_token');
  if (subjectToken === undefined) throw new FormatError(ErrorCode.BAD_VALUE, { field: 'tokenExchange.subject_token', rule: 'is required (the access token of B.4.2.5)', clause: B72 });
  const type = one(params['subject_token_type'], 'tokenExchange.subject_token_type');
  if (type !== JWT_TOKEN_TYPE) throw new FormatError(ErrorCode.BAD_VALUE, { field: 'tokenExchange.subject_token_type', rule: `must be ${JWT_TOKEN_TYPE}`, clause: B72 });
  const requested = one(params['requested_token_type'], 'tokenExchange.requested_token_type');
  if (requested !== undefined && requested !== JWT_TOKEN_TYPE) {
    throw new FormatError(ErrorCode.UNSUPPORTED, { field: 'tokenExchange.requested_token_type', rule: `must be ${JWT_TOKEN_TYPE} when given`, clause: 'TS 33.180 Annex B.7.3' });
  }
  const resource = one(params['resource'], 'tokenExchange.resource');
  if (resource === undefined) throw new PolicyError(ErrorCode.BAD_VALUE, { field: 'tokenExchange.resource', rule: 'is required: the partner IdMS the security token is for', clause: B72 });
  const audience = one(params['audience'], 'tokenExchange.audience');
  if (audience !== undefined && audience !== resource) {
    throw new PolicyError(ErrorCode.BAD_VALUE, { field: 'tokenExchange.audience', rule: 'must equal resource when given (one partner IdMS per security token)', clause: 'TS 33.180 §5.1.4.2' });
  }
  const partner = partners.find((p) => p.resource === resource);
  if (partner === undefined) throw new PolicyError(ErrorCode.FORBIDDEN, { field: 'tokenExchange.resource', rule: 'must be a partner IdMS this IdMS is configured for', clause: B72 });
  return Object.freeze({ subjectToken, partner });
}
