/** Byte and text helpers shared by every layer. */
export {
  toHex,
  fromHex,
  utf8,
  fromUtf8,
  concatBytes,
  equalBytes,
  bytesToBigInt,
  bigIntToBytes,
  u32be,
  toBase64Url,
  toBase64,
  fromBase64Canonical,
  latin1,
} from './bytes.js';
