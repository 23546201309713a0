/**
 * The group management client's EARs (TS 33.180 §9.6.2.4) on `src/formats/ear`: the `GmcEarHook`
 * of GroupManagementClient.
 *
 * - On its REGISTER (standing for the Subscribe Group Configuration Request): an EAR with Source
 *   Role client and Source ID the user (the GM client needs no Authorised Identity, §9.6.2.4),
 *   Target the GMS as server, Request Type GROUP SIGNALLING, signed with the user's own keys for
 *   the period (client key store).
 * - On a GMK message (the Notify Group Configuration Request): at least one EAR must verify
 *   (§9.6.5.4) with Source Role server and a Source ID that is the GMS's Authorised Identity with
 *   the GMS server-role bit (§9.6.2.4: "signed using an Authorised Identity, indicating the server
 *   is able to perform GMS functions"), the GMS Server URI as its identity, this user as target.
 */
import { keyPeriodNoAt } from '../crypto/index.js';
import { ErrorCode, PolicyError } from '../errors/index.js';
import { EAR_CONTENT_TYPE, EarRequestType, EarRole, createEar, verifyEar, type EarSigner } from '../formats/ear/index.js';
import type { KeyPeriods, ReplayCache } from '../formats/mikey/index.js';
import { partMediaType } from '../formats/sip/index.js';
import type { GmcEarHook } from './gmc.js';
import type { ClientKeyStore } from './key-store.js';

export interface GmcEarOptions {
  readonly userUri: string;
  readonly kmsUri: string;
  /** The user's key sets and KMS certificate (its EARs are signed with them). */
  readonly keys: ClientKeyStore;
  /** KPAK and key periods of a KMS by URI (the GMS's KMS among them); default the key store's. */
  readonly trustedKms?: ((kmsUri: string) => (KeyPeriods & { readonly kpak: Uint8Array }) | undefined) | undefined;
  readonly replayCache: ReplayCache;
  readonly now?: (() => Date) | undefined;
}

/** The user's EAR signing identity at `at`, from the client key store. */
export function clientEarSigner(keys: ClientKeyStore, kmsUri: string, userUri: string, at: Date): EarSigner {
  const c = keys.getCertificate(kmsUri);
  const k = c === undefined ? undefined : keys.getKeySet(kmsUri, userUri, keyPeriodNoAt(at, c.userKeyPeriod, c.userKeyOffset));
  if (c === undefined || k === undefined) {
    throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'gmc.ear.signer', rule: 'no key set of the user is held for now', clause: 'TS 33.180 §9.6.4.2' });
  }
  return { uri: userUri, kmsUri, userKeyPeriod: c.userKeyPeriod, userKeyOffset: c.userKeyOffset, kpak: c.pubAuthKey, ssk: k.ssk, pvt: k.pvt };
}

/** The client EAR hook on formats/ear (see the module comment). */
export function gmcEarHook(o: GmcEarOptions): GmcEarHook {
  const now = o.now ?? (() => new Date());
  const trustedKms =
    o.trustedKms ??
    ((uri: string) => {
      const c = o.keys.getCertificate(uri);
      return c === undefined ? undefined : { kpak: c.pubAuthKey, userKeyPeriod: c.userKeyPeriod, userKeyOffset: c.userKeyOffset };
    });
  return {
    createEar(r) {
      const signer = clientEarSigner(o.keys, o.kmsUri, o.userUri, r.time);
      const body = createEar(
        { dateTime: r.time, sourceRole: EarRole.CLIENT, sourceId: o.userUri, targetRole: EarRole.SERVER, targetId: r.target, request: { requestType: EarRequestType.GROUP } },
        signer,
      );
      return { headers: [{ name: 'Content-Type', value: EAR_CONTENT_TYPE }], body };
    },
    async verifyEar(r) {
      const ears = r.parts.filter((p) => partMediaType(p).essence === EAR_CONTENT_TYPE);
      if (ears.length === 0) {
        throw new PolicyError(ErrorCode.UNAUTHORIZED, { field: 'sip.body', rule: `must carry the GMS's EAR (${EAR_CONTENT_TYPE})`, clause: 'TS 33.180 §9.6.2.4' });
      }
      let last: unknown;
      for (const ear of ears) {
        try {
          await verifyEar(ear.body, {
            trustedKms,
            replayCache: o.replayCache,
            now,
            expect: {
              isTarget: (id, role) => id === o.userUri && role === EarRole.CLIENT,
              origin: r.origin,
              sourceRoles: [EarRole.SERVER],
              requestType: EarRequestType.GROUP,
              serverRoles: ['GMS'],
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
