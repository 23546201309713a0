/**
 * SIP endpoint configuration, validated once (STYLE.md §8): where to listen (UDP, TCP, TLS), the
 * message limits, the connection cap, the idle timeout, outbound TLS trust and the client
 * transaction timer. Errors name the config path (`sip.listen.tls.cert`).
 */
import type { SecureContextOptions } from 'node:tls';
import { ConfigError, ErrorCode } from '../../errors/index.js';
import { sipLimits, type SipLimits } from '../../formats/sip/index.js';

/** A listening address; port 0 picks a free port. Host defaults to 127.0.0.1 (loopback only). */
export interface SipListenAddress {
  readonly host?: string;
  readonly port?: number;
}

/** TLS listener: key and certificate chain (PEM), optionally CA and client certificates. */
export interface SipTlsListen extends SipListenAddress {
  readonly key: string | Uint8Array;
  readonly cert: string | Uint8Array;
  readonly ca?: string | Uint8Array | undefined;
  readonly requestCert?: boolean | undefined;
}

/** Which transports to listen on. */
export interface SipListenOptions {
  readonly udp?: SipListenAddress;
  readonly tcp?: SipListenAddress;
  readonly tls?: SipTlsListen;
}

/** Endpoint options; all optional. */
export interface SipEndpointOptions {
  readonly limits?: Partial<SipLimits>;
  /** Open TCP and TLS connections, inbound and outbound together (default 256). */
  readonly maxConnections?: number;
  /** A connection with no traffic for this long is closed (default 120 000 ms). */
  readonly idleTimeoutMs?: number;
  /** Trust for outbound TLS: CA certificates (PEM); `rejectUnauthorized` stays true. */
  readonly tlsCa?: string | Uint8Array;
  /** How long request() waits for a final response (default 32 000 ms = 64·T1, RFC 3261 §17.1.1.2). */
  readonly transactionTimeoutMs?: number;
}

/** Options after validation, with defaults. */
export interface SipResolvedOptions {
  readonly limits: SipLimits;
  readonly maxConnections: number;
  readonly idleTimeoutMs: number;
  readonly tlsCa: string | Uint8Array | undefined;
  readonly transactionTimeoutMs: number;
}

function positive(v: number | undefined, dflt: number, field: string): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < 1) throw new ConfigError(ErrorCode.CONFIG, { field, rule: 'must be a positive integer' });
  return v;
}

/** Validates endpoint options. */
export function resolveOptions(o: SipEndpointOptions = {}): SipResolvedOptions {
  return Object.freeze({
    limits: sipLimits(o.limits),
    maxConnections: positive(o.maxConnections, 256, 'sip.maxConnections'),
    idleTimeoutMs: positive(o.idleTimeoutMs, 120_000, 'sip.idleTimeoutMs'),
    tlsCa: o.tlsCa,
    transactionTimeoutMs: positive(o.transactionTimeoutMs, 32_000, 'sip.transactionTimeoutMs'),
  });
}

/** Validates a listen address; returns host and port with defaults. */
export function resolveAddress(a: SipListenAddress, field: string): { host: string; port: number } {
  const host = a.host ?? '127.0.0.1';
  const port = a.port ?? 0;
  if (typeof host !== 'string' || host === '') throw new ConfigError(ErrorCode.CONFIG, { field: `${field}.host`, rule: 'must be a host name or address' });
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(ErrorCode.CONFIG, { field: `${field}.port`, rule: 'must be 0-65535' });
  return { host, port };
}

/** The TLS server context options of a TLS listener. */
export function tlsContext(t: SipTlsListen): SecureContextOptions & { requestCert?: boolean } {
  for (const k of ['key', 'cert'] as const) {
    const v = t[k];
    if (!(typeof v === 'string' || v instanceof Uint8Array) || v.length === 0) {
      throw new ConfigError(ErrorCode.CONFIG, { field: `sip.listen.tls.${k}`, rule: 'must be PEM text or bytes' });
    }
  }
  return {
    key: typeof t.key === 'string' ? t.key : Buffer.from(t.key),
    cert: typeof t.cert === 'string' ? t.cert : Buffer.from(t.cert),
    ...(t.ca === undefined ? {} : { ca: typeof t.ca === 'string' ? t.ca : Buffer.from(t.ca) }),
    ...(t.requestCert === undefined ? {} : { requestCert: t.requestCert }),
  };
}
