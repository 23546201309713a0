/**
 * How the CLI reports: one line per error with code, field and clause, and a non-zero exit
 * (DEVELOPERS.md conventions). Non-mcsec errors print as ERR_INTERNAL without a stack.
 */
import { McsecError } from '../errors/index.js';

/** Prints an error as one line on stderr and sets a failing exit code. */
export function reportError(err: unknown, json = false): void {
  if (err instanceof McsecError) {
    if (json) process.stdout.write(JSON.stringify({ error: err.toJSON() }) + '\n');
    const clause = err.clause !== undefined ? ` [${err.clause}]` : '';
    process.stderr.write(`mcsec: ${err.code} ${err.field}: ${err.rule}${clause}\n`);
    process.exitCode = err.code === 'ERR_USAGE' ? 2 : 1;
    return;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`mcsec: ERR_INTERNAL ${message}\n`);
  process.exitCode = 1;
}

/** Writes a line to stdout. */
export const printLine = (s: string): void => {
  process.stdout.write(s + '\n');
};
