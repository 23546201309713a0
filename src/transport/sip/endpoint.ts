/**
 * A SIP endpoint over UDP, TCP and TLS (RFC 3261 §18): listens, decodes what arrives (datagram
 * rules on UDP, SipStreamFramer on streams), stamps received / rport on requests (§18.2.1,
 * RFC 3581 §4) and emits `request` or `response`; `respond` sends a response back on the transport
 * the request came in on (the same connection on TCP/TLS, §18.2.2; on UDP from the same socket to
 * the Via address). `send` and `request` are the client side: `request` matches the final response
 * by top-Via branch and CSeq method (§17.1.3) and retransmits on UDP (Timer A/E: T1 doubling up to
 * T2, stopped by any response). It is a transport with a minimal client transaction, not a full
 * transaction layer: server transactions (retransmitted requests, 2xx retransmission) are the
 * caller's. Malformed input never throws out of a socket handler: it is a `protocolError` event
 * (and, on a stream, the connection is dropped).
 */
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { ErrorCode, McsecError } from '../../errors/index.js';
import {
  cseqOf,
  decodeSipMessage,
  encodeSipMessage,
  paramValue,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '../../formats/sip/index.js';
import { resolveAddress, resolveOptions, tlsContext, type SipEndpointOptions, type SipListenOptions, type SipResolvedOptions } from './config.js';
import { SipConnection, ioError, type SipStreamTransport } from './connection.js';
import { plainAddress, responseTarget, stampReceived, topVia, type SipHostPort } from './via-routing.js';

/** The transports. */
export type SipTransport = 'udp' | 'tcp' | 'tls';

/** A remote party and the transport it is reached on. */
export interface SipPeer extends SipHostPort {
  readonly transport: SipTransport;
}

/** Where `send` and `request` deliver a message. */
export interface SipDestination {
  readonly transport: SipTransport;
  readonly host: string;
  readonly port: number;
  /** TLS server name to verify (default: host when it is a name). */
  readonly servername?: string;
}

/** Where a received message came from, and how to answer it. */
export interface SipInbound {
  readonly transport: SipTransport;
  readonly remote: SipHostPort;
  readonly local: SipHostPort;
  /** Sends a response back on the transport the message came in on (RFC 3261 §18.2.2). */
  respond(res: SipResponse): Promise<void>;
}

/** The events an endpoint emits. */
export interface SipEndpointEvents {
  request: [req: SipRequest, from: SipInbound];
  response: [res: SipResponse, from: SipInbound];
  protocolError: [err: McsecError, peer: SipPeer];
}

/** The bound addresses, per transport listened on. */
export interface SipAddresses {
  readonly udp?: SipHostPort;
  readonly tcp?: SipHostPort;
  readonly tls?: SipHostPort;
}

interface Pending {
  readonly resolve: (r: SipResponse) => void;
  readonly reject: (e: McsecError) => void;
  readonly stop: () => void;
  stopRetransmit: () => void;
}

const T1 = 500;
const T2 = 4000;
const isCrlfOnly = (b: Uint8Array): boolean => b.every((x) => x === 0x0d || x === 0x0a);
const keyOf = (t: SipTransport, host: string, port: number): string => `${t}|${plainAddress(host).toLowerCase()}|${port}`;
const asUint8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/** A SIP endpoint: server (listen, on request, respond) and client (send, request). */
export class SipEndpoint extends EventEmitter<SipEndpointEvents> {
  readonly options: SipResolvedOptions;
  #udp: dgram.Socket | undefined;
  readonly #udpOut = new Map<string, dgram.Socket>();
  #tcp: net.Server | undefined;
  #tls: tls.Server | undefined;
  readonly #conns = new Map<string, SipConnection>();
  readonly #connecting = new Map<string, Promise<SipConnection>>();
  readonly #pending = new Map<string, Pending>();
  #open = 0;
  #closed = false;

  constructor(options: SipEndpointOptions = {}) {
    super();
    this.options = resolveOptions(options);
  }

  /** Open TCP/TLS connections (inbound and outbound). */
  get connectionCount(): number {
    return this.#open;
  }

  /** Starts listening on the given transports; resolves with the bound addresses. */
  async listen(l: SipListenOptions): Promise<SipAddresses> {
    try {
      return await this.#listen(l);
    } catch (err) {
      if (err instanceof McsecError) throw err;
      const code = err instanceof Error && 'code' in err ? String(err.code) : 'failed';
      throw ioError('listen', `could not listen (${code})`);
    }
  }

  async #listen(l: SipListenOptions): Promise<SipAddresses> {
    const out: { udp?: SipHostPort; tcp?: SipHostPort; tls?: SipHostPort } = {};
    if (l.udp !== undefined) {
      const { host, port } = resolveAddress(l.udp, 'sip.listen.udp');
      this.#udp = await this.#bindUdp(host, port);
      out.udp = this.address('udp');
    }
    if (l.tcp !== undefined) {
      const { host, port } = resolveAddress(l.tcp, 'sip.listen.tcp');
      const server = net.createServer((socket) => {
        if (this.#admit(socket, 'tcp')) this.#adopt(socket, 'tcp');
      });
      this.#tcp = await listenOn(server, host, port);
      out.tcp = this.address('tcp');
    }
    if (l.tls !== undefined) {
      const { host, port } = resolveAddress(l.tls, 'sip.listen.tls');
      const server = tls.createServer({ ...tlsContext(l.tls), handshakeTimeout: this.options.idleTimeoutMs }, (socket) => {
        if (!socket.destroyed) this.#adopt(socket, 'tls');
      });
      server.on('connection', (raw: net.Socket) => {
        this.#admit(raw, 'tls');
      });
      server.on('tlsClientError', (_err, socket) => {
        this.#report(ioError('tls', 'the TLS handshake failed'), 'tls', peerOf(socket));
      });
      this.#tls = await listenOn(server, host, port);
      out.tls = this.address('tls');
    }
    return Object.freeze(out);
  }

  /** The bound address of a transport, or undefined when not listening on it. */
  address(t: SipTransport): SipHostPort | undefined {
    const a = t === 'udp' ? this.#udp?.address() : (t === 'tcp' ? this.#tcp : this.#tls)?.address();
    if (a === undefined || a === null || typeof a === 'string') return undefined;
    return Object.freeze({ address: a.address, port: a.port });
  }

  /** Sends a message (the client side; responses to received requests use SipInbound.respond). */
  async send(m: SipMessage, to: SipDestination): Promise<void> {
    const bytes = encodeSipMessage(m, { limits: this.options.limits });
    if (to.transport === 'udp') {
      await sendDatagram(await this.#udpFor(to.host), bytes, { address: to.host, port: to.port });
      return;
    }
    const c = await this.#connection(to);
    await c.send(bytes);
  }

  /**
   * Sends a request and resolves with its final response (provisional ones are emitted as
   * `response` events only). Not for ACK, which has no response: use send().
   */
  request(req: SipRequest, to: SipDestination): Promise<SipResponse> {
    const key = transactionKey(req);
    if (this.#pending.has(key)) {
      return Promise.reject(new McsecError(ErrorCode.BAD_VALUE, { field: 'sip.headers.Via', rule: 'branch already has a pending request', clause: 'RFC 3261 §17.1.3' }));
    }
    return new Promise<SipResponse>((resolve, reject) => {
      let retransmit: NodeJS.Timeout | undefined;
      const timeout = setTimeout(() => {
        p.stop();
        reject(ioError(to.transport, `no final response within ${this.options.transactionTimeoutMs} ms (Timer B/F, RFC 3261 §17.1)`));
      }, this.options.transactionTimeoutMs);
      const p: Pending = {
        resolve,
        reject,
        stop: () => {
          clearTimeout(timeout);
          p.stopRetransmit();
          this.#pending.delete(key);
        },
        stopRetransmit: () => clearTimeout(retransmit),
      };
      this.#pending.set(key, p);
      const again = (interval: number): void => {
        retransmit = setTimeout(() => {
          this.send(req, to).catch(() => undefined);
          again(Math.min(interval * 2, T2));
        }, interval);
      };
      this.send(req, to).then(
        () => {
          if (to.transport === 'udp' && this.#pending.get(key) === p) again(T1);
        },
        (err: unknown) => {
          p.stop();
          reject(err instanceof McsecError ? err : ioError(to.transport, 'the request could not be sent'));
        },
      );
    });
  }

  /** Closes listeners, connections and sockets; pending requests are rejected. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const p of [...this.#pending.values()]) {
      p.stop();
      p.reject(ioError('udp', 'the endpoint was closed'));
    }
    for (const c of new Set(this.#conns.values())) c.close();
    const waits: Promise<void>[] = [];
    for (const s of [this.#udp, ...this.#udpOut.values()]) {
      if (s !== undefined) waits.push(new Promise((r) => s.close(() => r())));
    }
    for (const s of [this.#tcp, this.#tls]) {
      if (s !== undefined) waits.push(new Promise((r) => s.close(() => r())));
    }
    this.#udp = this.#tcp = this.#tls = undefined;
    this.#udpOut.clear();
    await Promise.all(waits);
  }

  async #bindUdp(host: string, port: number): Promise<dgram.Socket> {
    const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, host, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    sock.on('error', () => this.#report(ioError('udp', 'the socket failed'), 'udp', undefined));
    sock.on('message', (msg, rinfo) => this.#onDatagram(sock, asUint8(msg), rinfo));
    return sock;
  }

  /** The UDP socket to send from: the listening one if its family fits, else an ephemeral one. */
  async #udpFor(host: string): Promise<dgram.Socket> {
    const family = net.isIPv6(host) ? 'udp6' : 'udp4';
    if (this.#udp !== undefined && this.#udp.address().family === (family === 'udp6' ? 'IPv6' : 'IPv4')) return this.#udp;
    const existing = this.#udpOut.get(family);
    if (existing !== undefined) return existing;
    const sock = await this.#bindUdp(family === 'udp6' ? '::' : '0.0.0.0', 0);
    this.#udpOut.set(family, sock);
    return sock;
  }

  #onDatagram(sock: dgram.Socket, bytes: Uint8Array, rinfo: dgram.RemoteInfo): void {
    if (this.#closed || isCrlfOnly(bytes)) return; // CRLF keep-alives carry no message
    const remote = Object.freeze({ address: plainAddress(rinfo.address), port: rinfo.port });
    const bound = sock.address();
    const ctx: SipInbound = Object.freeze({
      transport: 'udp',
      remote,
      local: Object.freeze({ address: bound.address, port: bound.port }),
      respond: async (res: SipResponse) => {
        const bytes = encodeSipMessage(res, { limits: this.options.limits });
        await sendDatagram(sock, bytes, responseTarget(topVia(res)));
      },
    });
    this.#dispatch(bytes, true, ctx);
  }

  /** Decodes (datagrams) or takes (streams) a message and emits it; errors become protocolError. */
  #dispatch(input: Uint8Array | SipMessage, datagram: boolean, ctx: SipInbound): void {
    let m: SipMessage;
    try {
      m = input instanceof Uint8Array ? decodeSipMessage(input, { limits: this.options.limits, datagram }) : input;
      if (m.kind === 'request') m = stampReceived(m, ctx.remote);
    } catch (err) {
      this.#report(err, ctx.transport, ctx.remote);
      return;
    }
    if (m.kind === 'request') {
      this.emit('request', m, ctx);
      return;
    }
    let key: string | undefined;
    try {
      key = transactionKey(m);
    } catch {
      key = undefined;
    }
    const p = key === undefined ? undefined : this.#pending.get(key);
    if (p !== undefined) {
      if (m.status >= 200) {
        p.stop();
        p.resolve(m);
      } else {
        p.stopRetransmit();
      }
    }
    this.emit('response', m, ctx);
  }

  #report(err: unknown, transport: SipTransport, where: SipHostPort | undefined): void {
    const e = err instanceof McsecError ? err : new McsecError(ErrorCode.INTERNAL, { field: `sip.transport.${transport}`, rule: 'failed unexpectedly' });
    this.emit('protocolError', e, Object.freeze({ transport, address: where?.address ?? '', port: where?.port ?? 0 }));
  }

  /** Counts an accepted socket against maxConnections; refuses (and reports) one over the cap. */
  #admit(socket: net.Socket, transport: SipStreamTransport): boolean {
    if (this.#closed || this.#open >= this.options.maxConnections) {
      this.#report(tooMany(this.options.maxConnections), transport, peerOf(socket));
      socket.destroy();
      return false;
    }
    this.#open++;
    socket.once('close', () => this.#open--);
    return true;
  }

  #adopt(socket: net.Socket, transport: SipStreamTransport): SipConnection {
    const c = new SipConnection(socket, transport, this.options, {
      message: (m, conn) => this.#dispatch(m, false, this.#streamContext(conn)),
      error: (err, conn) => this.#report(err, transport, conn.remote),
      close: (conn) => {
        for (const [k, v] of this.#conns) if (v === conn) this.#conns.delete(k);
      },
    });
    this.#conns.set(keyOf(transport, c.remote.address, c.remote.port), c);
    return c;
  }

  #streamContext(c: SipConnection): SipInbound {
    return Object.freeze({
      transport: c.transport,
      remote: c.remote,
      local: c.local,
      respond: (res: SipResponse) => c.send(encodeSipMessage(res, { limits: this.options.limits })),
    });
  }

  /** An open connection to `to`, reused when there is one (RFC 3261 §18.1.1). */
  async #connection(to: SipDestination): Promise<SipConnection> {
    const t = to.transport === 'tls' ? 'tls' : 'tcp';
    const key = keyOf(t, to.host, to.port);
    const open = this.#conns.get(key);
    if (open !== undefined && !open.closed) return open;
    const pending = this.#connecting.get(key);
    if (pending !== undefined) return pending;
    const p = this.#connect(t, to).finally(() => this.#connecting.delete(key));
    this.#connecting.set(key, p);
    const c = await p;
    this.#conns.set(key, c);
    return c;
  }

  async #connect(t: SipStreamTransport, to: SipDestination): Promise<SipConnection> {
    if (this.#closed) throw ioError(t, 'the endpoint is closed');
    if (this.#open >= this.options.maxConnections) throw tooMany(this.options.maxConnections);
    const servername = to.servername ?? (net.isIP(to.host) === 0 ? to.host : undefined);
    const socket =
      t === 'tls'
        ? tls.connect({
            host: to.host,
            port: to.port,
            ...(servername === undefined ? {} : { servername }),
            ...(this.options.tlsCa === undefined ? {} : { ca: typeof this.options.tlsCa === 'string' ? this.options.tlsCa : Buffer.from(this.options.tlsCa) }),
          })
        : net.connect({ host: to.host, port: to.port });
    this.#open++;
    socket.once('close', () => this.#open--);
    await new Promise<void>((resolve, reject) => {
      const fail = (): void => {
        socket.destroy();
        reject(ioError(t, t === 'tls' ? 'could not connect (TCP or TLS handshake failed)' : 'could not connect'));
      };
      socket.once('error', fail);
      socket.once(t === 'tls' ? 'secureConnect' : 'connect', () => {
        socket.off('error', fail);
        resolve();
      });
    });
    return this.#adopt(socket, t);
  }
}

/** Starts an endpoint listening on the given transports: `listenSip({ udp: {}, tcp: {} })`. */
export async function listenSip(l: SipListenOptions, options: SipEndpointOptions = {}): Promise<SipEndpoint> {
  const e = new SipEndpoint(options);
  try {
    await e.listen(l);
  } catch (err) {
    await e.close();
    throw err;
  }
  return e;
}

function peerOf(s: net.Socket): SipHostPort {
  return { address: plainAddress(s.remoteAddress ?? ''), port: s.remotePort ?? 0 };
}

function tooMany(max: number): McsecError {
  return new McsecError(ErrorCode.TOO_LARGE, { field: 'sip.transport.connections', rule: `must be at most ${max} open connections` });
}

/** Client transaction key: top Via branch and CSeq method (RFC 3261 §17.1.3). */
function transactionKey(m: SipMessage): string {
  const branch = paramValue(topVia(m).params, 'branch') ?? '';
  return `${branch}|${cseqOf(m).method}`;
}

function listenOn<S extends net.Server>(server: S, host: string, port: number): Promise<S> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function sendDatagram(sock: dgram.Socket, bytes: Uint8Array, to: SipHostPort): Promise<void> {
  return new Promise((resolve, reject) => {
    sock.send(bytes, to.port, to.address, (err) => (err ? reject(ioError('udp', 'the datagram could not be sent')) : resolve()));
  });
}
