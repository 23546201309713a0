/**
 * The `mcsec` command run as a user runs it: `node bin/mcsec.js ...` from the repository root
 * (bin/ falls back to the TypeScript sources through tsx when dist/ is absent). Checks stdout,
 * the one-line stderr format `mcsec: <code> <field>: <rule> [<clause>]` and exit codes
 * (0 ok, 1 error, 2 usage), per docs/errors.md.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  deriveUid,
  extractRsk,
  generateEccsiKmsKey,
  generateEccsiPair,
  generateSakkeKmsKey,
  type UidInput,
} from '../../src/crypto/index.js';
import { toHex } from '../../src/util/index.js';
import { onlyCase } from '../fixtures/vectors.js';
import { mcsec as runMcsec, repoRoot as root, type Run } from '../helpers/cli.js';

const example = onlyCase('ts33180/f-2-1-2.json');
const EXAMPLE_UID = example.str('uid');

/** Runs `mcsec ...args` (test/helpers/cli.ts), feeding stdin. */
const mcsec = (args: readonly string[], stdin?: string): Promise<Run> => runMcsec(args, { stdin });

/** The lines of an output, without the final newline (which must be there). */
function lines(out: string): string[] {
  assert.ok(out.endsWith('\n'), `output does not end with a newline: ${JSON.stringify(out)}`);
  return out.slice(0, -1).split('\n');
}

/** Asserts a single-line mcsec error on stderr with this code (and field, when given). */
function oneErrorLine(r: Run, code: string, field?: string): string {
  const ls = lines(r.stderr);
  assert.equal(ls.length, 1, `stderr should be one line: ${r.stderr}`);
  const line = ls[0] ?? '';
  const prefix = field === undefined ? `mcsec: ${code} ` : `mcsec: ${code} ${field}: `;
  assert.ok(
    line.startsWith(prefix),
    `stderr ${JSON.stringify(line)} should start with ${JSON.stringify(prefix)}`,
  );
  return line;
}

const uidArgs = [
  'uid',
  '--uri',
  'sip:user@example.org',
  '--kms-uri',
  'kms.example.org',
  '--period',
  '2592000',
  '--offset',
  '0',
];

