/**
 * The MCX server security function (TS 33.180 §9.2): logic on formats and the store, no sockets.
 *
 * - `handleRegistration`: a REGISTER or PUBLISH (§9.2.1.3: "its initial SIP REGISTER or ... a SIP
 *   PUBLISH message that is used to perform the MC user authorization procedure"). Its identity
 *   (authorised-identity.ts) and registration (registration.ts) are read; a CSK upload in its body
 *   is opened and checked (csk-upload.ts), its XML parts decrypted with the CSK (xml-parts.ts,
 *   §9.2.1.3 step 2); only then does state change: the CSK stored for the
 *   client (replacing its previous one), the registration kept for key downloads. A
 *   de-registration removes the client's registration and CSKs (§9.2.1.2: the CSK remains in use
 *   until "the MC user logs off").
 * - `downloadKeys`, `updateCsk`, `distributeMusik`: the key download (§5.8.2) to a registered
 *   client; the server starts using a key only after the client's 200 (§5.8.2 step 2): a new CSK
 *   then replaces the client's previous ones (§9.2.1.4), a MuSiK is marked accepted, or rejected
 *   on any other answer (§9.2.2: the server then uses unicast for that client).
 * - `createMusik`: a MuSiKAll or MuSiKGRP (§9.2.2); `resolver`: XPKs by ID (key-resolver.ts).
 */
import { randomBytes } from 'node:crypto';
import { deriveKfcRand, generateKeyId } from '../../crypto/index.js';
import { ErrorCode, FormatError, PolicyError } from '../../errors/index.js';
import { MemoryReplayCache, openIMessage, type ReplayCache } from '../../formats/mikey/index.js';
import { decodeNameAddr, headerValue, type Rng, type SipRequest, type SipResponse } from '../../formats/sip/index.js';
import { mikeyParts } from '../../formats/sip/mikey-parts.js';
import type { McxMusik, McxRegistration, McxStore } from '../../store/mcx-records.js';
import { requestIdentity } from './authorised-identity.js';
import type { McxServerConfig } from './config.js';
import { openCskUpload } from './csk-upload.js';
import { checkInitiatorKms } from './kms-redirect.js';
import { createKeyDownload, keyDownloadRequest, type DownloadItem } from './key-download.js';
import { McxKeyResolver } from './key-resolver.js';
import { clientIdOf, registrationRequest } from './registration.js';
import type { McxServerKeys } from './server-keys.js';
import { openXmlParts, type OpenedXmlPart } from './xml-parts.js';
import { authoriseServices, withEncryptedTokens, type AccessTokenMode, type ServiceAuthorisation } from './service-authorisation.js';
import type { AccessTokenVerifier } from '../authz/index.js';

/** Where a request came from. */
export interface SipSource {
  readonly transport: 'udp' | 'tcp' | 'tls';
  readonly address: string;
  readonly port: number;
}

/** What a registration request led to. */
export interface RegistrationOutcome {
  readonly userUri: string;
  readonly impu: string;
  readonly kind: 'bind' | 'unbind' | 'unbind-all' | 'none';
  readonly clientId: string | undefined;
  readonly contact: string | undefined;
  /** Granted lifetime of a binding, s. */
  readonly expiresS: number | undefined;
  /** The CSK-ID stored from a CSK upload in this request. */
  readonly cskId: number | undefined;
  /** The XML parts, decrypted with the user's CSK (§9.2.1.3 step 2). */
  readonly xmlParts: readonly OpenedXmlPart[];
  /** The MC services a valid access token in the request authorised (§5.1.3.2; empty without one or without a verifier). */
  readonly authorisations: readonly ServiceAuthorisation[];
}

/** How key downloads reach a client (sip.ts gives the SIP endpoint's). */
export interface KeyDownloadTransport {
  /** The Via sent-by and transport for a request to this registration. */
  via(reg: McxRegistration): { readonly transport: string; readonly host: string; readonly port?: number };
  /** Sends the request and resolves with the final response. */
  request(req: SipRequest, reg: McxRegistration): Promise<SipResponse>;
}

/** The outcome of a key download to one client. */
export interface KeyDownloadResult {
  readonly userUri: string;
  readonly clientId: string;
  /** The client's final status, 0 when no answer came. */
  readonly status: number;
  readonly accepted: boolean;
  readonly keyIds: readonly number[];
}

/** Options of the service. */
export interface McxServiceOptions {
  readonly config: McxServerConfig;
  readonly keys: McxServerKeys;
  readonly store: McxStore;
  readonly replayCache: ReplayCache;
  readonly now?: () => Date;
  readonly rng?: Rng;
  /** Access token checks of §5.1.3.2 (service-authorisation.ts); without it tokens are not read. */
  readonly accessTokens?: { readonly verifier: AccessTokenVerifier; readonly mode?: AccessTokenMode };
}

