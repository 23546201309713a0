/**
 * Code points and tables of Elements for Authenticating Requests, TS 33.180 §9.6 and Annex J, as
 * data: Role IDs (Table J.1.4-1), Request Types (Table J.2.3-1), Request IDs (Tables J.2.5.2-1,
 * J.2.5.3-1) with the authorisation bit each needs (Tables J.3.3.3-x, J.3.3.4-x), and the
 * authorisation fields of Authorised Identities (Table J.3.2-1) with their bits and IdM scopes
 * (Tables J.3.3.2-1 … J.3.3.4-3).
 */

/** The MIME type of an EAR body (§9.6.5.2.1). */
export const EAR_CONTENT_TYPE = 'application/vnd.3gpp.mc-signalling-ear';

/** Role IDs, Table J.1.4-1; all other values reserved. */
export const EarRole = Object.freeze({ CLIENT: 1, GROUP: 2, SERVER: 3 } as const);
export type EarRole = (typeof EarRole)[keyof typeof EarRole];
export const isEarRole = (v: number): v is EarRole => v === 1 || v === 2 || v === 3;

/** Request Types, Table J.2.3-1 (4 is not defined); all other values reserved. */
export const EarRequestType = Object.freeze({
  PRIVILEGED: 1,
  INTERWORKING: 2,
  GROUP: 3,
  MIGRATION: 5,
  OFF_NETWORK: 6,
} as const);
export type EarRequestType = (typeof EarRequestType)[keyof typeof EarRequestType];
export const isEarRequestType = (v: number): v is EarRequestType => v === 1 || v === 2 || v === 3 || v === 5 || v === 6;

/** The 8.5.5 "Algorithm" of an EAR signature: TS 33.180 assigns no code point; mcsec uses 1 for ECCSI. */
export const EarSignatureAlgorithm = Object.freeze({ ECCSI: 1 } as const);

/** The IEI mcsec sends where Annex J assigns none ("uu" in Table J.1.2-1, the J.2 IEIs, 8.5.5). */
export const EAR_UNASSIGNED_IEI = 0;
/** The EAR message ID (Table J.1.2-1 "Message type") mcsec sends: no value is assigned. */
export const EAR_MESSAGE_TYPE = 0;

/** Authorisation field names (SIP URI header names), Table J.3.2-1. */
export const AuthorisationField = Object.freeze({
  ROLE_CLIENT: 'mc-role-client',
  ROLE_SERVER: 'mc-role-server',
  PRIV_MCPTT: 'mc-priv-mcptt',
  PRIV_MCVIDEO: 'mc-priv-mcvideo',
  PRIV_MCDATA: 'mc-priv-mcdata',
  OFFNET_MCPTT: 'mc-offnet-mcptt',
  OFFNET_MCVIDEO: 'mc-offnet-mcvideo',
  OFFNET_MCDATA: 'mc-offnet-mcdata',
} as const);
export type AuthorisationField = (typeof AuthorisationField)[keyof typeof AuthorisationField];
export const AUTHORISATION_FIELDS: readonly AuthorisationField[] = Object.freeze(Object.values(AuthorisationField));

/** One authorisation bit: its position (byte 8·n + bit), meaning and IdM scope (J.3.3). */
export interface AuthorisationBit {
  readonly bit: number;
  readonly meaning: string;
  readonly scope: string;
}
const bits = (scopePrefix: string, rows: readonly (readonly [string, string])[]): readonly AuthorisationBit[] =>
  Object.freeze(rows.map(([meaning, scope], bit) => Object.freeze({ bit, meaning, scope: `3gpp:mc:auth:${scopePrefix}:${scope}` })));

/** The bits of each authorisation field, Tables J.3.3.2-1 to J.3.3.4-3. */
export const AUTHORISATION_BITS: Readonly<Record<AuthorisationField, readonly AuthorisationBit[]>> = Object.freeze({
  'mc-role-client': bits('role:client', [['MCPTT client', 'ptt'], ['MCVideo client', 'video'], ['MCData client', 'data']]),
  'mc-role-server': bits('role:server', [
    ['Group Management Server', 'gms'], ['CS Proxy', 'cs_proxy'], ['IS Proxy', 'is_proxy'],
    ['MCPTT server', 'mcptt'], ['MCVideo server', 'mcvideo'], ['MCData server', 'mcdata'],
  ]),
  'mc-priv-mcptt': bits('priv:mcptt', [
    ['MCPTT Private call request in automatic commencement mode', 'automatic_private_call'],
    ['MCPTT Ambient listening call request', 'ambient_listening'],
    ['MCPTT Remotely initiated MCPTT call request, in unnotified mode', 'unnotified_remote_call'],
  ]),
  'mc-priv-mcvideo': bits('priv:mcvideo', [
    ['MCVideo Private call request in automatic commencement mode', 'automatic_private_call'],
    ['MCVideo Remote video push request in automatic commencement mode', 'automatic_remote_video_push'],
    ['MCVideo Ambient viewing call request', 'ambient_viewing'],
  ]),
  'mc-priv-mcdata': bits('priv:mcdata', [
    ['MCData standalone data request for application consumption', 'sds:unnotified_req'],
    ['MCData standalone session data request for application consumption', 'sds:unnotified_standalone_session_req'],
    ['MCData session data request for application consumption', 'sds:unnotified_session_req'],
    ['MCData group standalone data request for application consumption', 'sds:unnotified_group_standalone_req'],
    ['MCData group data request for application consumption', 'sds:unnotified_group_req'],
    ['MCData FD request with mandatory indication', 'fd:mandatory_req'],
    ['MCData group standalone FD request with mandatory indication', 'fd:mandatory_group_req'],
  ]),
  'mc-offnet-mcptt': bits('offnet:mcptt', [
    ['Permission to transmit MCPTT off-network', 'use'],
    ['MCPTT Group call announcement', 'group_call_announcement'],
    ['MCPTT emergency alert announcement', 'emergency_alert_announcement'],
    ['MCPTT Call setup request', 'call_setup_req'],
  ]),
  'mc-offnet-mcvideo': bits('offnet:mcvideo', [
    ['Permission to transmit MCVideo off-network', 'use'],
    ['MCVideo Group communication announcement', 'group_communication_announcement'],
    ['MCVideo emergency alert announcement', 'emergency_alert_announcement'],
    ['MCVideo Private communication request', 'private_communication_req'],
    ['MCVideo Capability request', 'capability_req'],
    ['MCVideo Activity request', 'activity_req'],
  ]),
  'mc-offnet-mcdata': bits('offnet:mcdata', [
    ['Permission to transmit MCData off-network', 'use'],
    ['MCData standalone data request', 'standalone_data_req'],
    ['MCData group standalone data request', 'group_standalone_data_req'],
  ]),
});

