/**
 * The error family of STYLE.md §4: McsecError carries code, field, rule and clause; its message
 * names the field and rule (never a value); toJSON gives the plain object the CLI prints. The code
 * registry (src/errors/codes.ts) and docs/errors.md list the same codes, each with its class.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ConfigError,
  CryptoError,
  ErrorCode,
  FormatError,
  McsecError,
  PolicyError,
  allErrorCodes,
} from '../../src/errors/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Rows of the table in docs/errors.md: code and class column. */
function documentedCodes(): Map<string, string> {
  const text = readFileSync(join(root, 'docs', 'errors.md'), 'utf8');
  const rows = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\|\s*`(ERR_[A-Z0-9_]+)`\s*\|\s*([^|]+?)\s*\|/.exec(line);
    if (m === null) continue;
    const [, code, cls] = m;
    if (code === undefined || cls === undefined) continue;
    assert.ok(!rows.has(code), `docs/errors.md lists ${code} twice`);
    rows.set(code, cls);
  }
  return rows;
}

test('McsecError carries code, field, rule and clause; the message names field and rule', () => {
  const err = new FormatError(ErrorCode.TRUNCATED, {
    field: 'mikey.hdr.csbId',
    rule: 'must be 4 octets',
    clause: 'RFC 3830 §6.1',
  });
  assert.ok(err instanceof Error);
  assert.ok(err instanceof McsecError);
  assert.ok(err instanceof FormatError);
  assert.equal(err.name, 'FormatError');
  assert.equal(err.code, 'ERR_TRUNCATED');
  assert.equal(err.field, 'mikey.hdr.csbId');
  assert.equal(err.rule, 'must be 4 octets');
  assert.equal(err.clause, 'RFC 3830 §6.1');
  assert.equal(err.message, 'mikey.hdr.csbId must be 4 octets (RFC 3830 §6.1)');
  assert.equal(typeof err.stack, 'string');
});

test('without a clause the message has no parentheses and clause is undefined', () => {
  const err = new ConfigError(ErrorCode.USAGE, {
    field: '--period',
    rule: 'must be a non-negative integer',
  });
  assert.equal(err.clause, undefined);
  assert.equal(err.message, '--period must be a non-negative integer');
});

test('each subclass names itself and stays an McsecError', () => {
  const site = { field: 'f', rule: 'r' };
  const cases: [McsecError, string][] = [
    [new McsecError(ErrorCode.IO, site), 'McsecError'],
    [new FormatError(ErrorCode.BAD_VALUE, site), 'FormatError'],
    [new CryptoError(ErrorCode.SIGNATURE, site), 'CryptoError'],
    [new PolicyError(ErrorCode.REPLAY, site), 'PolicyError'],
    [new ConfigError(ErrorCode.CONFIG, site), 'ConfigError'],
  ];
  for (const [err, name] of cases) {
    assert.equal(err.name, name);
    assert.ok(err instanceof McsecError, name);
    assert.equal(String(err), `${name}: f r`);
  }
  assert.ok(!(new CryptoError(ErrorCode.DECRYPT, site) instanceof FormatError));
});

test('toJSON gives code, field, rule, message and the clause only when there is one', () => {
  const withClause = new CryptoError(ErrorCode.DECRYPT, {
    field: 'sakke.encapsulatedData',
    rule: 'does not decapsulate',
    clause: 'RFC 6508 §6.2.2',
  });
  assert.deepEqual(withClause.toJSON(), {
    code: 'ERR_DECRYPT',
    field: 'sakke.encapsulatedData',
    rule: 'does not decapsulate',
    clause: 'RFC 6508 §6.2.2',
    message: 'sakke.encapsulatedData does not decapsulate (RFC 6508 §6.2.2)',
  });
  const without = new PolicyError(ErrorCode.EXPIRED, { field: 'token.exp', rule: 'has passed' });
  const json = without.toJSON();
  assert.deepEqual(json, {
    code: 'ERR_EXPIRED',
    field: 'token.exp',
    rule: 'has passed',
    message: 'token.exp has passed',
  });
  assert.ok(!('clause' in json), 'no clause key at all, not clause: undefined');
  // JSON.stringify uses toJSON.
  assert.deepEqual(JSON.parse(JSON.stringify(without)), json);
});

test('the registry: ErrorCode is frozen, allErrorCodes is exactly its values, all distinct', () => {
  assert.ok(Object.isFrozen(ErrorCode));
  assert.ok(Object.isFrozen(allErrorCodes));
  assert.deepEqual([...allErrorCodes].sort(), Object.values(ErrorCode).sort());
  assert.equal(new Set(allErrorCodes).size, allErrorCodes.length);
  for (const [name, code] of Object.entries(ErrorCode)) {
    assert.equal(code, `ERR_${name}`, `ErrorCode.${name}`);
  }
});

test('every registered code is documented in docs/errors.md', () => {
  const docs = documentedCodes();
  const missing = allErrorCodes.filter((c) => !docs.has(c));
  assert.deepEqual(missing, [], `undocumented error codes: ${missing.join(', ')}`);
});

test('docs/errors.md lists no code that is not in the registry', () => {
  const registered = new Set<string>(allErrorCodes);
  const extra = [...documentedCodes().keys()].filter((c) => !registered.has(c));
  assert.deepEqual(extra, [], `documented but not registered: ${extra.join(', ')}`);
});

test('docs/errors.md names an existing error class for every code', () => {
  const classes = new Set([
    'McsecError',
    'FormatError',
    'CryptoError',
    'PolicyError',
    'ConfigError',
  ]);
  for (const [code, cls] of documentedCodes()) {
    for (const part of cls.split('/').map((s) => s.trim())) {
      assert.ok(classes.has(part), `${code}: unknown class ${part}`);
    }
  }
});

/** Every .ts file under a directory. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

test(
  'every ERR_ code written in src/ is registered (and so documented)',
  () => {
    const registered = new Set<string>(allErrorCodes);
    const unknown = new Set<string>();
    for (const file of sources(join(root, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/'(ERR_[A-Z0-9_]+)'/g)) {
        const code = m[1];
        if (code !== undefined && !registered.has(code)) unknown.add(code);
      }
      for (const m of readFileSync(file, 'utf8').matchAll(/\bmcsec: (ERR_[A-Z0-9_]+)/g)) {
        const code = m[1];
        if (code !== undefined && !registered.has(code)) unknown.add(code);
      }
    }
    assert.deepEqual(
      [...unknown],
      [],
      `codes used in src/ but not registered: ${[...unknown].join(', ')}`,
    );
  },
);
