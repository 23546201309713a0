/**
 * Private call set-up over SIP (TS 33.180 §7.2; the signalling of TS 24.379 reduced to what the
 * keys need): the caller sends an INVITE with "an SDP offer which contains a MIKEY-SAKKE
 * I_MESSAGE" (§7.2.2 step 1): the `application/sdp` body says where the caller takes media and
 * carries the PCK's I_MESSAGE as `a=key-mgmt:mikey <base64>` (RFC 4567 §3.1). With
 * `keyTransport: 'mikey-part'` the I_MESSAGE goes instead in its own `application/mikey` part of a
 * `multipart/mixed` body, as mcsec's other SIP bodies carry MIKEY; a callee accepts either (binary
 * or base64 with its Content-Transfer-Encoding, the SDP attribute first). The callee opens
 * the I_MESSAGE (private-call.ts: signature, RSK, PCK purpose tag, initiator = the From URI,
 * replay), asks the application where to take the media and answers 200 with its SDP; the caller
 * acknowledges (ACK, RFC 3261 §13.2.2.4). Both sides then hold a `PrivateCallSession`.
 *
 * A refused INVITE is answered 400 (undecodable), 403 (authentication, decryption or policy),
 * 603 (the application declined) or 500, with a Warning naming the error code and field, as the
 * group management client answers GMK messages. Retransmitted INVITEs (UDP, RFC 3261 §17.2.1)
 * get the same answer. Not done: re-INVITE, BYE (a call ends with `session.close()` locally),
 * retransmission of the 2xx until the ACK (RFC 3261 §13.3.1.4).
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { McMediaService } from '../crypto/index.js';
import { CryptoError, ErrorCode, FormatError, McsecError, PolicyError } from '../errors/index.js';
import { MemoryReplayCache, type ReplayCache } from '../formats/mikey/index.js';
import {
  ContentType,
  createBoundary,
  createSipRequest,
  createSipResponse,
  decodeNameAddr,
  decodeSdpMedia,
  decodeSipBody,
  decodeVia,
  encodeSdpMedia,
  findPart,
  headerValue,
  mikeyPart,
  multipartBody,
  paramValue,
  partOctets,
  tagOf,
  type SdpMedia,
  type SipRequest,
  type SipResponse,
} from '../formats/sip/index.js';
import type { SipDestination, SipEndpoint, SipInbound, SipTransport } from '../transport/sip/index.js';
import { toHex } from '../util/index.js';
import type { McxUserKeys } from './mcx-user-keys.js';
import { PrivateCallSession, createPrivateCallOffer, openPrivateCallOffer } from './private-call.js';

/** A private call both ends agreed on. */
export interface EstablishedPrivateCall {
  readonly callId: string;
  /** The other party's MC service ID. */
  readonly peerUri: string;
  /** Where the other party takes media (its SDP). */
  readonly remote: SdpMedia;
  readonly session: PrivateCallSession;
}

export interface PrivateCallAgentOptions {
  readonly user: McxUserKeys;
  /** The client's SIP endpoint (listening); INVITEs are answered on it. */
  readonly endpoint: SipEndpoint;
  /** The transport the agent's own requests use for Via / Contact (default udp). */
  readonly transport?: SipTransport;
  readonly replayCache?: ReplayCache;
  readonly service?: McMediaService;
  /** Where the caller puts the I_MESSAGE: in the SDP offer (default, §7.2.2) or a MIME part. */
  readonly keyTransport?: 'sdp' | 'mikey-part';
  /** RCCm3 rate for the call's media (default 0: off). */
  readonly rocRate?: number;
  /** Where to take an incoming call's media, or undefined to decline it (603). */
  readonly answer?: (call: { readonly callerUri: string; readonly offer: SdpMedia }) => SdpMedia | undefined | Promise<SdpMedia | undefined>;
  readonly now?: () => Date;
  readonly rng?: (n: number) => Uint8Array;
}

export interface PrivateCallAgentEvents {
  /** An incoming call was accepted (200 sent). */
  call: [call: EstablishedPrivateCall];
  /** An INVITE was refused. */
  refused: [err: McsecError];
}

const TRANSACTION_MS = 32_000; // RFC 3261 §17.2.1, Timer H

