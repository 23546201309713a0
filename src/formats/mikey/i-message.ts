/**
 * MIKEY-SAKKE I_MESSAGEs as TS 33.180 Annex E defines them, on the codec of message.ts:
 *
 * - `createIMessage` (initiator): HDR (data type 26, V = 0, PRF-HMAC-SHA-256, CSB-ID = the key's
 *   ID, or the GUK-ID for a GMK, §E.2), T (NTP-UTC), RAND, IDRi / IDRr (roles 1 / 2, or 8 / 9 with
 *   the UIDs when identities are hidden, §E.7), IDRkmsi / IDRkmsr (roles 6 / 7), SAKKE (ID scheme 2,
 *   the key encapsulated to the responder's UID for the message's key period, §F.2.1), an optional
 *   SAKKE-to-self extension (§E.5), an optional key-parameters extension (§E.6: the Key
 *   Parameters in an MCData Protected Payload under the key carried, DPPK-ID = CSB-ID), last
 *   before the SIGN payload (ECCSI, 129 octets, §E.1) so that the signature covers it.
 * - `openIMessage` (receiver): the strict decode, then the Annex E rules, the time window, the
 *   initiator's signature (RFC 6507) with its UID for the message's key period, the responder
 *   identities, the replay cache (RFC 3830 §5.4), decapsulation with the RSK of that key period
 *   (RFC 6508), the purpose tag of the key ID (Annex G), the GMK-ID from the GUK-ID (§F.1.3) and
 *   the §E.6 key parameters: decoded before any crypto work (DPPK-ID = CSB-ID), decrypted with the
 *   key carried, their key type checked against the purpose tag. A key-parameters extension that
 *   is not an MCData Protected Payload (TS 33.179-era) is returned raw as `format: 'legacy'`.
 *   Every refusal is a typed error naming the payload, field and clause; the replay cache is
 *   written only after everything passed. Authentication and decryption failures stay uniform
 *   (ERR_SIGNATURE, ERR_DECRYPT); the offline `mcsec mikey open` explains more.
 */
import { randomBytes } from 'node:crypto';
import {
  EccsiVerifier,
  decodeKeyId,
  deriveGukId,
  deriveUid,
  deriveUserSalt,
  encapsulateSsv,
  keyPeriodNoAtNtp,
  sha256,
  signEccsi,
  NTP_UNIX_OFFSET,
  type KeyType,
  type SakkePeer,
  type SakkePublicKey,
  type SakkeRecipient,
} from '../../crypto/index.js';
import { ErrorCode, FormatError, PolicyError } from '../../errors/index.js';
import { equalBytes, fromUtf8, toHex, utf8 } from '../../util/index.js';
import {
  CsIdMapType,
  DATA_TYPE_SAKKE,
  GeneralExtType,
  IdRole,
  IdType,
  PayloadType,
  PrfFunc,
  SakkeIdScheme,
  SakkeParamsId,
  SignType,
  TsType,
} from './constants.js';
import type { GenericIdCs } from './hdr.js';
import { keyParametersOf, type KeyParametersInput } from './key-parameters.js';
import {
  decodeKeyParametersExtension,
  keyParametersPayload,
  openKeyParameters,
  type KeyParametersExtension,
  type OpenedKeyParameters,
} from './key-parameters-extension.js';
import { decodeMikey, encodeMikey, sakkePayload, sakkeToSelfPayload } from './message.js';
import type { MikeyPayload } from './payloads.js';
import type { ReplayCache } from './replay-cache.js';

/** Key period settings of a KMS (its certificate's UserKeyPeriod / UserKeyOffset, D.3.2). */
export interface KeyPeriods {
  readonly userKeyPeriod: number;
  readonly userKeyOffset: number;
}

/** The initiator: its identity, KMS and ECCSI keys for the key period of the message. */
export interface IMessageInitiator extends KeyPeriods {
  readonly uri: string;
  readonly kmsUri: string;
  readonly kpak: Uint8Array;
  readonly ssk: Uint8Array;
  readonly pvt: Uint8Array;
  /** KMS public key for SAKKE-to-self (§E.5); omitted, no SAKKE-to-self payload is added. */
  readonly sakkeToSelf?: SakkePublicKey;
}

