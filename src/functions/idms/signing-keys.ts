/**
 * The IdMS's JWS keys (TS 33.180 Annex B.2.2.1: tokens are signed per RFC 7515): ES256 (P-256)
 * keys kept sealed in the store, made on first start. Every key not retired is published in the
 * JWKS; the oldest signs, so that instances sharing one store agree on it (two instances that
 * start at once may each add one; both are published and the same one signs). Cookie signing
 * keys for the login interaction come from the store the same way.
 */
import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { ErrorCode, McsecError } from '../../errors/index.js';
import type { KyselyIdmsStore } from '../../store/index.js';

/** The JWS algorithm of every IdMS token. */
export const SIGNING_ALG = 'ES256';

/** The keys a running IdMS uses. */
export interface IdmsKeys {
  /** Private JWKs, the signing key first (oidc-provider's `jwks`). */
  readonly privateJwks: readonly JWK[];
  /** The public JWKS served at jwks_uri. */
  readonly publicJwks: { readonly keys: readonly JWK[] };
  /** Keys for signed cookies (base64url). */
  readonly cookieKeys: readonly string[];
}

function parseJwk(text: string, kid: string): JWK {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  if (typeof v !== 'object' || v === null || Reflect.get(v, 'kty') !== 'EC' || Reflect.get(v, 'crv') !== 'P-256' || typeof Reflect.get(v, 'd') !== 'string') {
    throw new McsecError(ErrorCode.INTERNAL, { field: `store.idms_key.${kid}`, rule: 'must hold a private P-256 JWK' });
  }
  const s = (k: string): string => String(Reflect.get(v, k));
  return { kty: 'EC', crv: 'P-256', x: s('x'), y: s('y'), d: s('d'), kid, alg: SIGNING_ALG, use: 'sig' };
}

/** Loads the keys, making a signing key and cookie keys when the store has none. */
export async function loadIdmsKeys(store: KyselyIdmsStore): Promise<IdmsKeys> {
  let stored = (await store.listSigningKeys()).filter((k) => k.retiredAt === undefined && k.alg === SIGNING_ALG);
  if (stored.length === 0) {
    const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
    const jwk = await exportJWK(privateKey);
    const kid = await calculateJwkThumbprint(jwk);
    await store.addSigningKey({ kid, alg: SIGNING_ALG, privateJwk: JSON.stringify(jwk) });
    stored = (await store.listSigningKeys()).filter((k) => k.retiredAt === undefined && k.alg === SIGNING_ALG);
  }
  const privateJwks = stored.map((k) => parseJwk(k.privateJwk, k.kid));
  const publicJwks = privateJwks.map(({ d: _d, ...pub }) => Object.freeze(pub));
  const cookie = await store.secret('cookie_key', () => new Uint8Array(randomBytes(32)));
  const cookieKeys = [Buffer.from(cookie).toString('base64url')];
  cookie.fill(0);
  return Object.freeze({ privateJwks: Object.freeze(privateJwks), publicJwks: Object.freeze({ keys: Object.freeze(publicJwks) }), cookieKeys: Object.freeze(cookieKeys) });
}
