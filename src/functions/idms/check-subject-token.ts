/**
 * The subject token of a token exchange (TS 33.180 Annex B.7.2: "the access token previously
 * obtained in the token response message"): a JWT access token (RFC 9068, `typ` at+jwt) this
 * IdMS signed, unexpired (B.11, with the configured clock skew), issued to the very client that
 * presents it (`client_id`), for a user who still exists and is not disabled.
 *
 * Every failure is one PolicyError ERR_UNAUTHORIZED with one rule, whatever step failed.
 */
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { ErrorCode, PolicyError } from '../../errors/index.js';
import { SIGNING_ALG } from './signing-keys.js';

/** What the subject token says. */
export interface SubjectClaims {
  readonly sub: string;
  readonly clientId: string;
}

/** How to check. */
export interface SubjectTokenCheck {
  readonly issuer: string;
  readonly jwks: JSONWebKeySet;
  readonly clientId: string;
  readonly clockToleranceSec: number;
  readonly now: () => number;
}

const refused = (): PolicyError =>
  new PolicyError(ErrorCode.UNAUTHORIZED, {
    field: 'tokenExchange.subject_token',
    rule: 'must be an unexpired access token of this IdMS issued to the requesting client',
    clause: 'TS 33.180 Annex B.7.2',
  });

/** Verifies the subject token; see the module header. */
export async function checkSubjectToken(token: string, c: SubjectTokenCheck): Promise<SubjectClaims> {
  let payload: Record<string, unknown>;
  try {
    const r = await jwtVerify(token, createLocalJWKSet(c.jwks), {
      issuer: c.issuer,
      typ: 'at+jwt',
      algorithms: [SIGNING_ALG],
      clockTolerance: c.clockToleranceSec,
      requiredClaims: ['exp', 'iat', 'sub', 'client_id'],
      currentDate: new Date(c.now()),
    });
    payload = r.payload;
  } catch {
    throw refused();
  }
  const sub = payload['sub'];
  if (typeof sub !== 'string' || sub.length === 0 || payload['client_id'] !== c.clientId) throw refused();
  return Object.freeze({ sub, clientId: c.clientId });
}
