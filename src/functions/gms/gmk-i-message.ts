/**
 * The GMK I_MESSAGEs of one GMK to many members (TS 33.180 §5.7, §7.3, Annex E.2): for each
 * member the message `createIMessage` (formats/mikey) would make with key type GMK, byte for
 * byte for the same random octets (test/functions/gms-i-message.test.ts holds them equal), but
 * with the SAKKE encapsulations of all members of one KMS done together by
 * `SakkeBatchEncapsulator` (one SSV to many UIDs, shared inversions; crypto/sakke-batch.ts).
 *
 * Per member (Annex E.2): HDR with CSB-ID = the member's GUK-ID (GMK-ID XOR User Salt of the
 * member's URI, §5.2.3 / §F.1.3), T (NTP-UTC), RAND, IDRi = the GMS Server URI, IDRr = the
 * member's URI (or the UIDs, roles 8 / 9, with identities hidden, §E.7), IDRkmsi / IDRkmsr,
 * SAKKE = the GMK encapsulated to the member's UID for the message's key period (§F.2.1), an
 * optional SAKKE-to-self (§E.5, recommended when the GMK leaves the MC system), the §E.6 key
 * parameters under the GMK (DPPK-ID = the CSB-ID), SIGN by the GMS identity (ECCSI).
 *
 * The RAND is the same in every member's message of one GMK, whenever it is sent: §7.4.2 derives
 * each sender's SRTP master key from the GMK, the sender's GUK-ID and "the MIKEY RAND value
 * transmitted in the MIKEY message used to distribute the GMK", so members holding different
 * RANDs could not open each other's media. The GMS draws one random RAND when it makes a GMK and
 * keeps it with the GMK (store 0008_gms_gmk_rand); a partner GMS keeps the primary's. So a
 * rekey, a member added later, a registration after the distribution, another GMS instance and a
 * partner GMS redistributing the GMK all send the same RAND. For a GMK stored before 0008 (no
 * RAND kept) `gmkRand` derives one from the GMK and GMK-ID (HMAC-SHA-256, a PRF of a random
 * secret key: pseudo-random, as RFC 3830 §6.11 asks).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { deriveGukId, deriveUid, deriveUserSalt, encapsulateSsv, keyPeriodNoAtNtp, signEccsi, type SakkePublicKey } from '../../crypto/index.js';
import type { SakkeBatchEncapsulator } from '../../crypto/sakke-batch.js';
import { ErrorCode, FormatError } from '../../errors/index.js';
import {
  CsIdMapType,
  DATA_TYPE_SAKKE,
  IdRole,
  IdType,
  PayloadType,
  PrfFunc,
  SignType,
  TsType,
  encodeMikey,
  keyParametersOf,
  keyParametersPayload,
  ntpTimestamp,
  sakkePayload,
  sakkeToSelfPayload,
  type KeyParametersInput,
  type KeyPeriods,
  type MikeyPayload,
} from '../../formats/mikey/index.js';
import { concatBytes, u32be, utf8 } from '../../util/index.js';

/** The GMS as initiator: its Server URI, KMS and ECCSI keys for the key period of the messages. */
export interface GmkSigner extends KeyPeriods {
  readonly uri: string;
  readonly kmsUri: string;
  readonly kpak: Uint8Array;
  readonly ssk: Uint8Array;
  readonly pvt: Uint8Array;
  /** The GMS's own KMS public key, for a SAKKE-to-self payload (§E.5); omitted: none. */
  readonly sakkeToSelf?: SakkePublicKey | undefined;
}

/** A member as the GMS knows it: URI (MC service ID or partner GMS URI) and KMS settings. */
export interface GmkRecipient extends KeyPeriods {
  readonly uri: string;
  readonly kmsUri: string;
}

/** One GMK to many members. */
export interface GmkMessagesInput {
  readonly gmk: Uint8Array;
  /** GMK-ID, purpose tag 0 (Annex G). */
  readonly gmkId: number;
  readonly signer: GmkSigner;
  readonly recipients: readonly GmkRecipient[];
  /** The batch encapsulator of a member's KMS (by KMS URI). */
  readonly encapsulatorFor: (kmsUri: string) => SakkeBatchEncapsulator;
  readonly time: Date;
  /** §E.6 key parameters (key type GMK; MC group IDs required). */
  readonly keyParameters: KeyParametersInput;
  readonly hideIdentities?: boolean | undefined;
  /** The RAND of every member's message (the GMK's kept one); default `gmkRand(gmk, gmkId)`. */
  readonly rand?: Uint8Array | undefined;
  readonly rng?: ((n: number) => Uint8Array) | undefined;
}

const RAND_LABEL = utf8('mcsec GMK RAND');

/**
 * The RAND sent with a GMK to every member (see the module comment): the first 16 octets of
 * HMAC-SHA-256(GMK, "mcsec GMK RAND" || GMK-ID), TS 33.180 §7.4.2, RFC 3830 §6.11.
 */
