/**
 * SipEndpoint on loopback sockets: UDP (received / rport, RFC 3581), TCP (connection reuse, a
 * slow sender, CRLF keep-alive, framing errors drop the connection), TLS (a self-signed
 * certificate made here with the openssl CLI), the connection cap and the idle timeout.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { McsecError } from '../../src/errors/index.js';
import {
  ContentType,
  createSipRequest,
  createSipResponse,
  decodeSipBody,
  decodeSipMessage,
  decodeVia,
  encodeSipMessage,
  findPart,
  headerValue,
  multipartBody,
  type SipRequest,
} from '../../src/formats/sip/index.js';
import { SipEndpoint, listenSip, type SipPeer } from '../../src/transport/sip/index.js';
import { utf8 } from '../../src/util/index.js';

const endpoints: SipEndpoint[] = [];
after(async () => {
  await Promise.all(endpoints.map((e) => e.close()));
});

async function server(opts: Parameters<typeof listenSip>[1] = {}, l: Parameters<typeof listenSip>[0] = { udp: {}, tcp: {} }): Promise<SipEndpoint> {
  const s = await listenSip(l, opts);
  endpoints.push(s);
  return s;
}

/** A server that answers every request but ACK with 200 (Contact added for INVITE). */
function answer(s: SipEndpoint, seen: SipRequest[] = []): SipRequest[] {
  s.on('request', (req, from) => {
    seen.push(req);
    if (req.method === 'ACK') return;
    const extra = req.method === 'INVITE' ? [{ name: 'Contact', value: '<sip:server@127.0.0.1>' }] : [];
    void from.respond(createSipResponse(req, 200, { headers: extra }));
  });
  return seen;
}

function options(transport: string, port: number, extra: { rport?: boolean; viaPort?: number } = {}): SipRequest {
  return createSipRequest({
    method: 'OPTIONS',
    uri: 'sip:server@127.0.0.1',
    from: { uri: 'sip:alice@mc.example' },
    to: { uri: 'sip:server@mc.example' },
    via: { transport, host: '127.0.0.1', port: extra.viaPort ?? port, ...(extra.rport === true ? { rport: true } : {}) },
  });
}

test('UDP: request and final response; the server stamps received and rport (RFC 3581 §4)', async () => {
  const s = await server();
  const seen = answer(s);
  const c = new SipEndpoint();
  endpoints.push(c);
  const cAddr = await c.listen({ udp: {} });
  const port = s.address('udp')?.port ?? 0;
  const res = await c.request(options('UDP', cAddr.udp?.port ?? 0, { rport: true }), { transport: 'udp', host: '127.0.0.1', port });
  assert.equal(res.status, 200);
  const via = decodeVia(headerValue(seen[0] ?? { headers: [] }, 'Via') ?? '');
  assert.deepEqual(
    via.params.map((p) => [p.name, p.value]).slice(1),
    [['rport', String(cAddr.udp?.port)], ['received', '127.0.0.1']],
  );
  assert.equal(headerValue(res, 'Via'), headerValue(seen[0] ?? { headers: [] }, 'Via'));
});

test('UDP behind a NAT: a wrong Via port is overridden by rport; without rport the Via port is used', async () => {
  const s = await server();
  answer(s);
  const c = new SipEndpoint();
  endpoints.push(c);
  await c.listen({ udp: {} });
  const port = s.address('udp')?.port ?? 0;
  const res = await c.request(options('UDP', 0, { rport: true, viaPort: 9 }), { transport: 'udp', host: '127.0.0.1', port });
  assert.equal(res.status, 200);
  // Without rport, the response goes to the Via sent-by: a raw socket there receives it.
  const raw = dgram.createSocket('udp4');
  await new Promise<void>((r) => raw.bind(0, '127.0.0.1', () => r()));
  const rawPort = raw.address().port;
  const req = options('UDP', rawPort);
  raw.send(encodeSipMessage(req), port, '127.0.0.1');
  const [msg] = (await once(raw, 'message')) as [Buffer];
  const got = decodeSipMessage(new Uint8Array(msg), { datagram: true });
  assert.equal(got.kind === 'response' && got.status, 200);
  raw.close();
});

