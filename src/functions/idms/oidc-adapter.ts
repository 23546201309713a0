/**
 * oidc-provider's storage adapter on the IdMS store (ARCHITECTURE.md §4: durable state in the
 * store, so instances are stateless). Each model (AuthorizationCode, RefreshToken, Session,
 * Grant, Interaction, …) is rows of `idms_oidc` under the SHA-256 of the id, the payload sealed
 * (idms-store.ts). The `Client` model reads the clients registered with `mcsec idms add-client`
 * (B.3); dynamic registration is off, so it is never written.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { KyselyIdmsStore } from '../../store/index.js';

/** Models whose rows are revoked with their grant (oidc-provider's "grantable" set). */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/**
 * The payloads read back are the JSON oidc-provider handed to `upsert`, authenticated by the
 * store's AES-GCM seal (AAD = model and id), so they are taken as the library's own type.
 */
const ownPayload = (p: Readonly<Record<string, unknown>>): AdapterPayload => ({ ...p }) as AdapterPayload;

/** The adapter factory for oidc-provider's `adapter` setting. */
export function idmsAdapter(store: KyselyIdmsStore): (model: string) => Adapter {
  return (model) => (model === 'Client' ? clientAdapter(store) : new StoreAdapter(store, model));
}

class StoreAdapter implements Adapter {
  readonly #store: KyselyIdmsStore;
  readonly #model: string;

  constructor(store: KyselyIdmsStore, model: string) {
    this.#store = store;
    this.#model = model;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    await this.#store.oidcUpsert(this.#model, id, { ...payload }, expiresIn, {
      grantId: GRANTABLE.has(this.#model) ? str(payload.grantId) : undefined,
      uid: this.#model === 'Session' ? str(payload.uid) : undefined,
      userCode: str(payload.userCode),
    });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const r = await this.#store.oidcFind(this.#model, id);
    if (r === undefined) return undefined;
    return ownPayload(r.consumedAt === undefined ? r.payload : { ...r.payload, consumed: r.consumedAt });
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const r = await this.#store.oidcFindBy(this.#model, 'uid', uid);
    return r === undefined ? undefined : ownPayload(r.payload);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const r = await this.#store.oidcFindBy(this.#model, 'userCode', userCode);
    return r === undefined ? undefined : ownPayload(r.payload);
  }

  async consume(id: string): Promise<void> {
    await this.#store.oidcConsume(this.#model, id);
  }

  async destroy(id: string): Promise<void> {
    await this.#store.oidcDestroy(this.#model, id);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.#store.oidcRevokeByGrantId(grantId);
  }
}

function clientAdapter(store: KyselyIdmsStore): Adapter {
  const none = (): Promise<undefined> => Promise.resolve(undefined);
  return {
    upsert: none,
    findByUid: none,
    findByUserCode: none,
    consume: none,
    destroy: none,
    revokeByGrantId: none,
    async find(id: string): Promise<AdapterPayload | undefined> {
      const c = await store.getClient(id);
      if (c === undefined) return undefined;
      return ownPayload({ ...c.metadata, client_id: c.clientId, ...(c.secret === undefined ? {} : { client_secret: c.secret }) });
    },
  };
}
