/** mcsec errors: the code registry and the error classes (STYLE.md §4). */
export { ErrorCode, allErrorCodes } from './codes.js';
export {
  McsecError,
  FormatError,
  CryptoError,
  PolicyError,
  ConfigError,
  type ErrorSite,
} from './mcsec-error.js';