const rngDefault: Rng = (n) => new Uint8Array(randomBytes(n));

/** The MCX server security function (see the module comment). */
export class McxServerService {
  readonly config: McxServerConfig;
  readonly keys: McxServerKeys;
  readonly store: McxStore;
  readonly resolver: McxKeyResolver;
  readonly #replay: ReplayCache;
  readonly #now: () => Date;
  readonly #rng: Rng;
  readonly #tokens: McxServiceOptions['accessTokens'];
  /** What must arrive encrypted: the configuration's, plus the access tokens when they are checked. */
  readonly #requiredXml: McxServerConfig['requiredXml'];

  constructor(o: McxServiceOptions) {
    this.#tokens = o.accessTokens;
    this.#requiredXml = o.accessTokens === undefined ? o.config.requiredXml : withEncryptedTokens(o.config.requiredXml);
    this.config = o.config;
    this.keys = o.keys;
    this.store = o.store;
    this.#replay = o.replayCache;
    this.#now = o.now ?? (() => new Date());
    this.#rng = o.rng ?? rngDefault;
    this.resolver = new McxKeyResolver(o.store, this.#now);
  }

  /**
   * Loads the server's key sets for now; with `warm`, also makes and opens one I_MESSAGE from the
   * MDSI to itself, so that the ECCSI and SAKKE tables are built before the first client waits.
   */
  async prepare(o: { readonly warm?: boolean } = {}): Promise<void> {
    const now = this.#now();
    await this.keys.prepare(now);
    if (o.warm !== true) return;
    const k = this.keys;
    const d = await createKeyDownload({ keys: k, userUri: k.mdsi, items: [this.newCsk()], time: now, rng: this.#rng });
    const [m] = d.iMessages;
    if (m === undefined) return;
    await openIMessage(m, {
      uri: k.mdsi,
      kmsUri: k.kmsUri,
      userKeyPeriod: k.userKeyPeriod,
      userKeyOffset: k.userKeyOffset,
      recipientFor: (n) => k.recipientFor(n),
      trustedKms: (u) => k.trustedKms(u),
      replayCache: new MemoryReplayCache(),
      now: () => now,
    });
  }

  /** Handles a REGISTER or PUBLISH (see the module comment); a refusal throws, nothing stored. */
  async handleRegistration(req: SipRequest, source: SipSource): Promise<RegistrationOutcome> {
    if (req.method !== 'REGISTER' && req.method !== 'PUBLISH') {
      throw new FormatError(ErrorCode.UNSUPPORTED, { field: 'sip.method', rule: 'must be REGISTER or PUBLISH', clause: 'TS 33.180 §9.2.1.3' });
    }
    const now = this.#now();
    const identity = requestIdentity(req, { assertedIdentity: this.config.assertedIdentity });
    const userUri = this.config.mcServiceUserIdOf(identity.impu);
    if (userUri === undefined) {
      throw new PolicyError(ErrorCode.FORBIDDEN, { field: `sip.headers.${identity.source}`, rule: 'must name a user with an MC service user ID', clause: 'TS 33.180 §5.4' });
    }
    const reg = registrationRequest(req, this.config);
    const uploads = mikeyParts(req);
    if (uploads.length > 1) throw new FormatError(ErrorCode.BAD_VALUE, { field: 'sip.body', rule: 'must carry at most one application/mikey part (one CSK)', clause: 'TS 33.180 §9.2.1.3' });
    const [iMessage] = uploads;
    if (iMessage !== undefined && (reg.kind === 'unbind' || reg.kind === 'unbind-all')) {
      throw new FormatError(ErrorCode.BAD_VALUE, { field: 'sip.body', rule: 'a CSK upload must not come with a de-registration', clause: 'TS 33.180 §9.2.1.3' });
    }
    const base = { userUri, impu: identity.impu, kind: reg.kind };
    if (reg.kind === 'unbind-all') {
      await this.store.deleteCsks(userUri);
      for (const r of await this.store.listRegistrations(userUri, 0)) await this.store.deleteRegistration(userUri, r.clientId);
      return Object.freeze({ ...base, clientId: undefined, contact: undefined, expiresS: undefined, cskId: undefined, xmlParts: Object.freeze([]), authorisations: Object.freeze([]) });
    }
    if (reg.kind === 'unbind') {
      await this.store.deleteCsks(userUri, reg.clientId);
      await this.store.deleteRegistration(userUri, reg.clientId);
      return Object.freeze({ ...base, clientId: reg.clientId, contact: reg.contact, expiresS: 0, cskId: undefined, xmlParts: Object.freeze([]), authorisations: Object.freeze([]) });
    }
    const clientId = reg.kind === 'bind' ? reg.clientId : this.#publisherId(req, identity.impu);
    const expiresAt = reg.kind === 'bind' ? now.getTime() + reg.expiresS * 1000 : undefined;
    // §5.2.8.2.3 Case A: an initiator KMS not acceptable for the user is answered with a KRR (kms-redirect.ts).
    if (iMessage !== undefined && this.config.kmsRedirect !== undefined) checkInitiatorKms(iMessage, { userUri, policy: this.config.kmsRedirect, mdsi: this.keys.mdsi, now });
    // Everything is checked before anything is stored (STYLE.md §6).
    const upload =
      iMessage === undefined
        ? undefined
        : await openCskUpload(iMessage, { keys: this.keys, replayCache: this.#replay, now, windowMs: this.config.windowMs, userUri });
    // §9.2.1.3 step 2: the XML parts, opened with the client's CSKs, the one just uploaded included.
    const csks = await this.resolver.snapshot({ userUri, clientId });
    if (upload !== undefined) {
      const at = (t: number | undefined): Date | undefined => (t === undefined ? undefined : new Date(t));
      csks.set(upload.cskId, { key: upload.csk, purpose: 'CSK', notBefore: at(upload.activatesAt), notAfter: at(upload.expiresAt) });
    }
    const xmlParts = openXmlParts(req, { resolver: csks, mcServiceUserId: userUri, defaultXpkId: upload?.cskId, now: () => now, required: this.#requiredXml });
    // §5.1.3.2: the access token validated before the IMPU and MC service ID are bound.
    const t = this.#tokens;
    const authorisations = t === undefined ? Object.freeze([]) : await authoriseServices(xmlParts, { verifier: t.verifier, mode: t.mode ?? 'optional', userUri });
    await upload?.commit();
    if (upload !== undefined) {
      const ends = [upload.expiresAt, expiresAt].filter((t): t is number => t !== undefined);
      await this.store.replaceCsk({
        cskId: upload.cskId,
        userUri,
        clientId,
        impu: identity.impu,
        csk: upload.csk,
        origin: 'upload',
        activatesAt: upload.activatesAt,
        expiresAt: ends.length === 0 ? undefined : Math.min(...ends),
        // the client chose it: SRTCP under this CSK uses the RAND received (§9.4.2)
        rand: upload.rand,
      });
    }
    if (reg.kind === 'bind' && expiresAt !== undefined) {
      const held = (await this.store.listRegistrations(userUri, 0)).find((r) => r.clientId === clientId);
      await this.store.putRegistration({
        userUri,
        clientId,
        impu: identity.impu,
        userKmsUri: upload?.initiatorKmsUri ?? held?.userKmsUri ?? this.keys.kmsUri,
        contact: reg.contact,
        transport: source.transport,
        host: source.address,
        port: source.port,
        expiresAt,
      });
      if (upload === undefined) await this.store.extendCsks(userUri, clientId, expiresAt);
    }
    return Object.freeze({
      ...base,
      clientId,
      contact: reg.kind === 'bind' ? reg.contact : undefined,
      expiresS: reg.kind === 'bind' ? reg.expiresS : undefined,
      cskId: upload?.cskId,
      xmlParts,
      authorisations,
    });
  }

  /** A PUBLISH's client: its Contact's instance or URI, else the publisher's IMPU. */
  #publisherId(req: SipRequest, impu: string): string {
    const c = headerValue(req, 'Contact');
    return c === undefined || c.trim() === '*' ? impu : clientIdOf(decodeNameAddr(c, 'sip.headers.Contact'));
  }

  /**
   * Sends keys to one registered client and, on its 200, starts using them: a CSK replaces the
   * client's previous CSKs (§9.2.1.4), a MuSiK is marked accepted; any other answer leaves the
   * old CSK in place and marks a MuSiK rejected (§9.2.2).
   */
  async downloadKeys(o: { readonly userUri: string; readonly clientId: string; readonly items: readonly DownloadItem[]; readonly transport: KeyDownloadTransport }): Promise<KeyDownloadResult> {
    const now = this.#now();
    const reg = (await this.store.listRegistrations(o.userUri, now.getTime())).find((r) => r.clientId === o.clientId);
    if (reg === undefined) {
      throw new PolicyError(ErrorCode.NOT_FOUND, { field: 'keyDownload.clientId', rule: 'must name a registered client of the user', clause: 'TS 33.180 §5.8.2' });
    }
    const csks = o.items.filter((i) => i.keyType === 'CSK');
    if (csks.length > 1) throw new FormatError(ErrorCode.BAD_VALUE, { field: 'keyDownload.items', rule: 'must hold at most one CSK', clause: 'TS 33.180 §9.2.1.4' });
    const download = await createKeyDownload({ keys: this.keys, userUri: o.userUri, userKmsUri: reg.userKmsUri, items: o.items, time: now, rng: this.#rng });
    const req = keyDownloadRequest({ mdsi: this.keys.mdsi, impu: reg.impu, contact: reg.contact, via: o.transport.via(reg), body: download.body, rng: this.#rng });
    let status = 0;
    try {
      status = (await o.transport.request(req, reg)).status;
    } catch {
      status = 0;
    }
    const accepted = status >= 200 && status < 300;
    for (const item of o.items) {
      if (item.keyType === 'CSK' && accepted) {
        const expiry = item.keyParameters?.expiryTime?.getTime();
        await this.store.replaceCsk({
          cskId: item.keyId,
          userUri: o.userUri,
          clientId: o.clientId,
          impu: reg.impu,
          csk: item.key,
          origin: 'download',
          activatesAt: item.keyParameters?.activationTime?.getTime(),
          expiresAt: expiry === undefined ? reg.expiresAt : Math.min(expiry, reg.expiresAt),
          // the RAND the download's I_MESSAGE carried (key-download.ts), the KFC-RAND of §9.4.2
          rand: item.rand ?? deriveKfcRand(item.key, item.keyId),
        });
      } else if (item.keyType === 'MuSiK' && (await this.store.getMusik(item.keyId)) !== undefined) {
        await this.store.recordMusikDelivery({ musikId: item.keyId, userUri: o.userUri, clientId: o.clientId, status: accepted ? 'accepted' : 'rejected' });
      }
    }
    return Object.freeze({ userUri: o.userUri, clientId: o.clientId, status, accepted, keyIds: Object.freeze(o.items.map((i) => i.keyId)) });
  }

  /** A fresh CSK and CSK-ID for a key download (§9.2.1.2: "the server generates a CSK"). */
  newCsk(keyParameters?: DownloadItem['keyParameters']): DownloadItem {
    return Object.freeze({ keyType: 'CSK' as const, key: this.#rng(16), keyId: generateKeyId('CSK', this.#rng), ...(keyParameters === undefined ? {} : { keyParameters }) });
  }

  /** Updates a client's CSK through a key download (§9.2.1.4). */
  updateCsk(o: { readonly userUri: string; readonly clientId: string; readonly transport: KeyDownloadTransport }): Promise<KeyDownloadResult> {
    return this.downloadKeys({ ...o, items: [this.newCsk()] });
  }

  /** Makes and stores a MuSiK: MuSiKAll without a group, MuSiKGRP for `groupId` (§9.2.2). */
  createMusik(o: { readonly groupId?: string; readonly lifetimeMs?: number } = {}): Promise<McxMusik> {
    const now = this.#now().getTime();
    return this.store.putMusik({
      musikId: generateKeyId('MuSiK', this.#rng),
      groupId: o.groupId ?? '',
      musik: this.#rng(16),
      expiresAt: o.lifetimeMs === undefined ? undefined : now + o.lifetimeMs,
    });
  }

  /** Sends a stored MuSiK to every registered client of the users (§9.2.2), with its key parameters. */
  async distributeMusik(o: { readonly musikId: number; readonly userUris: readonly string[]; readonly transport: KeyDownloadTransport }): Promise<readonly KeyDownloadResult[]> {
    const m = await this.store.getMusik(o.musikId);
    if (m === undefined) throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'musikId', rule: 'names no MuSiK of this server', clause: 'TS 33.180 §9.2.2' });
    const item: DownloadItem = {
      keyType: 'MuSiK',
      key: m.musik,
      keyId: m.musikId,
      keyParameters: { mcGroupIds: m.groupId === '' ? [] : [m.groupId], ...(m.expiresAt === undefined ? {} : { expiryTime: new Date(m.expiresAt) }) },
    };
    // Clients are sent to concurrently: one that does not answer must not hold up the others.
    const sends: Promise<KeyDownloadResult>[] = [];
    for (const userUri of o.userUris) {
      for (const reg of await this.store.listRegistrations(userUri, this.#now().getTime())) {
        sends.push(this.downloadKeys({ userUri, clientId: reg.clientId, items: [item], transport: o.transport }));
      }
    }
    return Object.freeze(await Promise.all(sends));
  }
}
