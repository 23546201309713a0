/**
 * The MCX authorisation scopes (TS 33.180 Annex B.4.2.2) and which MC service ID claim
 * (B.2.1.3, B.2.2.3) each one concerns. A scope is granted only to a user provisioned with the
 * MC service ID it needs (§5.1.2.1: the MC service IDs are mapped to the MC ID in the IdMS), and
 * the ID and access tokens carry the MC service IDs of the scopes they hold.
 */
import type { McServiceIdClaimName, McServiceIds } from '../../store/index.js';

/** Every scope B.4.2.2 defines besides `openid`, in the order the clause lists them. */
export const McxScope = Object.freeze({
  PTT_SERVICE: '3gpp:mc:ptt_service',
  VIDEO_SERVICE: '3gpp:mc:video_service',
  DATA_SERVICE: '3gpp:mc:data_service',
  PTT_KEY_MANAGEMENT: '3gpp:mc:ptt_key_management_service',
  VIDEO_KEY_MANAGEMENT: '3gpp:mc:video_key_management_service',
  DATA_KEY_MANAGEMENT: '3gpp:mc:data_key_management_service',
  PTT_CONFIG_MANAGEMENT: '3gpp:mc:ptt_config_management_service',
  VIDEO_CONFIG_MANAGEMENT: '3gpp:mc:video_config_management_service',
  DATA_CONFIG_MANAGEMENT: '3gpp:mc:data_config_management_service',
  PTT_GROUP_MANAGEMENT: '3gpp:mc:ptt_group_management_service',
  VIDEO_GROUP_MANAGEMENT: '3gpp:mc:video_group_management_service',
  DATA_GROUP_MANAGEMENT: '3gpp:mc:data_group_management_service',
  LOCATION_MANAGEMENT: '3gpp:mc:location_management_service',
  RECORDING_ADMIN: '3gpp:mc:recording_admin_service',
  RECORDING_REPLAY: '3gpp:mc:recording_replay_service',
} as const);

/** One MCX scope. */
export type McxScope = (typeof McxScope)[keyof typeof McxScope];

/** The B.4.2.2 scopes as a list. */
export const MCX_SCOPES: readonly McxScope[] = Object.freeze(Object.values(McxScope));

/** The scopes a partner IdMS may bind to its access token after token exchange (B.7.4). */
export const PARTNER_SCOPES: readonly McxScope[] = Object.freeze(MCX_SCOPES.slice(0, 12));

/** The password ACR value every IdMS supports (B.4.2.2 acr_values). */
export const PASSWORD_ACR = '3gpp:acr:password';

const PTT: readonly McServiceIdClaimName[] = ['mcptt_id'];
const VIDEO: readonly McServiceIdClaimName[] = ['mcvideo_id'];
const DATA: readonly McServiceIdClaimName[] = ['mcdata_id'];
const REC: readonly McServiceIdClaimName[] = ['mcrec_id'];

/**
 * The MC service ID claims each scope concerns: the service scopes their service's ID; location
 * management (§5.1.3.1) any of MCPTT, MCVideo, MCData; recording admin and replay the MCRec ID.
 */
export const SCOPE_CLAIMS: Readonly<Record<McxScope, readonly McServiceIdClaimName[]>> = Object.freeze({
  [McxScope.PTT_SERVICE]: PTT,
  [McxScope.VIDEO_SERVICE]: VIDEO,
  [McxScope.DATA_SERVICE]: DATA,
  [McxScope.PTT_KEY_MANAGEMENT]: PTT,
  [McxScope.VIDEO_KEY_MANAGEMENT]: VIDEO,
  [McxScope.DATA_KEY_MANAGEMENT]: DATA,
  [McxScope.PTT_CONFIG_MANAGEMENT]: PTT,
  [McxScope.VIDEO_CONFIG_MANAGEMENT]: VIDEO,
  [McxScope.DATA_CONFIG_MANAGEMENT]: DATA,
  [McxScope.PTT_GROUP_MANAGEMENT]: PTT,
  [McxScope.VIDEO_GROUP_MANAGEMENT]: VIDEO,
  [McxScope.DATA_GROUP_MANAGEMENT]: DATA,
  [McxScope.LOCATION_MANAGEMENT]: ['mcptt_id', 'mcvideo_id', 'mcdata_id'],
  [McxScope.RECORDING_ADMIN]: REC,
  [McxScope.RECORDING_REPLAY]: REC,
});

/** True for the B.4.2.2 scopes. */
export const isMcxScope = (s: string): s is McxScope => Object.hasOwn(SCOPE_CLAIMS, s);

/** Splits a space-delimited scope string (RFC 6749 §3.3) into its distinct values. */
export const splitScope = (scope: unknown): string[] =>
  typeof scope === 'string' ? [...new Set(scope.split(' ').filter((s) => s.length > 0))] : [];

/**
 * Whether a user with these MC service IDs may hold `scope`: `openid` and `offline_access`
 * always; an MCX scope when the user has one of the IDs it concerns; nothing else.
 */
export function userMayHold(scope: string, ids: McServiceIds): boolean {
  if (scope === 'openid' || scope === 'offline_access') return true;
  if (!isMcxScope(scope)) return false;
  return SCOPE_CLAIMS[scope].some((claim) => ids[claim] !== undefined);
}

/** The MC service ID claims (B.2.2.3) a token holding `scopes` carries, from `ids`. */
export function serviceIdClaimsFor(scopes: Iterable<string>, ids: McServiceIds): McServiceIds {
  const out: Partial<Record<McServiceIdClaimName, string>> = {};
  for (const scope of scopes) {
    if (!isMcxScope(scope)) continue;
    for (const claim of SCOPE_CLAIMS[scope]) {
      const id = ids[claim];
      if (id !== undefined) out[claim] = id;
    }
  }
  return Object.freeze(out);
}
