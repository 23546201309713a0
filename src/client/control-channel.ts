/**
 * The client's on-network control channel with its MCX server (TS 33.180 §9.4): SRTCP for floor
 * control (MCPTT, TS 24.380 RTCP APP), transmission control (MCVideo) and media control. The
 * session carries RTCP bytes; what they say is the application's.
 *
 *   link                               KFC     MKI (§9.4.6)   CS-ID (Table E.1.3-1)
 *   unicast uplink / downlink (§9.4.2)   CSK     CSK-ID         6 MCPTT, 8 MCVideo
 *   multicast downlink (§9.4.3)          MuSiK   MuSiK-ID       7 MCPTT, 9 MCVideo
 *   MBMS subchannel control (§H.4)       MSCCK   MSCCK-ID       none assigned: `mscckCsId`
 *
 * Master key and salt: TGK = KFC, CSB-ID = KFC-ID, RAND = KFC-RAND, the RAND of the MIKEY message
 * that carried the key (`HeldKey.rand`, §9.4.2 / §9.4.3), derived by §9.4.6 in `SrtpKeyRing`;
 * SRTCP with AEAD_AES_128_GCM (§9.4.8). The keys come from `McxClientKeys` (CSK after its upload
 * or a key download, MuSiKs / MSCCKs from key downloads) and are read again on every packet, so a
 * CSK update (§9.2.1.4) switches the next packet sent and the keys accepted at once: a previous
 * CSK is discarded, as §9.2.1.4 says, and its packets are `unknown-key`.
 *
 * Sending is always under the CSK (the client never sends on multicast). Receiving finds the key
 * by MKI (§9.4.7 step 1): the CSK in force, or a MuSiK / MSCCK held and not expired. An MKI that
 * is not a KFC-ID (a PCK-ID, a GMK-ID, a 64-bit group MKI) is `wrong-purpose`: off-network SRTCP
 * (§9.4.4) goes with the call's SRTP key and MKI, i.e. through that call's `GroupCallSession` or
 * `PrivateCallSession`. `receive` never throws (media-session.ts); non-RTCP input is `malformed`.
 */
import type { McMediaService } from '../crypto/srtp-key-derivation.js';
import { ErrorCode, FormatError, PolicyError } from '../errors/index.js';
import { SrtpKeyRing, decodeMki, type SrtpKey } from '../formats/srtp/index.js';
import type { HeldKey } from './mcx-client-keys.js';
import { KEY_STATE_FIELD } from './media-stats.js';
import { MediaSession } from './media-session.js';

/** Where the channel gets its KFCs: `McxClientKeys` fits. */
export interface ControlKeySource {
  readonly csk: HeldKey | undefined;
  readonly multicastKeys: readonly HeldKey[];
}

/** Options of a control channel. */
export interface ControlChannelOptions {
  readonly keys: ControlKeySource;
  /** MCPTT (floor control) or MCVideo (transmission control); default MCPTT. */
  readonly service?: McMediaService;
  /** The CS-ID of SRTCP under an MSCCK (§H.4; Table E.1.3-1 has none): without it MSCCKs are not used. */
  readonly mscckCsId?: number;
  readonly replayWindow?: number;
  readonly now?: () => Date;
}

const S946 = 'TS 33.180 §9.4.6';

/** SRTCP of one client's control channel with its MCX server (see the module comment). */
export class ControlChannelSession extends MediaSession {
  readonly #o: ControlChannelOptions;
  readonly #service: McMediaService;
  readonly #now: () => Date;
  readonly #ring = new SrtpKeyRing();
  /** The KFCs in the ring, by KFC-ID, as last read from the key source. */
  #held = new Map<number, HeldKey>();

  constructor(o: ControlChannelOptions) {
    super({ mkiLength: 4, rocRate: 0, rtcpOnly: true, ...(o.replayWindow === undefined ? {} : { replayWindow: o.replayWindow }) });
    this.#o = o;
    this.#service = o.service ?? 'MCPTT';
    this.#now = o.now ?? (() => new Date());
  }

  /** The CSK-ID packets go out under now (undefined before a CSK is held). */
  get sendingKfcId(): number | undefined {
    return this.#o.keys.csk?.keyId;
  }

  /** A random SSRC for this client's RTCP, unused under the current CSK (§7.5.1, RFC 7714 §9.1). */
  newSsrc(): number {
    return this.#ring.newSsrc(this.senderKey());
  }

  protected senderKey(): SrtpKey {
    const csk = this.#sync().csk;
    if (csk === undefined) {
      throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'controlChannel.csk', rule: 'no CSK is held for the MCX server yet', clause: 'TS 33.180 §9.4.2' });
    }
    return this.#ring.senderKey(csk.keyId, { service: this.#service });
  }

  protected resolveKey(mki: Uint8Array): SrtpKey {
    const { csk } = this.#sync();
    const m = decodeMki(mki);
    if (m.form !== 'key-id' || (m.keyType !== 'CSK' && m.keyType !== 'MuSiK' && m.keyType !== 'MSCCK')) {
      throw new FormatError(ErrorCode.BAD_VALUE, {
        field: 'srtp.mki.keyId',
        rule: 'on-network SRTCP carries a KFC-ID (CSK-ID, MuSiK-ID, MSCCK-ID); off-network SRTCP goes to the call session (§9.4.4)',
        clause: S946,
      });
    }
    if (m.keyType === 'CSK' && m.keyId !== csk?.keyId) {
      throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'srtp.mki', rule: 'names no CSK in force with the MCX server', clause: 'TS 33.180 §9.4.2, §9.2.1.4' });
    }
    const k = this.#held.get(m.keyId);
    if (k === undefined) throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'srtp.mki', rule: 'no KFC is held for this KFC-ID', clause: 'TS 33.180 §9.4.7' });
    if (k.expiresAt !== undefined && k.expiresAt.getTime() <= this.#now().getTime()) {
      throw new PolicyError(ErrorCode.EXPIRED, { field: KEY_STATE_FIELD, rule: `the ${k.keyType} has expired`, clause: 'TS 33.180 §E.6.10' });
    }
    return this.#ring.resolve(mki, { service: this.#service });
  }

  /** Mirrors the key source in the ring: keys gone or replaced are removed, new ones added. */
  #sync(): ControlKeySource {
    const src = this.#o.keys;
    const next = new Map<number, HeldKey>();
    if (src.csk !== undefined) next.set(src.csk.keyId, src.csk);
    for (const k of src.multicastKeys) {
      if (k.keyType === 'MuSiK' || (k.keyType === 'MSCCK' && this.#o.mscckCsId !== undefined)) next.set(k.keyId, k);
    }
    let same = next.size === this.#held.size;
    for (const [id, k] of next) if (this.#held.get(id) !== k) same = false;
    if (same) return src;
    for (const [id, k] of this.#held) if (next.get(id) !== k) this.#ring.removeKey(id);
    for (const [id, k] of next) {
      if (this.#held.get(id) === k) continue;
      const csId = k.keyType === 'MSCCK' ? this.#o.mscckCsId : undefined;
      this.#ring.addControlKey({ kfc: k.key, kfcId: k.keyId, kfcRand: k.rand, ...(csId === undefined ? {} : { csId }) });
    }
    this.#held = next;
    return src;
  }
}
