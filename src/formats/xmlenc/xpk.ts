/**
 * XML Protection Keys (TS 33.180 §9.3.3) and the keys derived from them (§F.1.4):
 *
 *   link                     XPK                 XPK-ID          purpose tag (Annex G)
 *   client <-> MC domain     CSK (128 bits)      CSK-ID          2
 *   server <-> server        SPK (128 bits)      SPK-ID          3   (also IS proxy <-> IS proxy, CR 11.1.X)
 *   multicast signalling     MuSiK (128 bits)    MuSiK-ID        6
 *   KMS <-> KM client        TrK (256) / InK     TrK-ID / InK-ID (none: 32-bit IDs of their own)
 *   MCData signalling        DPPK (§9.5.2)       DPPK-ID         that of the key used (0, 1, 2, 3, 6)
 *
 * The confidentiality key is KDF(XPK, FC 0x51, P0 = MC service user ID, P1 = XPK-ID), the
 * integrity key the same with FC 0x52 (§F.1.4): 128 bits from a 128-bit XPK, 256 from a 256-bit one.
 * The InK is for integrity only (§9.3.3). A receiver resolves the XPK-ID named in the XML through
 * an `XpkResolver` the caller supplies and refuses an unknown key (ERR_UNKNOWN_KEY), a key outside
 * its validity (ERR_EXPIRED), and a key of a purpose the link does not accept, or whose ID carries
 * another purpose tag (ERR_UNKNOWN_KEY). XPK-IDs are written as base64 of their 4 octets.
 */
import { deriveXmlKey } from '../../crypto/index.js';
import { ErrorCode, FormatError, PolicyError } from '../../errors/index.js';
import { fromBase64Canonical, toBase64, u32be } from '../../util/index.js';

/** What an XPK is (§9.3.3, §9.5.2). */
export type XpkPurpose = 'CSK' | 'SPK' | 'MuSiK' | 'TrK' | 'InK' | 'DPPK';
/** What a derived key is used for. */
export type XmlKeyUse = 'confidentiality' | 'integrity';

/** A key a resolver holds. */
export interface XpkEntry {
  readonly key: Uint8Array;
  readonly purpose: XpkPurpose;
  /** Not valid before / after these instants (both optional). */
  readonly notBefore?: Date | undefined;
  readonly notAfter?: Date | undefined;
}

/** Looks up XPKs by XPK-ID (a CSK store, the provisioned SPKs, ...); undefined when none is held. */
export interface XpkResolver {
  resolveXpk(xpkId: number): XpkEntry | undefined;
}

/** What a receiver uses to find and check keys. */
export interface XmlReceiverKeys {
  readonly resolver: XpkResolver;
  /** The purposes this link accepts (e.g. ['CSK'] from clients, ['SPK'] at an IS proxy). */
  readonly accept: readonly XpkPurpose[];
  /** P0 of §F.1.4. */
  readonly mcServiceUserId: string;
  readonly now: () => Date;
  /** The XPK-ID when the XML names none (§9.3.4.2: "known ... through other means"). */
  readonly defaultXpkId?: number | undefined;
}

/** What a sender protects with. */
export interface XmlSenderKey {
  readonly xpk: Uint8Array;
  readonly xpkId: number;
  readonly purpose: XpkPurpose;
  /** P0 of §F.1.4. */
  readonly mcServiceUserId: string;
}

const S933 = 'TS 33.180 §9.3.3';

/** Purpose tags (Table G-1) an XPK-ID of each purpose may carry; undefined: any (TrK, InK). */
const TAGS: Readonly<Record<XpkPurpose, readonly number[] | undefined>> = Object.freeze({
  CSK: [2],
  SPK: [3],
  MuSiK: [6],
  TrK: undefined,
  InK: undefined,
  DPPK: [0, 1, 2, 3, 6],
});
/** XPK lengths in octets (§9.3.3: 128-bit CSK and SPK, 256-bit TrK; §9.2.2 MuSiK as CSK). */
const LENGTHS: Readonly<Record<XpkPurpose, readonly number[]>> = Object.freeze({
  CSK: [16],
  SPK: [16],
  MuSiK: [16],
  TrK: [32],
  InK: [16, 32],
  DPPK: [16, 32],
});

/** Whether `xpkId`'s purpose tag fits `purpose`. */
export const isXpkIdOf = (xpkId: number, purpose: XpkPurpose): boolean => TAGS[purpose]?.includes(xpkId >>> 28) ?? true;