export function gmkRand(gmk: Uint8Array, gmkId: number): Uint8Array {
  const mac = createHmac('sha256', gmk).update(concatBytes(RAND_LABEL, u32be(gmkId >>> 0))).digest();
  return new Uint8Array(mac.subarray(0, 16));
}

const rngDefault = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

/** The signed GMK I_MESSAGE of each recipient, in the recipients' order. */
export function createGmkIMessages(input: GmkMessagesInput): Uint8Array[] {
  const { signer: ini, gmk } = input;
  const rng = input.rng ?? rngDefault;
  if (gmk.length !== 16) throw new FormatError(ErrorCode.BAD_LENGTH, { field: 'mikey.key', rule: 'must be 16 octets', clause: 'TS 33.180 Annex E' });
  if (!Number.isInteger(input.gmkId) || input.gmkId < 0 || input.gmkId > 0xffff_ffff || input.gmkId >>> 28 !== 0) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field: 'mikey.keyId.purposeTag', rule: 'must be the purpose tag of a GMK', clause: 'TS 33.180 Annex G' });
  }
  const ts = ntpTimestamp(input.time);
  const ntp = Number(ts >> 32n);
  const uidOf = (uri: string, kmsUri: string, periods: KeyPeriods): Uint8Array =>
    deriveUid({ uri, kmsUri, ...periods, keyPeriodNo: keyPeriodNoAtNtp(ntp, periods.userKeyPeriod, periods.userKeyOffset) });
  const uidI = uidOf(ini.uri, ini.kmsUri, ini);
  const uids = input.recipients.map((r) => uidOf(r.uri, r.kmsUri, r));

  // SAKKE payloads: the members of each KMS in one batch (RFC 6508 §6.2.1, deterministic).
  const encapsulated = new Array<Uint8Array>(uids.length);
  const byKms = new Map<string, number[]>();
  input.recipients.forEach((r, i) => byKms.set(r.kmsUri, [...(byKms.get(r.kmsUri) ?? []), i]));
  for (const [kmsUri, indexes] of byKms) {
    const out = input.encapsulatorFor(kmsUri).encapsulate(indexes.map((i) => uids[i] as Uint8Array), gmk);
    indexes.forEach((i, k) => (encapsulated[i] = out[k] as Uint8Array));
  }
  const toSelf = ini.sakkeToSelf === undefined ? undefined : sakkeToSelfPayload(encapsulateSsv(ini.sakkeToSelf, uidI, gmk));
  const parameters = keyParametersOf(input.keyParameters, 'GMK', 'mikey.keyParameters');
  const hide = input.hideIdentities === true;
  if (input.rand !== undefined && (input.rand.length < 16 || input.rand.length > 255)) {
    throw new FormatError(ErrorCode.BAD_LENGTH, { field: 'mikey.rand', rule: 'must be 16 to 255 octets', clause: 'RFC 3830 §6.11' });
  }
  const rand = input.rand?.slice() ?? gmkRand(gmk, input.gmkId);

  return input.recipients.map((res, i) => {
    // §E.2: the CSB-ID is the member's GUK-ID (§5.2.3, §F.1.3).
    const csbId = deriveGukId(input.gmkId, deriveUserSalt(gmk, res.uri));
    const uidR = uids[i] as Uint8Array;
    const payloads: MikeyPayload[] = [
      { type: PayloadType.T, tsType: TsType.NTP_UTC, value: ts },
      { type: PayloadType.RAND, rand },
      hide
        ? { type: PayloadType.IDR, role: IdRole.HASHED_INITIATOR, idType: IdType.URI, data: uidI }
        : { type: PayloadType.IDR, role: IdRole.INITIATOR, idType: IdType.URI, data: utf8(ini.uri) },
      hide
        ? { type: PayloadType.IDR, role: IdRole.HASHED_RESPONDER, idType: IdType.URI, data: uidR }
        : { type: PayloadType.IDR, role: IdRole.RESPONDER, idType: IdType.URI, data: utf8(res.uri) },
      { type: PayloadType.IDR, role: IdRole.INITIATOR_KMS, idType: IdType.URI, data: utf8(ini.kmsUri) },
      { type: PayloadType.IDR, role: IdRole.RESPONDER_KMS, idType: IdType.URI, data: utf8(res.kmsUri) },
      sakkePayload(encapsulated[i] as Uint8Array),
    ];
    if (toSelf !== undefined) payloads.push(toSelf);
    payloads.push(keyParametersPayload({ parameters, key: gmk, csbId, time: input.time, rng }));
    return encodeMikey(
      {
        hdr: {
          version: 1,
          dataType: DATA_TYPE_SAKKE,
          v: false,
          prfFunc: PrfFunc.HMAC_SHA_256,
          csbId,
          csIdMapType: CsIdMapType.EMPTY,
          srtpIds: [],
          genericIds: [],
        },
        payloads,
      },
      {
        sType: SignType.ECCSI,
        signatureLength: 129,
        sign: (signed) => signEccsi(signed, { kpak: ini.kpak, id: uidI, ssk: ini.ssk, pvt: ini.pvt }, rng),
      },
    );
  });
}
