/**
 * SRTP and SRTCP for MC media and floor / transmission / media control (TS 33.180 §7.4, §7.5,
 * §9.4): RTP / RTCP codecs, the MKIs of §7.4, keys by MKI, and the AEAD_AES_128_GCM contexts with
 * RCCm3 and replay protection.
 */
export {
  MAX_RTP_LENGTH,
  decodeRtpHeader,
  decodeRtpPacket,
  encodeRtpHeader,
  encodeRtpPacket,
  rtpPaddingLength,
  splitRtpPadding,
  type RtpHeader,
  type RtpHeaderExtension,
  type RtpPacket,
} from './rtp.js';
export {
  RtcpPacketType,
  decodeRtcpCompound,
  decodeRtcpPrefix,
  encodeRtcpCompound,
  type RtcpPacket,
} from './rtcp.js';
export { decodeMki, encodeMki, groupMki, keyIdMki, type SrtpMki } from './mki.js';
export {
  SrtpKeyRing,
  type ControlKeyInput,
  type GroupKeyInput,
  type PrivateCallKeyInput,
  type SrtpKey,
  type SrtpLookupContext,
} from './key-ring.js';
export { generateSsrc } from './ssrc.js';
export { DEFAULT_REPLAY_WINDOW, ReplayWindow, type ReplayVerdict } from './replay-window.js';
export { DEFAULT_MAX_STREAMS, MAX_KEYS_WITH_STATE } from './stream-contexts.js';
export { MAX_SRTP_INDEX, guessRoc, srtpIndex } from './rollover.js';
export {
  carriesRoc,
  openSrtcp,
  openSrtp,
  parseSrtcp,
  parseSrtp,
  sealSrtcp,
  sealSrtp,
  type SrtcpParts,
  type SrtpLayout,
  type SrtpParts,
} from './srtp-packet.js';
export {
  SrtpReceiver,
  SrtpSender,
  type SrtpReceiverKeys,
  type SrtpSenderKey,
  type SrtpSessionOptions,
  type UnprotectOptions,
} from './srtp-context.js';
