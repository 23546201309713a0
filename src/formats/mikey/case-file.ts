/**
 * The case files of `mcsec mikey open` and `mcsec mikey create`: one KMS (its URI, key periods and
 * public keys, TS 33.180 Annex D.3.2) and the keys of the party that acts (D.3.3), in hex.
 *
 *   open:   {"kms":{"uri","userKeyPeriod","userKeyOffset","pubEncKey","pubAuthKey"},
 *            "receiver":{"uri","userDecryptKey"}, "imessage":"mikey <base64>",
 *            "at":"message" | "<ISO time>"}
 *   create: {"kms":{...}, "initiator":{"uri","userSigningKeySSK","userPubTokenPVT"},
 *            "responder":{"uri"}, "keyType", "key", "keyId", "time"?, "hideIdentities"?}
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import { fromHex, utf8 } from '../../util/index.js';
import { PurposeTag, type KeyType } from '../../crypto/index.js';
import { decodeMikeyInput } from './text-input.js';

/** The KMS part of a case. */
export interface CaseKms {
  readonly uri: string;
  readonly userKeyPeriod: number;
  readonly userKeyOffset: number;
  readonly pubEncKey: Uint8Array;
  readonly pubAuthKey: Uint8Array;
}

/** A decoded `mikey open` case. */
export interface OpenCase {
  readonly kms: CaseKms;
  readonly receiver: { readonly uri: string; readonly userDecryptKey: Uint8Array };
  readonly imessage: Uint8Array;
  readonly at: 'message' | Date;
}

/** A decoded `mikey create` case. */
export interface CreateCase {
  readonly kms: CaseKms;
  readonly initiator: { readonly uri: string; readonly ssk: Uint8Array; readonly pvt: Uint8Array };
  readonly responder: { readonly uri: string };
  readonly keyType: KeyType;
  readonly key: Uint8Array;
  readonly keyId: number;
  readonly time: Date | undefined;
  readonly hideIdentities: boolean;
}

const isKeyType = (s: string): s is KeyType => Object.hasOwn(PurposeTag, s);
const bad = (field: string, rule: string): FormatError => new FormatError(ErrorCode.BAD_VALUE, { field, rule });
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function obj(v: unknown, field: string, keys: readonly string[], optional: readonly string[] = []): Record<string, unknown> {
  if (!isRecord(v)) throw bad(field, 'must be a JSON object');
  for (const k of Object.keys(v)) if (!keys.includes(k) && !optional.includes(k)) throw bad(`${field}.${k}`, 'is not a known member');
  for (const k of keys) if (v[k] === undefined) throw bad(`${field}.${k}`, 'is required');
  return v;
}
function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length === 0) throw bad(field, 'must be a non-empty string');
  return v;
}
function int(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(field, 'must be a non-negative integer');
  return v;
}
const hex = (v: unknown, field: string): Uint8Array => fromHex(str(v, field).replace(/^0x/i, ''), field);
function time(v: unknown, field: string): Date {
  const d = new Date(str(v, field));
  if (Number.isNaN(d.getTime())) throw bad(field, 'must be an ISO-8601 time');
  return d;
}

function parse(text: string): Record<string, unknown> {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    throw bad('case', 'must be JSON');
  }
  if (!isRecord(root)) throw bad('case', 'must be a JSON object');
  return root;
}

function kmsOf(v: unknown): CaseKms {
  const k = obj(v, 'case.kms', ['uri', 'userKeyPeriod', 'userKeyOffset', 'pubEncKey', 'pubAuthKey']);
  return {
    uri: str(k['uri'], 'case.kms.uri'),
    userKeyPeriod: int(k['userKeyPeriod'], 'case.kms.userKeyPeriod'),
    userKeyOffset: int(k['userKeyOffset'], 'case.kms.userKeyOffset'),
    pubEncKey: hex(k['pubEncKey'], 'case.kms.pubEncKey'),
    pubAuthKey: hex(k['pubAuthKey'], 'case.kms.pubAuthKey'),
  };
}

/** Decodes a `mikey open` case file. */
export function decodeOpenCase(text: string): OpenCase {
  const root = obj(parse(text), 'case', ['kms', 'receiver', 'imessage', 'at']);
  const r = obj(root['receiver'], 'case.receiver', ['uri', 'userDecryptKey']);
  const at = root['at'] === 'message' ? 'message' : time(root['at'], 'case.at');
  return {
    kms: kmsOf(root['kms']),
    receiver: { uri: str(r['uri'], 'case.receiver.uri'), userDecryptKey: hex(r['userDecryptKey'], 'case.receiver.userDecryptKey') },
    imessage: decodeMikeyInput(utf8(str(root['imessage'], 'case.imessage'))),
    at,
  };
}

/** Decodes a `mikey create` case file. */
export function decodeCreateCase(text: string): CreateCase {
  const root = obj(parse(text), 'case', ['kms', 'initiator', 'responder', 'keyType', 'key', 'keyId'], ['time', 'hideIdentities']);
  const i = obj(root['initiator'], 'case.initiator', ['uri', 'userSigningKeySSK', 'userPubTokenPVT']);
  const r = obj(root['responder'], 'case.responder', ['uri']);
  const keyType = str(root['keyType'], 'case.keyType');
  if (!isKeyType(keyType)) throw bad('case.keyType', `must be one of ${Object.keys(PurposeTag).join(', ')}`);
  const keyIdHex = str(root['keyId'], 'case.keyId').replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]{8}$/.test(keyIdHex)) throw bad('case.keyId', 'must be 8 hex digits');
  const hide = root['hideIdentities'];
  if (hide !== undefined && typeof hide !== 'boolean') throw bad('case.hideIdentities', 'must be true or false');
  return {
    kms: kmsOf(root['kms']),
    initiator: {
      uri: str(i['uri'], 'case.initiator.uri'),
      ssk: hex(i['userSigningKeySSK'], 'case.initiator.userSigningKeySSK'),
      pvt: hex(i['userPubTokenPVT'], 'case.initiator.userPubTokenPVT'),
    },
    responder: { uri: str(r['uri'], 'case.responder.uri') },
    keyType,
    key: hex(root['key'], 'case.key'),
    keyId: parseInt(keyIdHex, 16),
    time: root['time'] === undefined ? undefined : time(root['time'], 'case.time'),
    hideIdentities: hide === true,
  };
}
