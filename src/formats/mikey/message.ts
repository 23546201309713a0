/**
 * A whole MIKEY message (RFC 3830 §6): HDR, then payloads chained by their next-payload octets,
 * ending either with next payload 0 (Last) or with the SIGN payload, which has no next-payload
 * field and must be last. The signature covers the message up to and including the SIGN
 * payload's 2-octet type/length header (RFC 3830 §5.2, TS 33.180 Annex E.1); deployed MIKEY-SAKKE
 * implementations put the real ECCSI signature length, 129, in that header.
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import { Reader, Writer } from '../bytes/index.js';
import { MAX_MIKEY_LENGTH, MAX_MIKEY_PAYLOADS, PayloadType, SakkeIdScheme, SakkeParamsId, GeneralExtType } from './constants.js';
import { decodeHdr, encodeHdr, type MikeyHdr } from './hdr.js';
import { decodePayloadBody, encodePayloadBody, type MikeyPayload, type SakkeBody } from './payloads.js';

/** The SIGN payload. */
export interface MikeySign {
  readonly sType: number;
  readonly signature: Uint8Array;
}

/** A decoded MIKEY message. */
export interface MikeyMessage {
  readonly hdr: MikeyHdr;
  readonly payloads: readonly MikeyPayload[];
  readonly sign: MikeySign | undefined;
  /** Octets covered by the signature (the message up to the end of the SIGN header). */
  readonly signedPart: Uint8Array | undefined;
  /** Where each payload starts: index 0 is the HDR, then one offset per payload, then SIGN. */
  readonly offsets: readonly number[];
}

const CLAUSE = 'RFC 3830 §6';

/** Decodes a MIKEY message strictly: every length checked, no trailing bytes, no unknown payload. */
export function decodeMikey(bytes: Uint8Array): MikeyMessage {
  if (bytes.length > MAX_MIKEY_LENGTH) {
    throw new FormatError(ErrorCode.TOO_LARGE, {
      field: 'mikey',
      rule: `must be at most ${MAX_MIKEY_LENGTH} octets`,
      clause: CLAUSE,
    });
  }
  const r = new Reader(bytes, 'mikey', CLAUSE);
  const offsets = [0];
  const hdr = decodeHdr(r);
  const payloads: MikeyPayload[] = [];
  let next = hdr.nextPayload;
  let sign: MikeySign | undefined;
  let signedPart: Uint8Array | undefined;
  while (next !== PayloadType.LAST) {
    offsets.push(r.offset);
    if (next === PayloadType.SIGN) {
      const head = r.u16('sign.header');
      const sType = head >>> 12;
      const length = head & 0x0fff;
      signedPart = bytes.slice(0, r.offset);
      sign = Object.freeze({ sType, signature: r.bytes(length, 'sign.signature') });
      break;
    }
    if (payloads.length >= MAX_MIKEY_PAYLOADS) {
      throw new FormatError(ErrorCode.TOO_LARGE, {
        field: 'mikey.payloads',
        rule: `must be at most ${MAX_MIKEY_PAYLOADS} payloads`,
        clause: CLAUSE,
      });
    }
    const rel = `payload${payloads.length}`;
    const type = next;
    next = r.u8(`${rel}.nextPayload`);
    payloads.push(decodePayloadBody(type, r, rel));
  }
  r.done();
  return Object.freeze({ hdr, payloads: Object.freeze(payloads), sign, signedPart, offsets: Object.freeze(offsets) });
}

/** What encodeMikey needs: the HDR fields (its next payload is derived) and the payloads. */
export interface MikeyMessageInit {
  readonly hdr: Omit<MikeyHdr, 'nextPayload'>;
  readonly payloads: readonly MikeyPayload[];
}

/**
 * Encodes a message. With `sign`, a SIGN payload of type `sType` is appended: `sign` receives the
 * octets to be signed (up to and including the SIGN header, whose length field is
 * `signatureLength`) and returns the signature, which must have that length.
 */
export function encodeMikey(
  init: MikeyMessageInit,
  sign?: { readonly sType: number; readonly signatureLength: number; readonly sign: (signed: Uint8Array) => Uint8Array },
): Uint8Array {
  const types = init.payloads.map((p) => p.type);
  const after = sign !== undefined ? PayloadType.SIGN : PayloadType.LAST;
  const w = new Writer();
  encodeHdr(w, { ...init.hdr, nextPayload: types[0] ?? after });
  init.payloads.forEach((p, i) => {
    w.u8(types[i + 1] ?? after);
    encodePayloadBody(w, p);
  });
  if (sign === undefined) return w.finish();
  if (sign.signatureLength < 0 || sign.signatureLength > 0x0fff) throw new RangeError('signature length');
  w.u16(((sign.sType & 0x0f) << 12) | sign.signatureLength);
  const signed = w.finish();
  const signature = sign.sign(signed);
  if (signature.length !== sign.signatureLength) throw new RangeError('signature has the wrong length');
  const out = new Uint8Array(signed.length + signature.length);
  out.set(signed, 0);
  out.set(signature, signed.length);
  return out;
}

/** A SAKKE payload (RFC 6509 §4.2) with parameter set 1 and the 3GPP MCX hashed UID scheme. */
export function sakkePayload(data: Uint8Array): MikeyPayload {
  return Object.freeze({
    type: PayloadType.SAKKE,
    sakkeParams: SakkeParamsId.PARAM_SET_1,
    idScheme: SakkeIdScheme.MCX_HASHED_UID,
    data,
  });
}

/** A SAKKE-to-self general extension (TS 33.180 §E.5): a SAKKE payload, inner next payload 0. */
export function sakkeToSelfPayload(data: Uint8Array): MikeyPayload {
  const body: SakkeBody = { sakkeParams: SakkeParamsId.PARAM_SET_1, idScheme: SakkeIdScheme.MCX_HASHED_UID, data };
  const w = new Writer().u8(0).u8(body.sakkeParams).u8(body.idScheme).u16(data.length).bytes(data);
  return Object.freeze({ type: PayloadType.GENERAL_EXT, extType: GeneralExtType.SAKKE_TO_SELF, data: w.finish(), sakke: body });
}
