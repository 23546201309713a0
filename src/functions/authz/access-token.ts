/**
 * The resource-server side of TS 33.180 §5.1.3 and Annex B.2.2 ("MCX Connect"): every mcsec server
 * (KMS, GMS, MCX server, HTTP proxy) checks the bearer access token an MC client presents, with
 * one module. The token is a JWT (RFC 7519) signed by the IdMS: signature against the IdMS JWKS
 * (jose; remote sets are cached, and re-fetched when a token names an unknown key, which is how a
 * key rotation reaches us), issuer, audience, expiry (`exp` is the revocation of B.11, with a
 * configurable clock skew), then the MCX claims of B.2.2.3 (`mcptt_id`, `mcvideo_id`, `mcdata_id`,
 * `mcrec_id`) and `scope` (B.4.2.2) are read.
 *
 * Failures are PolicyErrors: ERR_UNAUTHORIZED (HTTP 401, `invalid_token`) for a missing, malformed,
 * wrongly signed, foreign or expired token, uniformly, and ERR_FORBIDDEN (403,
 * `insufficient_scope`) when a valid token does not cover the request.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { createLocalJWKSet, createRemoteJWKSet, customFetch, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { ConfigError, ErrorCode, PolicyError } from '../../errors/index.js';

const B22 = 'TS 33.180 Annex B.2.2';
const S513 = 'TS 33.180 §5.1.3';

/** The MC service ID claims of Table B.2.2.3-1. */
export const McServiceIdClaim = Object.freeze({
  MCPTT: 'mcptt_id',
  MCVIDEO: 'mcvideo_id',
  MCDATA: 'mcdata_id',
  MCREC: 'mcrec_id',
} as const);

/** The key management scopes of B.4.2.2, one per MC service, with the MC service ID claim each authorises. */
export const KeyManagementScope = Object.freeze({
  'mcptt_id': '3gpp:mc:ptt_key_management_service',
  'mcvideo_id': '3gpp:mc:video_key_management_service',
  'mcdata_id': '3gpp:mc:data_key_management_service',
} as const);

/** What a verified access token says. */
export interface AccessClaims {
  readonly subject: string | undefined;
  readonly clientId: string | undefined;
  readonly scopes: readonly string[];
  /** MC service IDs by claim name (mcptt_id, mcvideo_id, mcdata_id, mcrec_id), as present. */
  readonly mcServiceIds: Readonly<Partial<Record<(typeof McServiceIdClaim)[keyof typeof McServiceIdClaim], string>>>;
  /** Expiry, seconds since the epoch. */
  readonly expiresAt: number | undefined;
}

/** Where the IdMS keys come from. */
export type JwksSource =
  | { readonly url: string; readonly caPem?: string | undefined }
  | { readonly keys: JSONWebKeySet }
  | { readonly file: string };

export interface AccessTokenVerifierOptions {
  readonly issuer: string;
  /** Accepted audiences (any one must be in `aud`). */
  readonly audience: string | readonly string[];
  readonly jwks: JwksSource;
  /** Clock skew tolerated on exp / nbf / iat, seconds (default 30). */
  readonly clockToleranceSec?: number | undefined;
  /** JWS algorithms accepted (default ES256, RS256, PS256, EdDSA). */
  readonly algorithms?: readonly string[] | undefined;
  readonly now?: (() => Date) | undefined;
}

const unauthorized = (rule: string): PolicyError =>
  new PolicyError(ErrorCode.UNAUTHORIZED, { field: 'authorization', rule, clause: S513 });

/** A JWKS fetch for jose that trusts `caPem` (a self-signed IdMS in a lab) besides the system CAs. */
function fetchWithCa(caPem: string): (url: string, options: { headers: Headers; signal: AbortSignal }) => Promise<Response> {
  return (url, options) =>
    new Promise((resolve, reject) => {
      const req = request(url, { ca: caPem, headers: Object.fromEntries(options.headers.entries()), signal: options.signal }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 1 << 20) req.destroy(new Error('JWKS larger than 1 MiB'));
          else chunks.push(c);
        });
        res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500 })));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
}

function keySource(src: JwksSource): JWTVerifyGetKey {
  if ('keys' in src) return createLocalJWKSet(src.keys);
  if ('file' in src) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(src.file, 'utf8'));
    } catch {
      throw new ConfigError(ErrorCode.CONFIG, { field: '--jwks', rule: 'must name a readable JSON Web Key Set file or an https URL', clause: B22 });
    }
    if (typeof parsed !== 'object' || parsed === null || !Array.isArray(Reflect.get(parsed, 'keys'))) {
      throw new ConfigError(ErrorCode.CONFIG, { field: '--jwks', rule: 'must hold a JSON Web Key Set ({"keys":[...]})', clause: B22 });
    }
    return createLocalJWKSet(parsed as JSONWebKeySet);
  }
  let url: URL;
  try {
    url = new URL(src.url);
  } catch {
    throw new ConfigError(ErrorCode.CONFIG, { field: '--jwks', rule: 'must be an https URL or a file', clause: B22 });
  }
  if (url.protocol !== 'https:' && url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') {
    throw new ConfigError(ErrorCode.CONFIG, { field: '--jwks', rule: 'must be https (B.12) unless on loopback', clause: 'TS 33.180 Annex B.12' });
  }
  return createRemoteJWKSet(url, {
    cooldownDuration: 30_000,
    cacheMaxAge: 600_000,
    ...(src.caPem === undefined ? {} : { [customFetch]: fetchWithCa(src.caPem) }),
  });
}

