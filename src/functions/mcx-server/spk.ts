/**
 * Signalling Protection Keys between servers (TS 33.180 §5.5, §9.2.3; CR 11.1.X: IS proxy to IS
 * proxy over SIP-3). "The SPK and associated values shall be directly provisioned into the
 * communicating servers, along with the SPK-ID": a 128-bit SPK, a 32-bit SPK-ID whose purpose tag
 * is 3 (Annex G) and a 128-bit SPK-RAND, per partner (a server or partner domain).
 *
 * Provisioning is a JSON file the operator writes (the format is mcsec's; the spec names none):
 *
 *   { "spks": [ { "partner": "mcx.partner.example", "spkId": "3a1b2c3d", "spk": "<32 hex>",
 *                 "spkRand": "<32 hex>", "expires": "2026-01-01T00:00:00Z" } ] }
 *
 * `decodeSpkConfig` checks it (errors name `spk.spks[i].…`), `importSpks` puts it in the store
 * (idempotent: the SPK-ID is the key), and `SpkResolver` answers "which SPK for this partner"
 * (the newest unexpired one, for protecting) and "which SPK is this SPK-ID" (for unprotecting).
 */
import { decodeKeyId, isKeyIdOfType } from '../../crypto/index.js';
import { ConfigError, ErrorCode, PolicyError } from '../../errors/index.js';
import type { McxSpk, McxStore } from '../../store/mcx-records.js';
import { fromHex } from '../../util/index.js';

/** One provisioned SPK. */
export interface SpkEntry {
  readonly partner: string;
  readonly spkId: number;
  readonly spk: Uint8Array;
  readonly spkRand: Uint8Array;
  readonly expiresAt: number | undefined;
}

const conf = (field: string, rule: string): ConfigError => new ConfigError(ErrorCode.CONFIG, { field, rule, clause: 'TS 33.180 §5.5' });

/** Decodes and checks an SPK provisioning file (see the module comment). */
export function decodeSpkConfig(text: string): readonly SpkEntry[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw conf('spk', 'must be JSON');
  }
  const list: unknown = typeof v === 'object' && v !== null ? Reflect.get(v, 'spks') : undefined;
  if (!Array.isArray(list)) throw conf('spk.spks', 'must be an array');
  const seen = new Set<number>();
  return Object.freeze(
    list.map((e: unknown, i): SpkEntry => {
      const at = `spk.spks[${i}]`;
      if (typeof e !== 'object' || e === null) throw conf(at, 'must be an object');
      const s = (k: string): string => {
        const x: unknown = Reflect.get(e, k);
        if (typeof x !== 'string') throw conf(`${at}.${k}`, 'must be a string');
        return x;
      };
      const hex16 = (k: string): Uint8Array => {
        const x = s(k);
        if (!/^[0-9a-fA-F]{32}$/.test(x)) throw conf(`${at}.${k}`, 'must be 32 hex digits (128 bits)');
        return fromHex(x.toLowerCase());
      };
      const partner = s('partner');
      if (partner.length === 0 || partner.length > 2048) throw conf(`${at}.partner`, 'must be 1 to 2048 characters');
      const idText = s('spkId');
      if (!/^[0-9a-fA-F]{8}$/.test(idText)) throw conf(`${at}.spkId`, 'must be 8 hex digits (32 bits)');
      const spkId = Number.parseInt(idText, 16);
      if (!isKeyIdOfType(spkId, 'SPK')) throw conf(`${at}.spkId`, 'must have purpose tag 3 (SPK) in its 4 most significant bits');
      if (seen.has(spkId)) throw conf(`${at}.spkId`, 'must not repeat another entry');
      seen.add(spkId);
      let expiresAt: number | undefined;
      if (Reflect.get(e, 'expires') !== undefined) {
        expiresAt = Date.parse(s('expires'));
        if (Number.isNaN(expiresAt)) throw conf(`${at}.expires`, 'must be an ISO-8601 time');
      }
      return Object.freeze({ partner, spkId, spk: hex16('spk'), spkRand: hex16('spkRand'), expiresAt });
    }),
  );
}

/** Stores provisioned SPKs (replacing those with the same SPK-ID); returns how many. */
export async function importSpks(store: McxStore, entries: readonly SpkEntry[]): Promise<number> {
  for (const e of entries) await store.putSpk(e);
  return entries.length;
}

/** Which SPK to use with a partner, and which SPK an SPK-ID names. */
export class SpkResolver {
  readonly #store: McxStore;
  constructor(store: McxStore) {
    this.#store = store;
  }

  /** The newest SPK of `partner` unexpired at `now`; PolicyError ERR_UNKNOWN_KEY when none. */
  async forPartner(partner: string, now: Date): Promise<McxSpk> {
    const spk = (await this.#store.listSpks(partner)).find((s) => s.expiresAt === undefined || s.expiresAt > now.getTime());
    if (spk === undefined) {
      throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'spk.partner', rule: 'no unexpired SPK is provisioned for this partner', clause: 'TS 33.180 §5.5' });
    }
    return spk;
  }

  /** The SPK an SPK-ID names: ERR_UNKNOWN_KEY when none, ERR_EXPIRED when past its expiry. */
  async byId(spkId: number, now: Date): Promise<McxSpk> {
    decodeKeyId(spkId, 'spk.spkId');
    const spk = await this.#store.getSpk(spkId);
    if (spk === undefined) throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'spk.spkId', rule: 'names no provisioned SPK', clause: 'TS 33.180 §5.5' });
    if (spk.expiresAt !== undefined && spk.expiresAt <= now.getTime()) {
      throw new PolicyError(ErrorCode.EXPIRED, { field: 'spk.spkId', rule: 'names an SPK past its expiry', clause: 'TS 33.180 §5.5' });
    }
    return spk;
  }
}