describe('mcsec uid', { concurrency: 4 }, () => {
  it('--period-no 1388 prints the §F.2.1.2 UID as 64 lowercase hex digits and a newline', async () => {
    const r = await mcsec([...uidArgs, '--period-no', '1388']);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    assert.equal(r.stdout, EXAMPLE_UID + '\n');
    assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
  });

  it('--time 2014-01-26T10:07:14Z gives the same UID', async () => {
    const r = await mcsec([...uidArgs, '--time', '2014-01-26T10:07:14Z']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, EXAMPLE_UID + '\n');
  });

  it('neither --period-no nor --time: exit 2, one ERR_USAGE line', async () => {
    const r = await mcsec(uidArgs);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    oneErrorLine(r, 'ERR_USAGE', '--period-no');
  });

  it('both --period-no and --time: exit 2, one ERR_USAGE line', async () => {
    const r = await mcsec([...uidArgs, '--period-no', '1388', '--time', '2014-01-26T10:07:14Z']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    oneErrorLine(r, 'ERR_USAGE', '--period-no');
  });

  it('a missing required option or a bad number is ERR_USAGE with exit 2', async () => {
    const missing = await mcsec([
      'uid',
      '--kms-uri',
      'k',
      '--period',
      '1',
      '--offset',
      '0',
      '--period-no',
      '1',
    ]);
    assert.equal(missing.code, 2);
    oneErrorLine(missing, 'ERR_USAGE');
    const bad = await mcsec([...uidArgs.slice(0, -2), '--offset', '-1', '--period-no', '1']);
    assert.equal(bad.code, 2);
    oneErrorLine(bad, 'ERR_USAGE', '--offset');
    const time = await mcsec([...uidArgs, '--time', 'not a time']);
    assert.equal(time.code, 2);
    oneErrorLine(time, 'ERR_USAGE', '--time');
  });

  it('a UID rule broken (offset >= period) is the library error with exit 1', async () => {
    const r = await mcsec([
      'uid',
      '--uri',
      'u',
      '--kms-uri',
      'k',
      '--period',
      '10',
      '--offset',
      '10',
      '--period-no',
      '1',
    ]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    const line = oneErrorLine(r, 'ERR_BAD_VALUE', 'uid.userKeyOffset');
    assert.match(line, /\[TS 33\.180 §F\.2\.1\]$/);
  });
});

describe('mcsec keys check', { concurrency: 4 }, () => {
  let dir = '';
  const user: UidInput = {
    uri: 'sip:alice@example.org',
    kmsUri: 'kms.example.org',
    userKeyPeriod: 2592000,
    userKeyOffset: 0,
    keyPeriodNo: 1545,
  };
  const uid = deriveUid(user);
  const files = {
    valid: '',
    otherRsk: '',
    badSsk: '',
    absent: '',
    sskOnly: '',
    byUid: '',
    malformed: '',
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mcsec-cli-'));
    const sakke = generateSakkeKmsKey();
    const eccsi = generateEccsiKmsKey();
    const rsk = extractRsk(sakke.z, uid);
    const pair = generateEccsiPair(eccsi, uid);
    const otherRsk = extractRsk(sakke.z, deriveUid({ ...user, uri: 'sip:bob@example.org' }));
    const kms = { pubEncKey: toHex(sakke.zT), pubAuthKey: toHex(eccsi.kpak).toUpperCase() };
    const base = { kms, user: { ...user } };
    const badSsk = pair.ssk.slice();
    badSsk[31] = (badSsk[31] as number) ^ 1;
    const write = (name: string, content: unknown): string => {
      const path = join(dir, `${name}.json`);
      writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
      return path;
    };
    const keys = {
      userDecryptKey: toHex(rsk),
      userSigningKeySSK: toHex(pair.ssk),
      userPubTokenPVT: toHex(pair.pvt),
    };
    files.valid = write('valid', { ...base, ...keys });
    files.otherRsk = write('other-rsk', { ...base, ...keys, userDecryptKey: toHex(otherRsk) });
    files.badSsk = write('bad-ssk', { ...base, ...keys, userSigningKeySSK: toHex(badSsk) });
    files.absent = write('absent', base);
    files.sskOnly = write('ssk-only', { ...base, userSigningKeySSK: toHex(pair.ssk) });
    files.byUid = write('by-uid', { kms, user: { uid: toHex(uid) }, ...keys });
    files.malformed = write('malformed', '{"kms": {');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const result = (r: Run): Record<string, unknown> => {
    const ls = lines(r.stdout);
    assert.equal(ls.length, 1, 'one JSON line');
    const parsed: unknown = JSON.parse(ls[0] ?? '');
    assert.ok(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed));
    return Object.fromEntries(Object.entries(parsed));
  };

  it('valid RSK and SSK/PVT: {"uid","rsk":"valid","signingPair":"valid"}, exit 0', async () => {
    const r = await mcsec(['keys', 'check', files.valid]);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    assert.deepEqual(result(r), { uid: toHex(uid), rsk: 'valid', signingPair: 'valid' });
  });

  it('the same keys with the user given by its UID, read from stdin (-)', async () => {
    const r = await mcsec(['keys', 'check', '-'], readFileSync(files.byUid, 'utf8'));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(result(r), { uid: toHex(uid), rsk: 'valid', signingPair: 'valid' });
  });

  it("another identity's RSK: rsk invalid with rskError ERR_INVALID_KEY, exit 1", async () => {
    const r = await mcsec(['keys', 'check', files.otherRsk]);
    assert.equal(r.code, 1);
    const out = result(r);
    assert.equal(out['rsk'], 'invalid');
    assert.equal(out['signingPair'], 'valid');
    const err = out['rskError'];
    assert.ok(typeof err === 'object' && err !== null);
    assert.equal(Reflect.get(err, 'code'), 'ERR_INVALID_KEY');
    assert.equal(Reflect.get(err, 'field'), 'sakke.rsk');
    assert.equal(Reflect.get(err, 'clause'), 'RFC 6508 §6.1.2');
  });

  it('a modified SSK: signingPair invalid with ERR_INVALID_KEY eccsi.ssk, exit 1', async () => {
    const r = await mcsec(['keys', 'check', files.badSsk]);
    assert.equal(r.code, 1);
    const out = result(r);
    assert.equal(out['rsk'], 'valid');
    assert.equal(out['signingPair'], 'invalid');
    const err = out['signingPairError'];
    assert.ok(typeof err === 'object' && err !== null);
    assert.equal(Reflect.get(err, 'code'), 'ERR_INVALID_KEY');
    assert.equal(Reflect.get(err, 'field'), 'eccsi.ssk');
  });

  it('no keys: both "absent", exit 0', async () => {
    const r = await mcsec(['keys', 'check', files.absent]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(result(r), { uid: toHex(uid), rsk: 'absent', signingPair: 'absent' });
  });

  it('an SSK without its PVT: signingPair invalid (the PVT is missing), exit 1', async () => {
    const r = await mcsec(['keys', 'check', files.sskOnly]);
    assert.equal(r.code, 1);
    const out = result(r);
    assert.equal(out['rsk'], 'absent');
    assert.equal(out['signingPair'], 'invalid');
    const err = out['signingPairError'];
    assert.ok(typeof err === 'object' && err !== null);
    assert.equal(Reflect.get(err, 'code'), 'ERR_BAD_LENGTH');
    assert.equal(Reflect.get(err, 'field'), 'eccsi.pvt');
  });

  it('malformed JSON: exit 1, nothing on stdout, one line `mcsec: ERR_BAD_VALUE keys: ...`', async () => {
    const r = await mcsec(['keys', 'check', files.malformed]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    oneErrorLine(r, 'ERR_BAD_VALUE', 'keys');
  });

  it('a file that cannot be read: ERR_IO, exit 1', async () => {
    const r = await mcsec(['keys', 'check', join(dir, 'no-such-file.json')]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    oneErrorLine(r, 'ERR_IO');
  });
});

describe('mcsec', { concurrency: 4 }, () => {
  it('demo: exit 0 and "all checks passed"', async () => {
    const r = await mcsec(['demo']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /all checks passed\n$/);
  });

  it('--help: exit 0, usage on stdout', async () => {
    const r = await mcsec(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: mcsec/);
    for (const cmd of ['uid', 'keys', 'demo']) assert.match(r.stdout, new RegExp(`\\b${cmd}\\b`));
  });

  it('uid --help: exit 0, lists the options', async () => {
    const r = await mcsec(['uid', '--help']);
    assert.equal(r.code, 0);
    for (const opt of ['--uri', '--kms-uri', '--period', '--offset', '--period-no', '--time'])
      assert.ok(r.stdout.includes(opt), opt);
  });

  it('--version prints the package version', async () => {
    const pkg: unknown = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    assert.ok(typeof pkg === 'object' && pkg !== null);
    const r = await mcsec(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${String(Reflect.get(pkg, 'version'))}\n`);
  });

  it(
    'no command: exit 2, one ERR_USAGE line',
    async () => {
      const r = await mcsec([]);
      assert.equal(r.code, 2);
      oneErrorLine(r, 'ERR_USAGE');
    },
  );

  it('an unknown command: exit 2, one ERR_USAGE line', async () => {
    const r = await mcsec(['frobnicate']);
    assert.equal(r.code, 2);
    oneErrorLine(r, 'ERR_USAGE');
  });
});
