/**
 * MCX signalling in `npm run bench` (TS 33.180 §9.3): one typical protected MESSAGE, a client's
 * mcptt-info (access token, request URI, calling user, called party and calling group encrypted
 * per the MCPTT_INFO_POLICY, 5 EncryptedData) and a URI list encrypted whole, both signed (§9.3.5), in a
 * multipart/mixed body of about 5 kB.
 *
 *   sip.parse          decodeSipMessage + decodeSipBody of that MESSAGE (one sample = the mean of
 *                      a batch of 200); peer 'naive-split': TextDecoder, split on CRLF, name/value
 *                      at the first ':', body parts cut at the boundary, no checks: the least any
 *                      parser does, so the ratio is the price of the strict codec.
 *   xml.protect        protectXml of the mcptt-info (F.1.4 key derivation included); peer xmlsec1:
 *   xml.unprotect      unprotectXml of it;                                   (see below)
 *   mcx.message_loopback  a protected MESSAGE through the server: client → TCP loopback → the MCX
 *                      server's SIP glue, transaction, registration lookup, CSK snapshot from the
 *                      store, signature check, decryption, 200 back. Client and server share one
 *                      Node process, so the figure is for 1 core with the client's SIP work
 *                      included (messages are protected before timing); 8 in flight. mcsec_ms is
 *                      wall time per message (msgs/s = 1000 / mcsec_ms); peer 'mcsec-xml' is
 *                      openSipXmlBodies of the same message in-process (the crypto and XML work a
 *                      server cannot avoid), so the ratio is SIP, transport and store overhead.
 *
 * xmlsec1 as a peer: its CLI takes many files in one run and reads the key once, so the time of
 * one operation is (T(n files) − T(1 file)) / (n − 1), process start and key loading cancelled
 * out. One xmlsec1 run encrypts or decrypts one EncryptedData (it re-reads the data document each
 * time), so the per-document figure is the sum over the 5 elements (encrypt: each element's node
 * name in its own batch; decrypt: the protected document, first EncryptedData, × 5). xmlsec1 is
 * given the derived 128-bit key; our figures include deriving it. A missing xmlsec1 is an error.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveXmlKey } from '../src/crypto/index.js';
import { MemoryReplayCache } from '../src/formats/mikey/index.js';
import { ContentType, decodeSipBody, decodeSipMessage, encodeSipMessage, type SipRequest } from '../src/formats/sip/index.js';
import { MCPTT_INFO_POLICY, MemoryXpkResolver, encodeXpkId, openSipXmlBodies, protectXml, unprotectXml, type SipXmlBodyInput } from '../src/formats/xmlenc/index.js';
import { McxMessaging, McxServerService, mcxServerConfig, serveMcxSip } from '../src/functions/mcx-server/index.js';
import { McxClientKeys } from '../src/client/mcx-client-keys.js';
import { McxClientSignalling } from '../src/client/mcx-signalling.js';
import { listenSip } from '../src/transport/sip/index.js';
import { MDSI, mcxWorld } from '../test/helpers/mcx.js';

/** One benchmark line, as bench/main.ts prints and serialises it. */
export interface McxBenchResult {
  readonly op: string;
  readonly mcsec_ms: number;
  readonly peer: string;
  readonly peer_ms: number;
  readonly ratio: number;
}

const ALICE = 'sip:alice@mcx.test';
const BOB = 'sip:bob@mcx.test';
const INFO_NS = 'urn:3gpp:ns:mcpttInfo:1.0';
/** The elements of the typical body that the policy encrypts. */
const ENCRYPTED = ['mcptt-access-token', 'mcptt-request-uri', 'mcptt-calling-user-id', 'mcptt-called-party-id', 'mcptt-calling-group-id'] as const;
const INFO = `<?xml version="1.0" encoding="UTF-8"?>
<mcpttinfo xmlns="${INFO_NS}"><mcptt-Params><mcptt-access-token><mcpttString>eyJhbGciOiJFUzI1NiIsImtpZCI6ImlkbXMtMSJ9.eyJpc3MiOiJodHRwczovL2lkbXMubWN4LmJlbmNoIiwic3ViIjoiYWxpY2UiLCJhdWQiOiJtY3B0dCIsIm1jcHR0X2lkIjoic2lwOmFsaWNlQG1jeC5iZW5jaCIsInNjb3BlIjoiM2dwcDptY3B0dDpwdHRfc2VydmVyIiwiZXhwIjoxODAwMDAwMDAwfQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1zaXh0eS1mb3VyLW9jdGV0cy1sb25nLWVub3VnaA</mcpttString></mcptt-access-token><mcptt-request-uri type="Normal"><mcpttURI>${BOB}</mcpttURI></mcptt-request-uri><mcptt-calling-user-id><mcpttURI>${ALICE}</mcpttURI></mcptt-calling-user-id><mcptt-called-party-id><mcpttURI>${BOB}</mcpttURI></mcptt-called-party-id><mcptt-calling-group-id><mcpttURI>sip:fire-crew-7@mcx.test</mcpttURI></mcptt-calling-group-id><emergency-ind><mcpttBoolean>false</mcpttBoolean></emergency-ind></mcptt-Params></mcpttinfo>
`;
const LISTS = `<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list><entry uri="${BOB}"/><entry uri="sip:carol@mcx.test"/></list></resource-lists>
`;
const BODIES: readonly SipXmlBodyInput[] = [
  { contentType: ContentType.MCPTT_INFO, xml: INFO, policy: MCPTT_INFO_POLICY },
  { contentType: ContentType.RESOURCE_LISTS, xml: LISTS, wholeDocument: { messageType: 'MCPTT private call request' } },
];

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
const round = (x: number): number => Math.round(x * 1e4) / 1e4;
const ms = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e6;
const result = (op: string, m: number, peer: string, p: number): McxBenchResult => ({ op, mcsec_ms: round(m), peer, peer_ms: round(p), ratio: Math.round((m / p) * 1000) / 1000 });