/** The responder as the initiator knows it. */
export interface IMessageResponder extends KeyPeriods {
  readonly uri: string;
  readonly kmsUri: string;
  readonly kms: SakkePublicKey;
  /** A prepared peer for this responder's UID of the message's period (used when it matches). */
  readonly peer?: SakkePeer;
}

/** What to send. */
export interface CreateIMessageInput {
  readonly keyType: KeyType;
  /** The 16-octet key (GMK, PCK, CSK, MuSiK, SPK, MKFC, MSCCK). */
  readonly key: Uint8Array;
  /** The key's ID (K-ID) with the purpose tag of its type (Annex G). */
  readonly keyId: number;
  readonly initiator: IMessageInitiator;
  readonly responder: IMessageResponder;
  readonly time: Date;
  /** Replace IDRi / IDRr by the UIDs, roles 8 / 9 (§E.7). */
  readonly hideIdentities?: boolean;
  /** GENERIC-ID crypto sessions (§E.2.3 etc.); none means the default profile. */
  readonly cryptoSessions?: readonly GenericIdCs[];
  /** Extra payloads placed before the SAKKE payload (e.g. SP). */
  readonly extraPayloads?: readonly MikeyPayload[];
  /** Key parameters to send in the §E.6 extension (encrypted under `key`). */
  readonly keyParameters?: KeyParametersInput;
  /**
   * The RAND payload (RFC 3830 §6.11, 16-255 octets); default 16 octets from `rng`. A GMS sends
   * one GMK with one RAND to every member: the group call keys of §7.4.2 are derived from it.
   */
  readonly rand?: Uint8Array;
  readonly rng?: (n: number) => Uint8Array;
}

const rngDefault = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

/** NTP-UTC timestamp (RFC 3830 §6.6) of a date: 32-bit seconds since 1900, 32-bit fraction. */
export function ntpTimestamp(date: Date): bigint {
  const ms = BigInt(date.getTime());
  const seconds = ms / 1000n + BigInt(NTP_UNIX_OFFSET);
  const fraction = ((ms % 1000n) << 32n) / 1000n;
  return (seconds << 32n) | fraction;
}

const ntpSeconds = (ts: bigint): number => Number(ts >> 32n);

/** The time of the first T payload of a message, if it has one (for offline tools). */
export function mikeyMessageTime(bytes: Uint8Array): Date | undefined {
  const t = decodeMikey(bytes).payloads.find((p) => p.type === PayloadType.T);
  return t !== undefined && t.type === PayloadType.T && t.tsType !== TsType.COUNTER ? new Date(ntpToMs(t.value)) : undefined;
}
const ntpToMs = (ts: bigint): number =>
  (ntpSeconds(ts) - NTP_UNIX_OFFSET) * 1000 + Math.floor((Number(ts & 0xffff_ffffn) * 1000) / 2 ** 32);

/** Recent UIDs (public values, F.2.1): a sender writes to the same peers within a key period. */
const uidCache = new Map<string, Uint8Array>();
const UID_CACHE_SIZE = 1024;

function uidAt(uri: string, kmsUri: string, periods: KeyPeriods, ntp: number): Uint8Array {
  const keyPeriodNo = keyPeriodNoAtNtp(ntp, periods.userKeyPeriod, periods.userKeyOffset);
  const key = `${keyPeriodNo} ${periods.userKeyPeriod} ${periods.userKeyOffset} ${kmsUri.length} ${kmsUri} ${uri}`;
  const hit = uidCache.get(key);
  if (hit !== undefined) return hit.slice();
  const uid = deriveUid({ uri, kmsUri, ...periods, keyPeriodNo });
  if (uidCache.size >= UID_CACHE_SIZE) uidCache.delete(uidCache.keys().next().value as string);
  uidCache.set(key, uid.slice());
  return uid;
}

