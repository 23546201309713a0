/**
 * How the CLI reports: one line per error with code, field and clause, and a non-zero exit
 * (exit 2 for usage errors). Non-mcsec errors print as ERR_INTERNAL without a stack.
 */
import { McsecError } from '../errors/index.js';

/** Prints an error as one line on stderr and sets a failing exit code. */
export function reportError(err: unknown): void {
  if (err instanceof McsecError) {
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
