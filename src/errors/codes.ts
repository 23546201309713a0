/**
 * The closed set of mcsec error codes (STYLE.md §4). Every code is documented in docs/errors.md;
 * a test fails when one is missing there.
 */
export const ErrorCode = Object.freeze({
  TRUNCATED: 'ERR_TRUNCATED',
  TRAILING_BYTES: 'ERR_TRAILING_BYTES',
  TOO_LARGE: 'ERR_TOO_LARGE',
  BAD_VALUE: 'ERR_BAD_VALUE',
  BAD_LENGTH: 'ERR_BAD_LENGTH',
  NOT_ON_CURVE: 'ERR_NOT_ON_CURVE',
  NOT_IN_SUBGROUP: 'ERR_NOT_IN_SUBGROUP',
  BAD_SCALAR: 'ERR_BAD_SCALAR',
  UNSUPPORTED: 'ERR_UNSUPPORTED',
  SIGNATURE: 'ERR_SIGNATURE',
  DECRYPT: 'ERR_DECRYPT',
  INVALID_KEY: 'ERR_INVALID_KEY',
  REPLAY: 'ERR_REPLAY',
  EXPIRED: 'ERR_EXPIRED',
  UNKNOWN_KEY: 'ERR_UNKNOWN_KEY',
  UNAUTHORIZED: 'ERR_UNAUTHORIZED',
  FORBIDDEN: 'ERR_FORBIDDEN',
  NOT_FOUND: 'ERR_NOT_FOUND',
  CONFIG: 'ERR_CONFIG',
  USAGE: 'ERR_USAGE',
  IO: 'ERR_IO',
  INTERNAL: 'ERR_INTERNAL',
} as const);

/** One of the documented error codes. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Every code, for the documentation check. */
export const allErrorCodes: readonly ErrorCode[] = Object.freeze(Object.values(ErrorCode));
