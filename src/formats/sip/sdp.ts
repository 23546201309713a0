/**
 * The little SDP (RFC 4566) a private call's offer and answer need: one media line with its
 * connection address, RTP/SAVP with RTP and RTCP multiplexed (RFC 5761 §5.1.1 `a=rtcp-mux`), and
 * the key management attribute of RFC 4567 §3.1, `a=key-mgmt:mikey <base64 MIKEY message>`: "an
 * SDP offer which contains a MIKEY-SAKKE I_MESSAGE" (TS 33.180 §7.2.2 step 1). `decodeSdpMedia`
 * reads `c=`, the first `m=` line and the first `key-mgmt:mikey` attribute strictly and ignores
 * the other lines (and other key management protocols), as an answerer may.
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import { fromBase64Canonical, fromUtf8, toBase64, utf8 } from '../../util/index.js';

/** Where a party receives its media. */
export interface SdpMedia {
  readonly media: 'audio' | 'video';
  readonly address: string;
  readonly port: number;
  readonly payloadType: number;
  /** The MIKEY message of `a=key-mgmt:mikey` (RFC 4567 §3.1), if any. */
  readonly keyMgmt?: Uint8Array | undefined;
}

const bad = (field: string, rule: string): FormatError => new FormatError(ErrorCode.BAD_VALUE, { field, rule, clause: 'RFC 4566 §5' });

/** An SDP body with one RTP/SAVP media line (session ID from `sessionId`). */
export function encodeSdpMedia(m: SdpMedia, sessionId: number): Uint8Array {
  const ip = m.address.includes(':') ? 'IP6' : 'IP4';
  if (!Number.isInteger(m.port) || m.port < 1 || m.port > 65535) throw bad('sdp.m.port', 'must be 1-65535');
  if (!Number.isInteger(m.payloadType) || m.payloadType < 0 || m.payloadType > 127) throw bad('sdp.m.fmt', 'must be an RTP payload type 0-127');
  if (!/^[0-9A-Za-z.:-]+$/.test(m.address)) throw bad('sdp.c.address', 'must be an IP address or host name');
  const lines = [
    'v=0',
    `o=- ${sessionId >>> 0} 1 IN ${ip} ${m.address}`,
    's=-',
    `c=IN ${ip} ${m.address}`,
    't=0 0',
    ...(m.keyMgmt === undefined ? [] : [`a=key-mgmt:mikey ${toBase64(m.keyMgmt)}`]),
    `m=${m.media} ${m.port} RTP/SAVP ${m.payloadType}`,
    'a=rtcp-mux',
  ];
  return utf8(`${lines.join('\r\n')}\r\n`);
}

/** The connection address and first RTP/SAVP media line of an SDP body. */
export function decodeSdpMedia(body: Uint8Array): SdpMedia {
  if (body.length > 16384) throw new FormatError(ErrorCode.TOO_LARGE, { field: 'sdp', rule: 'must be at most 16384 octets' });
  const lines = fromUtf8(body, 'sdp').split(/\r?\n/);
  let address: string | undefined;
  let media: SdpMedia | undefined;
  let keyMgmt: Uint8Array | undefined;
  for (const line of lines) {
    if (keyMgmt === undefined && line.startsWith('a=key-mgmt:mikey ')) {
      keyMgmt = fromBase64Canonical(line.slice('a=key-mgmt:mikey '.length).trim()) ?? undefined;
      if (keyMgmt === undefined || keyMgmt.length === 0) {
        throw new FormatError(ErrorCode.BAD_VALUE, { field: 'sdp.a.key-mgmt', rule: 'must be "mikey" and a base64 MIKEY message', clause: 'RFC 4567 §3.1' });
      }
    } else if (media === undefined && line.startsWith('c=')) {
      const c = /^c=IN IP[46] ([0-9A-Za-z.:-]+)$/.exec(line);
      if (c?.[1] === undefined) throw bad('sdp.c', 'must be "IN IP4|IP6 <address>"');
      address = c[1];
    } else if (media === undefined && line.startsWith('m=')) {
      const m = /^m=(audio|video) (\d{1,5}) RTP\/SAVP (\d{1,3})(?: \d{1,3})*$/.exec(line);
      if (m?.[1] === undefined || m[2] === undefined || m[3] === undefined) throw bad('sdp.m', 'must be "audio|video <port> RTP/SAVP <fmt>..."');
      const port = Number(m[2]);
      const payloadType = Number(m[3]);
      if (port < 1 || port > 65535 || payloadType > 127) throw bad('sdp.m', 'port 1-65535, payload type 0-127');
      if (address === undefined) throw bad('sdp.c', 'must come before the media line');
      media = Object.freeze({ media: m[1] === 'audio' ? 'audio' : 'video', address, port, payloadType });
    }
  }
  if (media === undefined) throw bad('sdp.m', 'must be present');
  return keyMgmt === undefined ? media : Object.freeze({ ...media, keyMgmt });
}