test('UDP: a malformed datagram is a protocolError; the server keeps serving', async () => {
  const s = await server();
  answer(s);
  const errors: [McsecError, SipPeer][] = [];
  s.on('protocolError', (e, p) => errors.push([e, p]));
  const raw = dgram.createSocket('udp4');
  const port = s.address('udp')?.port ?? 0;
  raw.send(utf8('OPTIONS sip:x SIP/2.0\r\nVia: nonsense\r\n\r\n'), port, '127.0.0.1');
  raw.send(utf8('\r\n\r\n'), port, '127.0.0.1'); // keep-alive: ignored, no error
  const c = new SipEndpoint();
  endpoints.push(c);
  const res = await c.request(options('UDP', 0, { rport: true }), { transport: 'udp', host: '127.0.0.1', port });
  assert.equal(res.status, 200);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.[0].code, 'ERR_BAD_VALUE');
  assert.equal(errors[0]?.[0].field, 'sip.headers.Via');
  assert.equal(errors[0]?.[1].transport, 'udp');
  raw.close();
});

test('TCP: an MC multipart MESSAGE and a reused connection', async () => {
  const s = await server();
  const seen = answer(s);
  const c = new SipEndpoint();
  endpoints.push(c);
  const port = s.address('tcp')?.port ?? 0;
  const xml = utf8('<?xml version="1.0"?><mcpttinfo xmlns="urn:3gpp:ns:mcpttInfo:1.0"/>');
  const body = multipartBody(
    [
      { headers: [{ name: 'Content-Type', value: ContentType.MCPTT_INFO }], body: xml },
      { headers: [{ name: 'Content-Type', value: ContentType.RESOURCE_LISTS }], body: utf8('<resource-lists/>') },
    ],
    'mc-boundary',
  );
  const msg = createSipRequest({
    method: 'MESSAGE',
    uri: 'sip:server@127.0.0.1',
    from: { uri: 'sip:alice@mc.example' },
    to: { uri: 'sip:server@mc.example' },
    via: { transport: 'TCP', host: '127.0.0.1', port: 5060 },
    body,
  });
  const dest = { transport: 'tcp', host: '127.0.0.1', port } as const;
  assert.equal((await c.request(msg, dest)).status, 200);
  assert.equal((await c.request(options('TCP', 5060), dest)).status, 200);
  assert.equal(c.connectionCount, 1);
  assert.equal(s.connectionCount, 1);
  const got = seen[0];
  assert.ok(got !== undefined);
  assert.deepEqual(findPart(decodeSipBody(got), ContentType.MCPTT_INFO)?.body, xml);
});

