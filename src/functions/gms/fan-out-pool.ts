/**
 * GMK fan-out (TS 33.180 §5.7: one I_MESSAGE per member, "the same GMK shall be encapsulated to
 * each member of the group", Annex E.2) on worker threads (ARCHITECTURE.md §4). A job's members are
 * cut into slices (default 50 members: large enough that the batched SAKKE inversions cost little
 * per member, small enough to keep every worker busy to the end); idle workers take the next
 * slice, and each finished slice is handed to `onSlice` at once, so the caller can start sending
 * while the rest is still being computed. `InlineFanOut` does the same work on the calling thread
 * (small groups, tests); both implement `GmkFanOut`.
 *
 * Workers are started from the compiled `fan-out-worker.js`, or, when running from the
 * TypeScript sources, from `fan-out-worker.ts` through a bootstrap that registers tsx first.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ConfigError, CryptoError, ErrorCode, FormatError, McsecError, PolicyError } from '../../errors/index.js';
import type { SakkeBatchOptions } from '../../crypto/sakke-batch.js';
import { FanOutTables, runFanOutJob, type FanOutJob } from './fan-out-job.js';

/** Receives the messages of members `first` .. `first + messages.length - 1` of the job. */
export type FanOutSlice = (first: number, messages: readonly Uint8Array[]) => void;

/** Makes the members' I_MESSAGEs of a job. */
export interface GmkFanOut {
  /** Builds the tables of these KMS public keys ahead of the first job. */
  warm(keys: readonly Uint8Array[]): Promise<void>;
  /** Runs the job; resolves when every slice was handed to `onSlice`. */
  run(job: FanOutJob, onSlice: FanOutSlice): Promise<void>;
  close(): Promise<void>;
}

/** Options of the fan-out implementations. */
export interface FanOutOptions extends SakkeBatchOptions {
  /** Members per slice (default 50). */
  readonly sliceSize?: number | undefined;
}

function sliceSizeOf(o: FanOutOptions): number {
  const n = o.sliceSize ?? 50;
  if (!Number.isSafeInteger(n) || n < 1) throw new ConfigError(ErrorCode.CONFIG, { field: 'gms.fanOut.sliceSize', rule: 'must be a positive integer' });
  return n;
}

const slices = (job: FanOutJob, size: number): { first: number; job: FanOutJob }[] => {
  const out: { first: number; job: FanOutJob }[] = [];
  for (let first = 0; first < job.recipients.length; first += size) {
    out.push({ first, job: { ...job, recipients: job.recipients.slice(first, first + size) } });
  }
  return out;
};

