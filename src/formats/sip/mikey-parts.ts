/**
 * MIKEY I_MESSAGEs in SIP bodies: the `application/mikey` parts (RFC 3830; TS 33.180 §9.2.1.3 puts
 * the CSK upload in one, in a multipart/mixed REGISTER or PUBLISH body) of a message, and a part
 * holding one.
 *
 * SIP bodies are binary (RFC 3261 §7.4), so an I_MESSAGE is sent as its octets. A part may still
 * say `Content-Transfer-Encoding: base64` (RFC 2045 §6.8; text-only peers such as SIPp, which
 * cannot send NUL octets, need it): its text is decoded, line breaks and spaces ignored, any
 * other character or a non-canonical end refused. `7bit`, `8bit` and `binary` are identity
 * encodings (RFC 2045 §6.2); `quoted-printable` and others are ERR_UNSUPPORTED.
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import { fromBase64Canonical, latin1, toBase64, utf8 } from '../../util/index.js';
import { ContentType, type SipLimits } from './constants.js';
import { headerValue } from './headers.js';
import type { SipMessage } from './message.js';
import { decodeSipBody, partMediaType, type MimePart } from './multipart.js';

/** How a part's octets are sent. */
export type MikeyTransferEncoding = 'binary' | 'base64';

const IDENTITY = new Set(['7bit', '8bit', 'binary']);

/** The octets of one part after its Content-Transfer-Encoding (see the module comment). */
export function partOctets(p: MimePart, where: string): Uint8Array {
  const cte = headerValue(p, 'Content-Transfer-Encoding')?.trim().toLowerCase();
  if (cte === undefined || IDENTITY.has(cte)) return p.body;
  if (cte !== 'base64') {
    throw new FormatError(ErrorCode.UNSUPPORTED, { field: `${where}.headers.Content-Transfer-Encoding`, rule: 'must be binary, 8bit, 7bit or base64', clause: 'RFC 2045 §6' });
  }
  const text = latin1(p.body).replace(/[\r\n\t ]/g, '');
  const bytes = fromBase64Canonical(text);
  if (bytes === null) throw new FormatError(ErrorCode.BAD_VALUE, { field: `${where}.body`, rule: 'must be base64', clause: 'RFC 2045 §6.8' });
  return bytes;
}

/** The I_MESSAGEs of every application/mikey part of `m`, in order (none for an empty body). */
export function mikeyParts(m: SipMessage, opts: { limits?: Partial<SipLimits> } = {}): readonly Uint8Array[] {
  const parts = decodeSipBody(m, opts);
  const out: Uint8Array[] = [];
  parts.forEach((p, i) => {
    const where = parts.length === 1 && headerValue(m, 'Content-Type')?.toLowerCase().startsWith('multipart/') !== true ? 'sip.body' : `sip.body.part${i}`;
    if (partMediaType(p, where).essence === ContentType.MIKEY) out.push(partOctets(p, where));
  });
  return Object.freeze(out);
}

/** A MIME part holding an I_MESSAGE, as octets or as base64 in 76-character lines. */
export function mikeyPart(iMessage: Uint8Array, encoding: MikeyTransferEncoding = 'binary'): MimePart {
  if (encoding === 'binary') return Object.freeze({ headers: Object.freeze([{ name: 'Content-Type', value: ContentType.MIKEY }]), body: iMessage.slice() });
  const b64 = toBase64(iMessage);
  const lines = b64.match(/.{1,76}/g) ?? [];
  return Object.freeze({
    headers: Object.freeze([
      { name: 'Content-Type', value: ContentType.MIKEY },
      { name: 'Content-Transfer-Encoding', value: 'base64' },
    ]),
    body: utf8(lines.join('\r\n')),
  });
}
