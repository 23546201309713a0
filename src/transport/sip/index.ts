/** SIP transports (RFC 3261 §18): UDP, TCP and TLS endpoints, stream framing, Via routing. */
export {
  resolveOptions,
  type SipEndpointOptions,
  type SipListenAddress,
  type SipListenOptions,
  type SipResolvedOptions,
  type SipTlsListen,
} from './config.js';
export { SipConnection, type SipConnectionHooks, type SipStreamTransport } from './connection.js';
export {
  SipEndpoint,
  listenSip,
  type SipAddresses,
  type SipDestination,
  type SipEndpointEvents,
  type SipInbound,
  type SipPeer,
  type SipTransport,
} from './endpoint.js';
export { SipStreamFramer, type SipFrame } from './stream-framer.js';
export { plainAddress, responseTarget, stampReceived, topVia, type SipHostPort } from './via-routing.js';
