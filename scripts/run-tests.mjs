#!/usr/bin/env node
// Runs the test files listed below with Node's test runner (through tsx), printing the spec
// report, and fails when no test ran. Node 20 does not discover .ts files, so every test file is
// listed in test-files.mjs; test/meta/project.test.ts fails on a forgotten one.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { testFiles } from './test-files.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Newest modification time of the files under `dir`, in ms (0 when it does not exist). */
function newest(dir) {
  let t = 0;
  let entries = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}
// CLI tests spawn `bin/mcsec.js`: the compiled dist/ when it is newer than every source (npm test
// builds it first; starting it is several times faster than compiling through tsx), else the
// sources, so a test never runs a stale build.
let built = 0;
try {
  built = statSync(join(root, 'dist', 'cli', 'main.js')).mtimeMs;
} catch {
  built = 0;
}
const fromSource = built === 0 || newest(join(root, 'src')) > built ? '1' : '0';
const only = process.argv.slice(2);
const files = only.length > 0 ? only : testFiles;
mkdirSync(join(root, 'build'), { recursive: true });
const tap = join(root, 'build', `test-report-${process.pid}.tap`);
const r = spawnSync(
  process.execPath,
  [
    '--import', 'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`,
    ...files,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, MCSEC_FROM_SOURCE: process.env.MCSEC_FROM_SOURCE ?? fromSource } },
);
let tests = 0;
try {
  const m = /^# tests (\d+)$/m.exec(readFileSync(tap, 'utf8'));
  tests = m ? Number(m[1]) : 0;
} catch {
  tests = 0;
}
rmSync(tap, { force: true });
if (r.status === 0 && tests === 0) {
  console.error('run-tests: no test ran; that is a failure');
  process.exit(1);
}
process.exit(r.status ?? 1);
