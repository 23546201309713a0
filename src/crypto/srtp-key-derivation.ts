/**
 * SRTP / SRTCP master key and master salt from MC keys, TS 33.180 §7.4 and §9.4.6: the MIKEY key
 * derivation of RFC 3830 §4.1.3 on PRF-HMAC-SHA-256 (RFC 6043 §6.1, see mikey-prf.ts), with
 *
 *     master key  = PRF(TGK, 0x2AD01C64 || CS-ID || CSB-ID || RAND), 16 octets (TS 33.180 §7.5.1)
 *     master salt = PRF(TGK, 0x39A2C14B || CS-ID || CSB-ID || RAND), 12 octets (AEAD_AES_128_GCM)
 *
 *   use                               TGK   CSB-ID                      RAND       CS-ID (Table E.1.3-1)
 *   private call (§7.4.1)             PCK   PCK-ID                      PCK's RAND 0/1 MCPTT, 2/3 MCVideo
 *                                                                                  (initiator / receiver stream)
 *   group call (§7.4.2), per sender   GMK   the sender's GUK-ID (§F.1.3) GMK's RAND 4 MCPTT, 5 MCVideo
 *   SRTCP on-network (§9.4.6)         KFC   KFC-ID                      KFC-RAND   6 CSK/MCPTT, 7 MuSiK/MCPTT,
 *                                                                                  8 CSK/MCVideo, 9 MuSiK/MCVideo
 *
 * KFC-RAND (§9.4.2, §9.4.3) is "the MIKEY RAND value transmitted in the MIKEY message used to
 * distribute" the CSK or MuSiK. mcsec sends `deriveKfcRand(KFC, KFC-ID)` as that RAND whenever it
 * distributes a KFC (CSK upload, key download), so every holder of the key, and a server that
 * stores only the key, has the same KFC-RAND (as `gmkRand` does for GMKs, functions/gms).
 *
 * Off-network SRTCP uses the SRTP master key, salt and MKI of the call (§7.4.1, §7.4.2). Table
 * E.1.3-1 assigns no CS-ID to SRTCP under an SPK (§9.4.5): `deriveSrtcpMaster` then needs the
 * CS-ID from the caller (the SP payload of the key's distribution, or configuration).
 */
import { createHmac } from 'node:crypto';
import { ErrorCode, FormatError } from '../errors/index.js';
import { concatBytes, u32be, utf8 } from '../util/index.js';
import { isKeyIdOfType, type KeyType } from './key-id.js';
import { MikeyKeyConstant, deriveFromTgk } from './mikey-prf.js';

/** CS-IDs of TS 33.180 Table E.1.3-1. */
export const CsId = Object.freeze({
  MCPTT_PRIVATE_INITIATOR: 0,
  MCPTT_PRIVATE_RECEIVER: 1,
  MCVIDEO_PRIVATE_INITIATOR: 2,
  MCVIDEO_PRIVATE_RECEIVER: 3,
  MCPTT_GROUP: 4,
  MCVIDEO_GROUP: 5,
  CSK_SRTCP_MCPTT: 6,
  MUSIK_SRTCP_MCPTT: 7,
  CSK_SRTCP_MCVIDEO: 8,
  MUSIK_SRTCP_MCVIDEO: 9,
} as const);

/** The MC service a media or control stream belongs to. */
export type McMediaService = 'MCPTT' | 'MCVideo';
/** Who started the private call whose stream this is (§7.4.1, Table E.1.3-1). */
export type PrivateCallOrigin = 'initiator' | 'receiver';

/** SRTP master key length (TS 33.180 §7.5.1: AES-128). */
export const SRTP_MASTER_KEY_LENGTH = 16;
/** SRTP master salt length (RFC 7714 §14.2: 96 bits for AEAD_AES_128_GCM). */
export const SRTP_MASTER_SALT_LENGTH = 12;

/** An SRTP (or SRTCP) master key and master salt. */
export interface SrtpMaster {
  readonly masterKey: Uint8Array;
  readonly masterSalt: Uint8Array;
}

/** The inputs of the RFC 3830 §4.1.3 derivation. */
export interface SrtpMasterInput {
  /** The TGK: PCK, GMK or KFC, 16 or 32 octets. */
  readonly tgk: Uint8Array;
  readonly csId: number;
  readonly csbId: number;
  /** The MIKEY RAND sent with the key (RFC 3830 §6.11: at least 16 octets). */
  readonly rand: Uint8Array;
}

function checkKey(key: Uint8Array, field: string, clause: string): void {
  if (key.length !== 16 && key.length !== 32) {
    throw new FormatError(ErrorCode.BAD_LENGTH, { field, rule: 'must be 128 or 256 bits', clause });
  }
}

function checkRand(rand: Uint8Array, field: string): void {
  if (rand.length < 16 || rand.length > 255) {
    throw new FormatError(ErrorCode.BAD_LENGTH, {
      field,
      rule: 'must be 16 to 255 octets (a MIKEY RAND payload)',
      clause: 'RFC 3830 §6.11',
    });
  }
}

function checkKeyId(id: number, type: KeyType | undefined, field: string): void {
  if (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'must be a 32-bit unsigned integer', clause: 'TS 33.180 Annex G' });
  }
  if (type !== undefined && !isKeyIdOfType(id, type)) {
    throw new FormatError(ErrorCode.BAD_VALUE, {
      field,
      rule: `must carry the ${type} purpose tag`,
      clause: 'TS 33.180 Annex G',
    });
  }
}

