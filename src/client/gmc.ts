/**
 * The group management client's key handling (TS 33.180 §5.7, §7.3): it registers the user's
 * contact with the GMS over SIP (REGISTER; with an access token as RFC 8898 Bearer credentials
 * when given, §5.1.3), receives GMK I_MESSAGEs (a SIP MESSAGE with an `application/mikey` body,
 * or a multipart body holding one; docs/gms.md) and, for each (§5.7.2 step 2):
 *
 * 1. opens it with `openIMessage` and the user's RSK of the message's key period (client key
 *    store): signature of the initiator, decapsulation, GMK-ID from the GUK-ID (§5.2.3),
 *    §E.6 key parameters decrypted under the GMK;
 * 2. requires a GMK (purpose tag 0) whose key parameters name MC group IDs (§E.6.3);
 * 3. requires the initiator to be the GMS the user profile names for each of those groups, from
 *    the KMS configured for it (§5.7.2 step 2, §5.2.7.3);
 * 4. refuses a GMK-ID already held for a different GMK (§5.7.2 step 2: "not a duplicate"); the same
 *    GMK again updates its parameters (a revocation, §5.7.2, is kept once received);
 * 5. claims the message in the replay cache (RFC 3830 §5.4), only now that all else passed;
 * 6. stores GMK, GMK-ID, GUK-ID and parameters, answers 200 (the Notify Group Configuration
 *    Response) and, for a GMK shared with an MC Security Gateway, emits `securityGateway` so the
 *    application warns the user (§5.7).
 *
 * A refused message stores nothing and is answered 400 (undecodable), 403 (authentication,
 * decryption or policy) or 500, with a Warning naming the error code and field (§5.7.2: "an
 * error shall be returned to the GMS"). `activeGmk` picks, among a group's active GMKs, the one
 * with the most recent activation time (§5.7).
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { SakkePublicKey, deriveUid, keyPeriodNoAt, prepareRsk, type SakkeRecipient } from '../crypto/index.js';
import { CryptoError, ErrorCode, FormatError, McsecError, PolicyError } from '../errors/index.js';
import { MemoryReplayCache, openIMessage, type KeyPeriods, type ReplayCache } from '../formats/mikey/index.js';
import {
  ContentType,
  createSipRequest,
  createSipResponse,
  decodeSipBody,
  decodeVia,
  findPart,
  headerValue,
  multipartBody,
  createBoundary,
  paramValue,
  type MimePart,
  type SipRequest,
  type SipResponse,
} from '../formats/sip/index.js';
import type { SipDestination, SipEndpoint, SipInbound } from '../transport/sip/index.js';
import { equalBytes, fromBase64Canonical, fromUtf8 } from '../util/index.js';
import type { ClientKeyStore } from './key-store.js';
import { MemoryGmkStore, type GmkStore, type StoredGmk } from './gmk-store.js';

/** The EAR hook of the client (§9.6.2.4); gmc-ear.ts implements it on src/formats/ear. */
export interface GmcEarHook {
  /** An EAR part for the REGISTER (standing for the Subscribe Group Configuration Request). */
  createEar(r: { readonly origin: string; readonly target: string; readonly time: Date }): MimePart | Promise<MimePart>;
  /** Checks the EAR(s) of a GMK message from the GMS; throws a CryptoError or PolicyError to refuse. */
  verifyEar(r: { readonly request: SipRequest; readonly parts: readonly MimePart[]; readonly origin: string; readonly target: string }): void | Promise<void>;
}

