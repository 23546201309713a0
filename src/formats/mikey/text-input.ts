/**
 * MIKEY messages as people paste them: raw octets, base64, the SDP attribute value
 * `mikey <base64>`, or a whole `a=key-mgmt:mikey <base64>` line (RFC 4567 §3).
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import { fromBase64Canonical, latin1 } from '../../util/index.js';

/** The message octets of a text or binary input. */
export function decodeMikeyInput(input: Uint8Array): Uint8Array {
  const text = latin1(input).trim();
  const sdp = /^(?:a=key-mgmt:\s*)?mikey\s+(\S+)$/.exec(text);
  if (sdp !== null) {
    const bytes = fromBase64Canonical(sdp[1] ?? '');
    if (bytes === null) {
      throw new FormatError(ErrorCode.BAD_VALUE, {
        field: 'mikey',
        rule: 'must be canonical base64 after "mikey "',
        clause: 'RFC 4567 §3',
      });
    }
    return bytes;
  }
  return fromBase64Canonical(text.replace(/\s+/g, '')) ?? input;
}
