/**
 * The client's key store (TS 33.180 §5.3.3, §5.x "keys ... shall be securely stored and maintained
 * through UE power cycles"): per KMS URI, user URI and key period, the key set the KMS issued
 * (UserID, RSK, SSK, PVT) and the KMS certificate that validates it, in a folder of JSON files.
 * Secrets (RSK, SSK) are sealed with AES-256-GCM (SecretBox) under a storage key kept beside them
 * in `storage.key` (0600), or the key MCSEC_STORAGE_KEY names; files are written 0600.
 * Entries are keyed by the KeyPeriodNo and UserID the KMS sent (some KMSs count periods from the
 * Unix epoch, not F.2.1's 1900 one): the store keeps what was validated, never a recomputed value.
 * The TrK / InK a KMS rotated (§5.3.3 step 2; §5.x: the TrK and InK "shall be securely stored and
 * maintained through UE power cycles") are kept per KMS URI and user, sealed the same way, with
 * the TrK-IDs they replaced.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, ErrorCode } from '../errors/index.js';
import { SecretBox, loadStorageKey, storeAad } from '../store/index.js';
import { fromHex, toHex } from '../util/index.js';
import type { ClientKey, ClientTransportKeys } from './kms-key-rotation.js';

/** One stored key set. */
export interface StoredKeySet {
  readonly kmsUri: string;
  readonly userUri: string;
  readonly keyPeriodNo: number;
  readonly userId: Uint8Array;
  readonly rsk: Uint8Array;
  readonly ssk: Uint8Array;
  readonly pvt: Uint8Array;
  readonly validFrom: string | undefined;
  readonly validTo: string | undefined;
}

/** The KMS certificate parameters a client needs (D.3.2.2). */
export interface StoredKmsCertificate {
  readonly kmsUri: string;
  readonly role: string | undefined;
  readonly userKeyPeriod: number;
  readonly userKeyOffset: number;
  readonly pubEncKey: Uint8Array;
  readonly pubAuthKey: Uint8Array;
}

/** The TrK / InK a client holds for a KMS, with the TrK-IDs they replaced (oldest first). */
export interface StoredClientKeys extends ClientTransportKeys {
  readonly previousTrkIds: readonly string[];
}

const slug = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 24);

export class ClientKeyStore {
  readonly #dir: string;
  readonly #box: SecretBox;

