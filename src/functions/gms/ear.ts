/**
 * The GMS's EARs (TS 33.180 §9.6.2.4) on `src/formats/ear`: the `GmsEarHook` a deployment plugs
 * into GmsSip.
 *
 * - Towards a member (the Notify Group Configuration Request, our GMK MESSAGE): an EAR with Source
 *   Role server and Source ID the GMS's Authorised Identity (§9.6.3: its Server URI with the
 *   `mc-role-server` GMS bit, Table J.3.3.3-1), Target Role client and Target ID the member,
 *   Request Type GROUP SIGNALLING (Table J.2.3-1), signed with the keys the KMS issued for that
 *   Authorised Identity (`signer`, e.g. the GMS store's key set for the Authorised Identity).
 * - From a member (its REGISTER, standing for the Subscribe Group Configuration Request): at
 *   least one EAR part must verify (§9.6.5.4) with Source Role client, Source ID the registering
 *   member (no Authorised Identity needed, §9.6.2.4), Target the GMS as server, GROUP signalling.
 */
import { ErrorCode, PolicyError } from '../../errors/index.js';
import { EAR_CONTENT_TYPE, EarRequestType, EarRole, createEar, verifyEar, type EarSigner } from '../../formats/ear/index.js';
import type { KeyPeriods, ReplayCache } from '../../formats/mikey/index.js';
import { partMediaType, type MimePart } from '../../formats/sip/index.js';
import type { GmsEarHook } from './ear-hook.js';

export interface GmsEarOptions {
  /** The GMS Server URI (the Target ID members address). */
  readonly gmsUri: string;
  /** The identity and keys the GMS signs EARs with at a time (its Authorised Identity's). */
  readonly signer: (at: Date) => EarSigner | Promise<EarSigner>;
  /** KPAK and key periods of the KMSs whose users' EARs are accepted. */
  readonly trustedKms: (kmsUri: string) => (KeyPeriods & { readonly kpak: Uint8Array }) | undefined;
  /** Where EAR IDs are claimed (RFC 3830-style replay window; shared across instances with Redis). */
  readonly replayCache: ReplayCache;
  readonly now?: (() => Date) | undefined;
}

/** The EAR parts of a body (application/vnd.3gpp.mc-signalling-ear, §9.6.5.2.1). */
export const earParts = (parts: readonly MimePart[]): readonly MimePart[] => parts.filter((p) => partMediaType(p).essence === EAR_CONTENT_TYPE);

/** The GMS EAR hook on formats/ear (see the module comment). */
export function gmsEarHook(o: GmsEarOptions): GmsEarHook {
  const now = o.now ?? (() => new Date());
  return {
    async createEar(r) {
      const signer = await o.signer(r.time);
      const body = createEar(
        { dateTime: r.time, sourceRole: EarRole.SERVER, sourceId: signer.uri, targetRole: EarRole.CLIENT, targetId: r.target, request: { requestType: EarRequestType.GROUP } },
        signer,
      );
      return { headers: [{ name: 'Content-Type', value: EAR_CONTENT_TYPE }], body };
    },
    async verifyEar(r) {
      const ears = earParts(r.parts);
      if (ears.length === 0) {
        throw new PolicyError(ErrorCode.UNAUTHORIZED, { field: 'sip.body', rule: `must carry an EAR (${EAR_CONTENT_TYPE})`, clause: 'TS 33.180 §9.6.2.4' });
      }
      let last: unknown;
      for (const ear of ears) {
        try {
          await verifyEar(ear.body, {
            trustedKms: o.trustedKms,
            replayCache: o.replayCache,
            now,
            expect: {
              isTarget: (id, role) => id === o.gmsUri && role === EarRole.SERVER,
              origin: r.origin,
              sourceRoles: [EarRole.CLIENT],
              requestType: EarRequestType.GROUP,
            },
          });
          return;
        } catch (err) {
          last = err;
        }
      }
      throw last;
    },
  };
}
