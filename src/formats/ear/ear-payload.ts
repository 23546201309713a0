/**
 * The EAR PAYLOAD message, TS 33.180 Table J.1.2-1 (encoding rules of MONP, TS 24.379 Annex I):
 *
 *   EAR message ID (V, 1) | Date and time (V, 5: seconds since 1970 UTC, TS 24.282 §15.2.8)
 *   | EAR ID (V, 16: an RFC 4122 UUID, J.1.3) | Source Role (V, 1, J.1.4) | Source ID (LV-E, J.1.5)
 *   | Target Role (V, 1) | Target ID (LV-E) | [Request (TLV-E, J.2)]
 *
 *   Request (J.2.2) = Request type (V, 1, J.2.3) | [Request ID (TV, 3: IEI, 2 octets, J.2.5)]
 *                     | [Request Expiry (TV, 6: IEI, 5 octets of seconds, J.2.4)]
 *
 * Annex J assigns no value to the EAR message ID, the Request IEI ("uu") or the Request ID and
 * Request Expiry IEIs: every one is accepted and reported, and mcsec sends 0. The optional TV
 * elements are told apart by the octets left in the Request (0, 3, 6 or 9), in the table's order.
 * Entity IDs are UTF-8, non-empty. Reserved Role and Request Type values are ERR_UNSUPPORTED; a
 * Request ID is allowed only for privileged and off-network requests (J.2.5.1) and must be one of
 * their tables. Every field is checked, nothing is left over (ERR_TRAILING_BYTES).
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import { fromUtf8, utf8 } from '../../util/index.js';
import { Reader, Writer } from '../bytes/index.js';
import { dateOfSeconds, dateTimeSeconds, readDateTimeSeconds, writeDateTimeSeconds } from '../mcdata/index.js';
import {
  EAR_MESSAGE_TYPE,
  EAR_UNASSIGNED_IEI,
  isEarRequestType,
  isEarRole,
  requestIdsOf,
  type EarRequestType,
  type EarRole,
} from './constants.js';

export const J12 = 'TS 33.180 Annex J.1.2';
const MAX_LV_E = 0xffff;

/** A Request ID or Request Expiry (type 3 TV) with the IEI it came with. */
export interface EarTv<T> {
  readonly iei: number;
  readonly value: T;
}

/** The Request information element (J.2.2). */
export interface EarRequest {
  readonly iei: number;
  readonly requestType: EarRequestType;
  /** Byte 1 << 8 | byte 2 (J.2.5). */
  readonly requestId: EarTv<number> | undefined;
  /** When actions the request caused shall end (J.2.4), whole seconds. */
  readonly requestExpiry: EarTv<Date> | undefined;
}

/** A decoded EAR PAYLOAD. */
export interface EarPayload {
  readonly messageType: number;
  /** Whole seconds. */
  readonly dateTime: Date;
  /** The 16-octet UUID (J.1.3). */
  readonly earId: Uint8Array;
  readonly sourceRole: EarRole;
  readonly sourceId: string;
  readonly targetRole: EarRole;
  readonly targetId: string;
  readonly request: EarRequest | undefined;
}

const bad = (field: string, rule: string, clause = J12): FormatError => new FormatError(ErrorCode.BAD_VALUE, { field, rule, clause });

function checkEarId(id: Uint8Array, field: string): void {
  if (id.length !== 16) throw new FormatError(ErrorCode.BAD_LENGTH, { field, rule: 'must be 16 octets', clause: 'TS 33.180 Annex J.1.3' });
  const version = (id[6] ?? 0) >> 4;
  if (((id[8] ?? 0) & 0xc0) !== 0x80 || version < 1 || version > 8) {
    throw bad(field, 'must be an RFC 4122 UUID (variant 10, version 1 to 8)', 'TS 33.180 Annex J.1.3, RFC 4122 §4.1');
  }
}

function role(v: number, field: string): EarRole {
  if (!isEarRole(v)) {
    throw new FormatError(ErrorCode.UNSUPPORTED, { field, rule: `Role ID ${v} is reserved (1 client, 2 group, 3 function/server)`, clause: 'TS 33.180 Annex J.1.4' });
  }
  return v;
}

