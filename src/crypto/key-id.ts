/**
 * Key identifiers of TS 33.180 Annex G (and §5.2.1 / E.1): 32 bits, the 4 most significant bits
 * a purpose tag naming the key type (Table G-1), the 28 least significant bits random.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, FormatError } from '../errors/index.js';

/** Purpose tags of Table G-1; 7-15 are not defined. */
export const PurposeTag = Object.freeze({
  GMK: 0,
  PCK: 1,
  CSK: 2,
  SPK: 3,
  MKFC: 4,
  MSCCK: 5,
  MuSiK: 6,
} as const);

/** A key type of Table G-1. */
export type KeyType = keyof typeof PurposeTag;

/** Key types whose identifiers carry end-point diversity through a UK-ID (Table G-1). */
export const DIVERSIFIED_KEY_TYPES: readonly KeyType[] = Object.freeze(['GMK']);

const byTag = new Map<number, KeyType>(
  (Object.entries(PurposeTag) as [KeyType, number][]).map(([name, tag]) => [tag, name]),
);

/** A decoded key identifier. */
export interface KeyId {
  readonly value: number;
  readonly purposeTag: number;
  readonly keyType: KeyType;
}

/**
 * Decodes a 32-bit key identifier; an undefined purpose tag (7-15) is a FormatError
 * ERR_UNSUPPORTED (TS 33.180 Annex G).
 */
export function decodeKeyId(value: number, field = 'keyId'): KeyId {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new FormatError(ErrorCode.BAD_VALUE, {
      field,
      rule: 'must be a 32-bit unsigned integer',
      clause: 'TS 33.180 Annex G',
    });
  }
  const purposeTag = value >>> 28;
  const keyType = byTag.get(purposeTag);
  if (keyType === undefined) {
    throw new FormatError(ErrorCode.UNSUPPORTED, {
      field: `${field}.purposeTag`,
      rule: `purpose tag ${purposeTag} is not defined (Table G-1 defines 0-6)`,
      clause: 'TS 33.180 Annex G',
    });
  }
  return Object.freeze({ value, purposeTag, keyType });
}

/** A new identifier for a key of the given type: its purpose tag and 28 random bits. */
export function generateKeyId(keyType: KeyType, rng: (n: number) => Uint8Array = randomBytes): number {
  const r = rng(4);
  const low = (((r[0] as number) << 24) | ((r[1] as number) << 16) | ((r[2] as number) << 8) | (r[3] as number)) & 0x0fff_ffff;
  return ((PurposeTag[keyType] << 28) | low) >>> 0;
}

/** Whether `value` is an identifier of a key of type `keyType`. */
export const isKeyIdOfType = (value: number, keyType: KeyType): boolean =>
  value >>> 28 === PurposeTag[keyType];
