/**
 * SIPp (Debian sip-tester) as an independent SIP peer against our SipEndpoint on loopback, over
 * UDP (`-t u1`) and TCP (`-t t1`): its built-in UAC scenario (INVITE, 200, ACK, BYE, 200) and
 * test/fixtures/sipp/mc-message.xml (OPTIONS, then a MESSAGE with compact headers and a
 * multipart/mixed body carrying MCPTT info and EAR parts, whose content types our server echoes
 * in X-Mcsec-Parts for SIPp to check). SIPp's exit code and its statistics file must say every
 * call succeeded, and our side must have reported no protocol error. A second run with a server
 * that misreports the parts must fail, so the scenario's check is known to be live.
 * A missing sipp fails the run: install sip-tester.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { McsecError } from '../../src/errors/index.js';
import { ContentType, createSipResponse, decodeSipBody, encodeMediaType, partMediaType, type SipRequest } from '../../src/formats/sip/index.js';
import { listenSip, type SipEndpoint } from '../../src/transport/sip/index.js';
import { utf8 } from '../../src/util/index.js';

const scenario = fileURLToPath(new URL('../fixtures/sipp/mc-message.xml', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mcsec-sipp-'));
const CALLS = 10;

after(() => rmSync(dir, { recursive: true, force: true }));

function sippVersion(): string {
  const r = spawnSync('sipp', ['-v'], { encoding: 'utf8' });
  if (r.error !== undefined) {
    throw new Error(`sipp is not installed: install sip-tester (apt-get install -y sip-tester) to run the SIP interop test (${r.error.message})`);
  }
  return /SIPp v[^\s]+/.exec(`${r.stdout}${r.stderr}`)?.[0] ?? 'SIPp (version unknown)';
}

interface SippRun {
  readonly code: number | null;
  readonly successful: number;
  readonly failed: number;
  readonly output: string;
}

/** Runs sipp to completion and reads the last line of its statistics file. */
async function runSipp(args: readonly string[], name: string): Promise<SippRun> {
  const stats = join(dir, `${name}.csv`);
  const errors = join(dir, `${name}-errors.log`);
  const child = spawn(
    'sipp',
    [...args, '-i', '127.0.0.1', '-m', String(CALLS), '-r', '50', '-l', '10', '-nostdin', '-timeout', '30s', '-timeout_error', '-trace_stat', '-stf', stats, '-trace_err', '-error_file', errors],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += String(d)));
  child.stderr.on('data', (d: Buffer) => (output += String(d)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (existsSync(errors)) output += `\n--- sipp error log ---\n${readFileSync(errors, 'utf8').slice(0, 4000)}`;
  const lines = existsSync(stats) ? readFileSync(stats, 'utf8').trim().split('\n') : [];
  const header = (lines[0] ?? '').split(';');
  const last = (lines.at(-1) ?? '').split(';');
  const column = (n: string): number => {
    const i = header.indexOf(n);
    return i < 0 ? -1 : Number(last[i]);
  };
  return { code, successful: column('SuccessfulCall(C)'), failed: column('FailedCall(C)'), output };
}

/** Our server: 200 to INVITE (with SDP), BYE, OPTIONS and MESSAGE; MESSAGE parts echoed. */
async function mcServer(lie = false): Promise<{ s: SipEndpoint; seen: SipRequest[]; errors: McsecError[] }> {
  const s = await listenSip({ udp: {}, tcp: {} });
  const seen: SipRequest[] = [];
  const errors: McsecError[] = [];
  s.on('protocolError', (e) => errors.push(e));
  s.on('request', (req, from) => {
    seen.push(req);
    if (req.method === 'ACK') return;
    const headers = [{ name: 'Contact', value: `<sip:mcsec@127.0.0.1:${from.local.port};transport=${from.transport}>` }];
    if (req.method === 'MESSAGE') {
      const parts = decodeSipBody(req).map((p) => partMediaType(p).essence);
      headers.push({ name: 'X-Mcsec-Parts', value: lie ? 'text/plain' : parts.join(',') });
    }
    const sdp = `v=0\r\no=mcsec 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;
    const body = req.method === 'INVITE' ? { contentType: encodeMediaType(ContentType.SDP), body: utf8(sdp) } : undefined;
    void from.respond(createSipResponse(req, 200, { headers, ...(body === undefined ? {} : { body }) }));
  });
  return { s, seen, errors };
}

const count = (seen: SipRequest[], method: string): number => seen.filter((r) => r.method === method).length;

for (const [transport, flag] of [
  ['udp', 'u1'],
  ['tcp', 't1'],
] as const) {
  test(`sipp built-in UAC over ${transport.toUpperCase()} (-t ${flag}): ${CALLS} calls INVITE/ACK/BYE all succeed`, { timeout: 60_000 }, async () => {
    const version = sippVersion();
    const { s, seen, errors } = await mcServer();
    try {
      const port = s.address(transport)?.port ?? 0;
      const run = await runSipp([`127.0.0.1:${port}`, '-sn', 'uac', '-t', flag, '-d', '10'], `uac-${flag}`);
      assert.equal(run.code, 0, `${version} exit code\n${run.output}`);
      assert.equal(run.successful, CALLS, run.output);
      assert.equal(run.failed, 0, run.output);
      assert.deepEqual(errors, []);
      assert.deepEqual([count(seen, 'INVITE'), count(seen, 'ACK'), count(seen, 'BYE')], [CALLS, CALLS, CALLS]);
    } finally {
      await s.close();
    }
  });

  test(`sipp MC MESSAGE scenario over ${transport.toUpperCase()} (-t ${flag}): multipart body decoded, ${CALLS} calls succeed`, { timeout: 60_000 }, async () => {
    const version = sippVersion();
    const { s, seen, errors } = await mcServer();
    try {
      const port = s.address(transport)?.port ?? 0;
      const run = await runSipp([`127.0.0.1:${port}`, '-sf', scenario, '-t', flag], `mc-${flag}`);
      assert.equal(run.code, 0, `${version} exit code\n${run.output}`);
      assert.equal(run.successful, CALLS, run.output);
      assert.equal(run.failed, 0, run.output);
      assert.deepEqual(errors, []);
      assert.deepEqual([count(seen, 'OPTIONS'), count(seen, 'MESSAGE')], [CALLS, CALLS]);
      const message = seen.find((r) => r.method === 'MESSAGE');
      assert.ok(message !== undefined);
      // SIPp's compact forms arrive under full names
      assert.deepEqual(
        message.headers.map((h) => h.name).filter((n) => ['Via', 'From', 'To', 'Call-ID', 'Content-Type'].includes(n)),
        ['Via', 'From', 'To', 'Call-ID', 'Content-Type'],
      );
      const parts = decodeSipBody(message);
      assert.deepEqual(parts.map((p) => partMediaType(p).essence), [ContentType.MCPTT_INFO, ContentType.MC_SIGNALLING_EAR]);
      assert.match(new TextDecoder().decode(parts[0]?.body), /^<\?xml[^]*<\/mcpttinfo>$/);
    } finally {
      await s.close();
    }
  });
}

test('the scenario check is live: a server that misreports the parts fails every call', { timeout: 60_000 }, async () => {
  sippVersion();
  const { s } = await mcServer(true);
  try {
    const run = await runSipp([`127.0.0.1:${s.address('udp')?.port ?? 0}`, '-sf', scenario, '-t', 'u1'], 'mc-lie');
    assert.notEqual(run.code, 0, run.output);
    assert.equal(run.successful, 0, run.output);
    assert.equal(run.failed, CALLS, run.output);
  } finally {
    await s.close();
  }
});
