/**
 * The 'Key Parameters' payload of TS 33.180 §E.6.1, a type 6 (TLV-E) information element, IEI (1)
 * | length (2) | content, the content laid out as Table E.6.1-1:
 *
 *   Key Type (1, §E.6.11) | Status (4, §E.6.9) | Activation Time (5, §E.6.4)
 *   | Expiry Time (5, §E.6.10) | Text: length (2) | text  (LV-E, §E.6.5)
 *   | [MC Group IDs: length (2) | number (1) | Group ID TLV-E × number]  (LV-E, §E.6.3)
 *   | [Reserved: IEI (1) | length (2) | value]  (TLV-E, §E.6.6)
 *
 * MC Group IDs is present exactly when the key type is GMK, MKFC or MuSiK (Table E.6.1-1 NOTE).
 * For other key types a sender may still write the "no group" form of §E.6.3 (length 1, number 0):
 * the octets 00 01 00 there are read as an empty MC Group IDs IE, anything else as the Reserved
 * IE. A Group ID is formatted as the MCData group ID of TS 24.282 §15.2.14 (IEI, 2-octet length,
 * the ID as UTF-8); Text is read as UTF-8 too (§E.6.5 names no character set). Times are 5 octets
 * of seconds since 1970, 0 meaning "the I_MESSAGE's timestamp" (activation) or "never" (expiry):
 * both are `undefined` here. TS 33.180 assigns no IEI to the Key Parameters, Group ID or Reserved
 * elements: any is accepted and reported, UNASSIGNED_IEI (0) is sent unless the value says else.
 */
import { PurposeTag, type KeyType } from '../../crypto/index.js';
import { ErrorCode, FormatError } from '../../errors/index.js';
import { fromUtf8, utf8 } from '../../util/index.js';
import { Reader, Writer } from '../bytes/index.js';
import {
  MAX_TLV_E_LENGTH,
  UNASSIGNED_IEI,
  dateOfSeconds,
  dateTimeSeconds,
  readDateTimeSeconds,
  writeDateTimeSeconds,
  type TlvE,
} from '../mcdata/index.js';

/** Key Type values, Table E.6.11-1 (the same numbers as the purpose tags of Table G-1). */
export const KeyParametersKeyType = PurposeTag;

/** Status bits, Table E.6.9-1 (bit 0 is the least significant). */
export const KeyStatusBit = Object.freeze({ NOT_REVOKED: 0x1, SECURITY_GATEWAY: 0x2 } as const);

/** Key types whose Key Parameters carry the MC Group IDs IE (Table E.6.1-1 NOTE, §E.6.3). */
export const GROUP_KEY_TYPES: readonly KeyType[] = Object.freeze(['GMK', 'MKFC', 'MuSiK']);

/** One MC group ID (§E.6.3): its IEI and the ID. */
export interface McGroupId {
  readonly iei: number;
  readonly id: string;
}

/** The Status field (§E.6.9). */
export interface KeyStatus {
  /** Bit 0 is 0: the key may not be used. */
  readonly revoked: boolean;
  /** Bit 1 is 1: the key is shared with an MC Security Gateway (§5.7, Annex L). */
  readonly securityGateway: boolean;
  /** Bits 2-31 as received; undefined, ignored by receivers (§E.6.9), kept to re-encode. */
  readonly undefinedBits: number;
}

/** The decoded Key Parameters. */
export interface KeyParameters {
  readonly iei: number;
  readonly keyType: KeyType;
  readonly status: KeyStatus;
  /** undefined: 0, the timestamp of the I_MESSAGE (§E.6.4). */
  readonly activationTime: Date | undefined;
  /** undefined: 0, the key does not expire (§E.6.10). */
  readonly expiryTime: Date | undefined;
  readonly text: string;
  /** Present for GMK, MKFC and MuSiK keys; for others only as the empty "no group" form. */
  readonly mcGroupIds: readonly McGroupId[] | undefined;
  readonly reserved: TlvE | undefined;
}

const CLAUSE = 'TS 33.180 §E.6.1';
const bad = (field: string, rule: string, clause: string): FormatError => new FormatError(ErrorCode.BAD_VALUE, { field, rule, clause });
const keyTypeByValue = new Map<number, KeyType>(Object.entries(PurposeTag).map(([name, v]) => [v, name as KeyType]));
/** Whether Key Parameters of this key type carry MC Group IDs (§E.6.3). */
export const isGroupKeyType = (t: KeyType): boolean => GROUP_KEY_TYPES.includes(t);
/** The §E.6.3 form for a key without groups: length 1, number of group IDs 0. */
const NO_GROUP = Uint8Array.of(0x00, 0x01, 0x00);