/** `n` samples, each the mean ms of `batch` calls of `f`, after one warm-up sample. */
function batched(n: number, batch: number, f: () => void): number[] {
  const out: number[] = [];
  for (let k = -1; k < n; k++) {
    const t = process.hrtime.bigint();
    for (let b = 0; b < batch; b++) f();
    if (k >= 0) out.push(ms(t) / batch);
  }
  return out;
}

/** The naive split a parser cannot do less than (see the module comment). */
function naiveSplit(bytes: Uint8Array): number {
  const text = new TextDecoder().decode(bytes);
  const end = text.indexOf('\r\n\r\n');
  const fields = text.slice(0, end).split('\r\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]);
  const ct = fields.find((f) => f[0]?.toLowerCase() === 'content-type')?.[1] ?? '';
  const boundary = /boundary=([^;]+)/.exec(ct)?.[1] ?? '';
  return fields.length + text.slice(end + 4).split(`--${boundary}`).length;
}

/** xmlsec1's ms per operation: (T(n) − T(1)) / (n − 1), the median of `rounds` pairs. */
function xmlsecPerOp(args: readonly string[], file: string, n: number): number {
  const run = (count: number): number => {
    const t = process.hrtime.bigint();
    try {
      execFileSync('xmlsec1', [...args, ...Array.from({ length: count }, () => file)], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 30 });
    } catch (e) {
      const err = e as { code?: string; stderr?: Buffer };
      if (err.code === 'ENOENT') throw new Error('bench: xmlsec1 is not installed (apt-get install -y xmlsec1)');
      throw new Error(`bench: xmlsec1 ${args[0] ?? ''} failed: ${String(err.stderr ?? '')}`);
    }
    return ms(t);
  };
  return (run(n) - run(1)) / (n - 1);
}

