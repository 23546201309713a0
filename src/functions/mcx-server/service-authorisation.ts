/**
 * MCX user service authorisation at the MCX server (TS 33.180 §5.1.3; §5.1.3.2.2 steps 9-11 for
 * a REGISTER, §5.1.3.2.3 steps 2-3 for a PUBLISH): "the MCX server receives the ... message,
 * validates the access token, binds the IMPU and MC service ID (MCPTT ID, MCVideo ID or MCData
 * ID) if the access token is valid".
 *
 * The tokens are read from the XML parts after they were decrypted with the client's CSK
 * (§9.2.1.3 step 2; formats/xmlenc accessTokensOf) and checked with the one resource-server
 * module (functions/authz): signature against the IdMS keys, issuer, audience, expiry, then the
 * service's MC service ID claim must be the user the request binds and the service scope of
 * B.4.2.2 must be granted. Any token that fails refuses the whole request (nothing stored).
 *
 * Modes: `optional` (a token is checked when present; §5.1.3.2.1: "During initial SIP
 * registration, the SIP REGISTER message shall not be delayed for lack of an access token") and
 * `required` (a binding REGISTER or a PUBLISH without a valid token is refused: for deployments
 * that authorise every registration).
 */
import { ErrorCode, PolicyError } from '../../errors/index.js';
import { ContentType } from '../../formats/sip/index.js';
import { ACCESS_TOKEN_ELEMENTS, ProtectedCategory, accessTokensOf, type AccessTokenService, type XmlProtectionPolicy } from '../../formats/xmlenc/index.js';
import { authoriseService, type AccessTokenVerifier } from '../authz/index.js';
import type { OpenedXmlPart } from './xml-parts.js';

/** How the MCX server treats access tokens. */
export type AccessTokenMode = 'optional' | 'required';

/** A service the request's token authorised, bound to the IMPU of the request. */
export interface ServiceAuthorisation {
  readonly service: AccessTokenService;
  readonly mcServiceId: string;
  /** The token's expiry, ms since the epoch: the authorisation ends then (B.11). */
  readonly expiresAt: number | undefined;
}

/** What the check needs. */
export interface ServiceAuthorisationContext {
  readonly verifier: AccessTokenVerifier;
  readonly mode: AccessTokenMode;
  /** The MC service user ID the request binds to its IMPU. */
  readonly userUri: string;
}

const INFO_TYPES: Readonly<Record<AccessTokenService, string>> = Object.freeze({
  mcptt: ContentType.MCPTT_INFO,
  mcvideo: ContentType.MCVIDEO_INFO,
  mcdata: ContentType.MCDATA_INFO,
});

/**
 * `required` (per content type, what must arrive encrypted) with the access-token element of each
 * MC service info body added: a token is read only after it was decrypted with the CSK (§9.3.2
 * lists the access token among what is confidentiality protected; §9.2.1.3 step 2), so one sent
 * in the clear refuses the request (403 ERR_FORBIDDEN) instead of authorising it.
 */
export function withEncryptedTokens(required: Readonly<Record<string, XmlProtectionPolicy>>): Readonly<Record<string, XmlProtectionPolicy>> {
  const out: Record<string, XmlProtectionPolicy> = { ...required };
  for (const [service, type] of Object.entries(INFO_TYPES) as [AccessTokenService, string][]) {
    const names = ACCESS_TOKEN_ELEMENTS[service];
    const held = out[type] ?? { elements: [], uriAttributes: [] };
    if (held.elements.some((e) => e.namespace === names.namespace && e.localName === names.element)) continue;
    out[type] = Object.freeze({
      elements: Object.freeze([...held.elements, Object.freeze({ namespace: names.namespace, localName: names.element, category: ProtectedCategory.ACCESS_TOKEN })]),
      uriAttributes: held.uriAttributes,
    });
  }
  return Object.freeze(out);
}

/** Checks every access token of `parts` (see the module comment); returns what they authorise. */
export async function authoriseServices(parts: readonly OpenedXmlPart[], ctx: ServiceAuthorisationContext): Promise<readonly ServiceAuthorisation[]> {
  const out: ServiceAuthorisation[] = [];
  for (const part of parts) {
    for (const t of accessTokensOf(part.xml, `sip.body.part${part.index}`)) {
      let claims;
      try {
        claims = await ctx.verifier.verify(t.token);
      } catch (e) {
        if (e instanceof PolicyError) throw new PolicyError(e.code, { field: t.field, rule: e.rule, clause: 'TS 33.180 §5.1.3.2' });
        throw e;
      }
      authoriseService(claims, t.service, ctx.userUri, t.field);
      out.push(Object.freeze({ service: t.service, mcServiceId: ctx.userUri, expiresAt: claims.expiresAt === undefined ? undefined : claims.expiresAt * 1000 }));
    }
  }
  if (ctx.mode === 'required' && out.length === 0) {
    throw new PolicyError(ErrorCode.UNAUTHORIZED, {
      field: 'sip.body',
      rule: 'must carry an access token for the MC service (this server authorises every registration)',
      clause: 'TS 33.180 §5.1.3.2',
    });
  }
  return Object.freeze(out);
}
