/**
 * The one place where mcsec errors become wire answers (STYLE.md §4, oidc-provider's err_out):
 * FormatError → 400; PolicyError ERR_UNAUTHORIZED → 401, ERR_NOT_FOUND → 404, other policy and
 * crypto refusals → 403; anything else → 500 with no detail. The text names the code, field and
 * rule (never a value); for a 500 it says only that the failure is internal.
 */
import { ConfigError, CryptoError, ErrorCode, FormatError, McsecError, PolicyError } from '../errors/index.js';

export interface WireError {
  readonly status: 400 | 401 | 403 | 404 | 500;
  readonly code: string;
  readonly message: string;
}

export function toWireError(e: unknown): WireError {
  if (e instanceof FormatError) return { status: 400, code: e.code, message: e.message };
  if (e instanceof PolicyError) {
    if (e.code === ErrorCode.UNAUTHORIZED) return { status: 401, code: e.code, message: e.message };
    if (e.code === ErrorCode.NOT_FOUND) return { status: 404, code: e.code, message: e.message };
    return { status: 403, code: e.code, message: e.message };
  }
  if (e instanceof CryptoError) return { status: 403, code: e.code, message: e.message };
  if (e instanceof McsecError && !(e instanceof ConfigError) && e.code !== ErrorCode.INTERNAL && e.code !== ErrorCode.CONFIG) {
    return { status: 400, code: e.code, message: e.message };
  }
  return { status: 500, code: ErrorCode.INTERNAL, message: 'internal error' };
}