/** Builds and signs an I_MESSAGE (TS 33.180 Annex E). */
export function createIMessage(input: CreateIMessageInput): Uint8Array {
  const { initiator: ini, responder: res } = input;
  const rng = input.rng ?? rngDefault;
  if (input.key.length !== 16) {
    throw new FormatError(ErrorCode.BAD_LENGTH, { field: 'mikey.key', rule: 'must be 16 octets', clause: 'TS 33.180 Annex E' });
  }
  const kid = decodeKeyId(input.keyId, 'mikey.keyId');
  if (kid.keyType !== input.keyType) {
    throw new FormatError(ErrorCode.BAD_VALUE, {
      field: 'mikey.keyId.purposeTag',
      rule: `must be the purpose tag of a ${input.keyType}`,
      clause: 'TS 33.180 Annex G',
    });
  }
  if (input.rand !== undefined && (input.rand.length < 16 || input.rand.length > 255)) {
    throw new FormatError(ErrorCode.BAD_LENGTH, { field: 'mikey.rand', rule: 'must be 16 to 255 octets', clause: 'RFC 3830 §6.11' });
  }
  const ts = ntpTimestamp(input.time);
  const ntp = ntpSeconds(ts);
  const uidI = uidAt(ini.uri, ini.kmsUri, ini, ntp);
  const uidR = uidAt(res.uri, res.kmsUri, res, ntp);
  // §E.2: for a GMK the CSB-ID is the GUK-ID of the receiving user (§F.1.3).
  const csbId = input.keyType === 'GMK' ? deriveGukId(input.keyId, deriveUserSalt(input.key, res.uri)) : input.keyId;
  const hide = input.hideIdentities === true;
  const sessions = input.cryptoSessions ?? [];
  const payloads: MikeyPayload[] = [
    { type: PayloadType.T, tsType: TsType.NTP_UTC, value: ts },
    { type: PayloadType.RAND, rand: input.rand?.slice() ?? rng(16) },
    hide
      ? { type: PayloadType.IDR, role: IdRole.HASHED_INITIATOR, idType: IdType.URI, data: uidI }
      : { type: PayloadType.IDR, role: IdRole.INITIATOR, idType: IdType.URI, data: utf8(ini.uri) },
    hide
      ? { type: PayloadType.IDR, role: IdRole.HASHED_RESPONDER, idType: IdType.URI, data: uidR }
      : { type: PayloadType.IDR, role: IdRole.RESPONDER, idType: IdType.URI, data: utf8(res.uri) },
    { type: PayloadType.IDR, role: IdRole.INITIATOR_KMS, idType: IdType.URI, data: utf8(ini.kmsUri) },
    { type: PayloadType.IDR, role: IdRole.RESPONDER_KMS, idType: IdType.URI, data: utf8(res.kmsUri) },
    ...(input.extraPayloads ?? []),
    sakkePayload(encapsulateSsv(res.kms, uidR, input.key, res.peer)),
  ];
  if (ini.sakkeToSelf !== undefined) payloads.push(sakkeToSelfPayload(encapsulateSsv(ini.sakkeToSelf, uidI, input.key)));
  if (input.keyParameters !== undefined) {
    const parameters = keyParametersOf(input.keyParameters, input.keyType, 'mikey.keyParameters');
    payloads.push(keyParametersPayload({ parameters, key: input.key, csbId, time: input.time, rng }));
  }
  return encodeMikey(
    {
      hdr: {
        version: 1,
        dataType: DATA_TYPE_SAKKE,
        v: false,
        prfFunc: PrfFunc.HMAC_SHA_256,
        csbId,
        csIdMapType: sessions.length === 0 ? CsIdMapType.EMPTY : CsIdMapType.GENERIC_ID,
        srtpIds: [],
        genericIds: sessions,
      },
      payloads,
    },
    {
      sType: SignType.ECCSI,
      signatureLength: 129,
      sign: (signed) => signEccsi(signed, { kpak: ini.kpak, id: uidI, ssk: ini.ssk, pvt: ini.pvt }, rng),
    },
  );
}

/** The receiver: who it is and the keys it holds. */
export interface IMessageReceiverContext extends KeyPeriods {
  readonly uri: string;
  readonly kmsUri: string;
  /** The prepared RSK for a key period number, or undefined when none is held. */
  readonly recipientFor: (keyPeriodNo: number) => SakkeRecipient | undefined;
  /** KPAK and key periods of an initiator's KMS this receiver trusts, by KMS URI. */
  readonly trustedKms: (kmsUri: string) => (KeyPeriods & { readonly kpak: Uint8Array }) | undefined;
  readonly replayCache: ReplayCache;
  /** Current time (injected). */
  readonly now: () => Date;
  /** Accepted clock difference between the message's timestamp and now, ms (default 5 min). */
  readonly windowMs?: number;
  readonly verifier?: EccsiVerifier;
}

