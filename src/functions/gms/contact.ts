/**
 * Where a registered Contact URI is reached (RFC 3261 §19.1.1, §19.1.2, §18.1.1; no RFC 3263 DNS
 * procedures): `sip:` or `sips:` URI, host (a name, IPv4 or a bracketed IPv6 address), optional
 * port (default 5060, or 5061 for sips / transport=tls), transport parameter udp, tcp or tls
 * (default udp for sip:, tls for sips:). Other transports are ERR_UNSUPPORTED.
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import type { SipDestination, SipTransport } from '../../transport/sip/index.js';

const CLAUSE = 'RFC 3261 §19.1.1';
const URI = /^(sips?):(?:[^@;?]+@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?((?:;[^?]*)?)(?:\?.*)?$/;

/** The destination of a SIP or SIPS URI. */
export function contactDestination(uri: string, field = 'contact'): SipDestination {
  const m = URI.exec(uri);
  if (m === null) throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'must be a sip: or sips: URI with a host', clause: CLAUSE });
  const [, scheme, rawHost = '', rawPort, params = ''] = m;
  let transport: SipTransport = scheme === 'sips' ? 'tls' : 'udp';
  for (const p of params.split(';').slice(1)) {
    const [name = '', value = ''] = p.split('=');
    if (name.toLowerCase() !== 'transport') continue;
    const t = value.toLowerCase();
    if (t !== 'udp' && t !== 'tcp' && t !== 'tls') {
      throw new FormatError(ErrorCode.UNSUPPORTED, { field: `${field}.transport`, rule: 'must be udp, tcp or tls', clause: '§19.1.1' });
    }
    transport = scheme === 'sips' ? 'tls' : t;
  }
  const port = rawPort === undefined ? (transport === 'tls' ? 5061 : 5060) : Number(rawPort);
  if (port < 1 || port > 65535) throw new FormatError(ErrorCode.BAD_VALUE, { field: `${field}.port`, rule: 'must be 1-65535', clause: CLAUSE });
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  return Object.freeze({ transport, host, port });
}
