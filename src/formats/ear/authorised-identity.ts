/**
 * Authorised Identities (TS 33.180 §9.6.3, Annex J.3) and the authorisation rules a receiver
 * applies to an EAR (§9.6.2, §9.6.4.3, §9.6.5.4 steps 2, 5, 6 and 7), as pure functions.
 *
 * An Authorised Identity is the entity's identity with authorisation fields as SIP URI headers,
 * after the first '?' that follows the '@' (J.3.2):
 * `sip:mc.user@example.org?mc-role-client=01&mc-offnet-mcptt=0f` (J.3.4.2). Each value is a hex
 * bit field, byte 0 first, bit 0 the least significant (J.3.3.1), at most 256 hex digits; bits
 * and names not defined are ignored (J.3.3.1), a name given twice or a value that is not an even
 * number of hex digits is refused. The key material (and so the UID, §F.2.1) is for the whole
 * string; the identity the request is about is the part before the headers.
 *
 * Requirements, from the EAR's Request and the receiver's expectations:
 *   - privileged request (J.2.5.2): the mc-priv-<service> bit of its Request ID (§9.6.2.2);
 *   - off-network request (J.2.5.3): the mc-role-client bit of the service, the service's
 *     mc-offnet "use" bit 0 and the bit of its Request ID (§9.6.2.6);
 *   - a server role expected by the receiver (§9.6.2.3 - §9.6.2.5): one of its mc-role-server bits;
 *   - the signing KMS permitted to authorise the request type (step 5, a caller predicate).
 * Privileged and off-network requests without a Request ID cannot be authorised and are refused.
 * Refusals of well-formed EARs are PolicyError ERR_FORBIDDEN naming the EAR field.
 */
import { ErrorCode, FormatError, PolicyError } from '../../errors/index.js';
import {
  AUTHORISATION_BITS,
  AUTHORISATION_FIELDS,
  CLIENT_ROLE_BIT,
  EarRequestType,
  ServerRole,
  requestIdsOf,
  type AuthorisationField,
  type EarRole,
} from './constants.js';
import type { EarPayload } from './ear-payload.js';

const J32 = 'TS 33.180 Annex J.3.2';
const MAX_HEX = 256;

/** An identity and the authorisation fields it carries. */
export interface AuthorisedIdentity {
  /** The identity without its authorisation fields (the part before '?'). */
  readonly identity: string;
  /** The bit field of each authorisation field present (byte 0 first). */
  readonly fields: Readonly<Partial<Record<AuthorisationField, Uint8Array>>>;
  /** Whether any authorisation field is present. */
  readonly authorised: boolean;
}

const isField = (name: string): name is AuthorisationField => (AUTHORISATION_FIELDS as readonly string[]).includes(name);

/** Splits an identity into its base and authorisation fields (J.3.2); `field` names it in errors. */
export function decodeAuthorisedIdentity(uri: string, field = 'identity'): AuthorisedIdentity {
  // A SIP user part may hold '?' (RFC 3261 user-unreserved) but not '@'; hostport and URI
  // parameters hold neither, so the headers begin at the first '?' after the first '@'.
  const at = uri.indexOf('@');
  const q = uri.indexOf('?', at < 0 ? 0 : at);
  const identity = q < 0 ? uri : uri.slice(0, q);
  const fields: Partial<Record<AuthorisationField, Uint8Array>> = {};
  if (q >= 0) {
    const headers = uri.slice(q + 1);
    if (headers.length === 0) throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: "must have headers after '?'", clause: J32 });
    for (const h of headers.split('&')) {
      const eq = h.indexOf('=');
      const name = eq < 0 ? h : h.slice(0, eq);
      if (!isField(name)) continue; // other SIP URI headers are not authorisations
      const value = eq < 0 ? '' : h.slice(eq + 1);
      if (fields[name] !== undefined) throw new FormatError(ErrorCode.BAD_VALUE, { field: `${field}.${name}`, rule: 'must appear once', clause: J32 });
      if (!/^(?:[0-9A-Fa-f]{2})+$/.test(value) || value.length > MAX_HEX) {
        throw new FormatError(ErrorCode.BAD_VALUE, { field: `${field}.${name}`, rule: `must be 2 to ${MAX_HEX} hex digits, an even number`, clause: 'TS 33.180 Annex J.3.3.1' });
      }
      fields[name] = Uint8Array.from({ length: value.length / 2 }, (_, i) => parseInt(value.slice(2 * i, 2 * i + 2), 16));
    }
  }
  return Object.freeze({ identity, fields: Object.freeze(fields), authorised: Object.keys(fields).length > 0 });
}

