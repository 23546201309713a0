/**
 * The case files of `mcsec mikey open` and `mcsec mikey create`: one KMS (its URI, key periods and
 * public keys, TS 33.180 Annex D.3.2) and the keys of the party that acts (D.3.3), in hex.
 *
 *   open:   {"kms":{"uri","userKeyPeriod","userKeyOffset","pubEncKey","pubAuthKey"},
 *            "receiver":{"uri","userDecryptKey"}, "imessage":"mikey <base64>",
 *            "at":"message" | "<ISO time>"}
 *   create: {"kms":{...}, "initiator":{"uri","userSigningKeySSK","userPubTokenPVT"},
 *            "responder":{"uri"}, "keyType", "key", "keyId", "time"?, "hideIdentities"?,
 *            "keyParameters"?: {"status"?: {"revoked"?, "securityGateway"?}, "activationTime"?,
 *              "expiryTime"? (ISO or null), "text"?, "mcGroupIds"?: ["<id>" | {"iei","id"}],
 *              "reserved"?: {"iei","value"}, "iei"?, "keyType"?}}   (TS 33.180 §E.6)
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import { fromHex, utf8 } from '../../util/index.js';
import { PurposeTag, type KeyType } from '../../crypto/index.js';
import { decodeMikeyInput } from './text-input.js';
import type { KeyParametersInput, McGroupId } from './key-parameters.js';

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
  readonly keyParameters: KeyParametersInput | undefined;
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

function bool(v: unknown, field: string): boolean | undefined {
  if (v !== undefined && typeof v !== 'boolean') throw bad(field, 'must be true or false');
  return v;
}
function u8(v: unknown, field: string): number {
  const n = int(v, field);
  if (n > 0xff) throw bad(field, 'must be an integer from 0 to 255');
  return n;
}
/** An ISO time, or null / absent for 0 (§E.6.4, §E.6.10). */
const optionalTime = (v: unknown, field: string): Date | undefined => (v === undefined || v === null ? undefined : time(v, field));

function keyParametersOfCase(v: unknown, keyType: KeyType): KeyParametersInput {
  const f = 'case.keyParameters';
  const k = obj(v, f, [], ['status', 'activationTime', 'expiryTime', 'text', 'mcGroupIds', 'reserved', 'iei', 'keyType']);
  const st = k['status'] === undefined ? undefined : obj(k['status'], `${f}.status`, [], ['revoked', 'securityGateway']);
  const revoked = bool(st?.['revoked'], `${f}.status.revoked`);
  const securityGateway = bool(st?.['securityGateway'], `${f}.status.securityGateway`);
  const text = k['text'];
  if (text !== undefined && typeof text !== 'string') throw bad(`${f}.text`, 'must be a string');
  const ids = k['mcGroupIds'];
  let list: readonly unknown[] | undefined;
  if (ids !== undefined) {
    if (!Array.isArray(ids)) throw bad(`${f}.mcGroupIds`, 'must be an array of group IDs');
    list = ids;
  }
  const mcGroupIds = list?.map((g, i): string | McGroupId => {
    const gf = `${f}.mcGroupIds[${i}]`;
    if (typeof g === 'string') return str(g, gf);
    const o = obj(g, gf, ['id'], ['iei']);
    return { iei: o['iei'] === undefined ? 0 : u8(o['iei'], `${gf}.iei`), id: str(o['id'], `${gf}.id`) };
  });
  const res = k['reserved'] === undefined ? undefined : obj(k['reserved'], `${f}.reserved`, ['iei', 'value']);
  const kt = k['keyType'] === undefined ? undefined : str(k['keyType'], `${f}.keyType`);
  if (kt !== undefined && kt !== keyType) throw bad(`${f}.keyType`, `must be the case's keyType (${keyType})`);
  const activationTime = optionalTime(k['activationTime'], `${f}.activationTime`);
  const expiryTime = optionalTime(k['expiryTime'], `${f}.expiryTime`);
  return {
    ...(revoked !== undefined || securityGateway !== undefined
      ? { status: { ...(revoked !== undefined ? { revoked } : {}), ...(securityGateway !== undefined ? { securityGateway } : {}) } }
      : {}),
    ...(activationTime !== undefined ? { activationTime } : {}),
    ...(expiryTime !== undefined ? { expiryTime } : {}),
    ...(text !== undefined ? { text } : {}),
    ...(mcGroupIds !== undefined ? { mcGroupIds } : {}),
    ...(res !== undefined ? { reserved: { iei: u8(res['iei'], `${f}.reserved.iei`), value: hexOrEmpty(res['value'], `${f}.reserved.value`) } } : {}),
    ...(k['iei'] !== undefined ? { iei: u8(k['iei'], `${f}.iei`) } : {}),
  };
}
function hexOrEmpty(v: unknown, field: string): Uint8Array {
  if (typeof v !== 'string') throw bad(field, 'must be a hex string');
  return fromHex(v.replace(/^0x/i, ''), field);
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
  const root = obj(parse(text), 'case', ['kms', 'initiator', 'responder', 'keyType', 'key', 'keyId'], ['time', 'hideIdentities', 'keyParameters']);
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
    keyParameters: root['keyParameters'] === undefined ? undefined : keyParametersOfCase(root['keyParameters'], keyType),
  };
}
