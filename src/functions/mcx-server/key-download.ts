/**
 * The 'key download' message of the MCX server (TS 33.180 §5.8, §9.2.1.4, §9.2.2, §E.4): each key
 * (a new CSK, a MuSiK; an MSCCK, whose procedures are "identical to those for distribution of the
 * MuSiK", §H.3 / §5.9) is a MIKEY-SAKKE I_MESSAGE with IDRi = the server's MDSI, IDRr = the user's
 * MC service ID, the key encapsulated to the user's UID for the current key period and the
 * message signed with the MDSI's UID (§E.4.1, §5.8.1; no end-point diversity, §5.8.1). Key
 * parameters (§E.6) may go with each key.
 *
 * §5.8.2 says the message is a SIP NOTIFY or MESSAGE and that success is a 200; the body type is
 * stage 3 (TS 24.379) and not in the spec set. mcsec sends a SIP MESSAGE whose body is
 * `application/mikey` (one key) or `multipart/mixed` of `application/mikey` parts (several keys,
 * one I_MESSAGE each). The RAND of each I_MESSAGE is `deriveKfcRand(key, key ID)` (crypto), so a
 * MuSiK reaches every client with one KFC-RAND and the server re-derives it from the stored key.
 * §5.8.2 asks no XML protection for it: the I_MESSAGE is encrypted to the user
 * and signed by the server, which is the protection §5.8.1 describes.
 */
import { randomBytes } from 'node:crypto';
import { deriveKfcRand, keyPeriodNoAt, type KeyType } from '../../crypto/index.js';
import { ErrorCode, FormatError, PolicyError } from '../../errors/index.js';
import { createIMessage, type KeyParametersInput } from '../../formats/mikey/index.js';
import { ContentType, createBoundary, createSipRequest, multipartBody, type Rng, type SipBodyInit, type SipRequest } from '../../formats/sip/index.js';
import { mikeyPart, type MikeyTransferEncoding } from '../../formats/sip/mikey-parts.js';
import type { McxServerKeys } from './server-keys.js';

/** Key types a key download carries (§5.8.1; MSCCK by §H.3). */
export const DOWNLOAD_KEY_TYPES: readonly KeyType[] = Object.freeze(['CSK', 'MuSiK', 'MSCCK']);

/** One key to send. */
export interface DownloadItem {
  readonly keyType: 'CSK' | 'MuSiK' | 'MSCCK';
  readonly key: Uint8Array;
  /** Its ID with the purpose tag of its type (Annex G). */
  readonly keyId: number;
  readonly keyParameters?: KeyParametersInput;
  /** The I_MESSAGE's RAND; default `deriveKfcRand(key, keyId)`, the KFC-RAND of SRTCP (§9.4.2, §9.4.3). */
  readonly rand?: Uint8Array;
}

/** What a key download needs. */
export interface KeyDownloadInput {
  readonly keys: McxServerKeys;
  /** The receiving user's MC service ID (IDRr, §E.4.1). */
  readonly userUri: string;
  /** The KMS of the user's keys (default: the server's own). */
  readonly userKmsUri?: string;
  readonly items: readonly DownloadItem[];
  readonly time: Date;
  /** How multipart parts carry the I_MESSAGEs (default binary). */
  readonly encoding?: MikeyTransferEncoding;
  readonly rng?: Rng;
}

/** The I_MESSAGEs and the SIP body carrying them. */
export interface KeyDownload {
  readonly iMessages: readonly Uint8Array[];
  readonly body: SipBodyInit;
}

const rngDefault: Rng = (n) => new Uint8Array(randomBytes(n));

/** Builds the key download I_MESSAGEs and body (see the module comment). */
export async function createKeyDownload(input: KeyDownloadInput): Promise<KeyDownload> {
  const { keys } = input;
  const rng = input.rng ?? rngDefault;
  if (input.items.length === 0) throw new FormatError(ErrorCode.BAD_VALUE, { field: 'keyDownload.items', rule: 'must name at least one key', clause: 'TS 33.180 §5.8' });
  const userKmsUri = input.userKmsUri ?? keys.kmsUri;
  const userKms = keys.trustedKms(userKmsUri);
  if (userKms === undefined) {
    throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'keyDownload.userKmsUri', rule: 'must be a KMS this server trusts', clause: 'TS 33.180 §5.2.7' });
  }
  await keys.prepare(input.time);
  const period = keyPeriodNoAt(input.time, keys.userKeyPeriod, keys.userKeyOffset);
  const signer = keys.signerFor(period);
  if (signer === undefined) {
    throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'keyDownload.signer', rule: `no SSK/PVT is held for the MDSI in key period ${period}`, clause: 'TS 33.180 §5.8.1' });
  }
  const iMessages = input.items.map((item, i) => {
    if (!DOWNLOAD_KEY_TYPES.includes(item.keyType)) {
      throw new FormatError(ErrorCode.BAD_VALUE, { field: `keyDownload.items[${i}].keyType`, rule: 'must be CSK, MuSiK or MSCCK', clause: 'TS 33.180 §5.8.1' });
    }
    return createIMessage({
      keyType: item.keyType,
      key: item.key,
      keyId: item.keyId,
      initiator: { uri: keys.mdsi, kmsUri: keys.kmsUri, userKeyPeriod: keys.userKeyPeriod, userKeyOffset: keys.userKeyOffset, kpak: keys.kpak, ssk: signer.ssk, pvt: signer.pvt },
      responder: { uri: input.userUri, kmsUri: userKmsUri, userKeyPeriod: userKms.userKeyPeriod, userKeyOffset: userKms.userKeyOffset, kms: userKms.kms },
      time: input.time,
      // §9.4.2 / §9.4.3: the RAND sent is the KFC-RAND; the same for every client of one MuSiK.
      rand: item.rand ?? deriveKfcRand(item.key, item.keyId),
      ...(item.keyParameters === undefined ? {} : { keyParameters: item.keyParameters }),
      rng,
    });
  });
  const [only] = iMessages;
  const body: SipBodyInit =
    iMessages.length === 1 && only !== undefined
      ? { contentType: ContentType.MIKEY, body: only }
      : multipartBody(iMessages.map((m) => mikeyPart(m, input.encoding ?? 'binary')), createBoundary(rng));
  return Object.freeze({ iMessages: Object.freeze(iMessages), body });
}

/** Where and how a key download goes. */
export interface KeyDownloadRequestInput {
  /** The server's MDSI (From). */
  readonly mdsi: string;
  /** The user's public identity (To). */
  readonly impu: string;
  /** The client's registered Contact (Request-URI). */
  readonly contact: string;
  /** This hop's Via sent-by and transport. */
  readonly via: { readonly transport: string; readonly host: string; readonly port?: number };
  readonly body: SipBodyInit;
  readonly rng?: Rng;
}

/** The SIP MESSAGE carrying a key download (§5.8.2 step 1). */
export function keyDownloadRequest(r: KeyDownloadRequestInput): SipRequest {
  return createSipRequest(
    { method: 'MESSAGE', uri: r.contact, from: { uri: r.mdsi }, to: { uri: r.impu }, via: r.via, body: r.body },
    r.rng ?? rngDefault,
  );
}