/** Master key and salt from a TGK, CS-ID, CSB-ID and RAND (RFC 3830 §4.1.3, TS 33.180 §7.4). */
export function deriveSrtpMaster(input: SrtpMasterInput): SrtpMaster {
  checkKey(input.tgk, 'srtpKdf.tgk', 'TS 33.180 §7.4');
  checkRand(input.rand, 'srtpKdf.rand');
  const { tgk, csId, csbId, rand } = input;
  return Object.freeze({
    masterKey: deriveFromTgk(tgk, MikeyKeyConstant.TEK, csId, csbId, rand, SRTP_MASTER_KEY_LENGTH),
    masterSalt: deriveFromTgk(tgk, MikeyKeyConstant.SALT, csId, csbId, rand, SRTP_MASTER_SALT_LENGTH),
  });
}

/** The CS-ID of a private call stream (Table E.1.3-1: 0/1 MCPTT, 2/3 MCVideo). */
export function privateCallCsId(service: McMediaService, origin: PrivateCallOrigin): number {
  const base = service === 'MCPTT' ? CsId.MCPTT_PRIVATE_INITIATOR : CsId.MCVIDEO_PRIVATE_INITIATOR;
  return base + (origin === 'initiator' ? 0 : 1);
}

/** The CS-ID of a group call stream (Table E.1.3-1: 4 MCPTT, 5 MCVideo). */
export const groupCallCsId = (service: McMediaService): number =>
  service === 'MCPTT' ? CsId.MCPTT_GROUP : CsId.MCVIDEO_GROUP;

/** The CS-ID of SRTCP under a CSK or MuSiK (Table E.1.3-1: 6-9). */
export function srtcpCsId(kfcType: 'CSK' | 'MuSiK', service: McMediaService): number {
  if (kfcType === 'CSK') return service === 'MCPTT' ? CsId.CSK_SRTCP_MCPTT : CsId.CSK_SRTCP_MCVIDEO;
  return service === 'MCPTT' ? CsId.MUSIK_SRTCP_MCPTT : CsId.MUSIK_SRTCP_MCVIDEO;
}

/** Private call (§7.4.1): TGK = PCK, CSB-ID = PCK-ID, CS-ID of the stream's originator. */
export function derivePrivateCallMaster(input: {
  readonly pck: Uint8Array;
  readonly pckId: number;
  readonly rand: Uint8Array;
  readonly service: McMediaService;
  /** Whose stream: the call initiator's or the receiver's. */
  readonly origin: PrivateCallOrigin;
}): SrtpMaster {
  checkKey(input.pck, 'srtpKdf.pck', 'TS 33.180 §7.4.1');
  checkKeyId(input.pckId, 'PCK', 'srtpKdf.pckId');
  return deriveSrtpMaster({
    tgk: input.pck,
    csId: privateCallCsId(input.service, input.origin),
    csbId: input.pckId,
    rand: input.rand,
  });
}

/**
 * Group call (§7.4.2), one master key per sender: TGK = GMK, CSB-ID = the sender's GUK-ID (GMK-ID
 * XOR the sender's User Salt, §F.1.3), CS-ID 4 (MCPTT) or 5 (MCVideo).
 */
export function deriveGroupCallMaster(input: {
  readonly gmk: Uint8Array;
  readonly gukId: number;
  readonly rand: Uint8Array;
  readonly service: McMediaService;
}): SrtpMaster {
  checkKey(input.gmk, 'srtpKdf.gmk', 'TS 33.180 §7.4.2');
  checkKeyId(input.gukId, 'GMK', 'srtpKdf.gukId');
  return deriveSrtpMaster({
    tgk: input.gmk,
    csId: groupCallCsId(input.service),
    csbId: input.gukId,
    rand: input.rand,
  });
}

/**
 * SRTCP on-network (§9.4.6): TGK = KFC (CSK, MuSiK or SPK), CSB-ID = KFC-ID, RAND = KFC-RAND,
 * CS-ID from Table E.1.3-1 (`srtcpCsId`), or given by the caller for an SPK (none assigned).
 */
export function deriveSrtcpMaster(input: {
  readonly kfc: Uint8Array;
  readonly kfcId: number;
  readonly kfcRand: Uint8Array;
  readonly csId: number;
}): SrtpMaster {
  checkKey(input.kfc, 'srtcpKdf.kfc', 'TS 33.180 §9.4.6');
  checkKeyId(input.kfcId, undefined, 'srtcpKdf.kfcId');
  return deriveSrtpMaster({ tgk: input.kfc, csId: input.csId, csbId: input.kfcId, rand: input.kfcRand });
}

const KFC_RAND_LABEL = utf8('mcsec KFC RAND');

/**
 * The RAND mcsec sends with a KFC it distributes (see the module comment): the first 16 octets of
 * HMAC-SHA-256(KFC, "mcsec KFC RAND" || KFC-ID), pseudo-random as RFC 3830 §6.11 asks since the
 * KFC is a fresh random key; it becomes the KFC-RAND of §9.4.2 / §9.4.3 / §9.4.6.
 */
export function deriveKfcRand(kfc: Uint8Array, kfcId: number): Uint8Array {
  checkKey(kfc, 'kfcRand.kfc', 'TS 33.180 §9.4.6');
  checkKeyId(kfcId, undefined, 'kfcRand.kfcId');
  const mac = createHmac('sha256', kfc).update(concatBytes(KFC_RAND_LABEL, u32be(kfcId >>> 0))).digest();
  return new Uint8Array(mac.subarray(0, 16));
}