/** Makes and answers private calls on one SIP endpoint (see the module comment). */
export class PrivateCallAgent extends EventEmitter<PrivateCallAgentEvents> {
  readonly #o: PrivateCallAgentOptions;
  readonly #replay: ReplayCache;
  readonly #rng: (n: number) => Uint8Array;
  readonly #now: () => Date;
  readonly #transactions = new Map<string, { at: number; response: SipResponse | undefined }>();
  readonly #listener: (req: SipRequest, from: SipInbound) => void;

  constructor(o: PrivateCallAgentOptions) {
    super();
    this.#o = o;
    this.#replay = o.replayCache ?? new MemoryReplayCache();
    this.#rng = o.rng ?? ((n) => new Uint8Array(randomBytes(n)));
    this.#now = o.now ?? (() => new Date());
    this.#listener = (req, from) => void this.#handle(req, from);
    o.endpoint.on('request', this.#listener);
  }

  /** Stops answering INVITEs (the endpoint stays open). */
  close(): void {
    this.#o.endpoint.off('request', this.#listener);
  }

  /**
   * Calls `calleeUri` at `to`: a new PCK in the INVITE with the SDP offer `local`; resolves once
   * the callee answered 200 (and the ACK is sent), rejects with a PolicyError on any other final
   * answer.
   */
  async call(calleeUri: string, to: SipDestination, local: SdpMedia, o: { readonly calleeKmsUri?: string } = {}): Promise<EstablishedPrivateCall> {
    const user = this.#o.user;
    const offer = createPrivateCallOffer({ user, calleeUri, now: this.#now(), rng: this.#rng, ...(o.calleeKmsUri === undefined ? {} : { calleeKmsUri: o.calleeKmsUri }) });
    const inSdp = (this.#o.keyTransport ?? 'sdp') === 'sdp';
    const sdp = encodeSdpMedia({ ...local, keyMgmt: inSdp ? offer.imessage : undefined }, offer.pckId);
    const body = inSdp
      ? { contentType: ContentType.SDP, body: sdp }
      : multipartBody([{ headers: [{ name: 'Content-Type', value: ContentType.SDP }], body: sdp }, mikeyPart(offer.imessage)], createBoundary(this.#rng));
    const via = this.#via();
    const callId = toHex(this.#rng(16));
    const fromTag = toHex(this.#rng(8));
    const invite = createSipRequest(
      {
        method: 'INVITE',
        uri: calleeUri,
        from: { uri: user.uri, tag: fromTag },
        to: { uri: calleeUri },
        via,
        callId,
        cseq: 1,
        contact: this.#contact(),
        body,
      },
      this.#rng,
    );
    const res = await this.#o.endpoint.request(invite, to);
    if (res.status < 200 || res.status >= 300) {
      offer.pck.fill(0);
      const code = /"(ERR_[A-Z_]+)/.exec(headerValue(res, 'Warning') ?? '')?.[1];
      throw new PolicyError(ErrorCode.FORBIDDEN, { field: 'privateCall.invite', rule: `the callee answered ${res.status}${code === undefined ? '' : ` (${code})`}`, clause: 'TS 33.180 §7.2' });
    }
    const remote = decodeSdpMedia(findPart(decodeSipBody(res), ContentType.SDP)?.body ?? new Uint8Array(0));
    const toTag = tagOf(decodeNameAddr(headerValue(res, 'To') ?? '', 'sip.headers.To'));
    const ack = createSipRequest({ method: 'ACK', uri: calleeUri, from: { uri: user.uri, tag: fromTag }, to: { uri: calleeUri, ...(toTag === undefined ? {} : { tag: toTag }) }, via: this.#via(), callId, cseq: 1 }, this.#rng);
    await this.#o.endpoint.send(ack, to).catch(() => undefined);
    const session = new PrivateCallSession({ key: offer, role: 'initiator', ...this.#media() });
    offer.pck.fill(0);
    return Object.freeze({ callId, peerUri: calleeUri, remote, session });
  }

  #media(): { service?: McMediaService; rocRate?: number } {
    return { ...(this.#o.service === undefined ? {} : { service: this.#o.service }), ...(this.#o.rocRate === undefined ? {} : { rocRate: this.#o.rocRate }) };
  }

  #via(): { transport: string; host: string; port: number; rport: boolean } {
    const t = this.#o.transport ?? 'udp';
    const a = this.#o.endpoint.address(t);
    if (a === undefined) throw new McsecError(ErrorCode.CONFIG, { field: 'privateCall.endpoint', rule: `must listen on ${t}` });
    const host = a.address === '0.0.0.0' || a.address === '::' ? '127.0.0.1' : a.address;
    return { transport: t, host: host.includes(':') ? `[${host}]` : host, port: a.port, rport: true };
  }

  #contact(): string {
    const v = this.#via();
    const user = /^sips?:([^@;]+)@/.exec(this.#o.user.uri)?.[1] ?? 'mc-client';
    return `sip:${user}@${v.host}:${v.port}${v.transport === 'udp' ? '' : `;transport=${v.transport}`}`;
  }

  async #handle(req: SipRequest, from: SipInbound): Promise<void> {
    if (req.method !== 'INVITE') return;
    let key: string;
    try {
      const via = decodeVia(headerValue(req, 'Via') ?? '', 'sip.headers.Via');
      key = `${paramValue(via.params, 'branch') ?? ''}|${headerValue(req, 'Call-ID') ?? ''}`;
    } catch {
      return;
    }
    const nowMs = Date.now();
    for (const [k, v] of this.#transactions) if (nowMs - v.at > TRANSACTION_MS) this.#transactions.delete(k);
    const seen = this.#transactions.get(key);
    if (seen !== undefined) {
      if (seen.response !== undefined) await from.respond(seen.response).catch(() => undefined);
      return;
    }
    const t: { at: number; response: SipResponse | undefined } = { at: nowMs, response: undefined };
    this.#transactions.set(key, t);
    let res: SipResponse;
    let established: EstablishedPrivateCall | undefined;
    try {
      const parts = decodeSipBody(req);
      const sdp = findPart(parts, ContentType.SDP);
      const offer = sdp === undefined ? undefined : decodeSdpMedia(sdp.body);
      const mikey = findPart(parts, ContentType.MIKEY);
      const imessage = offer?.keyMgmt ?? (mikey === undefined ? undefined : partOctets(mikey, 'sip.body.mikey'));
      if (offer === undefined || imessage === undefined) {
        throw new FormatError(ErrorCode.BAD_VALUE, { field: 'sip.body', rule: 'a private call INVITE carries an SDP offer and the PCK I_MESSAGE', clause: 'TS 33.180 §7.2.2' });
      }
      const callerUri = decodeNameAddr(headerValue(req, 'From') ?? '', 'sip.headers.From').uri;
      const opened = await openPrivateCallOffer(imessage, { user: this.#o.user, replayCache: this.#replay, initiatorUri: callerUri, now: this.#now() });
      const remote: SdpMedia = Object.freeze({ media: offer.media, address: offer.address, port: offer.port, payloadType: offer.payloadType });
      const local = this.#o.answer === undefined ? undefined : await this.#o.answer({ callerUri, offer: remote });
      if (local === undefined) {
        opened.pck.fill(0);
        throw new PolicyError(ErrorCode.FORBIDDEN, { field: 'privateCall.answer', rule: 'the user declined the call', clause: 'TS 33.180 §7.2' });
      }
      const session = new PrivateCallSession({ key: opened, role: 'receiver', ...this.#media() });
      opened.pck.fill(0);
      const body = { contentType: ContentType.SDP, body: encodeSdpMedia(local, opened.pckId) };
      res = createSipResponse(req, 200, { headers: [{ name: 'Contact', value: `<${this.#contact()}>` }], body }, this.#rng);
      established = Object.freeze({ callId: headerValue(req, 'Call-ID') ?? '', peerUri: callerUri, remote, session });
    } catch (err) {
      const e = err instanceof McsecError ? err : new McsecError(ErrorCode.INTERNAL, { field: 'privateCall', rule: 'failed unexpectedly' });
      this.emit('refused', e);
      const status = e instanceof FormatError ? 400 : e.field === 'privateCall.answer' ? 603 : e instanceof CryptoError || e instanceof PolicyError ? 403 : 500;
      res = createSipResponse(req, status, { headers: [{ name: 'Warning', value: `399 mcsec "${`${e.code} ${e.field}`.replace(/["\\]/g, '')}"` }] }, this.#rng);
    }
    t.response = res;
    await from.respond(res).catch(() => undefined);
    if (established !== undefined) this.emit('call', established);
  }
}
