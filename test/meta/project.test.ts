/**
 * The project's own bookkeeping: every test file is listed in scripts/test-files.mjs (Node 20's
 * runner does not discover .ts files, so an unlisted file would silently never run), every listed
 * file exists, and package.json keeps the scripts and bin the README and STYLE.md promise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** Written by another engineer; may land after this test does. */
const PENDING = new Set(['test/interop/wolfssl.test.ts']);

/** The list exported by scripts/test-files.mjs, checked to be an array of strings. */
async function listedFiles(): Promise<string[]> {
  const mod: unknown = await import(pathToFileURL(join(root, 'scripts', 'test-files.mjs')).href);
  assert.ok(typeof mod === 'object' && mod !== null);
  const list: unknown = Reflect.get(mod, 'testFiles');
  assert.ok(Array.isArray(list), 'scripts/test-files.mjs must export testFiles as an array');
  return list.map((f: unknown, i) => {
    assert.equal(typeof f, 'string', `testFiles[${i}] must be a string`);
    return String(f);
  });
}

/** Every *.test.ts under a directory, as repository-relative paths with forward slashes. */
function testFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...testFilesUnder(path));
    else if (name.endsWith('.test.ts')) out.push(relative(root, path).split(sep).join('/'));
  }
  return out;
}

test('every test file under test/ is listed in scripts/test-files.mjs', async () => {
  const listed = new Set(await listedFiles());
  const missing = testFilesUnder(join(root, 'test')).filter((f) => !listed.has(f));
  assert.deepEqual(
    missing,
    [],
    `not listed in scripts/test-files.mjs (they would never run): ${missing.join(', ')}`,
  );
});

test('every file listed in scripts/test-files.mjs exists, once', async (t) => {
  const listed = await listedFiles();
  assert.equal(new Set(listed).size, listed.length, 'a file is listed twice');
  const absent: string[] = [];
  for (const f of listed) {
    assert.match(f, /^test\/.+\.test\.ts$/, `${f} is not a test/**/*.test.ts path`);
    if (existsSync(join(root, f))) continue;
    if (PENDING.has(f)) {
      await t.test(
        `${f} exists`,
        {
          skip: `${f} is listed but not written yet (another engineer writes it); not counted as missing`,
        },
        () => {},
      );
      continue;
    }
    absent.push(f);
  }
  assert.deepEqual(absent, [], `listed but missing: ${absent.join(', ')}`);
});

test('package.json: ESM, Node >= 20, scripts start/test/bench, bin mcsec that exists', () => {
  const pkg: unknown = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  assert.ok(typeof pkg === 'object' && pkg !== null && !Array.isArray(pkg));
  assert.equal(Reflect.get(pkg, 'type'), 'module');
  const engines: unknown = Reflect.get(pkg, 'engines');
  assert.ok(typeof engines === 'object' && engines !== null);
  assert.equal(Reflect.get(engines, 'node'), '>=20');
  const scripts: unknown = Reflect.get(pkg, 'scripts');
  assert.ok(typeof scripts === 'object' && scripts !== null, 'package.json has scripts');
  for (const name of ['start', 'test', 'bench']) {
    const s: unknown = Reflect.get(scripts, name);
    assert.ok(typeof s === 'string' && s.length > 0, `scripts.${name}`);
  }
  const testScript: unknown = Reflect.get(scripts, 'test');
  assert.ok(
    typeof testScript === 'string' && testScript.includes('scripts/run-tests.mjs'),
    'npm test runs scripts/run-tests.mjs',
  );
  const bin: unknown = Reflect.get(pkg, 'bin');
  assert.ok(typeof bin === 'object' && bin !== null, 'package.json has bin');
  const mcsec: unknown = Reflect.get(bin, 'mcsec');
  assert.ok(typeof mcsec === 'string', 'bin.mcsec');
  assert.ok(existsSync(join(root, mcsec)), `bin.mcsec (${mcsec}) exists`);
});
