/**
 * The SRTCP keys of the MCX server's floor, transmission and media control (TS 33.180 §9.4): what a
 * floor control server (or a test one) needs to open a client's SRTCP and protect its own. Logic
 * on the store and formats/srtp only; the caller owns the sockets.
 *
 *   link                                KFC     KFC-ID      KFC-RAND                  CS-ID (Table E.1.3-1)
 *   unicast up- / downlink (§9.4.2)     CSK     CSK-ID      RAND of the CSK's MIKEY    6 MCPTT, 8 MCVideo
 *   multicast downlink (§9.4.3)         MuSiK   MuSiK-ID    RAND of the MuSiK's MIKEY  7 MCPTT, 9 MCVideo
 *
 * Master key and salt by §9.4.6 (crypto/srtp-key-derivation.ts, through `SrtpKeyRing`), MKI = the
 * 32-bit KFC-ID (§9.4.6), SRTCP with AEAD_AES_128_GCM (§9.4.8). The KFC-RAND of a CSK is the RAND
 * of the MIKEY message that carried it, as stored with it (the client's upload, or this server's
 * key download; 0007_mcx_csk_rand); for a row stored before that, and for a MuSiK (this server
 * chose its RAND), it is `deriveKfcRand(key, key ID)`, the RAND mcsec sends with every KFC it
 * distributes.
 *
 * - `clientControlKey`: a registered client's CSK in force: the newest of that client's CSKs that
 *   the resolver finds active now (owner, activation, expiry; as protected-message.ts `#keyFor`);
 *   a CSK not active yet (a future §E.6 activation time) or expired is passed over;
 * - `musikControlKey`: a MuSiK of this server;
 * - `McxControlChannel`: the server end of one client's unicast control channel: `unprotect`
 *   opens uplink SRTCP only under that client's CSK (an MKI naming another key type is
 *   ERR_BAD_VALUE `srtp.mki.keyId`, another CSK ERR_UNKNOWN_KEY), `protect` sends downlink under
 *   it, `refresh` reads the CSK again after a CSK update (§9.2.1.4);
 * - `McxMulticastControl`: multicast downlink SRTCP under one MuSiK (§9.4.3).
 */
import { decodeKeyId, type McMediaService } from '../../crypto/index.js';
import { ErrorCode, FormatError, McsecError, PolicyError } from '../../errors/index.js';
import { deriveKfcRand } from '../../crypto/srtp-key-derivation.js';
import { SrtpKeyRing, SrtpReceiver, SrtpSender, decodeMki, type ControlKeyInput, type SrtpKey } from '../../formats/srtp/index.js';
import type { McxStore } from '../../store/mcx-records.js';
import type { ResolvedXpk, XpkLookup } from './key-resolver.js';

/** A KFC as the server holds it for SRTCP (§9.4.2, §9.4.3). */
export interface McxControlKey extends ControlKeyInput {
  readonly keyType: 'CSK' | 'MuSiK';
  /** For a CSK: the MC service user and client it belongs to. */
  readonly userUri: string | undefined;
  readonly clientId: string | undefined;
}

/** Where the keys come from: `McxServerService` fits (`store`, `resolver`). */
export interface McxControlKeySource {
  readonly store: McxStore;
  readonly resolver: XpkLookup;
}

const S942 = 'TS 33.180 §9.4.2';

/**
 * A registered client's CSK in force, as a KFC (§9.4.2): the newest of its CSKs active now;
 * ERR_UNKNOWN_KEY when it holds none (none at all, or none active now).
 */
export async function clientControlKey(src: McxControlKeySource, o: { readonly userUri: string; readonly clientId: string }): Promise<McxControlKey> {
  const held = (await src.store.listCsks(o.userUri)).filter((c) => c.clientId === o.clientId).sort((a, b) => b.createdAt - a.createdAt);
  for (const c of held) {
    let x: ResolvedXpk;
    try {
      // The resolver checks owner, activation and expiry at its clock (key-resolver.ts).
      x = await src.resolver.resolve(c.cskId, { accept: ['CSK'], userUri: o.userUri });
    } catch (e) {
      if (e instanceof PolicyError && e.code === ErrorCode.EXPIRED) continue; // not active yet, or expired
      throw e;
    }
    const kfcRand = c.rand ?? deriveKfcRand(x.xpk, x.xpkId);
    return Object.freeze({ keyType: 'CSK' as const, kfc: x.xpk, kfcId: x.xpkId, kfcRand, userUri: o.userUri, clientId: o.clientId });
  }
  const rule = held.length === 0 ? 'names a client holding no CSK' : 'names a client holding no CSK active now (not active yet, or expired)';
  throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'srtcpKeys.clientId', rule, clause: S942 });
}

/** A MuSiK of this server, as a KFC (§9.4.3); ERR_UNKNOWN_KEY / ERR_EXPIRED from the resolver. */
export async function musikControlKey(src: Pick<McxControlKeySource, 'resolver'>, musikId: number): Promise<McxControlKey> {
  const x = await src.resolver.resolve(musikId, { accept: ['MuSiK'] });
  return Object.freeze({ keyType: 'MuSiK' as const, kfc: x.xpk, kfcId: x.xpkId, kfcRand: deriveKfcRand(x.xpk, x.xpkId), userUri: undefined, clientId: undefined });
}

/** Options of the server's control channels. */
export interface McxControlOptions {
  /** MCPTT (floor control, CS-ID 6 / 7) or MCVideo (transmission control, CS-ID 8 / 9). */
  readonly service?: McMediaService;
  readonly replayWindow?: number;
}

