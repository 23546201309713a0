/**
 * A minimal pcap writer for interop tests: one Ethernet / IPv4 / UDP datagram per record, so a
 * SIP message with an SDP `a=key-mgmt:mikey` line can be handed to Wireshark's dissectors.
 */
import { writeFileSync } from 'node:fs';

function ipChecksum(h: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < h.length; i += 2) sum += ((h[i] as number) << 8) | (h[i + 1] as number);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The frame of one UDP datagram 127.0.0.1:srcPort -> 127.0.0.1:dstPort. */
export function udpFrame(payload: Uint8Array, srcPort: number, dstPort: number): Uint8Array {
  const frame = new Uint8Array(14 + 20 + 8 + payload.length);
  const v = new DataView(frame.buffer);
  v.setUint16(12, 0x0800); // EtherType IPv4 (MACs zero)
  const ip = 14;
  v.setUint8(ip, 0x45);
  v.setUint16(ip + 2, 20 + 8 + payload.length);
  v.setUint8(ip + 8, 64);
  v.setUint8(ip + 9, 17);
  v.setUint32(ip + 12, 0x7f000001);
  v.setUint32(ip + 16, 0x7f000001);
  v.setUint16(ip + 10, ipChecksum(frame.subarray(ip, ip + 20)));
  const udp = ip + 20;
  v.setUint16(udp, srcPort);
  v.setUint16(udp + 2, dstPort);
  v.setUint16(udp + 4, 8 + payload.length);
  frame.set(payload, udp + 8);
  return frame;
}

/** Writes frames as a pcap file (microsecond timestamps, link type Ethernet). */
export function writePcap(path: string, frames: readonly Uint8Array[]): void {
  const header = new Uint8Array(24);
  const h = new DataView(header.buffer);
  h.setUint32(0, 0xa1b2c3d4, true);
  h.setUint16(4, 2, true);
  h.setUint16(6, 4, true);
  h.setUint32(16, 65535, true);
  h.setUint32(20, 1, true);
  const parts: Uint8Array[] = [header];
  frames.forEach((f, i) => {
    const rec = new Uint8Array(16);
    const r = new DataView(rec.buffer);
    r.setUint32(0, 1_700_000_000 + i, true);
    r.setUint32(8, f.length, true);
    r.setUint32(12, f.length, true);
    parts.push(rec, f);
  });
  writeFileSync(path, Buffer.concat(parts));
}

/** A SIP INVITE over UDP whose SDP offer carries `a=key-mgmt:mikey <base64>` (RFC 4567). */
export function sipInviteWithMikey(mikeyBase64: string): Uint8Array {
  const sdp = [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `a=key-mgmt:mikey ${mikeyBase64}`,
    'm=audio 4000 RTP/SAVP 0',
    '',
  ].join('\r\n');
  const sip = [
    'INVITE sip:bob@example.org SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-mcsec',
    'From: <sip:alice@example.org>;tag=1',
    'To: <sip:bob@example.org>',
    'Call-ID: mcsec-1@127.0.0.1',
    'CSeq: 1 INVITE',
    'Max-Forwards: 70',
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(sdp)}`,
    '',
    sdp,
  ].join('\r\n');
  return new Uint8Array(Buffer.from(sip, 'latin1'));
}
