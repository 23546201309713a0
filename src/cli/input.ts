/** Reading the CLI's inputs: a file path or `-` for standard input; failures are ERR_IO. */
import { readFileSync } from 'node:fs';
import { ConfigError, ErrorCode } from '../errors/index.js';

/** The octets of a file, or of standard input for `-`. */
export function readBytes(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file === '-' ? 0 : file));
  } catch (err) {
    throw new ConfigError(ErrorCode.IO, {
      field: file,
      rule: `cannot be read: ${err instanceof Error ? err.message : String(err)}`,
    });
  }
}

/** The UTF-8 text of a file, or of standard input for `-`. */
export const readText = (file: string): string => new TextDecoder().decode(readBytes(file));