export interface GmcOptions {
  /** The user's MC service ID (the responder of the I_MESSAGEs). */
  readonly userUri: string;
  /** The user's KMS. */
  readonly kmsUri: string;
  /** RSKs per key period and the KMS certificate (filled by KmsClient.fetchAll). */
  readonly keys: ClientKeyStore;
  /** The GMS Server URI of the user profile (the initiator GMK messages must come from). */
  readonly gmsUri: string;
  /** The GMS's KMS (§5.2.7.2 item 6); default the user's. */
  readonly gmsKmsUri?: string | undefined;
  /** The GMS the user profile names for a group ID (§5.7.2 step 2); default: `gmsUri` for every group. */
  readonly groupServer?: ((groupId: string) => string | undefined) | undefined;
  /** KPAK and key periods of a KMS by URI; default the certificates in `keys`. */
  readonly trustedKms?: ((kmsUri: string) => (KeyPeriods & { readonly kpak: Uint8Array }) | undefined) | undefined;
  readonly gmks?: GmkStore | undefined;
  /** The client's SIP endpoint (listening); GMK messages are answered on it. */
  readonly endpoint: SipEndpoint;
  /** Where the GMS registrar listens. */
  readonly registrar: SipDestination;
  /** Contact URI to register (default sip:<user>@<endpoint address>;transport=<registrar's>). */
  readonly contact?: string | undefined;
  /** Access token sent as `Authorization: Bearer` (RFC 8898) on REGISTER. */
  readonly accessToken?: string | undefined;
  readonly ear?: GmcEarHook | undefined;
  readonly replayCache?: ReplayCache | undefined;
  readonly now?: (() => Date) | undefined;
  readonly rng?: ((n: number) => Uint8Array) | undefined;
}

/** Events of the client. */
export interface GmcEvents {
  /** A GMK was stored. */
  gmk: [gmk: StoredGmk];
  /** A GMK shared with an MC Security Gateway was stored: warn the user (§5.7). */
  securityGateway: [gmk: StoredGmk];
  /** A GMK message was refused (answered with an error). */
  refused: [err: McsecError];
}

const TRANSACTION_MS = 32_000; // RFC 3261 §17.2.2, Timer J

/** A group management client (see the module comment). */
export class GroupManagementClient extends EventEmitter<GmcEvents> {
  readonly #o: GmcOptions;
  readonly #gmks: GmkStore;
  readonly #now: () => Date;
  readonly #rng: (n: number) => Uint8Array;
  readonly #replay: ReplayCache;
  readonly #prepared = new Map<number, SakkeRecipient>();
  readonly #transactions = new Map<string, { at: number; response: SipResponse | undefined }>();
  readonly #callId: string;
  #cseq = 0;
  readonly #listener: (req: SipRequest, from: SipInbound) => void;