function entityId(r: Reader, name: string, where: string): string {
  const bytes = r.bytes(r.u16(`${name}.length`), `${name}.value`);
  if (bytes.length === 0) throw bad(`${where}.${name}`, 'must not be empty', 'TS 33.180 Annex J.1.5');
  try {
    return fromUtf8(bytes, `${where}.${name}`);
  } catch {
    throw bad(`${where}.${name}`, 'must be UTF-8', 'TS 33.180 Annex J.1.5');
  }
}

function requestType(v: number, field: string): EarRequestType {
  if (!isEarRequestType(v)) {
    throw new FormatError(ErrorCode.UNSUPPORTED, { field, rule: `Request type ${v} is reserved (1, 2, 3, 5, 6 are defined)`, clause: 'TS 33.180 Annex J.2.3' });
  }
  return v;
}

function checkRequestId(type: number, id: number, field: string): void {
  const table = requestIdsOf(type);
  if (table === undefined) throw bad(field, 'is only used for privileged and off-network requests', 'TS 33.180 Annex J.2.5.1');
  if (!table.some((e) => e.requestId === id)) {
    throw new FormatError(ErrorCode.UNSUPPORTED, {
      field,
      rule: `0x${id.toString(16).padStart(4, '0')} is not a Request ID of request type ${type}`,
      clause: type === 1 ? 'TS 33.180 Table J.2.5.2-1' : 'TS 33.180 Table J.2.5.3-1',
    });
  }
}

function decodeRequest(r: Reader, where: string): EarRequest {
  const iei = r.u8('request.iei');
  const body = r.sub(r.u16('request.length'), 'request');
  const f = `${where}.request`;
  const type = requestType(body.u8('requestType'), `${f}.requestType`);
  let requestId: EarTv<number> | undefined;
  let requestExpiry: EarTv<Date> | undefined;
  const left = body.remaining;
  if (left === 3 || left === 9) {
    const tvIei = body.u8('requestId.iei');
    requestId = Object.freeze({ iei: tvIei, value: body.u16('requestId.value') });
    checkRequestId(type, requestId.value, `${f}.requestId`);
  }
  if (left === 6 || left === 9) {
    const tvIei = body.u8('requestExpiry.iei');
    requestExpiry = Object.freeze({ iei: tvIei, value: dateOfSeconds(readDateTimeSeconds(body, 'requestExpiry.value')) });
  }
  if (left !== 0 && left !== 3 && left !== 6 && left !== 9) {
    throw new FormatError(ErrorCode.BAD_LENGTH, {
      field: `${f}.length`,
      rule: 'must hold the Request type and optionally Request ID (3) and Request Expiry (6): 1, 4, 7 or 10 octets',
      clause: 'TS 33.180 Annex J.2.2',
    });
  }
  body.done();
  return Object.freeze({ iei, requestType: type, requestId, requestExpiry });
}

/** Decodes an EAR PAYLOAD strictly. */
export function decodeEarPayload(bytes: Uint8Array, where = 'ear.payload'): EarPayload {
  const r = new Reader(bytes, where, J12);
  const messageType = r.u8('messageType');
  const dateTime = dateOfSeconds(readDateTimeSeconds(r, 'dateTime'));
  const earId = r.bytes(16, 'earId');
  checkEarId(earId, `${where}.earId`);
  const sourceRole = role(r.u8('sourceRole'), `${where}.sourceRole`);
  const sourceId = entityId(r, 'sourceId', where);
  const targetRole = role(r.u8('targetRole'), `${where}.targetRole`);
  const targetId = entityId(r, 'targetId', where);
  const request = r.remaining > 0 ? decodeRequest(r, where) : undefined;
  r.done();
  return Object.freeze({ messageType, dateTime, earId, sourceRole, sourceId, targetRole, targetId, request });
}

function u8(v: number, field: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw bad(field, 'must be an integer from 0 to 255');
  return v;
}

function writeEntityId(w: Writer, id: string, field: string): void {
  const b = utf8(id);
  if (b.length === 0) throw bad(field, 'must not be empty', 'TS 33.180 Annex J.1.5');
  if (b.length > MAX_LV_E) throw new FormatError(ErrorCode.TOO_LARGE, { field, rule: `must be at most ${MAX_LV_E} octets`, clause: 'TS 33.180 Annex J.1.5' });
  w.u16(b.length).bytes(b);
}