/** Checks access tokens (see the module header); build one per server and reuse it. */
export class AccessTokenVerifier {
  readonly #keys: JWTVerifyGetKey;
  readonly #o: AccessTokenVerifierOptions;

  constructor(o: AccessTokenVerifierOptions) {
    if (o.issuer.length === 0) throw new ConfigError(ErrorCode.CONFIG, { field: '--issuer', rule: 'is required', clause: B22 });
    this.#keys = keySource(o.jwks);
    this.#o = o;
  }

  /** Verifies the `Authorization: Bearer …` header value (RFC 6750 §2.1). */
  async verifyAuthorization(header: string | undefined): Promise<AccessClaims> {
    const m = header === undefined ? null : /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(header.trim());
    if (m?.[1] === undefined) throw unauthorized('must carry a Bearer access token (RFC 6750)');
    return this.verify(m[1]);
  }

  /** Verifies a compact JWS access token. */
  async verify(token: string): Promise<AccessClaims> {
    const o = this.#o;
    let payload: Record<string, unknown>;
    try {
      const r = await jwtVerify(token, this.#keys, {
        issuer: o.issuer,
        audience: typeof o.audience === 'string' ? o.audience : [...o.audience],
        algorithms: [...(o.algorithms ?? ['ES256', 'RS256', 'PS256', 'EdDSA'])],
        clockTolerance: o.clockToleranceSec ?? 30,
        requiredClaims: ['exp'],
        ...(o.now === undefined ? {} : { currentDate: o.now() }),
      });
      payload = r.payload;
    } catch {
      throw unauthorized('must be a valid access token of the configured IdMS (signature, issuer, audience, expiry)');
    }
    const str = (k: string): string | undefined => {
      const v = payload[k];
      return typeof v === 'string' && v.length > 0 ? v : undefined;
    };
    const ids: Record<string, string> = {};
    for (const claim of Object.values(McServiceIdClaim)) {
      const v = str(claim);
      if (v !== undefined) ids[claim] = v;
    }
    const exp = payload['exp'];
    return Object.freeze({
      subject: str('sub'),
      clientId: str('client_id'),
      scopes: Object.freeze((str('scope') ?? '').split(' ').filter((s) => s.length > 0)),
      mcServiceIds: Object.freeze(ids),
      expiresAt: typeof exp === 'number' ? exp : undefined,
    });
  }
}

/**
 * The KMS's rule (§5.3.3 step 1, B.4.2.2): a token authorises key management for `userUri` when
 * one of its MC service IDs is `userUri` and the token holds that service's key management scope.
 * Throws PolicyError ERR_FORBIDDEN otherwise.
 */
export function authoriseKeyManagement(claims: AccessClaims, userUri: string): void {
  for (const [claim, scope] of Object.entries(KeyManagementScope)) {
    if (Reflect.get(claims.mcServiceIds, claim) === userUri && claims.scopes.includes(scope)) return;
  }
  throw new PolicyError(ErrorCode.FORBIDDEN, {
    field: 'authorization',
    rule: 'the access token must hold this user as an MC service ID with its key management scope',
    clause: 'TS 33.180 §5.3.3, Annex B.4.2.2',
  });
}

/** The MC service scopes of B.4.2.2 and the MC service ID claim each authorises (§5.1.3: MCX user service authorisation). */
export const McServiceScope = Object.freeze({
  mcptt: Object.freeze({ claim: McServiceIdClaim.MCPTT, scope: '3gpp:mc:ptt_service' }),
  mcvideo: Object.freeze({ claim: McServiceIdClaim.MCVIDEO, scope: '3gpp:mc:video_service' }),
  mcdata: Object.freeze({ claim: McServiceIdClaim.MCDATA, scope: '3gpp:mc:data_service' }),
} as const);

/** An MC service an MCX server authorises users for. */
export type McService = keyof typeof McServiceScope;

/**
 * The MCX server's rule (§5.1.3, §5.1.3.2.2 steps 9-11): a token authorises `service` for
 * `userUri` when the service's MC service ID claim is `userUri` and the token holds the
 * service's scope. Throws PolicyError ERR_FORBIDDEN (naming `field`) otherwise.
 */
export function authoriseService(claims: AccessClaims, service: McService, userUri: string, field = 'authorization'): void {
  const { claim, scope } = McServiceScope[service];
  if (Reflect.get(claims.mcServiceIds, claim) !== userUri) {
    throw new PolicyError(ErrorCode.FORBIDDEN, { field, rule: `the access token's ${claim} must be the MC service ID the request binds`, clause: 'TS 33.180 §5.1.3, Annex B.2.2.3' });
  }
  if (!claims.scopes.includes(scope)) {
    throw new PolicyError(ErrorCode.FORBIDDEN, { field, rule: `the access token must hold the scope ${scope}`, clause: 'TS 33.180 §5.1.3, Annex B.4.2.2' });
  }
}
