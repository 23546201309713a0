/**
 * `npm run bench`: mcsec against wolfSSL (Debian's libwolfssl, driven by our C harness in
 * test/interop/wolf-harness.c) in the same run. For each operation: the median milliseconds per
 * call of each side and the ratio mcsec/wolfSSL. `npm run bench -- --json` prints one JSON object
 * {"results":[{"op","mcsec_ms","peer","peer_ms","ratio"}]} on stdout.
 *
 * Each side makes its own keys outside the timed region; each timed call covers one operation.
 * bench/srtp.ts (libsrtp), bench/mcx.ts (SIP parsing, XML protection against xmlsec1, a protected
 * MESSAGE through the MCX server on loopback), bench/gms.ts and bench/kms.ts add their operations;
 * --skip-mcx, --skip-gms and --skip-kms leave those out.
 * A missing peer is an error (the bench needs both sides to mean anything).
 */
import { randomBytes } from 'node:crypto';
import {
  EccsiVerifier,
  SakkePeer,
  SakkePublicKey,
  encapsulateSsv,
  extractRsk,
  generateEccsiKmsKey,
  generateEccsiPair,
  generateSakkeKmsKey,
  prepareRsk,
  signEccsi,
  validateEccsiPair,
  validateRsk,
} from '../src/crypto/index.js';
import { WolfHarness } from '../test/interop/wolf-harness.js';
import { MemoryReplayCache, createIMessage, openIMessage } from '../src/formats/mikey/index.js';
import { deriveUid, generateKeyId, keyPeriodNoAt } from '../src/crypto/index.js';
import { kmsBench } from './kms.js';
import { benchSrtp } from './srtp.js';
import { benchGms } from './gms.js';
import { benchMcx } from './mcx.js';

interface Result {
  op: string;
  mcsec_ms: number;
  peer: string;
  peer_ms: number;
  ratio: number;
}

const json = process.argv.includes('--json');
const itersArg = process.argv.find((a) => a.startsWith('--iterations='));
/** `--only=<prefix>`: run only the operations whose name starts with it (e.g. mikey, sakke, srtp). */
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const wanted = (op: string): boolean => only === undefined || op.startsWith(only) || only.startsWith(op);
const ITER = itersArg !== undefined ? Number(itersArg.split('=')[1]) : 30;
if (!Number.isSafeInteger(ITER) || ITER < 3) {
  process.stderr.write('bench: --iterations=N needs an integer N >= 3\n');
  process.exit(2);
}
const ROUNDS = 10;
/** Samples of each side for mikey.create / mikey.open (taken alternately). */
const MIKEY_SAMPLES = Math.max(ITER, 120);
const log = (s: string): void => {
  process.stderr.write(s + '\n');
};

const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

/** A full garbage collection when node runs with --expose-gc (as `npm run bench` does). */
const settle = (): void => (globalThis as { gc?: () => void }).gc?.();

/** Milliseconds of each of `n` calls of `f`, each timed alone, after `warm` warm-up calls. */
function samples(n: number, setup: () => void, f: () => void, warm = 2): number[] {
  const times: number[] = [];
  for (let i = 0; i < n + warm; i++) {
    setup();
    const t = process.hrtime.bigint();
    f();
    const dt = Number(process.hrtime.bigint() - t) / 1e6;
    if (i >= warm) times.push(dt);
  }
  return times;
}

/** As `samples`, for an operation that returns a promise. */
async function samplesAsync(n: number, setup: () => void, f: () => Promise<unknown>, warm = 2): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n + warm; i++) {
    setup();
    const t = process.hrtime.bigint();
    await f();
    const dt = Number(process.hrtime.bigint() - t) / 1e6;
    if (i >= warm) times.push(dt);
  }
  return times;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
};