/** Runs the MCX signalling benchmarks (see the module comment). */
export async function benchMcx(o: { readonly rounds?: number; readonly log?: (line: string) => void } = {}): Promise<McxBenchResult[]> {
  const rounds = o.rounds ?? 5;
  const log = o.log ?? ((): void => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'mcsec-bench-mcx-'));
  const world = await mcxWorld({ dir });
  const results: McxBenchResult[] = [];
  const closers: (() => Promise<void> | void)[] = [];
  try {
    // The server, and Alice registered with a CSK upload over TCP.
    const service = new McxServerService({ config: mcxServerConfig({ mdsi: MDSI }), keys: world.serverKeys, store: world.mcxStore, replayCache: new MemoryReplayCache() });
    await service.prepare({ warm: true });
    const messaging = new McxMessaging({ service });
    const server = await listenSip({ tcp: {} }, { transactionTimeoutMs: 30_000 });
    closers.push(() => server.close());
    let delivered = 0;
    closers.push(serveMcxSip(server, service, { messaging, onMessage: () => void (delivered += 1) }));
    const sip = await listenSip({ tcp: {} }, { transactionTimeoutMs: 30_000 });
    closers.push(() => sip.close());
    const port = sip.address('tcp')?.port ?? 0;
    const dest = { transport: 'tcp' as const, host: '127.0.0.1', port: server.address('tcp')?.port ?? 0 };
    const keys = new McxClientKeys({ user: await world.userKeysOf(ALICE), server: { mdsi: MDSI } });
    const via = { transport: 'tcp', host: '127.0.0.1', port };
    const reg = await sip.request(keys.registerRequest({ via, contact: `sip:alice@127.0.0.1:${port};transport=tcp`, instance: '<urn:uuid:00000000-0000-4000-8000-00000000b001>' }), dest);
    if (reg.status !== 200 || !keys.confirmCsk(reg)) throw new Error(`bench: REGISTER got ${reg.status}`);
    const csk = keys.csk;
    if (csk === undefined) throw new Error('bench: no CSK');
    const client = new McxClientSignalling({ keys });
    const message = (): SipRequest => client.messageRequest({ via, to: BOB, bodies: BODIES });
    const sample = encodeSipMessage(message());
    log(`mcx: a typical protected MESSAGE is ${sample.length} octets`);

    // sip.parse
    {
      const mine: number[] = [];
      const theirs: number[] = [];
      for (let r = 0; r < rounds; r++) {
        mine.push(...batched(6, 200, () => void decodeSipBody(decodeSipMessage(sample))));
        theirs.push(...batched(6, 200, () => void naiveSplit(sample)));
      }
      const m = median(mine);
      results.push(result('sip.parse', m, 'naive-split', median(theirs)));
      log(`sip.parse                    mcsec ${m.toFixed(4)} ms (${Math.round(1000 / m)} msgs/s)  naive split ${median(theirs).toFixed(4)} ms`);
    }

    // xml.protect / xml.unprotect against xmlsec1
    {
      const sender = { xpk: csk.key, xpkId: csk.keyId, purpose: 'CSK' as const, mcServiceUserId: ALICE };
      const receiver = { resolver: new MemoryXpkResolver([[csk.keyId, { key: csk.key, purpose: 'CSK' as const }]]), accept: ['CSK' as const], mcServiceUserId: ALICE, now: () => new Date() };
      const protectedInfo = protectXml(INFO, { key: sender, policy: MCPTT_INFO_POLICY });
      if ((protectedInfo.match(/<xenc:EncryptedData /g) ?? []).length !== ENCRYPTED.length) throw new Error('bench: the typical body should hold one EncryptedData per policy element');
      const name = encodeXpkId(csk.keyId);
      const keyFile = join(dir, 'conf.bin');
      writeFileSync(keyFile, deriveXmlKey(csk.key, 'confidentiality', ALICE, csk.keyId));
      const data = join(dir, 'info.xml');
      writeFileSync(data, INFO);
      const enc = join(dir, 'info-protected.xml');
      writeFileSync(enc, protectedInfo);
      const template = join(dir, 'template.xml');
      writeFileSync(template, `<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Content"><xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes128-gcm"/><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:KeyName>${name}</ds:KeyName></ds:KeyInfo><xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedData>`);
      const N = 1001;
      const pm: number[] = [];
      const pp: number[] = [];
      const um: number[] = [];
      const up: number[] = [];
      for (let r = 0; r < rounds; r++) {
        pm.push(...batched(6, 50, () => void protectXml(INFO, { key: sender, policy: MCPTT_INFO_POLICY })));
        pp.push(ENCRYPTED.reduce((sum, el) => sum + xmlsecPerOp(['encrypt', `--aeskey:${name}`, keyFile, '--xml-data', data, '--node-name', `${INFO_NS}:${el}`], template, N), 0));
        um.push(...batched(6, 50, () => void unprotectXml(protectedInfo, { keys: receiver, required: MCPTT_INFO_POLICY })));
        up.push(ENCRYPTED.length * xmlsecPerOp(['decrypt', `--aeskey:${name}`, keyFile], enc, N));
        log(`mcx: xml round ${r + 1}/${rounds}`);
      }
      for (const [op, m, p] of [
        ['xml.protect', median(pm), median(pp)],
        ['xml.unprotect', median(um), median(up)],
      ] as const) {
        results.push(result(op, m, 'xmlsec1', p));
        log(`${op.padEnd(28)} mcsec ${m.toFixed(4)} ms  xmlsec1 ${p.toFixed(4)} ms (${ENCRYPTED.length} EncryptedData)  ratio ${(m / p).toFixed(3)}`);
      }
    }

    // mcx.message_loopback
    {
      const COUNT = 400;
      const IN_FLIGHT = 8;
      const resolver = await service.resolver.snapshot({ userUri: ALICE });
      const mine: number[] = [];
      const theirs: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const batch = Array.from({ length: COUNT }, message);
        const before = delivered;
        const t = process.hrtime.bigint();
        let next = 0;
        const lane = async (): Promise<void> => {
          for (let i = next++; i < COUNT; i = next++) {
            const res = await sip.request(batch[i] as SipRequest, dest);
            if (res.status !== 200) throw new Error(`bench: MESSAGE got ${res.status}`);
          }
        };
        await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
        mine.push(ms(t) / COUNT);
        if (delivered - before !== COUNT) throw new Error(`bench: ${delivered - before} delivered, not ${COUNT}`);
        const parts = decodeSipBody(batch[0] as SipRequest);
        theirs.push(...batched(3, 50, () => void openSipXmlBodies(parts, { keys: { resolver, accept: ['CSK'], mcServiceUserId: ALICE, now: () => new Date() }, integrity: 'required', required: { [ContentType.MCPTT_INFO]: MCPTT_INFO_POLICY } })));
        log(`mcx: loopback round ${r + 1}/${rounds}: ${Math.round(1000 / (mine.at(-1) ?? 1))} msgs/s`);
      }
      const m = median(mine);
      results.push(result('mcx.message_loopback', m, 'mcsec-xml', median(theirs)));
      log(`mcx.message_loopback         mcsec ${m.toFixed(4)} ms (${Math.round(1000 / m)} msgs/s, 1 core, TCP)  open bodies only ${median(theirs).toFixed(4)} ms`);
    }
    return results;
  } finally {
    for (const c of closers.reverse()) await c();
    await world.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