/** Base64 of the XPK-ID's 4 octets (ds:KeyName, §9.3.4.2, §9.3.5). */
export function encodeXpkId(xpkId: number): string {
  checkXpkId(xpkId, 'xpkId');
  return toBase64(u32be(xpkId));
}

/** The XPK-ID of a ds:KeyName: base64 of exactly 4 octets. */
export function decodeXpkId(text: string, field: string, clause: string): number {
  const bytes = fromBase64Canonical(text.replace(/[ \t\r\n]+/g, ''));
  if (bytes === null || bytes.length !== 4) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'must be the base64 encoded 4-octet XPK-ID', clause });
  }
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
}

function checkXpkId(xpkId: number, field: string): void {
  if (!Number.isInteger(xpkId) || xpkId < 0 || xpkId > 0xffff_ffff) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'must be a 32-bit unsigned integer', clause: S933 });
  }
}

function checkKey(key: Uint8Array, purpose: XpkPurpose, use: XmlKeyUse, xpkId: number, field: string): void {
  if (!LENGTHS[purpose].includes(key.length)) {
    throw new FormatError(ErrorCode.BAD_LENGTH, { field, rule: `a ${purpose} must be ${LENGTHS[purpose].map((n) => n * 8).join(' or ')} bits`, clause: S933 });
  }
  if (purpose === 'InK' && use === 'confidentiality') {
    throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field, rule: 'the InK protects integrity only; confidentiality uses the TrK', clause: S933 });
  }
  if (!isXpkIdOf(xpkId, purpose)) {
    throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field, rule: `the XPK-ID's purpose tag ${xpkId >>> 28} is not that of a ${purpose}`, clause: 'TS 33.180 Annex G' });
  }
}

/** The sender's derived key for `use`, checked (length, purpose tag, InK for integrity only). */
export function senderXmlKey(k: XmlSenderKey, use: XmlKeyUse): Uint8Array {
  checkXpkId(k.xpkId, 'key.xpkId');
  checkKey(k.xpk, k.purpose, use, k.xpkId, 'key.xpk');
  return deriveXmlKey(k.xpk, use, k.mcServiceUserId, k.xpkId);
}

/**
 * The receiver's derived key for `use` and the XPK-ID the XML named (or the default): resolved,
 * checked for validity time, accepted purpose, purpose tag and length; `field` names the KeyName.
 */
export function receiverXmlKey(keys: XmlReceiverKeys, xpkId: number | undefined, use: XmlKeyUse, field: string): Uint8Array {
  const id = xpkId ?? keys.defaultXpkId;
  if (id === undefined) {
    throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field, rule: 'names no XPK-ID and no default XPK-ID is configured', clause: S933 });
  }
  const entry = keys.resolver.resolveXpk(id);
  if (entry === undefined) {
    throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field, rule: 'names an XPK-ID for which no key is held', clause: S933 });
  }
  const now = keys.now().getTime();
  if ((entry.notBefore !== undefined && now < entry.notBefore.getTime()) || (entry.notAfter !== undefined && now > entry.notAfter.getTime())) {
    throw new PolicyError(ErrorCode.EXPIRED, { field, rule: 'names a key outside its validity time', clause: S933 });
  }
  if (!keys.accept.includes(entry.purpose)) {
    throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field, rule: `names a ${entry.purpose}; this link accepts ${keys.accept.join(', ') || 'no key'}`, clause: S933 });
  }
  checkKey(entry.key, entry.purpose, use, id, field);
  return deriveXmlKey(entry.key, use, keys.mcServiceUserId, id);
}

/** A resolver over a fixed set of keys (tests, or keys loaded at start-up). */
export class MemoryXpkResolver implements XpkResolver {
  readonly #keys = new Map<number, XpkEntry>();
  constructor(entries: Iterable<readonly [number, XpkEntry]> = []) {
    for (const [id, e] of entries) this.set(id, e);
  }
  set(xpkId: number, entry: XpkEntry): this {
    checkXpkId(xpkId, 'xpkId');
    this.#keys.set(xpkId, Object.freeze({ ...entry }));
    return this;
  }
  delete(xpkId: number): boolean {
    return this.#keys.delete(xpkId);
  }
  resolveXpk(xpkId: number): XpkEntry | undefined {
    return this.#keys.get(xpkId);
  }
}
