/**
 * MCX server configuration (STYLE.md §8), validated once at start-up; errors name the config path
 * (`mcx.mdsi`). The MDSI is the server's MCX Server Domain Security Identifier (TS 33.180 §5.4):
 * the responder of CSK uploads (IDRr) and the initiator of key downloads (IDRi, §E.4.1).
 */
import { ConfigError, ErrorCode } from '../../errors/index.js';
import type { XmlProtectionPolicy } from '../../formats/xmlenc/index.js';
import { baseIdentity } from './authorised-identity.js';
import type { KmsRedirectPolicy } from './kms-redirect.js';

/** What the operator gives. */
export interface McxServerConfigInput {
  /** The MDSI, a SIP URI (e.g. sip:mcptt-server@mcptt.example.org). */
  readonly mdsi: string;
  /** Accepted difference between an I_MESSAGE's timestamp and now, ms (RFC 3830 §5.4; default 5 min). */
  readonly windowMs?: number;
  /** Registration lifetime when the request names none, s (RFC 3261 §10.2.1.1; default 3600). */
  readonly defaultExpiresS?: number;
  /** Longest registration granted, s (RFC 3261 §10.3 step 7; default 7200). */
  readonly maxExpiresS?: number;
  /** Take the identity from P-Asserted-Identity when present (a trusted SIP core; default true). */
  readonly assertedIdentity?: boolean;
  /** The MC service user ID of an IMPU (§5.4); default: the IMPU itself. */
  readonly mcServiceUserIdOf?: (impu: string) => string | undefined;
  /** What must arrive encrypted in the XML parts of a registration, per content type (§9.3.2). */
  readonly requiredXml?: Readonly<Record<string, XmlProtectionPolicy>>;
  /** Initiator KMSs accepted in CSK uploads, answered otherwise with a KRR (§5.2.8.2.3; kms-redirect.ts). */
  readonly kmsRedirect?: KmsRedirectPolicy;
}

/** The configuration after validation, with defaults. */
export interface McxServerConfig {
  readonly mdsi: string;
  readonly windowMs: number;
  readonly defaultExpiresS: number;
  readonly maxExpiresS: number;
  readonly assertedIdentity: boolean;
  readonly mcServiceUserIdOf: (impu: string) => string | undefined;
  readonly requiredXml: Readonly<Record<string, XmlProtectionPolicy>>;
  readonly kmsRedirect: KmsRedirectPolicy | undefined;
}

function positive(v: number | undefined, dflt: number, field: string): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < 1) throw new ConfigError(ErrorCode.CONFIG, { field, rule: 'must be a positive integer' });
  return v;
}

/** Validates the configuration. */
export function mcxServerConfig(c: McxServerConfigInput): McxServerConfig {
  if (typeof c.mdsi !== 'string' || !/^sips?:/i.test(c.mdsi)) {
    throw new ConfigError(ErrorCode.CONFIG, { field: 'mcx.mdsi', rule: 'must be a SIP URI (the MCX Server Domain Security Identifier)', clause: 'TS 33.180 §5.4' });
  }
  try {
    baseIdentity(c.mdsi, 'mcx.mdsi');
  } catch {
    throw new ConfigError(ErrorCode.CONFIG, { field: 'mcx.mdsi', rule: 'must be a SIP URI', clause: 'TS 33.180 §5.4' });
  }
  const defaultExpiresS = positive(c.defaultExpiresS, 3600, 'mcx.defaultExpiresS');
  const maxExpiresS = positive(c.maxExpiresS, 7200, 'mcx.maxExpiresS');
  if (defaultExpiresS > maxExpiresS) throw new ConfigError(ErrorCode.CONFIG, { field: 'mcx.defaultExpiresS', rule: 'must not exceed maxExpiresS' });
  return Object.freeze({
    mdsi: c.mdsi,
    windowMs: positive(c.windowMs, 5 * 60_000, 'mcx.windowMs'),
    defaultExpiresS,
    maxExpiresS,
    assertedIdentity: c.assertedIdentity ?? true,
    mcServiceUserIdOf: c.mcServiceUserIdOf ?? ((impu: string) => impu),
    requiredXml: Object.freeze({ ...(c.requiredXml ?? {}) }),
    kmsRedirect: c.kmsRedirect,
  });
}