  constructor(dir: string, storageKey?: Uint8Array) {
    this.#dir = dir;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch {
      throw new ConfigError(ErrorCode.IO, { field: '--data-dir', rule: 'must be a folder mcsec can create and write' });
    }
    this.#box = new SecretBox(storageKey ?? ((process.env['MCSEC_STORAGE_KEY'] ?? '') !== '' ? loadStorageKey() : loadStorageKey({ file: join(dir, 'storage.key'), create: true })));
  }

  #write(path: string, value: unknown): void {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, path);
  }

  #userDir(kmsUri: string, userUri: string): string {
    const d = join(this.#dir, 'keys', `${slug(kmsUri)}-${slug(userUri)}`);
    mkdirSync(d, { recursive: true, mode: 0o700 });
    return d;
  }

  putCertificate(c: StoredKmsCertificate): void {
    const d = join(this.#dir, 'certificates');
    mkdirSync(d, { recursive: true, mode: 0o700 });
    this.#write(join(d, `${slug(c.kmsUri)}.json`), { ...c, pubEncKey: toHex(c.pubEncKey), pubAuthKey: toHex(c.pubAuthKey) });
  }

  getCertificate(kmsUri: string): StoredKmsCertificate | undefined {
    try {
      const v = JSON.parse(readFileSync(join(this.#dir, 'certificates', `${slug(kmsUri)}.json`), 'utf8')) as Record<string, unknown>;
      return Object.freeze({
        kmsUri: String(v['kmsUri']), role: typeof v['role'] === 'string' ? v['role'] : undefined,
        userKeyPeriod: Number(v['userKeyPeriod']), userKeyOffset: Number(v['userKeyOffset']),
        pubEncKey: fromHex(String(v['pubEncKey'])), pubAuthKey: fromHex(String(v['pubAuthKey'])),
      });
    } catch {
      return undefined;
    }
  }

  putKeySet(k: StoredKeySet): void {
    const pk = [k.kmsUri, k.userUri, k.keyPeriodNo];
    this.#write(join(this.#userDir(k.kmsUri, k.userUri), `period-${k.keyPeriodNo}.json`), {
      kmsUri: k.kmsUri, userUri: k.userUri, keyPeriodNo: k.keyPeriodNo, userId: toHex(k.userId),
      rsk: this.#box.seal(k.rsk, storeAad('client_key_set', 'rsk', pk)),
      ssk: this.#box.seal(k.ssk, storeAad('client_key_set', 'ssk', pk)),
      pvt: toHex(k.pvt), validFrom: k.validFrom, validTo: k.validTo,
    });
  }

  getKeySet(kmsUri: string, userUri: string, keyPeriodNo: number): StoredKeySet | undefined {
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(readFileSync(join(this.#userDir(kmsUri, userUri), `period-${keyPeriodNo}.json`), 'utf8')) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    const pk = [kmsUri, userUri, keyPeriodNo];
    return Object.freeze({
      kmsUri, userUri, keyPeriodNo,
      userId: fromHex(String(v['userId'])),
      rsk: this.#box.open(String(v['rsk']), storeAad('client_key_set', 'rsk', pk), 'clientKeyStore.rsk'),
      ssk: this.#box.open(String(v['ssk']), storeAad('client_key_set', 'ssk', pk), 'clientKeyStore.ssk'),
      pvt: fromHex(String(v['pvt'])),
      validFrom: typeof v['validFrom'] === 'string' ? v['validFrom'] : undefined,
      validTo: typeof v['validTo'] === 'string' ? v['validTo'] : undefined,
    });
  }

  /**
   * Keeps the TrK / InK in force for the user at the KMS (sealed, AAD naming KMS, user and key
   * ID), remembering the TrK-IDs they replace (at most 16): `replaced` are the keys used so far.
   */
  putClientKeys(kmsUri: string, userUri: string, keys: ClientTransportKeys, replaced?: ClientTransportKeys): void {
    const held = this.getClientKeys(kmsUri, userUri);
    const previous = [...(held?.previousTrkIds ?? []), held?.trk?.id, replaced?.trk?.id]
      .filter((id): id is string => id !== undefined && id !== keys.trk?.id)
      .filter((id, i, all) => all.indexOf(id) === i)
      .slice(-16);
    const seal = (k: ClientKey | undefined, column: string): { id: string; key: string } | undefined =>
      k === undefined ? undefined : { id: k.id, key: this.#box.seal(k.key, storeAad('client_transport_key', column, [kmsUri, userUri, k.id])) };
    this.#write(join(this.#userDir(kmsUri, userUri), 'client-keys.json'), { kmsUri, userUri, trk: seal(keys.trk, 'trk'), ink: seal(keys.ink, 'ink'), previousTrkIds: previous });
  }

  /** The TrK / InK kept for the user at the KMS by putClientKeys, if any. */
  getClientKeys(kmsUri: string, userUri: string): StoredClientKeys | undefined {
    let v: unknown;
    try {
      v = JSON.parse(readFileSync(join(this.#userDir(kmsUri, userUri), 'client-keys.json'), 'utf8'));
    } catch {
      return undefined;
    }
    const get = (o: unknown, k: string): unknown => (typeof o === 'object' && o !== null ? Reflect.get(o, k) : undefined);
    const open = (column: string): ClientKey | undefined => {
      const e = get(v, column);
      const id = get(e, 'id');
      const key = get(e, 'key');
      if (typeof id !== 'string' || typeof key !== 'string') return undefined;
      return { id, key: this.#box.open(key, storeAad('client_transport_key', column, [kmsUri, userUri, id]), `clientKeyStore.${column}`) };
    };
    const prev = get(v, 'previousTrkIds');
    return Object.freeze({
      trk: open('trk'),
      ink: open('ink'),
      previousTrkIds: Object.freeze(Array.isArray(prev) ? prev.filter((x): x is string => typeof x === 'string') : []),
    });
  }

  /** The key period numbers held for the user, ascending. */
  listPeriods(kmsUri: string, userUri: string): readonly number[] {
    return readdirSync(this.#userDir(kmsUri, userUri))
      .map((f) => /^period-(\d+)\.json$/.exec(f)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }
}
