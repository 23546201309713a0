/**
 * EAR checks on MCX signalling (TS 33.180 §9.6.2, §9.6.5.4, Annex J), on `src/formats/ear`: which
 * requests must carry an Element for Authenticating Requests, and whether those attached verify.
 *
 *   Case 1, privileged signalling (§9.6.2.2): when the deployment's `privileged` classifier names
 *     the request (its Request ID, Tables J.2.5.2-1), an EAR must verify with Source Role client,
 *     Source ID the request's originator (its Authorised Identity, §9.6.4.3, holding the
 *     mc-priv bit of that Request ID), Request Type PRIVILEGED SIGNALLING and that Request ID.
 *   Case 2, server signalling across domains (§9.6.2.3; CR 11.1.1: cross-system authentication is
 *     implicit or explicit "subject to the policy of each MC system", explicit meaning the request
 *     "shall contain" an EAR): with `crossDomain: 'explicit'` (the default), a request whose
 *     originator is not of this MC system's domains (`localDomains`) must carry an EAR with Source
 *     Role server signed with
 *     an Authorised Identity holding an mc-role-server bit of an MCPTT, MCVideo or MCData server or
 *     an IS proxy (the IS proxy authenticates those functions towards another domain), Request
 *     Type INTERWORKING SIGNALLING (mcsec's reading: Table J.2.3-1 has no type of its own for
 *     interconnection). The originator itself is not compared: the partner server signs for it.
 *   Any other EAR attached is still verified (§9.6.5.4: "If supported by the receiver"): signed by
 *     its Source ID under a trusted KMS, recent, addressed to this server or to the request's
 *     target; a Request Type PRIVILEGED on a request the classifier does not name is refused
 *     (step 6).
 *
 * Every EAR is addressed to this server (`serverUris`, Target Role server) or to the request's
 * target (To, Target Role client): anything else is mis-addressed (ERR_FORBIDDEN, step 2). Dates
 * outside the window are ERR_EXPIRED, a processed EAR ID ERR_REPLAY (step 3). All EARs are
 * verified before any EAR ID is claimed, and all IDs are claimed in one atomic `claimAll`, so a
 * refused request records nothing (STYLE.md §6).
 */
import { ErrorCode, PolicyError } from '../../errors/index.js';
import {
  EAR_CONTENT_TYPE,
  EarRequestType,
  EarRole,
  decodeEar,
  verifyEar,
  type EarExpectations,
  type ServerRole,
  type VerifiedEar,
} from '../../formats/ear/index.js';
import type { KeyPeriods, ReplayCache } from '../../formats/mikey/index.js';
import { partMediaType, partOctets, type MimePart } from '../../formats/sip/index.js';
import { baseIdentity } from './authorised-identity.js';

/** The server roles that may sign cross-domain MCX signalling (§9.6.2.3, Table J.3.3.2-2). */
export const CROSS_DOMAIN_SERVER_ROLES: readonly ServerRole[] = Object.freeze(['MCPTT_SERVER', 'MCVIDEO_SERVER', 'MCDATA_SERVER', 'IS_PROXY']);

/** What the MCX server needs to check EARs. */
export interface McxEarContext {
  /** KPAK and key periods of the KMSs whose EARs are accepted. */
  readonly trustedKms: (kmsUri: string) => (KeyPeriods & { readonly kpak: Uint8Array }) | undefined;
  /** Where EAR IDs are claimed (shared across instances with Redis). */
  readonly replayCache: ReplayCache;
  /** This server's identities an EAR may name as its target (the MDSI, the server URI, its PSIs). */
  readonly serverUris: readonly string[];
  /** Host names of this MC system; a request from any other is cross-domain (§9.6.2.3). */
  readonly localDomains: readonly string[];
  /** CR 11.1.1: cross-system authentication policy (default 'explicit': an EAR is required). */
  readonly crossDomain?: 'explicit' | 'implicit' | undefined;
  /** §9.6.2.2: the Request ID when the request is privileged signalling (deployment's rule). */
  readonly privileged?: ((req: EarRequestFacts) => number | undefined) | undefined;
  /** §9.6.5.4 step 5: whether a KMS may authorise a request type (default: any trusted KMS). */
  readonly kmsMayAuthorise?: ((kmsUri: string, requestType: number) => boolean) | undefined;
  /** Accepted distance of an EAR's date from now, ms (default 300 s, §9.6.5.4 step 3). */
  readonly windowMs?: number | undefined;
}

/** What the check knows of the SIP request. */
export interface EarRequestFacts {
  readonly method: string;
  /** The originator's identity (P-Asserted-Identity or From), as a URI. */
  readonly origin: string;
  /** The target (To), as a URI. */
  readonly target: string;
  /** The opened XML bodies, for a classifier that reads them. */
  readonly xml: readonly { readonly contentType: string; readonly xml: string }[];
}

/** Why EARs were required, and the EARs that verified. */
export interface McxEarOutcome {
  readonly required: readonly ('privileged' | 'cross-domain')[];
  readonly ears: readonly VerifiedEar[];
}

const hostOf = (uri: string): string => {
  const b = baseIdentity(uri, 'sip.headers.From');
  const at = b.lastIndexOf('@');
  const colon = b.indexOf(':');
  return (at < 0 ? b.slice(colon + 1) : b.slice(at + 1)).replace(/:\d+$/, '');
};

