/**
 * The SRTP / SRTCP keys an MC client (or SeGy pseudo client, IWF) holds, found by MKI
 * (TS 33.180 §7.5.2 step 1, §9.4.7 step 1), with the master key and salt of §7.4 / §9.4.6 derived
 * on first use and kept:
 *
 *   MKI on the wire          key found              master key derived with
 *   PCK-ID (32)              the PCK                CS-ID of the *other* party's stream (§7.4.1)
 *   GMK-ID || GUK-ID (64)    the GMK                CSB-ID = that GUK-ID, CS-ID 4/5 (§7.4.2)
 *   GMK-ID (32)              the GMK                CSB-ID = GMK-ID XOR User Salt of the sender,
 *                                                   whose MC service user ID the caller knows by
 *                                                   other means (floor control), §7.4.2 / §F.1.3
 *   CSK/MuSiK/SPK-ID (32)    the KFC                CS-ID 6-9 (Table E.1.3-1), or configured for an
 *                                                   SPK, which the table does not cover (§9.4.6)
 *
 * Off-network, SRTCP uses the SRTP master key and MKI of the call (§7.4.1, §7.4.2): a PCK-ID or
 * GMK MKI on SRTCP resolves exactly as on SRTP.
 *
 * Derived keys are cached per (key ID, CS-ID, CSB-ID), at most `maxDerived` (oldest dropped), so
 * made-up GUK-IDs in 64-bit MKIs cannot grow memory without bound. The ring also hands out SSRCs
 * that never repeat under one master key (§7.5.1), see `newSsrc`.
 */
import { randomBytes } from 'node:crypto';
import { deriveGukId, deriveUserSalt } from '../../crypto/key-derivation.js';
import { decodeKeyId, isKeyIdOfType } from '../../crypto/key-id.js';
import {
  deriveGroupCallMaster,
  derivePrivateCallMaster,
  deriveSrtcpMaster,
  groupCallCsId,
  privateCallCsId,
  srtcpCsId,
  type McMediaService,
  type PrivateCallOrigin,
  type SrtpMaster,
} from '../../crypto/srtp-key-derivation.js';
import { ConfigError, ErrorCode, PolicyError } from '../../errors/index.js';
import { decodeMki, groupMki, keyIdMki } from './mki.js';
import { generateSsrc } from './ssrc.js';

/** A master key and salt ready for an SRTP / SRTCP context, with how it was found. */
export interface SrtpKey extends SrtpMaster {
  /** The MKI a sender puts on the wire for this key. */
  readonly mki: Uint8Array;
  /** The PCK-ID, GMK-ID or KFC-ID. */
  readonly keyId: number;
  readonly csId: number;
  readonly csbId: number;
}

/** A private call key (§7.2) and this party's role in the call. */
export interface PrivateCallKeyInput {
  readonly pck: Uint8Array;
  readonly pckId: number;
  readonly rand: Uint8Array;
  /** This client's role: its own stream uses this CS-ID, the peer's stream the other. */
  readonly localRole: PrivateCallOrigin;
}

/** A group's GMK (§7.3) with the RAND it came with. */
export interface GroupKeyInput {
  readonly gmk: Uint8Array;
  readonly gmkId: number;
  readonly rand: Uint8Array;
}

/** A KFC for SRTCP (§9.4.2-9.4.5): CSK, MuSiK or SPK, with its ID and KFC-RAND. */
export interface ControlKeyInput {
  readonly kfc: Uint8Array;
  readonly kfcId: number;
  readonly kfcRand: Uint8Array;
  /** The CS-ID, required unless the KFC is a CSK or MuSiK (Table E.1.3-1 names no other). */
  readonly csId?: number;
}

/** Which stream a lookup is for. */
export interface SrtpLookupContext {
  readonly service: McMediaService;
  /** The sender's MC service user ID, known by other means (needed for a 32-bit GMK-ID MKI). */
  readonly senderUserId?: string;
}

const unknown = (rule: string, clause = 'TS 33.180 §7.5.2'): PolicyError =>
  new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'srtp.mki', rule, clause });

const other = (role: PrivateCallOrigin): PrivateCallOrigin => (role === 'initiator' ? 'receiver' : 'initiator');

/** SRTP / SRTCP keys by MKI (see the module header). */
export class SrtpKeyRing {
  readonly #pck = new Map<number, PrivateCallKeyInput>();
  readonly #gmk = new Map<number, GroupKeyInput>();
  readonly #kfc = new Map<number, ControlKeyInput>();
  readonly #derived = new Map<string, SrtpKey>();
  readonly #ssrcs = new Map<string, Set<number>>();
  readonly #maxDerived: number;