/** What an opened I_MESSAGE gave. */
export interface OpenedIMessage {
  readonly keyType: KeyType;
  readonly key: Uint8Array;
  /** The K-ID: for a GMK the GMK-ID computed from the GUK-ID (§F.1.3), else the CSB-ID. */
  readonly keyId: number;
  readonly gukId: number | undefined;
  readonly rand: Uint8Array;
  readonly time: Date;
  readonly keyPeriodNo: number;
  /** The initiator's URI, or undefined when hidden (§E.7; check it later with its UID). */
  readonly initiatorUri: string | undefined;
  readonly initiatorUid: Uint8Array;
  readonly initiatorKmsUri: string;
  readonly responderUri: string;
  readonly identitiesHidden: boolean;
  /** 'current' (Annex E), or 'legacy-srtp-id' for TS 33.179-era messages with CS ID map type 0. */
  readonly format: 'current' | 'legacy-srtp-id';
  /** The §E.6 key parameters, decrypted and checked ('current'), or raw ('legacy'). */
  readonly keyParameters: OpenedKeyParameters | undefined;
  /** The data of the §E.6 extension as received. */
  readonly keyParametersRaw: Uint8Array | undefined;
  readonly sakkeToSelf: boolean;
}

const annexE = (field: string, rule: string, clause = 'TS 33.180 Annex E.1'): FormatError =>
  new FormatError(ErrorCode.BAD_VALUE, { field, rule, clause });

function text(data: Uint8Array, field: string): string {
  return fromUtf8(data, field);
}

/**
 * Opens an I_MESSAGE addressed to this receiver (see the module comment for every check). Async
 * only for the replay claim, which may go to a shared cache.
 */
