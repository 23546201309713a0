/**
 * The key-material JSON that `mcsec keys check` reads: what a KMS issued to one user, in the
 * terms of TS 33.180 Annex D (KmsCertificate PubEncKey / PubAuthKey, D.3.2; KmsKeySet
 * UserDecryptKey / UserSigningKeySSK / UserPubTokenPVT, D.3.3) and the UID of §F.2.1:
 *
 *   {"kms": {"pubEncKey", "pubAuthKey"},
 *    "user": {"uri", "kmsUri", "userKeyPeriod", "userKeyOffset", "keyPeriodNo"} | {"uid"},
 *    "userDecryptKey"?, "userSigningKeySSK"?, "userPubTokenPVT"?}
 *
 * Hex in either case. Decoding is strict: unknown keys, wrong types and bad hex are FormatErrors.
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import { fromHex } from '../../util/index.js';

/** Who the keys are for: UID inputs, or the UID itself. */
export type KeyMaterialUser =
  | {
      readonly uri: string;
      readonly kmsUri: string;
      readonly userKeyPeriod: number;
      readonly userKeyOffset: number;
      readonly keyPeriodNo: number;
    }
  | { readonly uid: Uint8Array };

/** Decoded key material. */
export interface KeyMaterial {
  readonly kms: { readonly pubEncKey: Uint8Array; readonly pubAuthKey: Uint8Array };
  readonly user: KeyMaterialUser;
  readonly userDecryptKey: Uint8Array | undefined;
  readonly userSigningKeySSK: Uint8Array | undefined;
  readonly userPubTokenPVT: Uint8Array | undefined;
}

const CLAUSE = 'TS 33.180 Annex D.3';

function bad(field: string, rule: string): FormatError {
  return new FormatError(ErrorCode.BAD_VALUE, { field, rule, clause: CLAUSE });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function only(obj: Record<string, unknown>, allowed: readonly string[], field: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw bad(`${field}.${k}`, 'is not a known member');
  }
}

function hexMember(obj: Record<string, unknown>, key: string, field: string): Uint8Array {
  const v = obj[key];
  if (typeof v !== 'string') throw bad(`${field}.${key}`, 'must be a hex string');
  return fromHex(v.replace(/^0x/i, ''), `${field}.${key}`);
}

function optionalHex(obj: Record<string, unknown>, key: string): Uint8Array | undefined {
  return obj[key] === undefined ? undefined : hexMember(obj, key, 'keys');
}

function intMember(obj: Record<string, unknown>, key: string, field: string): number {
  const v = obj[key];
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw bad(`${field}.${key}`, 'must be a non-negative integer');
  }
  return n;
}

function strMember(obj: Record<string, unknown>, key: string, field: string): string {
  const v = obj[key];
  if (typeof v !== 'string' || v.length === 0) throw bad(`${field}.${key}`, 'must be a non-empty string');
  return v;
}

/** Decodes the key-material JSON text. */
export function decodeKeyMaterial(text: string): KeyMaterial {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    throw new FormatError(ErrorCode.BAD_VALUE, { field: 'keys', rule: 'must be JSON' });
  }
  if (!isRecord(root)) throw bad('keys', 'must be a JSON object');
  only(root, ['kms', 'user', 'userDecryptKey', 'userSigningKeySSK', 'userPubTokenPVT'], 'keys');
  const kms = root['kms'];
  if (!isRecord(kms)) throw bad('keys.kms', 'must be an object with pubEncKey and pubAuthKey');
  only(kms, ['pubEncKey', 'pubAuthKey'], 'keys.kms');
  const user = root['user'];
  if (!isRecord(user)) throw bad('keys.user', 'must be an object');
  let decodedUser: KeyMaterialUser;
  if (user['uid'] !== undefined) {
    only(user, ['uid'], 'keys.user');
    const uid = hexMember(user, 'uid', 'keys.user');
    if (uid.length !== 32) throw bad('keys.user.uid', 'must be 32 octets (TS 33.180 §F.2.1)');
    decodedUser = { uid };
  } else {
    only(user, ['uri', 'kmsUri', 'userKeyPeriod', 'userKeyOffset', 'keyPeriodNo'], 'keys.user');
    decodedUser = {
      uri: strMember(user, 'uri', 'keys.user'),
      kmsUri: strMember(user, 'kmsUri', 'keys.user'),
      userKeyPeriod: intMember(user, 'userKeyPeriod', 'keys.user'),
      userKeyOffset: intMember(user, 'userKeyOffset', 'keys.user'),
      keyPeriodNo: intMember(user, 'keyPeriodNo', 'keys.user'),
    };
  }
  return Object.freeze({
    kms: Object.freeze({
      pubEncKey: hexMember(kms, 'pubEncKey', 'keys.kms'),
      pubAuthKey: hexMember(kms, 'pubAuthKey', 'keys.kms'),
    }),
    user: Object.freeze(decodedUser),
    userDecryptKey: optionalHex(root, 'userDecryptKey'),
    userSigningKeySSK: optionalHex(root, 'userSigningKeySSK'),
    userPubTokenPVT: optionalHex(root, 'userPubTokenPVT'),
  });
}