/** The server end of one client's unicast control channel (see the module comment). */
export class McxControlChannel {
  readonly userUri: string;
  readonly clientId: string;
  readonly #src: McxControlKeySource;
  readonly #service: McMediaService;
  readonly #ring = new SrtpKeyRing();
  readonly #receiver: SrtpReceiver;
  readonly #replayWindow: number | undefined;
  #key: McxControlKey;
  #sender: SrtpSender | undefined;
  #opened: SrtpKey | undefined;

  private constructor(src: McxControlKeySource, key: McxControlKey, o: McxControlOptions & { readonly userUri: string; readonly clientId: string }) {
    this.#src = src;
    this.userUri = o.userUri;
    this.clientId = o.clientId;
    this.#service = o.service ?? 'MCPTT';
    this.#replayWindow = o.replayWindow;
    this.#key = key;
    this.#ring.addControlKey(key);
    const opts = o.replayWindow === undefined ? {} : { replayWindow: o.replayWindow };
    this.#receiver = new SrtpReceiver({ mkiLength: 4, lookup: (mki) => (this.#opened = this.#lookup(mki)) }, opts);
  }

  /** The channel of a registered client, keyed with its CSK in force. */
  static async open(src: McxControlKeySource, o: McxControlOptions & { readonly userUri: string; readonly clientId: string }): Promise<McxControlChannel> {
    return new McxControlChannel(src, await clientControlKey(src, o), o);
  }

  /** The CSK-ID the channel uses now. */
  get kfcId(): number {
    return this.#key.kfcId;
  }

  /** Reads the client's CSK again (after a CSK update, §9.2.1.4); resolves with the CSK-ID in force. */
  async refresh(): Promise<number> {
    const next = await clientControlKey(this.#src, this);
    if (next.kfcId !== this.#key.kfcId) {
      this.#ring.removeKey(this.#key.kfcId);
      this.#ring.addControlKey(next);
      this.#key = next;
    }
    return next.kfcId;
  }

  /** Opens uplink SRTCP of the client (§9.4.2, §9.4.7); throws a typed McsecError, no state moved. */
  unprotect(srtcp: Uint8Array): { readonly packet: Uint8Array; readonly kfcId: number; readonly csId: number } {
    this.#opened = undefined;
    const packet = this.#receiver.unprotectRtcp(srtcp);
    const key = this.#takeOpened();
    this.#opened = undefined;
    if (key === undefined) throw new McsecError(ErrorCode.INTERNAL, { field: 'srtcpKeys.unprotect', rule: 'a packet opened without a key' });
    return Object.freeze({ packet, kfcId: key.keyId, csId: key.csId });
  }

  /** Downlink SRTCP to the client under its CSK (§9.4.2), MKI = CSK-ID (§9.4.6). */
  protect(rtcp: Uint8Array): Uint8Array {
    const key = this.#ring.senderKey(this.#key.kfcId, { service: this.#service });
    if (this.#sender === undefined) this.#sender = new SrtpSender(key, this.#replayWindow === undefined ? {} : { replayWindow: this.#replayWindow });
    else this.#sender.setKey(key);
    return this.#sender.protectRtcp(rtcp);
  }

  /** The key the last lookup found (a method: TypeScript would narrow the field to undefined). */
  #takeOpened(): SrtpKey | undefined {
    return this.#opened;
  }

  #lookup(mki: Uint8Array): SrtpKey {
    const m = decodeMki(mki);
    if (m.form !== 'key-id' || m.keyType !== 'CSK') {
      throw new FormatError(ErrorCode.BAD_VALUE, { field: 'srtp.mki.keyId', rule: 'uplink SRTCP from a client must carry its CSK-ID as MKI', clause: `${S942}, §9.4.6` });
    }
    if (m.keyId !== this.#key.kfcId) {
      throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'srtp.mki', rule: "names no CSK of this client's in force", clause: S942 });
    }
    return this.#ring.resolve(mki, { service: this.#service });
  }
}

/** Multicast downlink SRTCP under one MuSiK (§9.4.3); one per MuSiK, shared by its clients' channels. */
export class McxMulticastControl {
  readonly kfcId: number;
  readonly #sender: SrtpSender;

  private constructor(key: SrtpKey) {
    this.kfcId = key.keyId;
    this.#sender = new SrtpSender(key);
  }

  /** The sender of a stored MuSiK. */
  static async open(src: Pick<McxControlKeySource, 'resolver'>, musikId: number, o: Pick<McxControlOptions, 'service'> = {}): Promise<McxMulticastControl> {
    if (decodeKeyId(musikId, 'srtcpKeys.musikId').keyType !== 'MuSiK') {
      throw new FormatError(ErrorCode.BAD_VALUE, { field: 'srtcpKeys.musikId', rule: 'must carry the MuSiK purpose tag', clause: 'TS 33.180 §9.4.3, Annex G' });
    }
    const ring = new SrtpKeyRing();
    ring.addControlKey(await musikControlKey(src, musikId));
    return new McxMulticastControl(ring.senderKey(musikId, { service: o.service ?? 'MCPTT' }));
  }

  /** SRTCP under the MuSiK, MKI = MuSiK-ID (§9.4.6). */
  protect(rtcp: Uint8Array): Uint8Array {
    return this.#sender.protectRtcp(rtcp);
  }
}
