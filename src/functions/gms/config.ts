/**
 * GMS configuration, validated once at start-up (STYLE.md §8): its Server URI and KMS (§5.7.2
 * step 0, §5.2.7.2 item 6), the fan-out pool (workers, slice size, table windows), GMK lifetime
 * and how far ahead of expiry the next GMK is made (§E.6.10), the registrar's expiry limits and
 * how many messages may be in flight. Errors name the config path: `gms.workers must be …`.
 */
import { ConfigError, ErrorCode } from '../../errors/index.js';

/** What a GMS is started with; all but the URIs optional. */
export interface GmsConfigInput {
  readonly gmsUri: string;
  readonly kmsUri: string;
  /** Fan-out worker threads; 0 runs the fan-out on the main thread (default 2). */
  readonly workers?: number | undefined;
  readonly sliceSize?: number | undefined;
  /** Window bits of the P and Z tables of the batch encapsulation (default 10). */
  readonly pointWindow?: number | undefined;
  /** Default GMK lifetime, seconds (default 30 days; 0: no expiry). */
  readonly gmkLifetime?: number | undefined;
  /** Make the next GMK this many seconds before expiry (default 1 day). */
  readonly rekeyLead?: number | undefined;
  /** How often to look for GMKs due for renewal, seconds (default 60; 0: never). */
  readonly rekeyInterval?: number | undefined;
  /** Longest registration, seconds (default 86400). */
  readonly maxExpires?: number | undefined;
  /** GMK messages in flight at once (default 256). */
  readonly maxInFlight?: number | undefined;
}

/** The validated configuration. */
export interface GmsConfig {
  readonly gmsUri: string;
  readonly kmsUri: string;
  readonly workers: number;
  readonly sliceSize: number;
  readonly pointWindow: number;
  readonly gmkLifetime: number;
  readonly rekeyLead: number;
  readonly rekeyInterval: number;
  readonly maxExpires: number;
  readonly maxInFlight: number;
}

function integer(v: number | undefined, dflt: number, field: string, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < min || v > max) throw new ConfigError(ErrorCode.CONFIG, { field, rule: `must be an integer from ${min} to ${max}` });
  return v;
}

function sipUri(v: string, field: string): string {
  if (!/^sips?:[^\s]+$/.test(v)) throw new ConfigError(ErrorCode.CONFIG, { field, rule: 'must be a sip: or sips: URI (the GMS Server URI, §5.7)' });
  return v;
}

/** Validates a GMS configuration. */
export function gmsConfig(c: GmsConfigInput): GmsConfig {
  if (typeof c.kmsUri !== 'string' || c.kmsUri.length === 0) throw new ConfigError(ErrorCode.CONFIG, { field: 'gms.kmsUri', rule: 'must name the KMS of the GMS' });
  return Object.freeze({
    gmsUri: sipUri(c.gmsUri, 'gms.gmsUri'),
    kmsUri: c.kmsUri,
    workers: integer(c.workers, 2, 'gms.workers', 0, 64),
    sliceSize: integer(c.sliceSize, 50, 'gms.sliceSize', 1, 10_000),
    pointWindow: integer(c.pointWindow, 10, 'gms.pointWindow', 4, 12),
    gmkLifetime: integer(c.gmkLifetime, 30 * 86_400, 'gms.gmkLifetime', 0, 10 * 365 * 86_400),
    rekeyLead: integer(c.rekeyLead, 86_400, 'gms.rekeyLead', 0, 365 * 86_400),
    rekeyInterval: integer(c.rekeyInterval, 60, 'gms.rekeyInterval', 0, 86_400),
    maxExpires: integer(c.maxExpires, 86_400, 'gms.maxExpires', 1, 7 * 86_400),
    maxInFlight: integer(c.maxInFlight, 256, 'gms.maxInFlight', 1, 65_536),
  });
}