/** Whether bit `bit` (byte bit >> 3, LSB first) of `name` is set. */
export function hasAuthorisation(id: AuthorisedIdentity, name: AuthorisationField, bit: number): boolean {
  const v = id.fields[name];
  return v !== undefined && (((v[bit >> 3] ?? 0) >> (bit & 7)) & 1) === 1;
}

/** An Authorised Identity with these bits set (J.3.2; lower-case hex, as the J.3.4 examples). */
export function encodeAuthorisedIdentity(identity: string, grants: Readonly<Partial<Record<AuthorisationField, readonly number[]>>>): string {
  if (identity.includes('?')) throw new FormatError(ErrorCode.BAD_VALUE, { field: 'identity', rule: "must not already hold headers ('?')", clause: J32 });
  const parts: string[] = [];
  for (const name of AUTHORISATION_FIELDS) {
    const list = grants[name];
    if (list === undefined || list.length === 0) continue;
    const max = Math.max(...list);
    if (list.some((b) => !Number.isInteger(b) || b < 0 || b >= MAX_HEX * 4)) {
      throw new FormatError(ErrorCode.BAD_VALUE, { field: `grants.${name}`, rule: `bits must be integers from 0 to ${MAX_HEX * 4 - 1}`, clause: 'TS 33.180 Annex J.3.3.1' });
    }
    const bytes = new Uint8Array((max >> 3) + 1);
    for (const b of list) bytes[b >> 3] = (bytes[b >> 3] ?? 0) | (1 << (b & 7));
    parts.push(`${name}=${Array.from(bytes, (x) => x.toString(16).padStart(2, '0')).join('')}`);
  }
  return parts.length === 0 ? identity : `${identity}?${parts.join('&')}`;
}

/** The grants the IdM scopes of an access token give (J.3.3 scope column); unknown scopes ignored. */
export function grantsOfScopes(scopes: readonly string[]): Partial<Record<AuthorisationField, readonly number[]>> {
  const out: Partial<Record<AuthorisationField, number[]>> = {};
  for (const name of AUTHORISATION_FIELDS) {
    const set = AUTHORISATION_BITS[name].filter((b) => scopes.includes(b.scope)).map((b) => b.bit);
    if (set.length > 0) out[name] = set;
  }
  return out;
}

/** What the receiver knows about the SIP request an EAR is attached to. */
export interface EarExpectations {
  /** Step 2: whether the Target ID (with its role) is this receiver / the request's target. */
  readonly isTarget: (targetId: string, targetRole: EarRole) => boolean;
  /** The request's asserted originator, compared with the Source ID without its authorisation
   *  fields; leave out when a server copied the EAR (§9.6.5.2.2). */
  readonly origin?: string | undefined;
  /** Source roles accepted (Table J.1.4-1). */
  readonly sourceRoles?: readonly EarRole[] | undefined;
  /** Step 6: the request type the SIP message is, and its Request ID when it has one. */
  readonly requestType?: number | undefined;
  readonly requestId?: number | undefined;
  /** §9.6.2.3 - §9.6.2.5: server roles of which the Source ID must hold one (mc-role-server). */
  readonly serverRoles?: readonly ServerRole[] | undefined;
  /** Require an Authorised Identity even where the request type does not (default false). */
  readonly requireAuthorisedIdentity?: boolean | undefined;
  /** Step 5: whether the signing KMS may authorise this request type (default: any trusted KMS). */
  readonly kmsMayAuthorise?: ((kmsUri: string, requestType: number) => boolean) | undefined;
  /** Step 7: when the action the SIP message starts ends at the latest (≤ Request Expiry). */
  readonly endsAt?: Date | undefined;
}

/** One authorisation bit an EAR was checked for. */
export interface CheckedAuthorisation {
  readonly field: AuthorisationField;
  readonly bit: number;
}

/** The outcome of an accepted EAR's authorisation check. */
export interface EarAuthorisation {
  readonly identity: AuthorisedIdentity;
  /** The bits the request needed (all present). */
  readonly checked: readonly CheckedAuthorisation[];
}

const forbidden = (field: string, rule: string, clause: string): PolicyError => new PolicyError(ErrorCode.FORBIDDEN, { field, rule, clause });