function mcsecOps(): Map<string, (n: number) => number[]> {
  const sakke = generateSakkeKmsKey();
  const kms = new SakkePublicKey(sakke.zT);
  const eccsiKms = generateEccsiKmsKey();
  const fixedId = rnd(32);
  const rsk = extractRsk(sakke.z, fixedId);
  const recipient = prepareRsk(kms, fixedId, rsk);
  const peer = new SakkePeer(kms, fixedId);
  const signer = { ...generateEccsiPair(eccsiKms, fixedId), kpak: eccsiKms.kpak, id: fixedId };
  const msg = rnd(200);
  const sig = signEccsi(msg, signer);
  const verifier = new EccsiVerifier();
  verifier.verify(msg, sig, eccsiKms.kpak, fixedId);
  // Warm the shared tables outside any timed region.
  recipient.decapsulate(encapsulateSsv(kms, fixedId, rnd(16), peer));
  encapsulateSsv(kms, rnd(32), rnd(16));
  // Collect the garbage of building them (tens of MB of BigInt), so no timed call pays for it.
  settle();

  let id = rnd(32);
  let ssv = rnd(16);
  let data: Uint8Array = new Uint8Array(0);
  let pair = signer as { ssk: Uint8Array; pvt: Uint8Array };
  let firstSig = sig;
  let firstId = fixedId;
  const ops = new Map<string, (n: number) => number[]>();
  ops.set('sakke.rsk_extract', (n) => samples(n, () => (id = rnd(32)), () => extractRsk(sakke.z, id)));
  ops.set('sakke.rsk_validate', (n) => {
    const ids = Array.from({ length: n + 2 }, () => rnd(32));
    const rsks = ids.map((i) => extractRsk(sakke.z, i));
    let k = 0;
    return samples(n, () => undefined, () => {
      validateRsk(kms, ids[k] as Uint8Array, rsks[k] as Uint8Array);
      k += 1;
    });
  });
  ops.set('sakke.encapsulate_new_peer', (n) =>
    samples(n, () => ((id = rnd(32)), (ssv = rnd(16))), () => encapsulateSsv(kms, id, ssv)),
  );
  ops.set('sakke.encapsulate_cached', (n) =>
    samples(n, () => (ssv = rnd(16)), () => encapsulateSsv(kms, fixedId, ssv, peer)),
  );
  ops.set('sakke.decapsulate', (n) =>
    samples(n, () => (data = encapsulateSsv(kms, fixedId, rnd(16), peer)), () => recipient.decapsulate(data)),
  );
  ops.set('eccsi.pair_generate', (n) => samples(n, () => (id = rnd(32)), () => generateEccsiPair(eccsiKms, id)));
  ops.set('eccsi.pair_validate', (n) =>
    samples(n, () => ((id = rnd(32)), (pair = generateEccsiPair(eccsiKms, id))), () => validateEccsiPair(eccsiKms.kpak, id, pair)),
  );
  ops.set('eccsi.sign', (n) => samples(n, () => undefined, () => signEccsi(msg, signer)));
  ops.set('eccsi.verify', (n) => samples(n, () => undefined, () => verifier.verify(msg, sig, eccsiKms.kpak, fixedId)));
  ops.set('eccsi.verify_first', (n) =>
    samples(
      n,
      () => {
        firstId = rnd(32);
        firstSig = signEccsi(msg, { ...generateEccsiPair(eccsiKms, firstId), kpak: eccsiKms.kpak, id: firstId });
      },
      () => new EccsiVerifier().verify(msg, firstSig, eccsiKms.kpak, firstId),
    ),
  );
  return ops;
}

/**
 * MIKEY-SAKKE I_MESSAGE create / open against the bare crypto they call (ECCSI sign + SAKKE
 * encapsulation to a known peer; ECCSI verify of a known signer + decapsulation), so the peer
 * column is mcsec's own crypto and the ratio shows the codec's overhead.
 */
async function mikeyOps(): Promise<Map<string, { ours: (n: number) => Promise<number[]>; bare: (n: number) => number[] }>> {
  const periods = { userKeyPeriod: 2_592_000, userKeyOffset: 0 };
  const kmsUri = 'kms.example.org';
  const now = new Date();
  const period = keyPeriodNoAt(now, periods.userKeyPeriod, periods.userKeyOffset);
  const uid = (uri: string): Uint8Array => deriveUid({ uri, kmsUri, ...periods, keyPeriodNo: period });
  const sakke = generateSakkeKmsKey();
  const kms = new SakkePublicKey(sakke.zT);
  const eccsiKms = generateEccsiKmsKey();
  const a = 'sip:alice@example.org';
  const b = 'sip:bob@example.org';
  const pair = generateEccsiPair(eccsiKms, uid(a));
  const peer = new SakkePeer(kms, uid(b));
  const recipient = prepareRsk(kms, uid(b), extractRsk(sakke.z, uid(b)));
  const verifier = new EccsiVerifier();
  const initiator = { uri: a, kmsUri, ...periods, kpak: eccsiKms.kpak, ...pair };
  const responder = { uri: b, kmsUri, ...periods, kms, peer };
  const make = (keyId = generateKeyId('PCK')): Uint8Array =>
    createIMessage({ keyType: 'PCK', key: rnd(16), keyId, initiator, responder, time: now });
  let keyId = generateKeyId('PCK');
  const ctx = {
    uri: b,
    kmsUri,
    ...periods,
    recipientFor: () => recipient,
    trustedKms: () => ({ kpak: eccsiKms.kpak, ...periods }),
    replayCache: new MemoryReplayCache(),
    now: () => now,
    verifier,
  };
  await openIMessage(make(), ctx);
  const signer = { ...pair, kpak: eccsiKms.kpak, id: uid(a) };
  let msg = make();
  let data = encapsulateSsv(kms, uid(b), rnd(16), peer);
  const signed = rnd(413); // about the signed part of such an I_MESSAGE
  let sig = signEccsi(signed, signer);
  verifier.verify(signed, sig, eccsiKms.kpak, uid(a));
  const ops = new Map<string, { ours: (n: number) => Promise<number[]>; bare: (n: number) => number[] }>();
  ops.set('mikey.create', {
    // the key ID is the caller's (drawn in the set-up): the codec's work is the message
    ours: async (n) => samples(n, () => (keyId = generateKeyId('PCK')), () => make(keyId), 0),
    bare: (n) => samples(n, () => undefined, () => {
      encapsulateSsv(kms, uid(b), rnd(16), peer);
      signEccsi(signed, signer);
    }, 0),
  });
  ops.set('mikey.open', {
    ours: (n) => samplesAsync(n, () => (msg = make()), () => openIMessage(msg, ctx), 0),
    bare: (n) =>
      samples(
        n,
        () => {
          data = encapsulateSsv(kms, uid(b), rnd(16), peer);
          sig = signEccsi(signed, signer);
        },
        () => {
          verifier.verify(signed, sig, eccsiKms.kpak, uid(a));
          recipient.decapsulate(data);
        },
        0,
      ),
  });
  return ops;
}

