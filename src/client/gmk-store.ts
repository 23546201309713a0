/**
 * The GMKs a group management client holds (TS 33.180 §5.7.2 step 2: "the MC UE shall store the
 * GMK, GMK-ID, GUK-ID and associated parameters"), by GMK-ID, with the §E.6 key parameters:
 * the MC group IDs the GMK serves, activation and expiry time, status (revoked, Security
 * Gateway) and text. `MemoryGmkStore` for one process; `FileGmkStore` keeps them through power
 * cycles in a folder of JSON files, the GMK sealed (AES-256-GCM, SecretBox) under the client's
 * storage key, as the client key store does (the RAND, public in the I_MESSAGE, in hex).
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, ErrorCode } from '../errors/index.js';
import { SecretBox, loadStorageKey, storeAad } from '../store/index.js';
import { fromHex, toHex } from '../util/index.js';

/** A GMK held by the client. */
export interface StoredGmk {
  /** GMK-ID (purpose tag 0). */
  readonly gmkId: number;
  /** This user's GUK-ID for the GMK (§5.2.3): its own SRTP key derivation uses it (§7.4.2). */
  readonly gukId: number;
  readonly gmk: Uint8Array;
  /** The RAND of the GMK's I_MESSAGE: group call SRTP keys are derived with it (§7.4.2). */
  readonly rand: Uint8Array;
  /** The MC group IDs the GMK serves (§E.6.3). */
  readonly groupIds: readonly string[];
  /** §E.6.4; the I_MESSAGE's timestamp where the parameters say 0. */
  readonly activationTime: Date;
  /** §E.6.10; undefined: no expiry. */
  readonly expiryTime: Date | undefined;
  /** §E.6.9 bit 0 clear: the GMK may not be used. */
  readonly revoked: boolean;
  /** §E.6.9 bit 1: the GMK is shared with an MC Security Gateway (the user is to be warned, §5.7). */
  readonly securityGateway: boolean;
  readonly text: string;
  /** The GMS that sent it (IDRi). */
  readonly gmsUri: string;
  readonly receivedAt: Date;
}

/** Where a client keeps its GMKs. */
export interface GmkStore {
  get(gmkId: number): StoredGmk | undefined;
  /** Stores or replaces the GMK of that GMK-ID. */
  put(gmk: StoredGmk): void;
  /** Every held GMK. */
  list(): readonly StoredGmk[];
  /** Deletes (and overwrites in memory) the GMK; true when it was held. */
  delete(gmkId: number): boolean;
}

/** GMKs in memory. */
export class MemoryGmkStore implements GmkStore {
  readonly #held = new Map<number, StoredGmk>();
  get(gmkId: number): StoredGmk | undefined {
    return this.#held.get(gmkId);
  }
  put(gmk: StoredGmk): void {
    this.#held.set(gmk.gmkId, Object.freeze({ ...gmk, gmk: gmk.gmk.slice(), rand: gmk.rand.slice(), groupIds: Object.freeze([...gmk.groupIds]) }));
  }
  list(): readonly StoredGmk[] {
    return Object.freeze([...this.#held.values()]);
  }
  delete(gmkId: number): boolean {
    const g = this.#held.get(gmkId);
    g?.gmk.fill(0);
    return this.#held.delete(gmkId);
  }
}

const idName = (gmkId: number): string => `gmk-${gmkId.toString(16).padStart(8, '0')}.json`;

/** GMKs in a folder, one JSON file each (0600), the GMK sealed; the folder is per user. */
export class FileGmkStore implements GmkStore {
  readonly #dir: string;
  readonly #box: SecretBox;
  readonly #userUri: string;

  /** `dir` holds this user's GMKs; the storage key as ClientKeyStore takes it. */
  constructor(dir: string, userUri: string, storageKey?: Uint8Array) {
    this.#dir = dir;
    this.#userUri = userUri;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch {
      throw new ConfigError(ErrorCode.IO, { field: '--data-dir', rule: 'must be a folder mcsec can create and write' });
    }
    this.#box = new SecretBox(storageKey ?? ((process.env['MCSEC_STORAGE_KEY'] ?? '') !== '' ? loadStorageKey() : loadStorageKey({ file: join(dir, 'storage.key'), create: true })));
  }

  #aad(gmkId: number): Uint8Array {
    return storeAad('client_gmk', 'gmk', [this.#userUri, gmkId]);
  }

  get(gmkId: number): StoredGmk | undefined {
    let v: unknown;
    try {
      v = JSON.parse(readFileSync(join(this.#dir, idName(gmkId)), 'utf8'));
    } catch {
      return undefined;
    }
    return this.#decode(v, gmkId);
  }

  put(g: StoredGmk): void {
    const path = join(this.#dir, idName(g.gmkId));
    const tmp = `${path}.${process.pid}.tmp`;
    const value = {
      gmkId: g.gmkId,
      gukId: g.gukId,
      gmk: this.#box.seal(g.gmk, this.#aad(g.gmkId)),
      rand: toHex(g.rand),
      groupIds: g.groupIds,
      activationTime: g.activationTime.toISOString(),
      expiryTime: g.expiryTime?.toISOString() ?? null,
      revoked: g.revoked,
      securityGateway: g.securityGateway,
      text: g.text,
      gmsUri: g.gmsUri,
      receivedAt: g.receivedAt.toISOString(),
    };
    writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, path);
  }

  list(): readonly StoredGmk[] {
    const out: StoredGmk[] = [];
    for (const f of readdirSync(this.#dir)) {
      const m = /^gmk-([0-9a-f]{8})\.json$/.exec(f);
      const g = m?.[1] === undefined ? undefined : this.get(parseInt(m[1], 16));
      if (g !== undefined) out.push(g);
    }
    return Object.freeze(out);
  }

  delete(gmkId: number): boolean {
    const path = join(this.#dir, idName(gmkId));
    const held = this.get(gmkId) !== undefined;
    rmSync(path, { force: true });
    return held;
  }

  #decode(v: unknown, gmkId: number): StoredGmk | undefined {
    const get = (k: string): unknown => (typeof v === 'object' && v !== null ? Reflect.get(v, k) : undefined);
    const str = (k: string): string | undefined => (typeof get(k) === 'string' ? String(get(k)) : undefined);
    const groupIds = get('groupIds');
    const sealed = str('gmk');
    const activation = str('activationTime');
    const gukId = get('gukId');
    const rand = /^(?:[0-9a-f]{2}){16,255}$/.test(str('rand') ?? '') ? fromHex(str('rand') ?? '') : undefined;
    if (get('gmkId') !== gmkId || sealed === undefined || rand === undefined || activation === undefined || typeof gukId !== 'number') return undefined;
    if (!Array.isArray(groupIds) || !groupIds.every((x): x is string => typeof x === 'string')) return undefined;
    const expiry = str('expiryTime');
    return Object.freeze({
      gmkId,
      gukId,
      gmk: this.#box.open(sealed, this.#aad(gmkId), 'clientGmkStore.gmk'),
      rand,
      groupIds: Object.freeze(groupIds),
      activationTime: new Date(activation),
      expiryTime: expiry === undefined ? undefined : new Date(expiry),
      revoked: get('revoked') === true,
      securityGateway: get('securityGateway') === true,
      text: str('text') ?? '',
      gmsUri: str('gmsUri') ?? '',
      receivedAt: new Date(str('receivedAt') ?? 0),
    });
  }
}