/** The bits a request needs (see the module comment). */
function requiredBits(p: EarPayload, serverRoles: readonly ServerRole[] | undefined): { all: CheckedAuthorisation[]; anyServer: CheckedAuthorisation[] } {
  const all: CheckedAuthorisation[] = [];
  const q = p.request;
  if (q !== undefined && (q.requestType === EarRequestType.PRIVILEGED || q.requestType === EarRequestType.OFF_NETWORK)) {
    const entry = requestIdsOf(q.requestType)?.find((e) => e.requestId === q.requestId?.value);
    if (entry === undefined) {
      throw forbidden('ear.payload.request.requestId', 'is required to authorise a privileged or off-network request', 'TS 33.180 §9.6.2.2, §9.6.2.6');
    }
    if (q.requestType === EarRequestType.OFF_NETWORK) {
      all.push({ field: 'mc-role-client', bit: CLIENT_ROLE_BIT[entry.service] }, { field: `mc-offnet-${entry.service}`, bit: 0 });
    }
    all.push({ field: entry.field, bit: entry.bit });
  }
  const anyServer = (serverRoles ?? []).map((r) => ({ field: 'mc-role-server' as const, bit: ServerRole[r] }));
  return { all, anyServer };
}

/**
 * Decides whether a verified EAR authorises the SIP request it came with (§9.6.5.4 steps 2, 5,
 * 6, 7 and the §9.6.2 rules); `signingKmsUri` is the KMS of its signature. Throws a PolicyError
 * ERR_FORBIDDEN (a FormatError for a malformed authorisation field) or returns what was checked.
 */
export function checkEarAuthorisation(p: EarPayload, signingKmsUri: string, expect: EarExpectations): EarAuthorisation {
  const identity = decodeAuthorisedIdentity(p.sourceId, 'ear.payload.sourceId');
  if (expect.origin !== undefined && identity.identity !== expect.origin) {
    throw forbidden('ear.payload.sourceId', 'must be the originator of the request', 'TS 33.180 §9.6.4.2');
  }
  if (expect.sourceRoles !== undefined && !expect.sourceRoles.includes(p.sourceRole)) {
    throw forbidden('ear.payload.sourceRole', `must be one of ${expect.sourceRoles.join(', ')}`, 'TS 33.180 Annex J.1.4');
  }
  if (!expect.isTarget(decodeAuthorisedIdentity(p.targetId, 'ear.payload.targetId').identity, p.targetRole)) {
    throw forbidden('ear.payload.targetId', 'must be the target of the request', 'TS 33.180 §9.6.5.4 step 2');
  }
  if (expect.requestType !== undefined) {
    if (p.request?.requestType !== expect.requestType) {
      throw forbidden('ear.payload.request.requestType', `must be ${expect.requestType}, the type of the SIP request`, 'TS 33.180 §9.6.5.4 step 6');
    }
    if (expect.requestId !== undefined && p.request.requestId?.value !== expect.requestId) {
      throw forbidden('ear.payload.request.requestId', 'must be the request the SIP message makes', 'TS 33.180 §9.6.5.4 step 6');
    }
  }
  const { all, anyServer } = requiredBits(p, expect.serverRoles);
  const needsAuthorisation = all.length > 0 || anyServer.length > 0 || expect.requireAuthorisedIdentity === true;
  if (needsAuthorisation && !identity.authorised) {
    throw forbidden('ear.payload.sourceId', 'must be an Authorised Identity', 'TS 33.180 §9.6.4.3');
  }
  for (const need of all) {
    if (!hasAuthorisation(identity, need.field, need.bit)) {
      throw forbidden(`ear.payload.sourceId.${need.field}`, `must grant bit ${need.bit} (${AUTHORISATION_BITS[need.field][need.bit]?.meaning ?? ''})`, 'TS 33.180 Annex J.3.3');
    }
  }
  const server = anyServer.find((need) => hasAuthorisation(identity, need.field, need.bit));
  if (anyServer.length > 0 && server === undefined) {
    throw forbidden('ear.payload.sourceId.mc-role-server', `must grant one of the roles ${(expect.serverRoles ?? []).join(', ')}`, 'TS 33.180 §9.6.2.3, Table J.3.3.2-2');
  }
  const requestType = p.request?.requestType;
  if (needsAuthorisation && expect.kmsMayAuthorise !== undefined && !expect.kmsMayAuthorise(signingKmsUri, requestType ?? 0)) {
    throw forbidden('ear.signingData.signingKms', 'is not permitted to authorise this type of request', 'TS 33.180 §9.6.5.4 step 5');
  }
  const expiry = p.request?.requestExpiry?.value;
  if (expect.endsAt !== undefined && expiry !== undefined && expect.endsAt.getTime() > expiry.getTime()) {
    throw forbidden('ear.payload.request.requestExpiry', 'is exceeded by the SIP request', 'TS 33.180 §9.6.5.4 step 7');
  }
  const checked = [...all, ...(server === undefined ? [] : [server])].map((c) => Object.freeze({ ...c }));
  return Object.freeze({ identity, checked: Object.freeze(checked) });
}
