/**
 * A group call's media security on an MC client (TS 33.180 §7.3, §7.4.2, §7.5): the group's
 * GMKs as the group management client holds them (§5.7.2), SRTP / SRTCP with AEAD_AES_128_GCM
 * and RCCm3 (Table E.2.2-1: R = 1 by default).
 *
 * Sending (§7.4.2, §7.5.1): the GMK whose activation time is the most recent among the group's
 * active GMKs (§5.7, `GroupManagementClient.activeGmk`); master key and salt from it with CSB-ID =
 * this user's GUK-ID and CS-ID 4 (MCPTT) or 5 (MCVideo), the GMK's RAND; MKI = GMK-ID || GUK-ID
 * (64 bits); a random SSRC never used before under that master key. When a newer GMK becomes
 * active (a rekey), the next packet goes out under it, same SSRC, SEQ and ROC going on.
 *
 * Receiving (§7.5.2): the GMK by the MKI's GMK-ID among the group's GMKs, the master key with the
 * GUK-ID the MKI carries (so each sender's stream has its own key); any GMK of the group that is
 * neither revoked (§E.6.9) nor expired (§E.6.10) opens packets — the old one keeps working while
 * senders move to the new one — activation time only decides what to send with (a receiver's
 * clock may lag a sender's). Per remote SSRC a context is made on its first authenticated packet;
 * a late joiner takes the sender's ROC from the RCCm3 field (RFC 4771, §7.5.1), so a stream whose
 * SEQ wrapped before the join opens at once.
 *
 * The session learns of new GMKs through `refreshKeys` (`joinGroupCall` calls it on each `gmk`
 * event of the group management client), not by reading the GMK store per packet.
 */
import { ConfigError, ErrorCode, PolicyError } from '../errors/index.js';
import { SrtpKeyRing, decodeMki, type SrtpKey } from '../formats/srtp/index.js';
import type { McMediaService } from '../crypto/srtp-key-derivation.js';
import type { StoredGmk } from './gmk-store.js';
import { KEY_STATE_FIELD } from './media-stats.js';
import { MediaSession } from './media-session.js';

/** Where a group call gets its GMKs: the group management client fits. */
export interface GroupKeySource {
  gmks(): readonly StoredGmk[];
  /** The GMK to send with at `at` (§5.7: the active one activated last). */
  activeGmk(groupId: string, at?: Date): StoredGmk | undefined;
}

/** A group management client that also reports new GMKs. */
export interface GroupKeyEvents extends GroupKeySource {
  on(event: 'gmk', listener: (gmk: StoredGmk) => void): unknown;
  off(event: 'gmk', listener: (gmk: StoredGmk) => void): unknown;
}

export interface GroupCallOptions {
  /** The MC group ID (as in the GMK's §E.6.3 key parameters). */
  readonly groupId: string;
  /** This user's MC service ID: its GUK-ID comes from it (§F.1.3). */
  readonly userUri: string;
  readonly keys: GroupKeySource;
  readonly service?: McMediaService;
  /** RCCm3 rate R (RFC 4771); default 1 (Table E.2.2-1); 0 turns RCC off. */
  readonly rocRate?: number;
  readonly replayWindow?: number;
  readonly now?: () => Date;
}

const S742 = 'TS 33.180 §7.4.2';

/** One client's media security in one group call (see the module comment). */
export class GroupCallSession extends MediaSession {
  readonly groupId: string;
  readonly #o: GroupCallOptions;
  readonly #service: McMediaService;
  readonly #now: () => Date;
  readonly #ring = new SrtpKeyRing();
  /** The group's GMKs by GMK-ID, as last read. */
  #held = new Map<number, StoredGmk>();
  #active: StoredGmk | undefined;
  /** Until when `#active` holds: the next activation or expiry of one of the group's GMKs. */
  #activeUntil = -Infinity;

