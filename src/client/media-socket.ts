/**
 * RTP and RTCP of one media session on a UDP socket (node:dgram), multiplexed on one port
 * (RFC 5761). Outgoing packets are protected by the session and sent to one or more peers (a
 * group call on unicast sends the same SRTP packet to every member, as multicast would deliver
 * it); every datagram received goes to `session.receive`, whose receipt (opened packet, or drop
 * reason) is handed to `onPacket`. The receive path never throws: the session counts a refused
 * packet, and an exception of `onPacket` or a socket error is counted here and goes no further.
 * A socket may be opened before its session exists (a callee answers the SDP offer with its
 * port, then makes the session): datagrams before `attach` are counted as unattached and dropped.
 */
import dgram from 'node:dgram';
import { ErrorCode, McsecError } from '../errors/index.js';
import type { MediaReceipt, MediaSession } from './media-session.js';

/** A peer's media address. */
export interface MediaPeer {
  readonly address: string;
  readonly port: number;
}

export interface MediaSocketOptions {
  /** The session whose packets these are (or `attach` it later). */
  readonly session?: MediaSession;
  /** Address to bind (default 127.0.0.1) and port (default 0: any). */
  readonly host?: string;
  readonly port?: number;
  /** Each received datagram's receipt and where it came from. */
  readonly onPacket?: (receipt: MediaReceipt, from: MediaPeer) => void;
}

/** A session's UDP socket. */
export class MediaSocket {
  readonly #socket: dgram.Socket;
  #session: MediaSession | undefined;
  #listenerErrors = 0;
  #socketErrors = 0;
  #unattached = 0;

  private constructor(socket: dgram.Socket, session: MediaSession | undefined) {
    this.#socket = socket;
    this.#session = session;
  }

  /** Binds a socket (for `o.session`, or one attached later) and starts receiving. */
  static async open(o: MediaSocketOptions = {}): Promise<MediaSocket> {
    const host = o.host ?? '127.0.0.1';
    const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const ms = new MediaSocket(socket, o.session);
    socket.on('error', () => void ms.#socketErrors++);
    socket.on('message', (msg, rinfo) => {
      const session = ms.#session;
      if (session === undefined) {
        ms.#unattached++;
        return;
      }
      const receipt = session.receive(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength).slice());
      if (o.onPacket === undefined) return;
      try {
        o.onPacket(receipt, { address: rinfo.address, port: rinfo.port });
      } catch {
        ms.#listenerErrors++;
      }
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(o.port ?? 0, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return ms;
  }

  /** The session packets go to and come from. */
  get session(): MediaSession {
    if (this.#session === undefined) throw new McsecError(ErrorCode.CONFIG, { field: 'media.socket.session', rule: 'no session is attached yet' });
    return this.#session;
  }

  /** Gives the socket its session (once). */
  attach(session: MediaSession): void {
    if (this.#session !== undefined) throw new McsecError(ErrorCode.CONFIG, { field: 'media.socket.session', rule: 'a session is attached already' });
    this.#session = session;
  }

  /** Where this socket receives. */
  get local(): MediaPeer {
    const a = this.#socket.address();
    return { address: a.address, port: a.port };
  }

  /** Exceptions of `onPacket`, socket errors and datagrams before a session was attached. */
  get errors(): { readonly listener: number; readonly socket: number; readonly unattached: number } {
    return Object.freeze({ listener: this.#listenerErrors, socket: this.#socketErrors, unattached: this.#unattached });
  }

  /** Protects an RTP packet once and sends it to each peer; resolves with the SRTP packet. */
  async sendRtp(packet: Uint8Array, to: MediaPeer | readonly MediaPeer[]): Promise<Uint8Array> {
    const srtp = this.session.protectRtp(packet);
    await this.sendRaw(srtp, to);
    return srtp;
  }

  /** Protects an RTCP packet once and sends it to each peer; resolves with the SRTCP packet. */
  async sendRtcp(packet: Uint8Array, to: MediaPeer | readonly MediaPeer[]): Promise<Uint8Array> {
    const srtcp = this.session.protectRtcp(packet);
    await this.sendRaw(srtcp, to);
    return srtcp;
  }

  /** Sends bytes as they are (already protected, or a test's crafted packet). */
  async sendRaw(bytes: Uint8Array, to: MediaPeer | readonly MediaPeer[]): Promise<void> {
    const peers: readonly MediaPeer[] = 'address' in to ? [to] : to;
    for (const p of peers) {
      await new Promise<void>((resolve, reject) => {
        this.#socket.send(bytes, p.port, p.address, (err) => {
          if (err === null) resolve();
          else reject(new McsecError(ErrorCode.IO, { field: 'media.socket', rule: `could not send to ${p.address}:${p.port}` }));
        });
      });
    }
  }

  /** Closes the socket. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
