/**
 * Origin authentication between the GMS and the group management client with EARs (TS 33.180
 * §9.6.2.4: Notify Group Configuration Request / Response "should be explicitly authenticated
 * and authorised"; the GMS's EAR signed with an Authorised Identity, §9.6.3; the EAR itself
 * §9.6.4, carried as an application/vnd.3gpp.mc-signalling-ear body part, §9.6.5.2.1).
 *
 * The hook keeps the GMS independent of how EARs are made: `gmsEarHook` (ear.ts) implements it
 * on `src/formats/ear`; without a hook, GMS messages carry no EAR and REGISTERs are not asked for
 * one (EARs are "should" in §9.6.2.4).
 */
import type { MimePart, SipRequest } from '../../formats/sip/index.js';

/** What a GMS EAR names (Table 9.6.4.2-1: origin, target, request type; time and ID are the codec's). */
export interface GmsEarRequest {
  /** The GMS Server URI or its Authorised Identity (§9.6.3.1). */
  readonly origin: string;
  /** The member's MC service ID (or a partner GMS URI). */
  readonly target: string;
  /** §9.6.2.4 message: the GMS sends Notify Group Configuration Requests. */
  readonly requestType: 'notify-group-configuration-request';
  readonly time: Date;
}

/** The EAR hook of the GMS (see the module comment). */
export interface GmsEarHook {
  /** The EAR body part (application/vnd.3gpp.mc-signalling-ear) to attach to a GMK message. */
  createEar(r: GmsEarRequest): MimePart | Promise<MimePart>;
  /**
   * Checks the EAR(s) of a request from a group management client (its REGISTER, standing for
   * the Subscribe Group Configuration Request of §9.6.2.4); throws a CryptoError or PolicyError
   * to refuse it.
   */
  verifyEar(r: { readonly request: SipRequest; readonly parts: readonly MimePart[]; readonly origin: string; readonly target: string }): void | Promise<void>;
}
