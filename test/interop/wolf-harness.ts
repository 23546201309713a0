/**
 * The wolfSSL peer for interop tests and benchmarks: builds wolf-harness.c against Debian's
 * libwolfssl (cached in build/, rebuilt when the source is newer) and talks to it over its line
 * protocol. A missing compiler or library is an error that names the packages: the peer is
 * required, never skipped.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const source = join(here, 'wolf-harness.c');
const binary = join(root, 'build', 'wolf-harness');

/** Builds the harness when missing or older than its source; returns the binary's path. */
export function buildWolfHarness(): string {
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) return binary;
  mkdirSync(dirname(binary), { recursive: true });
  try {
    execFileSync('cc', ['-O2', '-Wall', '-o', binary, source, '-lwolfssl'], { stdio: 'pipe' });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? String(err);
    throw new Error(
      'wolfSSL peer unavailable: install libwolfssl-dev and a C compiler ' +
        `(apt-get install -y libwolfssl-dev gcc)\n${stderr}`,
    );
  }
  return binary;
}

const hex = (b: Uint8Array): string => (b.length === 0 ? '-' : Buffer.from(b).toString('hex'));

/** A running harness; requests are answered one at a time, in order. */
export class WolfHarness {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: Interface;
  readonly #waiting: ((line: string) => void)[] = [];
  #chain: Promise<unknown> = Promise.resolve();
  #exited = false;

  private constructor(path: string) {
    this.#child = spawn(path, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    this.#child.on('exit', () => {
      this.#exited = true;
      for (const w of this.#waiting.splice(0)) w('err harness-exited');
    });
    this.#lines = createInterface({ input: this.#child.stdout });
    this.#lines.on('line', (line) => {
      const w = this.#waiting.shift();
      if (w !== undefined) w(line);
    });
  }

  /** Builds (if needed) and starts the harness. */
  static start(): WolfHarness {
    return new WolfHarness(buildWolfHarness());
  }

  /** Sends one request; resolves with the reply's fields after `ok`, rejects on `err`. */
  call(op: string, ...args: (Uint8Array | string | number)[]): Promise<string[]> {
    const line = [op, ...args.map((a) => (a instanceof Uint8Array ? hex(a) : String(a)))].join(' ');
    const next = this.#chain.then(
      () =>
        new Promise<string[]>((resolve, reject) => {
          if (this.#exited) {
            reject(new Error(`wolfssl ${op}: harness-exited`));
            return;
          }
          this.#waiting.push((reply) => {
            const [head, ...rest] = reply.split(' ');
            if (head === 'ok') resolve(rest);
            else reject(new Error(`wolfssl ${op}: ${rest.join(' ') || reply}`));
          });
          this.#child.stdin.write(line + '\n');
        }),
    );
    this.#chain = next.catch(() => undefined);
    return next;
  }

  /** Ends the harness. */
  async close(): Promise<void> {
    if (this.#exited) return;
    const done = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.stdin.end('quit\n');
    await done;
    this.#lines.close();
  }
}