export async function openIMessage(bytes: Uint8Array, ctx: IMessageReceiverContext): Promise<OpenedIMessage> {
  const m = decodeMikey(bytes);
  const h = m.hdr;
  if (h.dataType !== DATA_TYPE_SAKKE) throw annexE('mikey.hdr.dataType', 'must be 26 (MIKEY-SAKKE)');
  if (h.v) throw annexE('mikey.hdr.v', 'must be 0');
  if (h.prfFunc !== PrfFunc.HMAC_SHA_256 && h.prfFunc !== PrfFunc.MIKEY_1) {
    throw annexE('mikey.hdr.prfFunc', 'must be 1 (PRF-HMAC-SHA-256) or 0');
  }
  let format: OpenedIMessage['format'] = 'current';
  if (h.csIdMapType === CsIdMapType.SRTP_ID) format = 'legacy-srtp-id';
  else if (h.csIdMapType === CsIdMapType.GENERIC_ID && h.genericIds.length === 0) {
    throw annexE('mikey.hdr.csIdMapType', 'must be 1 (empty map) when #CS = 0');
  }
  // Payload inventory: each required one exactly once, optional ones at most once.
  let t: bigint | undefined;
  let rand: Uint8Array | undefined;
  const idr = new Map<number, { data: Uint8Array; index: number; hidden: boolean }>();
  let sakke: Uint8Array | undefined;
  let keyParametersRaw: Uint8Array | undefined;
  let keyParametersIndex = 0;
  let sakkeToSelf = false;
  m.payloads.forEach((p, i) => {
    const field = `mikey.payload${i}`;
    const once = (present: unknown, what: string): void => {
      if (present !== undefined) throw annexE(field, `${what} must appear once`);
    };
    switch (p.type) {
      case PayloadType.T:
        once(t, 'T');
        if (p.tsType !== TsType.NTP_UTC) throw annexE(`${field}.tsType`, 'must be 0 (NTP-UTC)');
        t = p.value;
        return;
      case PayloadType.RAND:
        once(rand, 'RAND');
        rand = p.rand;
        return;
      case PayloadType.IDR: {
        const role = p.role === IdRole.HASHED_INITIATOR ? IdRole.INITIATOR : p.role === IdRole.HASHED_RESPONDER ? IdRole.RESPONDER : p.role;
        if (![IdRole.INITIATOR, IdRole.RESPONDER, IdRole.INITIATOR_KMS, IdRole.RESPONDER_KMS].includes(role as 1)) {
          throw annexE(`${field}.role`, `ID role ${p.role} is not used in MIKEY-SAKKE (1, 2, 6, 7, 8, 9)`, 'RFC 6043 §6.6, TS 33.180 §E.7');
        }
        if (idr.has(role)) throw annexE(`${field}.role`, 'each of IDRi, IDRr, IDRkmsi, IDRkmsr must appear once');
        const hidden = p.role === IdRole.HASHED_INITIATOR || p.role === IdRole.HASHED_RESPONDER;
        if (hidden && p.data.length !== 32) {
          throw annexE(`${field}.idData`, 'a hidden identity must be the 32-octet UID', 'TS 33.180 §E.7');
        }
        idr.set(role, { data: p.data, index: i, hidden });
        return;
      }
      case PayloadType.SP:
        return;
      case PayloadType.SAKKE:
        once(sakke, 'SAKKE');
        if (p.sakkeParams !== SakkeParamsId.PARAM_SET_1) throw annexE(`${field}.sakkeParams`, 'must be 1 (RFC 6509 parameter set 1)', 'RFC 6509 §4.2');
        if (p.idScheme !== SakkeIdScheme.MCX_HASHED_UID) throw annexE(`${field}.idScheme`, 'must be 2 (3GPP MCX hashed UID)');
        sakke = p.data;
        return;
      case PayloadType.GENERAL_EXT:
        if (p.extType === GeneralExtType.SAKKE_TO_SELF) {
          if (sakkeToSelf) throw annexE(field, 'SAKKE-to-self must appear at most once', 'TS 33.180 §E.5');
          sakkeToSelf = true;
        } else if (p.extType === GeneralExtType.KEY_PARAMETERS) {
          once(keyParametersRaw, 'the key parameters extension');
          keyParametersRaw = p.data;
          keyParametersIndex = i;
        } else {
          throw new FormatError(ErrorCode.UNSUPPORTED, {
            field: `${field}.extType`,
            rule: `general extension type ${p.extType} is not supported`,
            clause: 'TS 33.180 §E.5, §E.6',
          });
        }
        return;
    }
  });
  const missing = (what: string): FormatError => annexE('mikey', `must contain ${what}`);
  if (t === undefined) throw missing('a T payload');
  if (rand === undefined) throw missing('a RAND payload');
  if (sakke === undefined) throw missing('a SAKKE payload');
  const idrI = idr.get(IdRole.INITIATOR);
  const idrR = idr.get(IdRole.RESPONDER);
  const kmsI = idr.get(IdRole.INITIATOR_KMS);
  const kmsR = idr.get(IdRole.RESPONDER_KMS);
  if (idrI === undefined || idrR === undefined || kmsI === undefined || kmsR === undefined) {
    throw missing('IDRi, IDRr, IDRkmsi and IDRkmsr');
  }
  if (m.sign === undefined || m.signedPart === undefined) throw missing('a SIGN payload');
  if (m.sign.sType !== SignType.ECCSI) throw annexE('mikey.sign.sType', 'must be 2 (ECCSI)');
  if (m.sign.signature.length !== 129) {
    throw annexE('mikey.sign.signatureLength', 'must be 129 (r || s || PVT)', 'TS 33.180 Annex E.1, RFC 6509 §4.3');
  }
  // §E.6: the extension's structure and DPPK-ID are checked now; it is decrypted after the key.
  const keyParametersWhere = `mikey.payload${keyParametersIndex}`;
  const keyParametersExt: KeyParametersExtension | undefined =
    keyParametersRaw === undefined ? undefined : decodeKeyParametersExtension(keyParametersRaw, h.csbId, keyParametersWhere);

  // Time window (RFC 3830 §5.4) and the key period of the message (§F.2.1).
  const now = ctx.now().getTime();
  const window = ctx.windowMs ?? 5 * 60_000;
  const time = ntpToMs(t);
  if (Math.abs(time - now) > window) {
    throw new PolicyError(ErrorCode.EXPIRED, {
      field: 'mikey.payload.T',
      rule: `timestamp must be within ${window} ms of now`,
      clause: 'RFC 3830 §5.4',
    });
  }
  const ntp = ntpSeconds(t);
  const keyPeriodNo = keyPeriodNoAtNtp(ntp, ctx.userKeyPeriod, ctx.userKeyOffset);

  // The responder must be us (IDRr / IDRuidr and IDRkmsr).
  const ownUid = deriveUid({ uri: ctx.uri, kmsUri: ctx.kmsUri, userKeyPeriod: ctx.userKeyPeriod, userKeyOffset: ctx.userKeyOffset, keyPeriodNo });
  const forUs = idrR.hidden ? equalBytes(idrR.data, ownUid) : equalBytes(idrR.data, utf8(ctx.uri));
  if (!forUs || !equalBytes(kmsR.data, utf8(ctx.kmsUri))) {
    throw new PolicyError(ErrorCode.UNKNOWN_KEY, {
      field: `mikey.payload${forUs ? kmsR.index : idrR.index}.idData`,
      rule: 'the responder (IDRr / IDRkmsr) must be this receiver',
      clause: 'TS 33.180 Annex E.1, §E.7',
    });
  }

  // The initiator's KMS must be trusted; its UID comes from IDRi, or is IDRuidi itself (§E.7).
  const initiatorKmsUri = text(kmsI.data, `mikey.payload${kmsI.index}.idData`);
  const trusted = ctx.trustedKms(initiatorKmsUri);
  if (trusted === undefined) {
    throw new PolicyError(ErrorCode.UNKNOWN_KEY, {
      field: `mikey.payload${kmsI.index}.idData`,
      rule: 'the initiator KMS (IDRkmsi) is not one this receiver trusts',
      clause: 'TS 33.180 §5.2.7',
    });
  }
  const initiatorUri = idrI.hidden ? undefined : text(idrI.data, `mikey.payload${idrI.index}.idData`);
  const initiatorUid = initiatorUri === undefined ? idrI.data : uidAt(initiatorUri, initiatorKmsUri, trusted, ntp);

  // Signature over the message up to the SIGN header (RFC 6507 §5.2.2).
  (ctx.verifier ?? new EccsiVerifier(1)).verify(m.signedPart, m.sign.signature, trusted.kpak, initiatorUid);

  const recipient = ctx.recipientFor(keyPeriodNo);
  if (recipient === undefined) {
    throw new PolicyError(ErrorCode.UNKNOWN_KEY, {
      field: 'mikey.payload.SAKKE',
      rule: `no RSK is held for key period ${keyPeriodNo}`,
      clause: 'TS 33.180 §F.2.1',
    });
  }
  const key = recipient.decapsulate(sakke);

  // Key type from the purpose tag of the CSB-ID (Annex G); GMK-ID from the GUK-ID (§F.1.3).
  const tag = decodeKeyId(h.csbId, 'mikey.hdr.csbId');
  const gukId = tag.keyType === 'GMK' ? h.csbId : undefined;
  const keyId = gukId !== undefined ? deriveGukId(gukId, deriveUserSalt(key, ctx.uri)) : h.csbId;

  // §E.6: the Key Parameters under the key carried (DPCK from it and the CSB-ID, §F.1.5).
  const keyParameters: OpenedKeyParameters | undefined =
    keyParametersExt === undefined || keyParametersExt.format === 'legacy'
      ? keyParametersExt
      : openKeyParameters(keyParametersExt.protectedPayload, key, tag.keyType, keyParametersWhere);

  // Last: claim the message in the replay cache (RFC 3830 §5.4), atomically.
  const replayKey = toHex(sha256(m.signedPart));
  if (!(await ctx.replayCache.claim(replayKey, now, now + 2 * window))) {
    throw new PolicyError(ErrorCode.REPLAY, { field: 'mikey', rule: 'this message was received before', clause: 'RFC 3830 §5.4' });
  }
  return Object.freeze({
    keyType: tag.keyType,
    key,
    keyId,
    gukId,
    rand,
    time: new Date(time),
    keyPeriodNo,
    initiatorUri,
    initiatorUid,
    initiatorKmsUri,
    responderUri: ctx.uri,
    identitiesHidden: idrI.hidden || idrR.hidden,
    format,
    keyParameters,
    keyParametersRaw,
    sakkeToSelf,
  });
}
