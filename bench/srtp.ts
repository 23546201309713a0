/**
 * SRTP in `npm run bench`: protect + unprotect of one RTP packet with a 160-octet payload (20 ms
 * of G.711, the MCPTT voice shape), AEAD_AES_128_GCM, mcsec against libsrtp2 (Debian's libsrtp2,
 * driven by our C harness test/interop/srtp-harness.c) in the same run.
 *
 *   srtp.protect                    protect alone, 4-octet MKI (a PCK-ID, TS 33.180 §7.4.1)
 *   srtp.unprotect                  unprotect alone (of packets protected before the clock starts)
 *   srtp.protect_unprotect          both, 4-octet MKI
 *   srtp.protect_unprotect_no_mki   both, no MKI
 * The log line also gives packets per second (1000 / ms).
 *
 * Each sample is the mean milliseconds of one protect plus one unprotect over a batch of packets
 * (one packet is a few microseconds, below what a single timer read resolves well); the figure is
 * the median of the samples. Rounds alternate mcsec and libsrtp so both see the same machine
 * conditions. Results have the shape of bench/main.ts: {op, mcsec_ms, peer, peer_ms, ratio}.
 */
import { SrtpReceiver, SrtpSender, encodeRtpPacket } from '../src/formats/srtp/index.js';
import { SrtpHarness } from '../test/interop/srtp-harness.js';

/** One benchmark line, as bench/main.ts prints and serialises it. */
export interface SrtpBenchResult {
  readonly op: string;
  readonly mcsec_ms: number;
  readonly peer: string;
  readonly peer_ms: number;
  readonly ratio: number;
}

/** Options: samples per side (split over `rounds`), packets per sample, a progress logger. */
export interface SrtpBenchOptions {
  readonly iterations: number;
  readonly rounds?: number;
  readonly batch?: number;
  readonly log?: (line: string) => void;
}

const PAYLOAD = 160;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
};
const round = (x: number): number => Math.round(x * 1e6) / 1e6;

/** The same keys as the harness bench uses (0x10.. key, 0x40.. salt, 0x10.. MKI). */
const masterKey = Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i);
const masterSalt = Uint8Array.from({ length: 12 }, (_, i) => 0x40 + i);

type Mode = 'both' | 'protect' | 'unprotect';

/** mcsec's side: `n` samples of `batch` packets (protect + unprotect, or one of them), in ms per packet. */
function ours(mkiLength: 0 | 4, mode: Mode): (n: number, batch: number) => number[] {
  const mki = Uint8Array.from({ length: mkiLength }, (_, i) => 0x10 + i);
  const master = { masterKey, masterSalt };
  const tx = new SrtpSender({ ...master, mki });
  const rx =
    mkiLength === 0
      ? new SrtpReceiver({ master })
      : new SrtpReceiver({
          mkiLength: 4,
          lookup: (m) => {
            if (m[0] !== 0x10 || m[1] !== 0x11 || m[2] !== 0x12 || m[3] !== 0x13) throw new Error('bench: unknown MKI');
            return master;
          },
        });
  const template = encodeRtpPacket({
    header: { padding: false, marker: false, payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0x1122_3344, csrcs: [], extension: undefined },
    payload: new Uint8Array(PAYLOAD).fill(0xab),
    padding: new Uint8Array(0),
  });
  let seq = 1;
  return (n, batch) => {
    const out: number[] = [];
    const fresh = (): Uint8Array => {
      const p = template.slice();
      p[2] = (seq >> 8) & 0xff;
      p[3] = seq & 0xff;
      seq = (seq + 1) & 0xffff;
      return p;
    };
    for (let k = -2; k < n; k++) {
      const held = mode === 'unprotect' ? Array.from({ length: batch }, () => tx.protectRtp(fresh())) : [];
      const t = process.hrtime.bigint();
      if (mode === 'unprotect') {
        for (const h of held) rx.unprotectRtp(h);
      } else if (mode === 'protect') {
        for (let b = 0; b < batch; b++) tx.protectRtp(fresh());
      } else {
        for (let b = 0; b < batch; b++) {
          const p = fresh();
          const back = rx.unprotectRtp(tx.protectRtp(p));
          if (back.length !== p.length) throw new Error('bench: round trip changed the packet');
        }
      }
      const ms = Number(process.hrtime.bigint() - t) / 1e6 / batch;
      if (k >= 0) out.push(ms);
    }
    return out;
  };
}

/**
 * Runs the SRTP benchmarks against libsrtp2 (started and stopped here; a missing peer is an error)
 * and returns one result per operation.
 */
export async function benchSrtp(options: SrtpBenchOptions): Promise<SrtpBenchResult[]> {
  const rounds = options.rounds ?? 10;
  const batch = options.batch ?? 200;
  const log = options.log ?? ((): void => undefined);
  const per = Math.max(3, Math.ceil(options.iterations / rounds));
  const lib = SrtpHarness.start();
  const results: SrtpBenchResult[] = [];
  try {
    for (const [op, mkiLength, mode] of [
      ['srtp.protect', 4, 'protect'],
      ['srtp.unprotect', 4, 'unprotect'],
      ['srtp.protect_unprotect', 4, 'both'],
      ['srtp.protect_unprotect_no_mki', 0, 'both'],
    ] as const) {
      const run = ours(mkiLength, mode);
      const mine: number[] = [];
      const theirs: number[] = [];
      for (let r = 0; r < rounds; r++) {
        mine.push(...run(per, batch));
        const reply = await lib.call('bench', per, batch, PAYLOAD, mkiLength, mode);
        const samples = reply.slice(1).map(Number);
        if (samples.length !== per || samples.some((x) => !Number.isFinite(x) || x <= 0)) {
          throw new Error(`libsrtp bench ${op}: bad answer`);
        }
        theirs.push(...samples);
      }
      const m = median(mine);
      const p = median(theirs);
      const result = { op, mcsec_ms: round(m), peer: 'libsrtp', peer_ms: round(p), ratio: Math.round((m / p) * 1000) / 1000 };
      results.push(result);
      const pps = (ms: number): string => `${Math.round(1000 / ms).toLocaleString('en-US')}/s`;
      log(`${op.padEnd(28)} mcsec ${result.mcsec_ms.toFixed(4).padStart(9)} ms (${pps(m)})  libsrtp ${result.peer_ms.toFixed(4).padStart(9)} ms (${pps(p)})  ratio ${result.ratio.toFixed(3)}`);
    }
  } finally {
    await lib.close();
  }
  return results;
}