  constructor(o: GmcOptions) {
    super();
    this.#o = o;
    this.#gmks = o.gmks ?? new MemoryGmkStore();
    this.#now = o.now ?? (() => new Date());
    this.#rng = o.rng ?? ((n) => new Uint8Array(randomBytes(n)));
    this.#replay = o.replayCache ?? new MemoryReplayCache();
    this.#callId = Array.from(this.#rng(16), (b) => b.toString(16).padStart(2, '0')).join('');
    this.#listener = (req, from) => void this.#handle(req, from);
    o.endpoint.on('request', this.#listener);
  }

  /** Stops answering GMK messages on the endpoint (the endpoint stays open). */
  close(): void {
    this.#o.endpoint.off('request', this.#listener);
  }

  /** The contact this client registers. */
  get contact(): string {
    if (this.#o.contact !== undefined) return this.#o.contact;
    const t = this.#o.registrar.transport;
    const a = this.#o.endpoint.address(t);
    if (a === undefined) throw new McsecError(ErrorCode.CONFIG, { field: 'gmc.endpoint', rule: `must listen on ${t} to be reached there` });
    const user = /^sips?:([^@;]+)@/.exec(this.#o.userUri)?.[1] ?? 'mc-client';
    const host = a.address.includes(':') ? `[${a.address}]` : a.address;
    return `${t === 'tls' ? 'sips' : 'sip'}:${user}@${host}:${a.port}${t === 'udp' || t === 'tls' ? '' : `;transport=${t}`}`;
  }

  /**
   * Registers the contact with the GMS for `expires` seconds; resolves with the granted expiry.
   * The RSK of the current key period is prepared first (about a second of work), so that the
   * GMK messages the registration brings are answered at once.
   */
  async register(expires = 3600): Promise<{ readonly expires: number }> {
    const cert = this.#o.keys.getCertificate(this.#o.kmsUri);
    if (cert !== undefined) this.#recipient(keyPeriodNoAt(this.#now(), cert.userKeyPeriod, cert.userKeyOffset), cert.pubEncKey);
    const res = await this.#registerRequest(this.contact, expires);
    const granted = /;\s*expires=(\d+)/i.exec(headerValue(res, 'Contact') ?? '')?.[1];
    return Object.freeze({ expires: granted === undefined ? expires : Number(granted) });
  }

  /** Removes the registration. */
  async unregister(): Promise<void> {
    await this.#registerRequest(this.contact, 0);
  }

  /** Every GMK held. */
  gmks(): readonly StoredGmk[] {
    return this.#gmks.list();
  }

  /**
   * The GMK to encrypt the group's media with at `at`: among the group's active GMKs (not
   * revoked, activated, not expired), the one with the most recent activation time (§5.7); a tie
   * goes to the one received last.
   */
  activeGmk(groupId: string, at: Date = this.#now()): StoredGmk | undefined {
    const t = at.getTime();
    let best: StoredGmk | undefined;
    for (const g of this.#gmks.list()) {
      if (!g.groupIds.includes(groupId) || g.revoked || g.activationTime.getTime() > t) continue;
      if (g.expiryTime !== undefined && g.expiryTime.getTime() <= t) continue;
      const newer = best === undefined || g.activationTime.getTime() > best.activationTime.getTime() || (g.activationTime.getTime() === best.activationTime.getTime() && g.receivedAt.getTime() > best.receivedAt.getTime());
      if (newer) best = g;
    }
    return best;
  }

  /**
   * Deletes the GMKs of a group the user left, except those also serving a group in `remaining`
   * (§5.7.3: "if the GMK … is not associated with another group that the user remains a member").
   */
  forgetGroup(groupId: string, remaining: readonly string[] = []): number {
    let n = 0;
    for (const g of this.#gmks.list()) {
      if (g.groupIds.includes(groupId) && !g.groupIds.some((id) => remaining.includes(id)) && this.#gmks.delete(g.gmkId)) n++;
    }
    return n;
  }

  /** Opens, checks and stores a GMK I_MESSAGE (steps 1-6 of the module comment). */
  async receive(imessage: Uint8Array): Promise<StoredGmk> {
    const o = this.#o;
    const now = this.#now();
    const cert = o.keys.getCertificate(o.kmsUri);
    if (cert === undefined) throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'gmc.kmsUri', rule: 'no certificate of the user\'s KMS is held: fetch the keys first', clause: 'TS 33.180 §5.3' });
    let claim: [string, number, number] | undefined;
    const opened = await openIMessage(imessage, {
      uri: o.userUri,
      kmsUri: o.kmsUri,
      userKeyPeriod: cert.userKeyPeriod,
      userKeyOffset: cert.userKeyOffset,
      recipientFor: (p) => this.#recipient(p, cert.pubEncKey),
      trustedKms: o.trustedKms ?? ((uri) => {
        const c = o.keys.getCertificate(uri);
        return c === undefined ? undefined : { kpak: c.pubAuthKey, userKeyPeriod: c.userKeyPeriod, userKeyOffset: c.userKeyOffset };
      }),
      // Claimed below, after the §5.7.2 checks (STYLE.md §6: change state last).
      replayCache: { claim: (k, n, e) => ((claim = [k, n, e]), true) },
      now: () => now,
    });
    try {
      if (opened.keyType !== 'GMK') throw new PolicyError(ErrorCode.BAD_VALUE, { field: 'mikey.hdr.csbId', rule: 'must carry a GMK (purpose tag 0)', clause: 'TS 33.180 Annex G, §5.7.2' });
      const kp = opened.keyParameters;
      if (kp === undefined || kp.format !== 'current' || kp.mcGroupIds === undefined || kp.mcGroupIds.length === 0) {
        throw new PolicyError(ErrorCode.BAD_VALUE, { field: 'mikey.keyParameters.mcGroupIds', rule: 'must name the group the GMK is for', clause: 'TS 33.180 §5.7.2, §E.6.3' });
      }
      const gmsUri = this.#initiator(opened.initiatorUri, opened.initiatorUid, opened.initiatorKmsUri, opened.keyPeriodNo);
      const groupIds = kp.mcGroupIds.map((g) => g.id);
      for (const [i, id] of groupIds.entries()) {
        if ((o.groupServer ?? (() => o.gmsUri))(id) !== gmsUri) {
          throw new PolicyError(ErrorCode.FORBIDDEN, {
            field: `mikey.keyParameters.mcGroupIds.groupId${i}`,
            rule: 'the GMS must be the Server URI the user profile names for the group',
            clause: 'TS 33.180 §5.7.2',
          });
        }
      }
      const held = this.#gmks.get(opened.keyId);
      if (held !== undefined && !equalBytes(held.gmk, opened.key)) {
        throw new PolicyError(ErrorCode.BAD_VALUE, { field: 'mikey.hdr.csbId', rule: 'the GMK-ID is already held for another GMK', clause: 'TS 33.180 §5.7.2' });
      }
      if (claim === undefined || !(await this.#replay.claim(...claim))) {
        throw new PolicyError(ErrorCode.REPLAY, { field: 'mikey', rule: 'this message was received before', clause: 'RFC 3830 §5.4' });
      }
      const stored: StoredGmk = Object.freeze({
        gmkId: opened.keyId,
        gukId: opened.gukId ?? opened.keyId,
        gmk: opened.key.slice(),
        rand: opened.rand.slice(),
        groupIds: Object.freeze(groupIds),
        activationTime: kp.activationTime ?? opened.time,
        expiryTime: kp.expiryTime,
        revoked: kp.status.revoked || held?.revoked === true,
        securityGateway: kp.status.securityGateway,
        text: kp.text,
        gmsUri,
        receivedAt: now,
      });
      this.#gmks.put(stored);
      this.emit('gmk', stored);
      if (stored.securityGateway) this.emit('securityGateway', stored);
      return stored;
    } finally {
      opened.key.fill(0);
    }
  }

  // ---- internals -----------------------------------------------------------------------------

  /** The initiator must be the configured GMS, from its KMS (§5.2.7.3); hidden ones by UID (§E.7). */
  #initiator(uri: string | undefined, uid: Uint8Array, kmsUri: string, keyPeriodNo: number): string {
    const o = this.#o;
    const gmsKms = o.gmsKmsUri ?? o.kmsUri;
    const rule = 'the initiator must be the GMS of the user profile, keyed by its KMS';
    if (kmsUri !== gmsKms) throw new PolicyError(ErrorCode.FORBIDDEN, { field: 'mikey.IDRkmsi', rule, clause: 'TS 33.180 §5.2.7.3' });
    if (uri !== undefined) return uri;
    const c = o.keys.getCertificate(gmsKms);
    if (c !== undefined && equalBytes(uid, deriveUid({ uri: o.gmsUri, kmsUri, userKeyPeriod: c.userKeyPeriod, userKeyOffset: c.userKeyOffset, keyPeriodNo }))) return o.gmsUri;
    throw new PolicyError(ErrorCode.FORBIDDEN, { field: 'mikey.IDRuidi', rule, clause: 'TS 33.180 §E.7' });
  }

  #recipient(keyPeriodNo: number, pubEncKey: Uint8Array): SakkeRecipient | undefined {
    const held = this.#prepared.get(keyPeriodNo);
    if (held !== undefined) return held;
    const k = this.#o.keys.getKeySet(this.#o.kmsUri, this.#o.userUri, keyPeriodNo);
    if (k === undefined) return undefined;
    const r = prepareRsk(new SakkePublicKey(pubEncKey), k.userId, k.rsk);
    this.#prepared.set(keyPeriodNo, r);
    return r;
  }

  async #registerRequest(contact: string, expires: number): Promise<SipResponse> {
    const o = this.#o;
    const t = o.registrar.transport;
    const a = o.endpoint.address(t);
    if (a === undefined) throw new McsecError(ErrorCode.CONFIG, { field: 'gmc.endpoint', rule: `must listen on ${t} to register over it` });
    const host = a.address === '0.0.0.0' || a.address === '::' ? '127.0.0.1' : a.address;
    const ear = o.ear === undefined ? undefined : await o.ear.createEar({ origin: o.userUri, target: o.gmsUri, time: this.#now() });
    const registrarHost = o.registrar.host.includes(':') ? `[${o.registrar.host}]` : o.registrar.host;
    const req = createSipRequest(
      {
        method: 'REGISTER',
        uri: `${t === 'tls' ? 'sips' : 'sip'}:${registrarHost}:${o.registrar.port}${t === 'tcp' ? ';transport=tcp' : ''}`,
        from: { uri: o.userUri },
        to: { uri: o.userUri },
        via: { transport: t, host: host.includes(':') ? `[${host}]` : host, port: a.port, rport: true },
        callId: this.#callId,
        cseq: ++this.#cseq,
        contact,
        headers: [
          { name: 'Expires', value: String(expires) },
          ...(o.accessToken === undefined ? [] : [{ name: 'Authorization', value: `Bearer ${o.accessToken}` }]),
        ],
        ...(ear === undefined ? {} : { body: multipartBody([ear], createBoundary(this.#rng)) }),
      },
      this.#rng,
    );
    const res = await o.endpoint.request(req, o.registrar);
    if (res.status < 200 || res.status >= 300) {
      const code = /"(ERR_[A-Z_]+)/.exec(headerValue(res, 'Warning') ?? '')?.[1];
      throw new PolicyError(res.status === 401 ? ErrorCode.UNAUTHORIZED : res.status === 404 ? ErrorCode.NOT_FOUND : ErrorCode.FORBIDDEN, {
        field: 'gmc.register',
        rule: `the GMS answered ${res.status}${code === undefined ? '' : ` (${code})`}`,
        clause: 'RFC 3261 §10.2',
      });
    }
    return res;
  }

  /** A request on the endpoint: GMK messages are this client's; anything else is left alone. */
  async #handle(req: SipRequest, from: SipInbound): Promise<void> {
    if (req.method !== 'MESSAGE') return;
    let parts: readonly MimePart[];
    try {
      parts = decodeSipBody(req);
    } catch {
      return;
    }
    const part = findPart(parts, ContentType.MIKEY);
    if (part === undefined) return;
    const key = this.#transactionKey(req);
    const nowMs = Date.now();
    for (const [k, v] of this.#transactions) if (nowMs - v.at > TRANSACTION_MS) this.#transactions.delete(k);
    const seen = this.#transactions.get(key);
    if (seen !== undefined) {
      // A retransmission (RFC 3261 §17.2.2): the same answer, or none while the first is handled.
      if (seen.response !== undefined) await from.respond(seen.response).catch(() => undefined);
      return;
    }
    const t: { at: number; response: SipResponse | undefined } = { at: nowMs, response: undefined };
    this.#transactions.set(key, t);
    let res: SipResponse;
    try {
      if (this.#o.ear !== undefined) await this.#o.ear.verifyEar({ request: req, parts, origin: this.#o.gmsUri, target: this.#o.userUri });
      await this.receive(mikeyOf(part.body));
      res = createSipResponse(req, 200, {}, this.#rng);
    } catch (err) {
      const e = err instanceof McsecError ? err : new McsecError(ErrorCode.INTERNAL, { field: 'gmc', rule: 'failed unexpectedly' });
      this.emit('refused', e);
      const status = e instanceof FormatError ? 400 : e instanceof CryptoError || e instanceof PolicyError ? 403 : 500;
      res = createSipResponse(req, status, { headers: [{ name: 'Warning', value: `399 mcsec "${`${e.code} ${e.field}`.replace(/["\\]/g, '')}"` }] }, this.#rng);
    }
    t.response = res;
    await from.respond(res).catch(() => undefined);
  }

  #transactionKey(req: SipRequest): string {
    const via = decodeVia(headerValue(req, 'Via') ?? '', 'sip.headers.Via');
    return `${paramValue(via.params, 'branch') ?? ''}|${req.method}|${headerValue(req, 'Call-ID') ?? ''}`;
  }
}

/**
 * The MIKEY message of an application/mikey body: the binary message (RFC 3830, what the GMS
 * sends), or its base64 text as some senders write it (a MIKEY message starts with version 1,
 * octet 0x01, which base64 text never does).
 */
export function mikeyOf(body: Uint8Array): Uint8Array {
  if (body[0] === 0x01) return body;
  let text: string;
  try {
    text = fromUtf8(body, 'sip.body').replace(/[\r\n\t ]+/g, '');
  } catch {
    return body;
  }
  return fromBase64Canonical(text) ?? body;
}