  constructor(options: { readonly maxDerived?: number } = {}) {
    this.#maxDerived = options.maxDerived ?? 256;
  }

  /** Holds a PCK (its ID must carry purpose tag 1). */
  addPrivateCallKey(k: PrivateCallKeyInput): void {
    this.#checkId(k.pckId, 'PCK', 'srtpKeys.pckId');
    this.#pck.set(k.pckId, Object.freeze({ ...k, pck: k.pck.slice(), rand: k.rand.slice() }));
  }

  /** Holds a GMK (its ID must carry purpose tag 0). */
  addGroupKey(k: GroupKeyInput): void {
    this.#checkId(k.gmkId, 'GMK', 'srtpKeys.gmkId');
    this.#gmk.set(k.gmkId, Object.freeze({ ...k, gmk: k.gmk.slice(), rand: k.rand.slice() }));
  }

  /** Holds a KFC for on-network SRTCP (§9.4.6). */
  addControlKey(k: ControlKeyInput): void {
    const type = decodeKeyId(k.kfcId, 'srtpKeys.kfcId').keyType;
    if (type === 'PCK' || type === 'GMK') {
      throw new ConfigError(ErrorCode.CONFIG, {
        field: 'srtpKeys.kfcId',
        rule: 'off-network SRTCP uses the call key itself (add it as a private call or group key)',
        clause: 'TS 33.180 §7.4.1, §7.4.2',
      });
    }
    if (type !== 'CSK' && type !== 'MuSiK' && k.csId === undefined) {
      throw new ConfigError(ErrorCode.CONFIG, {
        field: 'srtpKeys.csId',
        rule: `is required for a ${type}: Table E.1.3-1 assigns CS-IDs only to CSK and MuSiK SRTCP`,
        clause: 'TS 33.180 §9.4.6',
      });
    }
    this.#kfc.set(k.kfcId, Object.freeze({ ...k, kfc: k.kfc.slice(), kfcRand: k.kfcRand.slice() }));
  }

  /** Forgets a key and everything derived from it. */
  removeKey(keyId: number): void {
    this.#pck.delete(keyId);
    this.#gmk.delete(keyId);
    this.#kfc.delete(keyId);
    for (const [id, key] of this.#derived) if (key.keyId === keyId) this.#derived.delete(id);
  }

  /**
   * The key this client sends with: its own private call stream, its own group stream (GUK-ID
   * from its own user ID; `shortMki` sends the 32-bit GMK-ID alone), or a KFC.
   */
  senderKey(keyId: number, ctx: SrtpLookupContext & { readonly shortMki?: boolean }): SrtpKey {
    const type = decodeKeyId(keyId, 'srtpKeys.keyId').keyType;
    if (type === 'PCK') {
      const k = this.#pck.get(keyId);
      if (k === undefined) throw unknown('no private call key is held for this PCK-ID', 'TS 33.180 §7.4.1');
      return this.#privateCall(k, k.localRole, ctx.service);
    }
    if (type === 'GMK') {
      const k = this.#gmk.get(keyId);
      if (k === undefined) throw unknown('no group key is held for this GMK-ID', 'TS 33.180 §7.4.2');
      if (ctx.senderUserId === undefined) {
        throw new ConfigError(ErrorCode.CONFIG, {
          field: 'srtpKeys.senderUserId',
          rule: "is required: the sender's GUK-ID comes from its MC service user ID",
          clause: 'TS 33.180 §7.4.2',
        });
      }
      const gukId = deriveGukId(k.gmkId, deriveUserSalt(k.gmk, ctx.senderUserId));
      return this.#group(k, gukId, ctx.service, ctx.shortMki === true);
    }
    return this.#control(keyId, ctx.service);
  }

  /** The key of a received packet's MKI (receiver side, §7.5.2 / §9.4.7 step 1). */
  resolve(mki: Uint8Array, ctx: SrtpLookupContext): SrtpKey {
    const m = decodeMki(mki);
    if (m.form === 'gmk-guk') {
      const k = this.#gmk.get(m.gmkId);
      if (k === undefined) throw unknown('no group key is held for this GMK-ID', 'TS 33.180 §7.4.2');
      if (
        ctx.senderUserId !== undefined &&
        deriveGukId(k.gmkId, deriveUserSalt(k.gmk, ctx.senderUserId)) !== m.gukId
      ) {
        throw unknown("the GUK-ID is not the expected sender's", 'TS 33.180 §7.4.2');
      }
      return this.#group(k, m.gukId, ctx.service, false);
    }
    if (m.keyType === 'PCK') {
      const k = this.#pck.get(m.keyId);
      if (k === undefined) throw unknown('no private call key is held for this PCK-ID', 'TS 33.180 §7.4.1');
      return this.#privateCall(k, other(k.localRole), ctx.service);
    }
    if (m.keyType === 'GMK') {
      const k = this.#gmk.get(m.keyId);
      if (k === undefined) throw unknown('no group key is held for this GMK-ID', 'TS 33.180 §7.4.2');
      if (ctx.senderUserId === undefined) {
        throw unknown("a 32-bit GMK-ID MKI needs the sender's MC service user ID, known by other means", 'TS 33.180 §7.4.2');
      }
      const gukId = deriveGukId(k.gmkId, deriveUserSalt(k.gmk, ctx.senderUserId));
      return this.#group(k, gukId, ctx.service, true);
    }
    return this.#control(m.keyId, ctx.service);
  }

  /**
   * A random SSRC (CSPRNG, never a seeded generator) not handed out before for this key's master
   * key, so two sessions under one master key never share an SSRC and so never an AEAD IV
   * (§7.5.1, RFC 7714 §8.1).
   */
  newSsrc(key: SrtpKey, rng: (n: number) => Uint8Array = randomBytes): number {
    const id = `${key.keyId}/${key.csId}/${key.csbId}`;
    let used = this.#ssrcs.get(id);
    if (used === undefined) this.#ssrcs.set(id, (used = new Set()));
    const ssrc = generateSsrc(used, rng);
    used.add(ssrc);
    return ssrc;
  }

  #checkId(id: number, type: 'PCK' | 'GMK', field: string): void {
    decodeKeyId(id, field);
    if (!isKeyIdOfType(id, type)) {
      throw new ConfigError(ErrorCode.CONFIG, { field, rule: `must carry the ${type} purpose tag`, clause: 'TS 33.180 Annex G' });
    }
  }

