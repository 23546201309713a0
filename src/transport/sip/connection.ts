/**
 * One SIP stream connection (TCP or TLS socket, RFC 3261 §18.3): octets go through a
 * SipStreamFramer; keep-alive pings are answered with a CRLF pong (RFC 5626 §4.4.1); an idle
 * connection is closed after `idleTimeoutMs`; a framing error is reported and the connection
 * dropped, since the stream cannot be resynchronised.
 */
import type { Socket } from 'node:net';
import { ErrorCode, McsecError } from '../../errors/index.js';
import type { SipLimits, SipMessage } from '../../formats/sip/index.js';
import { SipStreamFramer } from './stream-framer.js';
import { plainAddress, type SipHostPort } from './via-routing.js';

/** The stream transports. */
export type SipStreamTransport = 'tcp' | 'tls';

/** What a connection reports to its owner. */
export interface SipConnectionHooks {
  readonly message: (m: SipMessage, c: SipConnection) => void;
  readonly error: (err: McsecError, c: SipConnection) => void;
  readonly close: (c: SipConnection) => void;
}

const PONG = Uint8Array.of(0x0d, 0x0a);

/** A framed SIP connection over a connected socket. */
export class SipConnection {
  readonly transport: SipStreamTransport;
  readonly remote: SipHostPort;
  readonly local: SipHostPort;
  readonly #socket: Socket;
  readonly #framer: SipStreamFramer;
  #closed = false;

  constructor(socket: Socket, transport: SipStreamTransport, opts: { limits: SipLimits; idleTimeoutMs: number }, hooks: SipConnectionHooks) {
    this.#socket = socket;
    this.transport = transport;
    this.remote = Object.freeze({ address: plainAddress(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 });
    this.local = Object.freeze({ address: plainAddress(socket.localAddress ?? ''), port: socket.localPort ?? 0 });
    this.#framer = new SipStreamFramer(opts.limits);
    socket.setNoDelay(true);
    socket.setTimeout(opts.idleTimeoutMs, () => this.close());
    socket.on('data', (chunk: Buffer) => {
      if (this.#closed) return;
      for (const f of this.#framer.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))) {
        if (this.#closed) return;
        if (f.type === 'ping') socket.write(PONG);
        else if (f.type === 'message') hooks.message(f.message, this);
        else {
          hooks.error(f.error, this);
          this.close();
        }
      }
    });
    socket.on('error', () => this.close());
    socket.on('close', () => {
      this.#closed = true;
      hooks.close(this);
    });
  }

  /** True once the socket is closing or closed. */
  get closed(): boolean {
    return this.#closed || this.#socket.destroyed;
  }

  /** Writes one encoded message; rejects with ERR_IO when the connection is gone. */
  send(bytes: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(ioError(this.transport, 'the connection is closed'));
    return new Promise((resolve, reject) => {
      this.#socket.write(bytes, (err) => (err ? reject(ioError(this.transport, 'the write failed')) : resolve()));
    });
  }

  /** Destroys the socket. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
  }
}

/** An McsecError for a failed socket operation. */
export function ioError(transport: string, rule: string): McsecError {
  return new McsecError(ErrorCode.IO, { field: `sip.transport.${transport}`, rule, clause: 'RFC 3261 §18' });
}
