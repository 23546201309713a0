/**
 * The access-token options every mcsec server takes (TS 33.180 §5.1.3, Annex B.2.2), in one place:
 * `--issuer <url>`, `--audience <aud...>`, `--jwks <file|url>`, `--jwks-ca <pem>`; and the
 * AccessTokenVerifier (functions/authz) they make.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, ErrorCode } from '../errors/index.js';
import { AccessTokenVerifier, type JwksSource } from '../functions/authz/index.js';

/** The parsed options. */
export interface TokenOptions {
  readonly issuer?: string | undefined;
  readonly audience?: readonly string[] | undefined;
  readonly jwks?: string | undefined;
  readonly jwksCa?: string | undefined;
}

/** A JWKS from an https URL (trusting `ca` besides the system CAs) or a file. */
export function jwksSource(v: string, ca?: string): JwksSource {
  if (!/^https?:\/\//i.test(v)) return { file: v };
  if (ca === undefined) return { url: v };
  try {
    return { url: v, caPem: readFileSync(ca, 'utf8') };
  } catch {
    throw new ConfigError(ErrorCode.IO, { field: '--jwks-ca', rule: `must name a readable PEM file (${ca})` });
  }
}

/** The verifier the options name, or undefined without --issuer; --jwks is required with it. */
export function verifierOf(o: TokenOptions): AccessTokenVerifier | undefined {
  if (o.issuer === undefined) {
    if (o.jwks !== undefined) throw new ConfigError(ErrorCode.USAGE, { field: '--issuer', rule: 'is required with --jwks', clause: 'TS 33.180 Annex B.2.2' });
    return undefined;
  }
  if (o.jwks === undefined) throw new ConfigError(ErrorCode.USAGE, { field: '--jwks', rule: 'is required with --issuer', clause: 'TS 33.180 Annex B.2.2' });
  return new AccessTokenVerifier({ issuer: o.issuer, audience: o.audience ?? [], jwks: jwksSource(o.jwks, o.jwksCa) });
}
