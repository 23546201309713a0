/**
 * The one place where the IdMS's own checks become OAuth 2.0 token endpoint errors (RFC 6749
 * §5.2, RFC 8693 §2.2.2, RFC 7523 §3.1), as oidc-provider's err_out does for its own: the check
 * modules throw McsecErrors naming a field, and
 *
 *   a FormatError (a parameter malformed)  → invalid_request, with the rule as description
 *   field `….resource` / `….audience`      → invalid_target (RFC 8707)
 *   field `….scope`                        → invalid_scope
 *   a PolicyError or CryptoError           → invalid_grant, with one fixed description, so that
 *                                            a refused token never tells which check failed
 *   anything else                          → rethrown (oidc-provider answers server_error)
 */
import { errors } from 'oidc-provider';
import { CryptoError, FormatError, McsecError, PolicyError } from '../../errors/index.js';

/** The OAuth error for an McsecError of the token endpoint checks. */
export function toOAuthError(e: unknown): Error {
  if (!(e instanceof McsecError)) return e instanceof Error ? e : new Error(String(e));
  if (e instanceof FormatError) return new errors.InvalidRequest(`${e.field} ${e.rule}`);
  if (/\.(resource|audience)$/.test(e.field)) return new errors.InvalidTarget(e.rule);
  if (/\.scope$/.test(e.field)) return new errors.CustomOIDCProviderError('invalid_scope', e.rule);
  if (e instanceof PolicyError || e instanceof CryptoError) return new errors.InvalidGrant({ cause: e });
  return e;
}
