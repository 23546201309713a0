/**
 * The records of the IdMS's durable state (TS 33.180 §5.1.2.1, Annex B): users with their MC ID,
 * credentials and MC service IDs, registered clients (B.3), JWS signing keys, named secrets, and
 * the OpenID Connect artefacts of an authorisation server (codes, refresh tokens, sessions,
 * grants, interactions) kept as opaque JSON payloads. idms-store.ts keeps them in SQLite or
 * PostgreSQL with every secret sealed.
 */

/** The MC service ID claims of Table B.2.1.3-1 / B.2.2.3-1. */
export type McServiceIdClaimName = 'mcptt_id' | 'mcvideo_id' | 'mcdata_id' | 'mcrec_id';

/** MC service IDs by claim name, as provisioned (§5.1.2.1: mapped to the MC ID). */
export type McServiceIds = Readonly<Partial<Record<McServiceIdClaimName, string>>>;

/** An IdMS user: the MC ID (username) and what the IdMS knows of it. */
export interface IdmsUser {
  /** The MC ID the user logs in with. */
  readonly username: string;
  /** The OpenID `sub`: random, never reassigned (B.2.1.2). */
  readonly sub: string;
  /** The password hash (`scrypt$…`, functions/idms/password.ts). */
  readonly passwordHash: string;
  readonly mcServiceIds: McServiceIds;
  /** A disabled user can neither log in nor refresh (B.5.2). */
  readonly disabled: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A user to add or replace; `sub` is kept when the user exists, drawn at random otherwise. */
export interface NewIdmsUser {
  readonly username: string;
  readonly passwordHash: string;
  readonly mcServiceIds: McServiceIds;
  readonly disabled?: boolean | undefined;
}

/** A client registered with the IdMS (B.3): OpenID client metadata, its secret apart. */
export interface IdmsClient {
  readonly clientId: string;
  /** Client metadata (RFC 7591 names), without client_id and client_secret. */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** The client secret, for confidential clients. */
  readonly secret: string | undefined;
  readonly createdAt: number;
}

/** A JWS signing key of the IdMS. */
export interface IdmsSigningKey {
  readonly kid: string;
  readonly alg: string;
  /** The private JWK as JSON text (kept sealed). */
  readonly privateJwk: string;
  readonly createdAt: number;
  readonly retiredAt: number | undefined;
}

/** One stored OpenID Connect artefact. */
export interface IdmsOidcRecord {
  readonly payload: Readonly<Record<string, unknown>>;
  /** Seconds since the epoch when it was consumed (an authorisation code used), if it was. */
  readonly consumedAt: number | undefined;
}

/** Secondary keys of an OpenID Connect artefact, for revocation and lookups. */
export interface IdmsOidcIndexes {
  readonly grantId?: string | undefined;
  readonly uid?: string | undefined;
  readonly userCode?: string | undefined;
}
