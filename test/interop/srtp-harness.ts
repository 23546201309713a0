/**
 * The libsrtp2 peer for interop tests and benchmarks: builds test/interop/srtp-harness.c against
 * Debian's libsrtp2 (AEAD_AES_128_GCM, RFC 7714; MKIs through srtp_master_key_t) into
 * build/srtp-harness and talks to it over a line protocol: one request line in, one reply line
 * out ("ok <hex> ..." or "err <reason>"). A missing compiler or library is an error, never a skip.
 */
import { execFileSync, spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const source = join(root, 'test', 'interop', 'srtp-harness.c');
const binary = join(root, 'build', 'srtp-harness');
const INSTALL = 'libsrtp2 peer unavailable: install libsrtp2-dev and a C compiler (apt-get install -y libsrtp2-dev gcc)';

const HEX = '0123456789abcdef';

/** Lowercase hex ("-" for no bytes, as the harness reads it). */
export function hexArg(bytes: Uint8Array): string {
  if (bytes.length === 0) return '-';
  let s = '';
  for (const b of bytes) s += (HEX[b >> 4] as string) + (HEX[b & 15] as string);
  return s;
}

function stderrOf(e: unknown): string {
  if (typeof e === 'object' && e !== null && 'stderr' in e) {
    const err = (e as { stderr: unknown }).stderr;
    if (err instanceof Uint8Array) return new TextDecoder().decode(err).trim();
    if (typeof err === 'string') return err.trim();
  }
  return e instanceof Error ? e.message : String(e);
}

/**
 * Compiles the harness when the binary is missing or older than its source; returns its path.
 * Compiles to a private temporary file and renames it, so parallel runs never see a half-written
 * binary.
 */
export function buildSrtpHarness(): string {
  if (!existsSync('/usr/include/srtp2/srtp.h')) throw new Error(`${INSTALL}\n/usr/include/srtp2/srtp.h is missing`);
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) return binary;
  mkdirSync(dirname(binary), { recursive: true });
  const tmp = `${binary}.${process.pid}.tmp`;
  try {
    execFileSync('cc', ['-O2', '-o', tmp, source, '-lsrtp2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    renameSync(tmp, binary);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new Error(`${INSTALL}\n${stderrOf(e)}`);
  }
  return binary;
}

type Arg = Uint8Array | string | number;

function encodeArg(a: Arg): string {
  if (a instanceof Uint8Array) return hexArg(a);
  if (typeof a === 'number') {
    if (!Number.isSafeInteger(a)) throw new Error(`srtp-harness: bad number argument ${a}`);
    return String(a);
  }
  if (a === '' || /\s/.test(a)) throw new Error('srtp-harness: string arguments must be non-empty, without whitespace');
  return a;
}

interface Pending {
  resolve: (line: string) => void;
  reject: (e: Error) => void;
}

/** A libsrtp master key for a harness session: key (16) and salt (12), optional MKI. */
export interface LibsrtpKey {
  readonly masterKey: Uint8Array;
  readonly masterSalt: Uint8Array;
  readonly mki: Uint8Array;
}

/** One running harness process; calls are answered one at a time, in order. */
export class SrtpHarness {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  private readonly lines: Interface;
  private readonly exited: Promise<void>;
  private queue: Promise<void> = Promise.resolve();
  private pending: Pending | undefined;
  private dead: Error | undefined;

  private constructor(path: string) {
    this.child = spawn(path, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.lines = createInterface({ input: this.child.stdout, crlfDelay: Infinity });
    this.lines.on('line', (line) => {
      const p = this.pending;
      this.pending = undefined;
      if (p !== undefined) p.resolve(line);
    });
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.fail(new Error(`srtp harness exited (code ${String(code)}, signal ${String(signal)})`));
        resolve();
      });
    });
    this.child.once('error', (e) => this.fail(new Error(`srtp harness: ${e.message}`)));
    this.child.stdin.on('error', (e) => this.fail(new Error(`srtp harness stdin: ${e.message}`)));
  }

  /** Builds the harness if needed and starts it. */
  static start(): SrtpHarness {
    return new SrtpHarness(buildSrtpHarness());
  }

  private fail(e: Error): void {
    this.dead ??= e;
    const p = this.pending;
    this.pending = undefined;
    if (p !== undefined) p.reject(e);
  }

  private roundTrip(line: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      if (this.dead !== undefined) {
        reject(this.dead);
        return;
      }
      this.pending = { resolve, reject };
      this.child.stdin.write(line + '\n');
    });
  }

  /**
   * Sends `op args...`; resolves with the fields after "ok", rejects with
   * Error("libsrtp <op>: <reason>") on "err".
   */
  async call(op: string, ...args: Arg[]): Promise<string[]> {
    const line = [encodeArg(op), ...args.map(encodeArg)].join(' ');
    const run = this.queue.then(() => this.roundTrip(line));
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    const reply = await run;
    const fields = reply.trim().split(/\s+/).filter((f) => f !== '');
    if (fields[0] === 'ok') return fields.slice(1);
    if (fields[0] === 'err') throw new Error(`libsrtp ${op}: ${fields.slice(1).join(' ') || 'failed'}`);
    throw new Error(`libsrtp ${op}: unexpected reply ${JSON.stringify(reply.slice(0, 80))}`);
  }

  /** Creates session `slot` (an outbound and an inbound libsrtp context) with these keys. */
  async session(slot: number, keys: readonly LibsrtpKey[], window = 0): Promise<void> {
    const specs = keys.map((k) => `${hexArg(k.masterKey)}:${hexArg(k.masterSalt)}:${hexArg(k.mki)}`);
    await this.call('session', slot, window, ...specs);
  }

  /** Asks the harness to quit (after any queued calls) and waits for it to exit. */
  async close(): Promise<void> {
    await this.queue;
    if (this.dead === undefined) {
      this.child.stdin.end('quit\n');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(timer);
    }
    this.lines.close();
  }
}