/** Waits (event-loop turns, bounded by the test timeout) until `cond` holds. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

async function rawTcp(port: number): Promise<net.Socket> {
  const sock = net.connect({ host: '127.0.0.1', port });
  await once(sock, 'connect');
  return sock;
}

async function readMessage(sock: net.Socket): Promise<string> {
  let acc = '';
  for await (const chunk of sock) {
    acc += String(chunk);
    const end = acc.indexOf('\r\n\r\n');
    if (end >= 0) return acc;
  }
  return acc;
}

test('TCP: a sender writing one octet at a time gets its response on the same connection', async () => {
  const s = await server();
  answer(s);
  const sock = await rawTcp(s.address('tcp')?.port ?? 0);
  const bytes = utf8(`\r\n${new TextDecoder().decode(encodeSipMessage(options('TCP', 5060)))}`);
  for (const b of bytes) {
    sock.write(Uint8Array.of(b));
    await new Promise((r) => setImmediate(r));
  }
  const text = await readMessage(sock);
  assert.match(text, /^SIP\/2\.0 200 OK\r\n/);
  sock.destroy();
});

test('TCP: two requests in one write get two responses on that connection', async () => {
  const s = await server();
  answer(s);
  const sock = await rawTcp(s.address('tcp')?.port ?? 0);
  const one = encodeSipMessage(options('TCP', 5060));
  const two = encodeSipMessage(options('TCP', 5060));
  const both = new Uint8Array(one.length + two.length);
  both.set(one);
  both.set(two, one.length);
  sock.write(both);
  let acc = '';
  for await (const chunk of sock) {
    acc += String(chunk);
    if ((acc.match(/SIP\/2\.0 200 OK\r\n/g) ?? []).length === 2) break;
  }
  assert.equal((acc.match(/^SIP\/2\.0 200 OK\r\n/gm) ?? []).length, 2);
  sock.destroy();
});

test('TCP: CRLFCRLF ping gets a CRLF pong (RFC 5626 §4.4.1)', async () => {
  const s = await server();
  const sock = await rawTcp(s.address('tcp')?.port ?? 0);
  sock.write('\r\n\r\n');
  const [chunk] = (await once(sock, 'data')) as [Buffer];
  assert.equal(String(chunk), '\r\n');
  sock.destroy();
});

test('TCP: a framing error is reported and the connection dropped', async () => {
  const s = await server();
  const errors: McsecError[] = [];
  s.on('protocolError', (e) => errors.push(e));
  const sock = await rawTcp(s.address('tcp')?.port ?? 0);
  sock.on('error', () => undefined);
  sock.write('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nMax-Forwards: 70\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n');
  await once(sock, 'close');
  assert.equal(errors[0]?.code, 'ERR_BAD_VALUE');
  assert.equal(errors[0]?.field, 'sip.headers.Content-Length');
});

test('TCP: an oversized body is refused from its Content-Length, before it arrives', async () => {
  const s = await server({ limits: { maxBodyOctets: 1024 } });
  const errors: McsecError[] = [];
  s.on('protocolError', (e) => errors.push(e));
  const sock = await rawTcp(s.address('tcp')?.port ?? 0);
  sock.on('error', () => undefined);
  const head = new TextDecoder().decode(encodeSipMessage(options('TCP', 5060))).replace('Content-Length: 0', 'Content-Type: text/plain\r\nContent-Length: 100000');
  sock.write(head);
  await once(sock, 'close');
  assert.equal(errors[0]?.code, 'ERR_TOO_LARGE');
});

test('the connection cap refuses the connection over it; idle connections are closed', { timeout: 10_000 }, async () => {
  const s = await server({ maxConnections: 2, idleTimeoutMs: 300 });
  const errors: McsecError[] = [];
  s.on('protocolError', (e) => errors.push(e));
  const port = s.address('tcp')?.port ?? 0;
  const a = await rawTcp(port);
  const b = await rawTcp(port);
  const third = await rawTcp(port);
  third.on('error', () => undefined);
  await once(third, 'close');
  assert.equal(errors[0]?.code, 'ERR_TOO_LARGE');
  assert.equal(errors[0]?.field, 'sip.transport.connections');
  // the idle timeout closes the two admitted ones without any traffic
  await Promise.all([once(a, 'close'), once(b, 'close')]);
  await until(() => s.connectionCount === 0);
});

test('a request with no answer rejects with ERR_IO after the transaction timeout', async () => {
  const s = await server();
  const c = new SipEndpoint({ transactionTimeoutMs: 300 });
  endpoints.push(c);
  await assert.rejects(c.request(options('UDP', 0, { rport: true }), { transport: 'udp', host: '127.0.0.1', port: s.address('udp')?.port ?? 0 }), {
    code: 'ERR_IO',
  });
});

test('TLS: a self-signed certificate made with openssl, trusted by the client', { timeout: 20_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcsec-sip-tls-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } catch (err) {
    throw new Error(`openssl is needed to make the test certificate: ${String(err)}`);
  }
  const key = readFileSync(join(dir, 'key.pem'), 'utf8');
  const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  rmSync(dir, { recursive: true, force: true });
  const s = await server({}, { tls: { key, cert } });
  answer(s);
  const port = s.address('tls')?.port ?? 0;
  const c = new SipEndpoint({ tlsCa: cert });
  endpoints.push(c);
  const res = await c.request(options('TLS', 5061), { transport: 'tls', host: '127.0.0.1', port });
  assert.equal(res.status, 200);
  const res2 = await c.request(options('TLS', 5061), { transport: 'tls', host: 'localhost', port });
  assert.equal(res2.status, 200);
  // An untrusting client fails the handshake: typed ERR_IO, and the server reports it too.
  const errors: McsecError[] = [];
  s.on('protocolError', (e) => errors.push(e));
  const untrusting = new SipEndpoint();
  endpoints.push(untrusting);
  await assert.rejects(untrusting.request(options('TLS', 5061), { transport: 'tls', host: '127.0.0.1', port }), { code: 'ERR_IO' });
  await until(() => errors.length > 0);
  assert.equal(errors[0]?.code, 'ERR_IO');
  assert.equal(errors[0]?.field, 'sip.transport.tls');
});
