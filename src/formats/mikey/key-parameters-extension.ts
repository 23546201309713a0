/**
 * The '3GPP key parameters' general extension of MIKEY-SAKKE I_MESSAGEs (type 7, TS 33.180
 * §E.6.1): its data is an MCData Protected Payload message (§8.5.4) whose Payload is the Key
 * Parameters IE (key-parameters.ts), protected with the key the I_MESSAGE carries as the DPPK;
 * the DPPK-ID is the CSB-ID of the HDR (so for a GMK the receiver's GUK-ID, §E.2), the Payload ID
 * and Payload sequence number are 0 from the sender and ignored by the receiver.
 *
 * The TS 33.179-era extension that preceded it (MCPTT group ID, activation time, text, status,
 * padding, under a protection this specification no longer defines) is not an MCData Protected
 * Payload: its first octet lacks the "protected" bit 7 of a Message Type (§8.5.1). Such data, or
 * an empty extension, is returned raw as `format: 'legacy'`, never decrypted or interpreted.
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import type { KeyType } from '../../crypto/index.js';
import {
  McdataMessageType,
  decodeMcdataProtectedPayload,
  encodeMcdataProtectedPayload,
  protectMcdataPayload,
  unprotectMcdataPayload,
  type McdataProtectedPayload,
} from '../mcdata/index.js';
import { GeneralExtType, PayloadType } from './constants.js';
import { decodeKeyParameters, encodeKeyParameters, type KeyParameters } from './key-parameters.js';
import type { MikeyPayload } from './payloads.js';

/** The extension data, before the key is known. */
export type KeyParametersExtension =
  | { readonly format: 'current'; readonly protectedPayload: McdataProtectedPayload }
  | { readonly format: 'legacy'; readonly raw: Uint8Array };

/** What an opened I_MESSAGE reports about its key parameters. */
export type OpenedKeyParameters =
  | ({ readonly format: 'current'; readonly protectedPayload: McdataProtectedPayload } & KeyParameters)
  | { readonly format: 'legacy'; readonly raw: Uint8Array };

/** The largest general extension data (2-octet length, RFC 3830 §6.15). */
const MAX_EXT_DATA = 0xffff;

/** Whether extension data is an MCData Protected Payload (bit 7 of its Message Type, §8.5.1). */
export const isProtectedPayloadData = (data: Uint8Array): boolean =>
  data.length > 0 && ((data[0] as number) & McdataMessageType.PROTECTED) !== 0;

/**
 * Classifies and decodes extension data (no key needed): a strict MCData Protected Payload whose
 * DPPK-ID must be `csbId` (§E.6.1), or legacy data kept raw. `where` is the payload's field path.
 */
export function decodeKeyParametersExtension(data: Uint8Array, csbId: number, where: string): KeyParametersExtension {
  if (!isProtectedPayloadData(data)) return Object.freeze({ format: 'legacy', raw: data });
  const protectedPayload = decodeMcdataProtectedPayload(data, { where: `${where}.protectedPayload` });
  if (protectedPayload.dppkId !== csbId) {
    throw new FormatError(ErrorCode.BAD_VALUE, {
      field: `${where}.protectedPayload.dppkId`,
      rule: 'must equal the CSB-ID of the HDR',
      clause: 'TS 33.180 §E.6.1',
    });
  }
  return Object.freeze({ format: 'current', protectedPayload });
}

/**
 * Decrypts and decodes the Key Parameters with the key the I_MESSAGE carried, and checks their key
 * type against `keyType` (from the CSB-ID's purpose tag). ERR_DECRYPT when the payload does not
 * open; FormatError naming `${where}.keyParameters.*` when its content is wrong.
 */
export function openKeyParameters(
  protectedPayload: McdataProtectedPayload,
  key: Uint8Array,
  keyType: KeyType,
  where: string,
): OpenedKeyParameters {
  const plain = unprotectMcdataPayload(protectedPayload, key, `${where}.protectedPayload`);
  const kp = decodeKeyParameters(plain, `${where}.keyParameters`);
  if (kp.keyType !== keyType) {
    throw new FormatError(ErrorCode.BAD_VALUE, {
      field: `${where}.keyParameters.keyType`,
      rule: `must be the type of the key carried (${keyType}, from the CSB-ID purpose tag)`,
      clause: 'TS 33.180 §E.6.11, Annex G',
    });
  }
  return Object.freeze({ format: 'current', protectedPayload, ...kp });
}

/** What sealKeyParameters needs. */
export interface SealKeyParametersInput {
  readonly parameters: KeyParameters;
  /** The key the I_MESSAGE carries (the DPPK). */
  readonly key: Uint8Array;
  /** The CSB-ID of the I_MESSAGE (the DPPK-ID). */
  readonly csbId: number;
  /** The Date and Time of the Protected Payload. */
  readonly time: Date;
  readonly rng?: (n: number) => Uint8Array;
}

/** The type-7 general extension payload carrying the protected Key Parameters (§E.6.1). */
export function keyParametersPayload(input: SealKeyParametersInput): MikeyPayload {
  const sealed = protectMcdataPayload({
    dppk: input.key,
    dppkId: input.csbId,
    plaintext: encodeKeyParameters(input.parameters, 'mikey.keyParameters'),
    dateTime: input.time,
    payloadId: 0,
    payloadSequenceNumber: 0,
    ...(input.rng !== undefined ? { rng: input.rng } : {}),
  });
  const data = encodeMcdataProtectedPayload(sealed);
  if (data.length > MAX_EXT_DATA) {
    throw new FormatError(ErrorCode.TOO_LARGE, {
      field: 'mikey.keyParameters',
      rule: `the protected payload must fit a general extension (at most ${MAX_EXT_DATA} octets)`,
      clause: 'RFC 3830 §6.15',
    });
  }
  return Object.freeze({ type: PayloadType.GENERAL_EXT, extType: GeneralExtType.KEY_PARAMETERS, data });
}
