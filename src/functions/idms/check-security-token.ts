/**
 * The partner IdMS's check of a security token (TS 33.180 Annex B.8, B.10: "validate the security
 * token as per section 3.1.3.7 of OpenID Connect"; §5.1.4.2: the primary IdMS certificates are
 * provisioned out of band), in the order the rules are listed there:
 *
 *   - `iss` is a primary IdMS this IdMS trusts (config trustedIdms), and the JWS verifies
 *     against that IdMS's JWKS (authz/AccessTokenVerifier: remote set with its CA, or a file)
 *   - `aud` holds this IdMS's address (its issuer or token endpoint, the B.7.2 `resource`) and
 *     the client_id of the client presenting it (B.8 Aud, OIDC 3.1.3.7 step 3)
 *   - `exp` not passed and `iat` present (B.8, B.11), with the configured clock skew
 *   - `sub` present, at most 255 octets (B.2.1.2); `typ` not at+jwt (an access token of the
 *     primary is no security token)
 *   - `jti` not seen before while the token lives (RFC 7523 §3 item 7): a security token
 *     is exchanged once
 *
 * Every failure is one PolicyError ERR_UNAUTHORIZED with one rule.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { ErrorCode, PolicyError } from '../../errors/index.js';
import { AccessTokenVerifier } from '../authz/index.js';
import type { KyselyIdmsStore, McServiceIdClaimName, McServiceIds } from '../../store/index.js';
import type { IdmsTrusted } from './config.js';

/** What a valid security token says. */
export interface SecurityClaims {
  readonly trusted: IdmsTrusted;
  readonly sub: string;
  readonly mcServiceIds: McServiceIds;
}

/** The trusted primary IdMSs with a verifier each; build once at start-up. */
export class TrustedIdmsSet {
  readonly #entries: ReadonlyMap<string, { readonly trusted: IdmsTrusted; readonly verifier: AccessTokenVerifier }>;

  constructor(trusted: readonly IdmsTrusted[], o: { readonly audience: readonly string[]; readonly clockToleranceSec: number; readonly now: () => number }) {
    this.#entries = new Map(
      trusted.map((t) => [
        t.issuer,
        {
          trusted: t,
          verifier: new AccessTokenVerifier({
            issuer: t.issuer,
            audience: o.audience,
            jwks: t.jwks,
            clockToleranceSec: o.clockToleranceSec,
            algorithms: ['ES256', 'RS256', 'PS256', 'EdDSA'],
            now: () => new Date(o.now()),
          }),
        },
      ]),
    );
  }

  get(issuer: string): { readonly trusted: IdmsTrusted; readonly verifier: AccessTokenVerifier } | undefined {
    return this.#entries.get(issuer);
  }
}

const refused = (): PolicyError =>
  new PolicyError(ErrorCode.UNAUTHORIZED, {
    field: 'jwtBearer.assertion',
    rule: 'must be an unexpired, unused security token of a trusted IdMS for this IdMS and client',
    clause: 'TS 33.180 Annex B.8',
  });

const ID_CLAIMS: readonly McServiceIdClaimName[] = ['mcptt_id', 'mcvideo_id', 'mcdata_id', 'mcrec_id'];

/** Checks a security token presented by `clientId`; see the module header. */
export async function checkSecurityToken(
  token: string,
  c: { readonly trustedSet: TrustedIdmsSet; readonly clientId: string; readonly store: KyselyIdmsStore; readonly clockToleranceSec: number },
): Promise<SecurityClaims> {
  let issuer: unknown;
  try {
    if (decodeProtectedHeader(token).typ?.toLowerCase() === 'at+jwt') throw refused();
    issuer = decodeJwt(token).iss;
  } catch {
    throw refused();
  }
  const entry = typeof issuer === 'string' ? c.trustedSet.get(issuer) : undefined;
  if (entry === undefined) throw refused();
  try {
    await entry.verifier.verify(token);
  } catch {
    throw refused();
  }
  // Verified above: what follows reads a payload whose signature, issuer, audience and expiry hold.
  const p = decodeJwt(token);
  const aud = Array.isArray(p.aud) ? p.aud : [p.aud];
  const sub = p.sub;
  if (!aud.includes(c.clientId) || typeof p.iat !== 'number' || typeof p.exp !== 'number') throw refused();
  if (typeof sub !== 'string' || sub.length === 0 || Buffer.byteLength(sub, 'utf8') > 255) throw refused();
  if (typeof p.jti !== 'string' || p.jti.length === 0) throw refused();
  if (!(await c.store.useOnce(`security-token|${entry.trusted.issuer}|${p.jti}`, (p.exp + c.clockToleranceSec) * 1000))) throw refused();
  const ids: Partial<Record<McServiceIdClaimName, string>> = {};
  for (const claim of ID_CLAIMS) {
    const v = p[claim];
    if (typeof v === 'string' && v.length > 0) ids[claim] = v;
  }
  return Object.freeze({ trusted: entry.trusted, sub, mcServiceIds: Object.freeze(ids) });
}