async function main(): Promise<void> {
  const wolf = WolfHarness.start();
  const results: Result[] = [];
  try {
    log('building mcsec tables and keys…');
    const ops = mcsecOps();
    // Interleaved rounds: mcsec, then wolfSSL, ROUNDS times per operation, so both sides see the
    // same machine conditions; the medians are over all samples of each side.
    for (const [op, run] of ops) {
      if (!wanted(op)) continue;
      const ours: number[] = [];
      const theirs: number[] = [];
      const per = Math.max(3, Math.ceil(ITER / ROUNDS));
      for (let round = 0; round < ROUNDS; round++) {
        ours.push(...run(per));
        const reply = await wolf.call('bench', op, per);
        const peerSamples = reply.slice(1).map(Number);
        if (peerSamples.length !== per || peerSamples.some((x) => !Number.isFinite(x) || x <= 0)) {
          throw new Error(`wolfssl bench ${op}: bad answer`);
        }
        theirs.push(...peerSamples);
      }
      const mcsecMs = median(ours);
      const peer = median(theirs);
      const r = { op, mcsec_ms: round(mcsecMs), peer: 'wolfssl', peer_ms: round(peer), ratio: round(mcsecMs / peer) };
      results.push(r);
      log(`${op.padEnd(28)} mcsec ${r.mcsec_ms.toFixed(3).padStart(9)} ms  wolfssl ${r.peer_ms.toFixed(3).padStart(9)} ms  ratio ${r.ratio.toFixed(3)}`);
    }
    for (const [op, { ours: run, bare }] of wanted('mikey') ? await mikeyOps() : []) {
      if (!wanted(op)) continue;
      // The codec's overhead is a few per cent of the crypto it calls, under the noise of a busy
      // machine: one sample of each side in turn, MIKEY_SAMPLES of each (the warm-up ones dropped).
      const ours: number[] = [];
      const theirs: number[] = [];
      await run(3);
      bare(3);
      for (let i = 0; i < MIKEY_SAMPLES; i++) {
        ours.push(...(await run(1)));
        theirs.push(...bare(1));
      }
      const mcsecMs = median(ours);
      const peer = median(theirs);
      const r = { op, mcsec_ms: round(mcsecMs), peer: 'mcsec-crypto', peer_ms: round(peer), ratio: round(mcsecMs / peer) };
      results.push(r);
      log(`${op.padEnd(28)} mcsec ${r.mcsec_ms.toFixed(3).padStart(9)} ms  bare crypto ${r.peer_ms.toFixed(3).padStart(9)} ms  ratio ${r.ratio.toFixed(3)}`);
    }
  } finally {
    await wolf.close();
  }
  if (wanted('srtp')) results.push(...(await benchSrtp({ iterations: ITER, rounds: ROUNDS, log })));
  if (!process.argv.includes('--skip-mcx') && (wanted('sip') || wanted('xml') || wanted('mcx'))) results.push(...(await benchMcx({ log })));
  if (!process.argv.includes('--skip-gms') && wanted('gms')) results.push(...(await benchGms(log)));
  if (!process.argv.includes('--skip-kms') && wanted('kms')) results.push(...(await kmsBench(log)));
  if (json) {
    process.stdout.write(JSON.stringify({ results }) + '\n');
  } else {
    const head = ['op', 'mcsec_ms', 'peer', 'peer_ms', 'ratio'];
    const rows = results.map((r) => [r.op, r.mcsec_ms.toFixed(4), r.peer, r.peer_ms.toFixed(4), r.ratio.toFixed(3)]);
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
    const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
    process.stdout.write([line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n');
  }
}

const round = (x: number): number => Math.round(x * 10000) / 10000;

await main();