/** Decodes a Key Parameters IE (IEI, length, content) strictly; `where` prefixes error fields. */
export function decodeKeyParameters(bytes: Uint8Array, where = 'keyParameters'): KeyParameters {
  const outer = new Reader(bytes, where, CLAUSE);
  const iei = outer.u8('iei');
  const content = outer.bytes(outer.u16('length'), 'content');
  outer.done();
  const r = new Reader(content, where, CLAUSE);
  const kt = r.u8('keyType');
  const keyType = keyTypeByValue.get(kt);
  if (keyType === undefined) {
    throw new FormatError(ErrorCode.UNSUPPORTED, {
      field: `${where}.keyType`,
      rule: `key type ${kt} is reserved (Table E.6.11-1 defines 0-6)`,
      clause: 'TS 33.180 §E.6.11',
    });
  }
  const s = r.u32('status');
  const status = Object.freeze({
    revoked: (s & KeyStatusBit.NOT_REVOKED) === 0,
    securityGateway: (s & KeyStatusBit.SECURITY_GATEWAY) !== 0,
    undefinedBits: (s & ~0x3) >>> 0,
  });
  const activation = readDateTimeSeconds(r, 'activationTime');
  const expiry = readDateTimeSeconds(r, 'expiryTime');
  const text = fromUtf8(r.bytes(r.u16('textLength'), 'text'), `${where}.text`);
  let mcGroupIds: readonly McGroupId[] | undefined;
  if (isGroupKeyType(keyType)) {
    if (r.remaining === 0) {
      throw bad(`${where}.mcGroupIds`, 'must be present for a GMK, MKFC or MuSiK key', 'TS 33.180 §E.6.3');
    }
    mcGroupIds = decodeMcGroupIds(r, where);
  } else if (r.remaining >= 3 && NO_GROUP.every((b, i) => content[r.offset + i] === b)) {
    mcGroupIds = decodeMcGroupIds(r, where);
  }
  let reserved: TlvE | undefined;
  if (r.remaining > 0) {
    const ri = r.u8('reserved.iei');
    reserved = Object.freeze({ iei: ri, value: r.bytes(r.u16('reserved.length'), 'reserved.value') });
  }
  r.done();
  return Object.freeze({
    iei,
    keyType,
    status,
    activationTime: activation === 0 ? undefined : dateOfSeconds(activation),
    expiryTime: expiry === 0 ? undefined : dateOfSeconds(expiry),
    text,
    mcGroupIds,
    reserved,
  });
}

function decodeMcGroupIds(r: Reader, where: string): readonly McGroupId[] {
  const n = r.u16('mcGroupIds.length');
  if (n === 0) throw bad(`${where}.mcGroupIds.length`, 'must be at least 1 (the number of group IDs)', 'TS 33.180 §E.6.3');
  const g = r.sub(n, 'mcGroupIds');
  const count = g.u8('count');
  const ids: McGroupId[] = [];
  for (let i = 0; i < count; i++) {
    const iei = g.u8(`groupId${i}.iei`);
    const data = g.bytes(g.u16(`groupId${i}.length`), `groupId${i}.id`);
    ids.push(Object.freeze({ iei, id: fromUtf8(data, `${where}.mcGroupIds.groupId${i}.id`) }));
  }
  g.done();
  return Object.freeze(ids);
}

function u8Of(v: number, field: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw bad(field, 'must be an integer from 0 to 255', CLAUSE);
  return v;
}

function lvE(w: Writer, value: Uint8Array, field: string, clause: string): void {
  if (value.length > MAX_TLV_E_LENGTH) {
    throw new FormatError(ErrorCode.TOO_LARGE, { field, rule: `must be at most ${MAX_TLV_E_LENGTH} octets`, clause });
  }
  w.u16(value.length).bytes(value);
}