/** Server roles of mc-role-server (Table J.3.3.2-2), by bit. */
export const ServerRole = Object.freeze({
  GMS: 0,
  CS_PROXY: 1,
  IS_PROXY: 2,
  MCPTT_SERVER: 3,
  MCVIDEO_SERVER: 4,
  MCDATA_SERVER: 5,
} as const);
export type ServerRole = keyof typeof ServerRole;

/** MC services, for the client role and off-network "use" bits. */
export type McService = 'mcptt' | 'mcvideo' | 'mcdata';
/** mc-role-client bit per service (Table J.3.3.2-1). */
export const CLIENT_ROLE_BIT: Readonly<Record<McService, number>> = Object.freeze({ mcptt: 0, mcvideo: 1, mcdata: 2 });

/** A Request ID (2 octets: byte 1 the request type's, byte 2 the request) and the authorisation it needs. */
export interface EarRequestIdEntry {
  readonly requestId: number;
  readonly name: string;
  readonly service: McService;
  readonly field: AuthorisationField;
  readonly bit: number;
}
const entries = (byte1: number, rows: readonly (readonly [McService, AuthorisationField, number])[]): readonly EarRequestIdEntry[] =>
  Object.freeze(
    rows.map(([service, field, bit], i) => {
      const meaning = AUTHORISATION_BITS[field][bit]?.meaning ?? '';
      return Object.freeze({ requestId: (byte1 << 8) | (i + 1), name: meaning, service, field, bit });
    }),
  );

/** Table J.2.5.2-1 (byte 1 = 0x01), each with its bit of Tables J.3.3.3-1 to -3. */
export const PRIVILEGED_REQUEST_IDS: readonly EarRequestIdEntry[] = entries(0x01, [
  ['mcptt', 'mc-priv-mcptt', 0], ['mcptt', 'mc-priv-mcptt', 1], ['mcptt', 'mc-priv-mcptt', 2],
  ['mcvideo', 'mc-priv-mcvideo', 0], ['mcvideo', 'mc-priv-mcvideo', 1], ['mcvideo', 'mc-priv-mcvideo', 2],
  ['mcdata', 'mc-priv-mcdata', 0], ['mcdata', 'mc-priv-mcdata', 1], ['mcdata', 'mc-priv-mcdata', 2], ['mcdata', 'mc-priv-mcdata', 3],
  ['mcdata', 'mc-priv-mcdata', 4], ['mcdata', 'mc-priv-mcdata', 5], ['mcdata', 'mc-priv-mcdata', 6],
]);

/** Table J.2.5.3-1 (byte 1 = 0x80), each with its bit of Tables J.3.3.4-1 to -3. */
export const OFF_NETWORK_REQUEST_IDS: readonly EarRequestIdEntry[] = entries(0x80, [
  ['mcptt', 'mc-offnet-mcptt', 1], ['mcptt', 'mc-offnet-mcptt', 2], ['mcptt', 'mc-offnet-mcptt', 3],
  ['mcvideo', 'mc-offnet-mcvideo', 1], ['mcvideo', 'mc-offnet-mcvideo', 2], ['mcvideo', 'mc-offnet-mcvideo', 3],
  ['mcvideo', 'mc-offnet-mcvideo', 4], ['mcvideo', 'mc-offnet-mcvideo', 5],
  ['mcdata', 'mc-offnet-mcdata', 1], ['mcdata', 'mc-offnet-mcdata', 2],
]);

/** The Request ID table of a request type (§J.2.5.1: only privileged and off-network have one). */
export function requestIdsOf(requestType: number): readonly EarRequestIdEntry[] | undefined {
  if (requestType === EarRequestType.PRIVILEGED) return PRIVILEGED_REQUEST_IDS;
  if (requestType === EarRequestType.OFF_NETWORK) return OFF_NETWORK_REQUEST_IDS;
  return undefined;
}
