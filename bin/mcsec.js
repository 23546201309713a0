#!/usr/bin/env node
// The `mcsec` command. Runs the compiled CLI (dist/, made by `npm install` through `prepare`);
// in a source checkout without dist/ it falls back to the TypeScript sources through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

// MCSEC_FROM_SOURCE=1 runs the sources even when dist/ exists (the test runner sets it when dist/
// is older than the sources, so tests never exercise a stale build).
const built = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (process.env.MCSEC_FROM_SOURCE !== '1' && existsSync(built)) {
  await import(pathToFileURL(built).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
