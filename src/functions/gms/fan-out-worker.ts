/**
 * Worker thread of the GMK fan-out pool (fan-out-pool.ts; ARCHITECTURE.md §4: heavy crypto on
 * worker threads). It keeps its own encapsulation tables (FanOutTables) and answers:
 *   { type: 'warm', id, keys }      → builds the tables of these KMS public keys, { type: 'done', id }
 *   { type: 'build', id, job }      → { type: 'done', id, messages } (the buffers transferred)
 * and any failure as { type: 'error', id, error } with the McsecError's class, code, field, rule
 * and clause (never a value). The GMK and SSK it receives are zeroed after each job.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { McsecError } from '../../errors/index.js';
import { FanOutTables, runFanOutJob, type FanOutJob } from './fan-out-job.js';

const port = parentPort;
const options: unknown = workerData;
const window = (k: string): number | undefined => {
  const v: unknown = typeof options === 'object' && options !== null ? Reflect.get(options, k) : undefined;
  return typeof v === 'number' ? v : undefined;
};
const pointWindow = window('pointWindow');
const gtWindow = window('gtWindow');
const tables = new FanOutTables({ ...(pointWindow === undefined ? {} : { pointWindow }), ...(gtWindow === undefined ? {} : { gtWindow }) });

/** A request from the pool (our own thread's structured clone, narrowed by its tag). */
type Request = { type: 'warm'; id: number; keys: Uint8Array[] } | { type: 'build'; id: number; job: FanOutJob };

function isRequest(m: unknown): m is Request {
  if (typeof m !== 'object' || m === null) return false;
  const type: unknown = Reflect.get(m, 'type');
  return (type === 'warm' || type === 'build') && typeof Reflect.get(m, 'id') === 'number';
}

port?.on('message', (m: unknown) => {
  if (!isRequest(m)) return;
  try {
    if (m.type === 'warm') {
      tables.warm(m.keys);
      port.postMessage({ type: 'done', id: m.id, messages: [] });
      return;
    }
    // Each message in a buffer of its own, so that each can be transferred.
    const messages = runFanOutJob(m.job, tables).map((x) => x.slice());
    m.job.gmk.fill(0);
    m.job.signer.ssk.fill(0);
    port.postMessage({ type: 'done', id: m.id, messages }, messages.map((x) => x.buffer as ArrayBuffer));
  } catch (err) {
    const e = err instanceof McsecError
      ? { name: err.name, code: err.code, field: err.field, rule: err.rule, clause: err.clause }
      : { name: 'Error', code: 'ERR_INTERNAL', field: 'gms.fanOut.worker', rule: 'failed unexpectedly', clause: undefined };
    port.postMessage({ type: 'error', id: m.id, error: e });
  }
});