/** The fan-out on the calling thread, yielding to the event loop between slices. */
export class InlineFanOut implements GmkFanOut {
  readonly #tables: FanOutTables;
  readonly #size: number;
  constructor(o: FanOutOptions = {}) {
    this.#tables = new FanOutTables(o);
    this.#size = sliceSizeOf(o);
  }
  warm(keys: readonly Uint8Array[]): Promise<void> {
    this.#tables.warm(keys);
    return Promise.resolve();
  }
  async run(job: FanOutJob, onSlice: FanOutSlice): Promise<void> {
    for (const s of slices(job, this.#size)) {
      onSlice(s.first, runFanOutJob(s.job, this.#tables));
      await new Promise((r) => setImmediate(r));
    }
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

interface Task {
  readonly message: { readonly type: 'warm'; readonly keys: readonly Uint8Array[] } | { readonly type: 'build'; readonly job: FanOutJob };
  readonly done: (messages: readonly Uint8Array[]) => void;
  readonly fail: (err: McsecError) => void;
}

interface Slot {
  readonly worker: Worker;
  task: Task | undefined;
  id: number;
}

/** Rebuilds the typed error a worker reported (class, code, field, rule, clause). */
function errorFrom(e: unknown): McsecError {
  const get = (k: string): unknown => (typeof e === 'object' && e !== null ? Reflect.get(e, k) : undefined);
  const code = get('code');
  const known = Object.values(ErrorCode).find((c) => c === code) ?? ErrorCode.INTERNAL;
  const field = typeof get('field') === 'string' ? String(get('field')) : 'gms.fanOut.worker';
  const rule = typeof get('rule') === 'string' ? String(get('rule')) : 'failed';
  const clause = typeof get('clause') === 'string' ? String(get('clause')) : undefined;
  const f = { field, rule, ...(clause === undefined ? {} : { clause }) };
  switch (get('name')) {
    case 'FormatError':
      return new FormatError(known, f);
    case 'CryptoError':
      return new CryptoError(known, f);
    case 'PolicyError':
      return new PolicyError(known, f);
    case 'ConfigError':
      return new ConfigError(known, f);
    default:
      return new McsecError(known, f);
  }
}

/**
 * How to start a worker: the compiled entry, or from the TypeScript sources a bootstrap that
 * registers tsx in the worker first (Node 20 does not apply an inherited `--import tsx` to a
 * worker's entry module).
 */
function workerEntry(): { readonly entry: URL | string; readonly evaluate: boolean } {
  if (!import.meta.url.endsWith('.ts')) return { entry: new URL('./fan-out-worker.js', import.meta.url), evaluate: false };
  const api = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./fan-out-worker.ts', import.meta.url).href;
  return { entry: `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`, evaluate: true };
}

/** The fan-out on a pool of worker threads. */
export class WorkerFanOut implements GmkFanOut {
  readonly #slots: Slot[] = [];
  readonly #queue: Task[] = [];
  readonly #size: number;
  #closed = false;
  #next = 1;

  /** `workers` threads (default: the machine's parallelism). */
  constructor(workers: number = availableParallelism(), o: FanOutOptions = {}) {
    if (!Number.isSafeInteger(workers) || workers < 1 || workers > 256) {
      throw new ConfigError(ErrorCode.CONFIG, { field: 'gms.fanOut.workers', rule: 'must be an integer from 1 to 256' });
    }
    this.#size = sliceSizeOf(o);
    const { entry, evaluate } = workerEntry();
    const data = { pointWindow: o.pointWindow, gtWindow: o.gtWindow };
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(entry, { workerData: data, eval: evaluate });
      const slot: Slot = { worker, task: undefined, id: 0 };
      worker.on('message', (m: unknown) => this.#answer(slot, m));
      worker.on('error', () => this.#lost(slot));
      worker.on('exit', () => this.#lost(slot));
      worker.unref();
      this.#slots.push(slot);
    }
  }

  /** Number of worker threads. */
  get workers(): number {
    return this.#slots.length;
  }

  /** Builds the tables in every worker (each thread holds its own). */
  async warm(keys: readonly Uint8Array[]): Promise<void> {
    await Promise.all(this.#slots.map((slot) => new Promise<void>((resolve, reject) => {
      this.#start(slot, { message: { type: 'warm', keys }, done: () => resolve(), fail: reject });
    })));
  }

  run(job: FanOutJob, onSlice: FanOutSlice): Promise<void> {
    const parts = slices(job, this.#size);
    if (parts.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let left = parts.length;
      let failed = false;
      for (const s of parts) {
        this.#enqueue({
          message: { type: 'build', job: s.job },
          done: (messages) => {
            if (failed) return;
            try {
              onSlice(s.first, messages);
            } catch (err) {
              failed = true;
              reject(err instanceof Error ? err : new Error(String(err)));
              return;
            }
            if (--left === 0) resolve();
          },
          fail: (err) => {
            if (!failed) reject(err);
            failed = true;
          },
        });
      }
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#queue.splice(0)) t.fail(closedError());
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }

  #enqueue(task: Task): void {
    if (this.#closed) {
      task.fail(closedError());
      return;
    }
    const idle = this.#slots.find((s) => s.task === undefined);
    if (idle === undefined) this.#queue.push(task);
    else this.#start(idle, task);
  }

  #start(slot: Slot, task: Task): void {
    slot.task = task;
    slot.id = this.#next++;
    slot.worker.ref();
    slot.worker.postMessage({ ...task.message, id: slot.id });
  }

  #answer(slot: Slot, m: unknown): void {
    const task = slot.task;
    if (task === undefined || typeof m !== 'object' || m === null || Reflect.get(m, 'id') !== slot.id) return;
    slot.task = undefined;
    slot.worker.unref();
    const type: unknown = Reflect.get(m, 'type');
    const messages: unknown = Reflect.get(m, 'messages');
    if (type === 'done' && Array.isArray(messages) && messages.every((x): x is Uint8Array => x instanceof Uint8Array)) task.done(messages);
    else task.fail(errorFrom(Reflect.get(m, 'error')));
    const next = this.#queue.shift();
    if (next !== undefined) this.#start(slot, next);
  }

  #lost(slot: Slot): void {
    const i = this.#slots.indexOf(slot);
    if (i >= 0) this.#slots.splice(i, 1);
    slot.task?.fail(new McsecError(ErrorCode.INTERNAL, { field: 'gms.fanOut.worker', rule: 'a worker thread stopped' }));
    slot.task = undefined;
    if (this.#slots.length === 0) for (const t of this.#queue.splice(0)) t.fail(closedError());
  }
}

const closedError = (): McsecError => new McsecError(ErrorCode.INTERNAL, { field: 'gms.fanOut', rule: 'the worker pool is closed' });