/** Encodes an EAR PAYLOAD (the inverse of decodeEarPayload; the same rules hold). */
export function encodeEarPayload(p: EarPayload, where = 'ear.payload'): Uint8Array {
  const w = new Writer().u8(u8(p.messageType, `${where}.messageType`));
  writeDateTimeSeconds(w, dateTimeSeconds(p.dateTime, `${where}.dateTime`, J12));
  checkEarId(p.earId, `${where}.earId`);
  w.bytes(p.earId).u8(role(p.sourceRole, `${where}.sourceRole`));
  writeEntityId(w, p.sourceId, `${where}.sourceId`);
  w.u8(role(p.targetRole, `${where}.targetRole`));
  writeEntityId(w, p.targetId, `${where}.targetId`);
  if (p.request !== undefined) {
    const q = p.request;
    const f = `${where}.request`;
    const body = new Writer().u8(requestType(q.requestType, `${f}.requestType`));
    if (q.requestId !== undefined) {
      checkRequestId(q.requestType, q.requestId.value, `${f}.requestId`);
      body.u8(u8(q.requestId.iei, `${f}.requestId.iei`)).u16(q.requestId.value);
    }
    if (q.requestExpiry !== undefined) {
      body.u8(u8(q.requestExpiry.iei, `${f}.requestExpiry.iei`));
      writeDateTimeSeconds(body, dateTimeSeconds(q.requestExpiry.value, `${f}.requestExpiry`, 'TS 33.180 Annex J.2.4'));
    }
    const b = body.finish();
    w.u8(u8(q.iei, `${f}.iei`)).u16(b.length).bytes(b);
  }
  return w.finish();
}

/** What a sender states in an EAR (§9.6.4.2); unassigned code points default to mcsec's 0. */
export interface EarPayloadInput {
  readonly dateTime: Date;
  readonly earId: Uint8Array;
  readonly sourceRole: EarRole;
  readonly sourceId: string;
  readonly targetRole: EarRole;
  readonly targetId: string;
  readonly request?: {
    readonly requestType: EarRequestType;
    readonly requestId?: number | undefined;
    readonly requestExpiry?: Date | undefined;
  } | undefined;
  readonly messageType?: number | undefined;
}

/** The payload value of an input (times truncated to whole seconds, IEIs EAR_UNASSIGNED_IEI). */
export function earPayloadOf(input: EarPayloadInput): EarPayload {
  const whole = (d: Date): Date => new Date(Math.floor(d.getTime() / 1000) * 1000);
  const q = input.request;
  const request: EarRequest | undefined =
    q === undefined
      ? undefined
      : Object.freeze({
          iei: EAR_UNASSIGNED_IEI,
          requestType: q.requestType,
          requestId: q.requestId === undefined ? undefined : Object.freeze({ iei: EAR_UNASSIGNED_IEI, value: q.requestId }),
          requestExpiry: q.requestExpiry === undefined ? undefined : Object.freeze({ iei: EAR_UNASSIGNED_IEI, value: whole(q.requestExpiry) }),
        });
  return Object.freeze({
    messageType: input.messageType ?? EAR_MESSAGE_TYPE,
    dateTime: whole(input.dateTime),
    earId: input.earId.slice(),
    sourceRole: input.sourceRole,
    sourceId: input.sourceId,
    targetRole: input.targetRole,
    targetId: input.targetId,
    request,
  });
}

/** A random (version 4) UUID for an EAR ID (RFC 4122 §4.4). */
export function generateEarId(rng: (n: number) => Uint8Array): Uint8Array {
  const id = rng(16).slice(0, 16);
  if (id.length !== 16) throw bad('rng', 'must return 16 octets');
  id[6] = ((id[6] ?? 0) & 0x0f) | 0x40;
  id[8] = ((id[8] ?? 0) & 0x3f) | 0x80;
  return id;
}

/** The UUID text of an EAR ID (RFC 4122 §3). */
export function earIdToString(id: Uint8Array): string {
  const h = Array.from(id, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