  constructor(o: GroupCallOptions) {
    super({ mkiLength: 8, rocRate: o.rocRate ?? 1, ...(o.replayWindow === undefined ? {} : { replayWindow: o.replayWindow }) });
    if (o.groupId === '' || o.userUri === '') throw new ConfigError(ErrorCode.CONFIG, { field: 'groupCall.groupId', rule: 'the group ID and user URI must be given' });
    this.groupId = o.groupId;
    this.#o = o;
    this.#service = o.service ?? 'MCPTT';
    this.#now = o.now ?? (() => new Date());
    this.refreshKeys();
  }

  /** Reads the group's GMKs again (after a GMK arrived); returns how many are held. */
  refreshKeys(): number {
    const next = new Map<number, StoredGmk>();
    for (const g of this.#o.keys.gmks()) if (g.groupIds.includes(this.groupId)) next.set(g.gmkId, g);
    for (const [id, old] of this.#held) {
      const g = next.get(id);
      if (g === undefined || g.gmk !== old.gmk) this.#ring.removeKey(id);
    }
    for (const [id, g] of next) {
      if (this.#held.get(id)?.gmk !== g.gmk) this.#ring.addGroupKey({ gmk: g.gmk, gmkId: g.gmkId, rand: g.rand });
    }
    this.#held = next;
    this.#activeUntil = -Infinity;
    return next.size;
  }

  /** The GMK-ID packets go out under now (undefined when the group has no active GMK). */
  get sendingGmkId(): number | undefined {
    return this.#activeGmk()?.gmkId;
  }

  /** A random SSRC for a new stream of this client's, unused under the current key (§7.5.1). */
  newSsrc(): number {
    return this.#ring.newSsrc(this.senderKey());
  }

  protected senderKey(): SrtpKey {
    const gmk = this.#activeGmk();
    if (gmk === undefined) {
      throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'groupCall.gmk', rule: 'the group has no active GMK to send with', clause: 'TS 33.180 §5.7' });
    }
    return this.#ring.senderKey(gmk.gmkId, { service: this.#service, senderUserId: this.#o.userUri });
  }

  protected resolveKey(mki: Uint8Array): SrtpKey {
    const m = decodeMki(mki);
    if (m.form !== 'gmk-guk') {
      throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'srtp.mki', rule: 'a group call MKI is GMK-ID || GUK-ID', clause: S742 });
    }
    const g = this.#held.get(m.gmkId);
    if (g === undefined) throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'srtp.mki', rule: 'no GMK of this group is held for this GMK-ID', clause: S742 });
    if (g.revoked) throw new PolicyError(ErrorCode.EXPIRED, { field: KEY_STATE_FIELD, rule: 'the GMK is revoked', clause: 'TS 33.180 §E.6.9' });
    if (g.expiryTime !== undefined && g.expiryTime.getTime() <= this.#now().getTime()) {
      throw new PolicyError(ErrorCode.EXPIRED, { field: KEY_STATE_FIELD, rule: 'the GMK has expired', clause: 'TS 33.180 §E.6.10' });
    }
    return this.#ring.resolve(mki, { service: this.#service });
  }

  /** §5.7 through the key source, read again only when a GMK's activation or expiry passed. */
  #activeGmk(): StoredGmk | undefined {
    const now = this.#now();
    const t = now.getTime();
    if (t < this.#activeUntil) return this.#active;
    this.#active = this.#o.keys.activeGmk(this.groupId, now);
    let until = Infinity;
    for (const g of this.#held.values()) {
      for (const at of [g.activationTime.getTime(), g.expiryTime?.getTime()]) if (at !== undefined && at > t && at < until) until = at;
    }
    this.#activeUntil = until;
    return this.#active;
  }
}

/**
 * Joins a group call (§7.3): a session over the group management client's GMKs that reads them
 * again whenever one arrives. `close` stops listening.
 */
export function joinGroupCall(gmc: GroupKeyEvents, o: Omit<GroupCallOptions, 'keys'>): GroupCallSession & { close(): void } {
  const session = new GroupCallSession({ ...o, keys: gmc });
  const onGmk = (g: StoredGmk): void => {
    if (g.groupIds.includes(o.groupId)) session.refreshKeys();
  };
  gmc.on('gmk', onGmk);
  return Object.assign(session, { close: () => void gmc.off('gmk', onGmk) });
}