/** Whether `origin` is outside this MC system's domains. */
export function isCrossDomain(origin: string, localDomains: readonly string[]): boolean {
  const h = hostOf(origin);
  return !localDomains.some((d) => d.toLowerCase() === h);
}

/** Holds claims until all EARs verified; then makes them in the real cache. */
class HeldClaims implements ReplayCache {
  readonly held: [string, number, number][] = [];
  claim(key: string, now: number, expires: number): boolean {
    if (this.held.some((h) => h[0] === key)) return false;
    this.held.push([key, now, expires]);
    return true;
  }
}

const S9654 = 'TS 33.180 §9.6.5.4';

/** The EAR parts of a message's parts (§9.6.5.2.1). */
export const earPartsOf = (parts: readonly MimePart[]): readonly Uint8Array[] =>
  parts.flatMap((p, i) => (partMediaType(p, `sip.body.part${i}`).essence === EAR_CONTENT_TYPE ? [partOctets(p, `sip.body.part${i}`)] : []));

/** Checks the EARs of a request (see the module comment); throws a PolicyError/CryptoError to refuse. */
export async function checkMcxEars(parts: readonly MimePart[], facts: EarRequestFacts, ctx: McxEarContext, now: () => Date): Promise<McxEarOutcome> {
  const ears = earPartsOf(parts);
  const requestId = ctx.privileged?.(facts);
  const crossDomain = isCrossDomain(facts.origin, ctx.localDomains);
  const required: ('privileged' | 'cross-domain')[] = [];
  if (requestId !== undefined) required.push('privileged');
  if (crossDomain && ctx.crossDomain !== 'implicit') required.push('cross-domain');
  const servers = new Set(ctx.serverUris.map((u) => baseIdentity(u, 'mcx.serverUris')));
  const target = baseIdentity(facts.target, 'sip.headers.To');
  const isTarget = (id: string, role: EarRole): boolean => {
    let b: string;
    try {
      b = baseIdentity(id, 'ear.payload.targetId');
    } catch {
      return false;
    }
    return (role === EarRole.SERVER && servers.has(b)) || (role === EarRole.CLIENT && b === target);
  };
  const held = new HeldClaims();
  const base = { trustedKms: ctx.trustedKms, replayCache: held, now, windowMs: ctx.windowMs };
  const met = new Set<string>();
  const verified: VerifiedEar[] = [];
  for (const bytes of ears) {
    const p = decodeEar(bytes).payload;
    let expect: EarExpectations;
    let meets: 'privileged' | 'cross-domain' | undefined;
    if (p.request?.requestType === EarRequestType.PRIVILEGED) {
      if (requestId === undefined) {
        throw new PolicyError(ErrorCode.FORBIDDEN, { field: 'ear.payload.request.requestType', rule: 'names privileged signalling, which this request is not', clause: `${S9654} step 6` });
      }
      expect = { isTarget, origin: baseIdentity(facts.origin, 'sip.headers.From'), sourceRoles: [EarRole.CLIENT], requestType: EarRequestType.PRIVILEGED, requestId, kmsMayAuthorise: ctx.kmsMayAuthorise };
      meets = 'privileged';
    } else if (crossDomain && p.sourceRole === EarRole.SERVER) {
      expect = { isTarget, sourceRoles: [EarRole.SERVER], requestType: EarRequestType.INTERWORKING, serverRoles: CROSS_DOMAIN_SERVER_ROLES, kmsMayAuthorise: ctx.kmsMayAuthorise };
      meets = 'cross-domain';
    } else {
      expect = { isTarget, kmsMayAuthorise: ctx.kmsMayAuthorise };
    }
    verified.push(await verifyEar(bytes, { ...base, expect }));
    if (meets !== undefined) met.add(meets);
  }
  for (const r of required) {
    if (!met.has(r)) {
      const rule = r === 'privileged' ? 'must carry an EAR signed with the Authorised Identity of the requesting user (privileged signalling)' : 'must carry an EAR signed with the Authorised Identity of a partner MCX server or IS proxy (signalling across domains)';
      throw new PolicyError(ErrorCode.UNAUTHORIZED, { field: 'sip.body', rule: `${rule}, ${EAR_CONTENT_TYPE}`, clause: r === 'privileged' ? 'TS 33.180 §9.6.2.2' : 'TS 33.180 §9.6.2.3' });
    }
  }
  // Last: the EAR IDs, claimed for real (step 3), all at once: nothing is recorded if any EAR was
  // refused or any ID was processed before. A cache without claimAll claims them one at a time, so
  // a request refused for a later (replayed) ID leaves the earlier ones recorded.
  const replayed = (): PolicyError => new PolicyError(ErrorCode.REPLAY, { field: 'ear.payload.earId', rule: 'this EAR was processed before', clause: `${S9654} step 3` });
  const cache = ctx.replayCache;
  if (held.held.length > 1 && cache.claimAll !== undefined) {
    const at = held.held[0]?.[1] ?? now().getTime();
    if (!(await cache.claimAll(held.held.map(([key, , expires]) => [key, expires] as const), at))) throw replayed();
  } else {
    for (const [key, at, expires] of held.held) {
      if (!(await cache.claim(key, at, expires))) throw replayed();
    }
  }
  return Object.freeze({ required: Object.freeze(required), ears: Object.freeze(verified) });
}