  #privateCall(k: PrivateCallKeyInput, origin: PrivateCallOrigin, service: McMediaService): SrtpKey {
    return this.#cached(`${k.pckId}/${service}/${origin}`, () => {
      const master = derivePrivateCallMaster({ pck: k.pck, pckId: k.pckId, rand: k.rand, service, origin });
      return { ...master, mki: keyIdMki(k.pckId), keyId: k.pckId, csId: privateCallCsId(service, origin), csbId: k.pckId };
    });
  }

  #group(k: GroupKeyInput, gukId: number, service: McMediaService, shortMki: boolean): SrtpKey {
    return this.#cached(`${k.gmkId}/${service}/${gukId}/${shortMki ? 4 : 8}`, () => {
      const master = deriveGroupCallMaster({ gmk: k.gmk, gukId, rand: k.rand, service });
      const mki = shortMki ? keyIdMki(k.gmkId) : groupMki(k.gmkId, gukId);
      return { ...master, mki, keyId: k.gmkId, csId: groupCallCsId(service), csbId: gukId };
    });
  }

  #control(kfcId: number, service: McMediaService): SrtpKey {
    const k = this.#kfc.get(kfcId);
    if (k === undefined) throw unknown('no SRTCP key (KFC) is held for this KFC-ID', 'TS 33.180 §9.4.7');
    const type = decodeKeyId(kfcId).keyType;
    const csId = k.csId ?? srtcpCsId(type === 'CSK' ? 'CSK' : 'MuSiK', service);
    return this.#cached(`${kfcId}/${csId}`, () => {
      const master = deriveSrtcpMaster({ kfc: k.kfc, kfcId, kfcRand: k.kfcRand, csId });
      return { ...master, mki: keyIdMki(kfcId), keyId: kfcId, csId, csbId: kfcId };
    });
  }

  #cached(id: string, make: () => SrtpKey): SrtpKey {
    const hit = this.#derived.get(id);
    if (hit !== undefined) {
      this.#derived.delete(id);
      this.#derived.set(id, hit);
      return hit;
    }
    const key = Object.freeze(make());
    this.#derived.set(id, key);
    if (this.#derived.size > this.#maxDerived) {
      const oldest = this.#derived.keys().next().value;
      if (oldest !== undefined) this.#derived.delete(oldest);
    }
    return key;
  }
}
