// The `mcsec` CLI as the CLI tests run it: `node bin/mcsec.js <args>` from the repository root
// (bin/mcsec.js picks dist/ or the sources, see scripts/run-tests.mjs), with no storage key in the
// environment unless a test gives one, stdout and stderr collected.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** A finished run. */
export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `mcsec <args>` to completion, with `stdin` (default empty) as its standard input. */
export function mcsec(
  args: readonly string[],
  o: { readonly env?: NodeJS.ProcessEnv; readonly stdin?: string } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/mcsec.js', ...args], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, MCSEC_STORAGE_KEY: '', ...o.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(o.stdin ?? '');
  });
}

/** The one JSON object a successful run printed (a failed run fails the test with its stderr). */
export function json(r: Run): Record<string, unknown> {
  assert.equal(r.code, 0, r.stderr);
  const v: unknown = JSON.parse(r.stdout);
  assert.ok(typeof v === 'object' && v !== null && !Array.isArray(v), `not one JSON object: ${r.stdout}`);
  return Object.fromEntries(Object.entries(v));
}