/** Encodes a Key Parameters IE (the inverse of decodeKeyParameters; the same rules hold). */
export function encodeKeyParameters(kp: KeyParameters, where = 'keyParameters'): Uint8Array {
  const w = new Writer();
  if (!Object.hasOwn(PurposeTag, kp.keyType)) throw bad(`${where}.keyType`, 'must be a key type of Table E.6.11-1', 'TS 33.180 §E.6.11');
  w.u8(PurposeTag[kp.keyType]);
  const extra = kp.status.undefinedBits;
  if (!Number.isInteger(extra) || extra < 0 || extra > 0xffff_ffff || (extra & 0x3) !== 0) {
    throw bad(`${where}.status.undefinedBits`, 'must be a 32-bit value with bits 0 and 1 clear', 'TS 33.180 §E.6.9');
  }
  w.u32((extra | (kp.status.revoked ? 0 : KeyStatusBit.NOT_REVOKED) | (kp.status.securityGateway ? KeyStatusBit.SECURITY_GATEWAY : 0)) >>> 0);
  writeTime(w, kp.activationTime, `${where}.activationTime`, 'TS 33.180 §E.6.4');
  writeTime(w, kp.expiryTime, `${where}.expiryTime`, 'TS 33.180 §E.6.10');
  lvE(w, utf8(kp.text), `${where}.text`, 'TS 33.180 §E.6.5');
  const group = isGroupKeyType(kp.keyType);
  if (kp.mcGroupIds === undefined) {
    if (group) throw bad(`${where}.mcGroupIds`, 'must be present for a GMK, MKFC or MuSiK key', 'TS 33.180 §E.6.3');
    if (kp.reserved !== undefined && kp.reserved.iei === 0 && kp.reserved.value.length === 0x100) {
      throw bad(`${where}.reserved`, 'IEI 0 with 256 octets would read as the empty MC Group IDs IE (00 01 00); send that IE', 'TS 33.180 §E.6.3');
    }
  } else {
    if (!group && kp.mcGroupIds.length > 0) {
      throw bad(`${where}.mcGroupIds`, `must be empty for a ${kp.keyType} (only GMK, MKFC and MuSiK keys have groups)`, 'TS 33.180 §E.6.3');
    }
    if (kp.mcGroupIds.length > 255) throw bad(`${where}.mcGroupIds`, 'must hold at most 255 group IDs', 'TS 33.180 §E.6.3');
    const g = new Writer().u8(kp.mcGroupIds.length);
    kp.mcGroupIds.forEach((m, i) => {
      g.u8(u8Of(m.iei, `${where}.mcGroupIds.groupId${i}.iei`));
      lvE(g, utf8(m.id), `${where}.mcGroupIds.groupId${i}.id`, 'TS 33.180 §E.6.3');
    });
    lvE(w, g.finish(), `${where}.mcGroupIds`, 'TS 33.180 §E.6.3');
  }
  if (kp.reserved !== undefined) {
    w.u8(u8Of(kp.reserved.iei, `${where}.reserved.iei`));
    lvE(w, kp.reserved.value, `${where}.reserved`, 'TS 33.180 §E.6.6');
  }
  const content = w.finish();
  const out = new Writer().u8(u8Of(kp.iei, `${where}.iei`));
  lvE(out, content, where, CLAUSE);
  return out.finish();
}

function writeTime(w: Writer, t: Date | undefined, field: string, clause: string): void {
  if (t === undefined) {
    writeDateTimeSeconds(w, 0);
    return;
  }
  const seconds = dateTimeSeconds(t, field, clause);
  if (seconds === 0) throw bad(field, 'must be after 1970-01-01T00:00:00Z (0 means unset: leave it undefined)', clause);
  writeDateTimeSeconds(w, seconds);
}

/** What a sender gives; the rest is filled in (status "not revoked", times 0, empty text). */
export interface KeyParametersInput {
  /** When given, must be the type of the key carried. */
  readonly keyType?: KeyType;
  readonly status?: { readonly revoked?: boolean; readonly securityGateway?: boolean };
  readonly activationTime?: Date;
  readonly expiryTime?: Date;
  readonly text?: string;
  /** For GMK, MKFC and MuSiK keys (default none); strings get UNASSIGNED_IEI. */
  readonly mcGroupIds?: readonly (string | McGroupId)[];
  readonly reserved?: TlvE;
  readonly iei?: number;
}

/** The Key Parameters of a key of `keyType` from a sender's input, checked as the encoder will. */
export function keyParametersOf(input: KeyParametersInput, keyType: KeyType, where = 'keyParameters'): KeyParameters {
  if (input.keyType !== undefined && input.keyType !== keyType) {
    throw bad(`${where}.keyType`, `must be the type of the key carried (${keyType})`, 'TS 33.180 §E.6.11');
  }
  const ids = input.mcGroupIds?.map((m) => (typeof m === 'string' ? { iei: UNASSIGNED_IEI, id: m } : m));
  const kp: KeyParameters = {
    iei: input.iei ?? UNASSIGNED_IEI,
    keyType,
    status: { revoked: input.status?.revoked ?? false, securityGateway: input.status?.securityGateway ?? false, undefinedBits: 0 },
    activationTime: input.activationTime,
    expiryTime: input.expiryTime,
    text: input.text ?? '',
    mcGroupIds: ids ?? (isGroupKeyType(keyType) ? [] : undefined),
    reserved: input.reserved,
  };
  encodeKeyParameters(kp, where); // every rule checked now, naming the input's fields
  return kp;
}
