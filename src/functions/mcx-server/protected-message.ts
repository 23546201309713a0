/**
 * Protected application signalling at the MCX server (TS 33.180 §9.3, §9.2.1, §9.2.2, §9.2.3,
 * §9.6): SIP requests other than registrations whose XML bodies are protected, both ways. Logic on
 * formats and the store, no sockets (sip.ts is the glue); the building blocks are exported so that
 * a proxy (the IS proxy of CR 11.1.X) wires them with other keys.
 *
 * Inbound (`handleRequest`, MESSAGE or INFO):
 *   1. the request's identity (P-Asserted-Identity or From, authorised-identity.ts) and its MC
 *      service user ID; cross-domain when its host is not one of `localDomains` (§9.6.2.3);
 *   2. the link's keys (§9.3.3): from a client of this domain, the CSKs of that user, who must be
 *      registered (uplink signalling uses the CSK, §9.2.1.4); from a partner domain, the SPKs
 *      provisioned for that domain (§9.2.3). P0 of §F.1.4 is the originator's MC service user ID;
 *   3. the XML bodies opened (formats/xmlenc sip-xml-bodies.ts): the signatures verified when
 *      integrity protection is enabled (`integrity: 'required'`, §9.3.5), then decrypted with the
 *      `required` policies of the content types (§9.3.2);
 *   4. the EARs (check-ear.ts, §9.6.5.4), their IDs claimed last.
 * A refusal throws (sip.ts answers with formats/sip/error-status.ts); nothing is stored or handed on.
 *
 * Outbound (`sendProtected`): a MESSAGE from the MDSI to one registered client, its XML bodies
 * protected and signed with that client's CSK (§9.3.3), or with a MuSiK the client accepted
 * (§9.2.2: group-wide signalling; a client that rejected it is sent to with its CSK). P0 is the
 * client's MC service user ID in both cases (the SIP MESSAGE is unicast; mcsec's reading of §F.1.4
 * for a MuSiK, which the clause does not name).
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, PolicyError } from '../../errors/index.js';
import { EAR_CONTENT_TYPE } from '../../formats/ear/index.js';
import { createBoundary, createSipRequest, decodeNameAddr, decodeSipBody, headerValue, multipartBody, partMediaType, type MimePart, type Rng, type SipRequest } from '../../formats/sip/index.js';
import {
  MCPTT_SIGNED_CONTENT_TYPE,
  MemoryXpkResolver,
  openSipXmlBodies,
  protectSipXmlBodies,
  type OpenedSipXmlBody,
  type SipXmlBodyInput,
  type XmlProtectionPolicy,
  type XpkPurpose,
} from '../../formats/xmlenc/index.js';
import type { McxRegistration } from '../../store/mcx-records.js';
import { baseIdentity, requestIdentity } from './authorised-identity.js';
import { checkMcxEars, isCrossDomain, type McxEarContext, type McxEarOutcome } from './check-ear.js';
import type { KeyDownloadTransport, McxServerService } from './service.js';

/** Methods whose bodies this module opens. */
export const PROTECTED_METHODS: readonly string[] = Object.freeze(['MESSAGE', 'INFO']);

/** How protected signalling is handled. */
export interface McxMessagingOptions {
  readonly service: McxServerService;
  /** `required` (default): XML bodies must come signed (§9.3.5 enabled); `if-present`. */
  readonly integrity?: 'required' | 'if-present';
  /** What must arrive encrypted per content type (default: the service's `requiredXml`). */
  readonly required?: Readonly<Record<string, XmlProtectionPolicy>>;
  /** Host names of this MC system (default: the MDSI's host). */
  readonly localDomains?: readonly string[];
  /** EAR checks (§9.6); without them EARs are neither required nor read. */
  readonly ears?: Omit<McxEarContext, 'localDomains' | 'serverUris'> & { readonly serverUris?: readonly string[] };
  readonly now?: () => Date;
  readonly rng?: Rng;
}

/** An accepted protected request. */
export interface ProtectedRequestOutcome {
  readonly method: string;
  readonly impu: string;
  /** The originator's MC service user ID. */
  readonly userUri: string;
  readonly link: 'client' | 'partner';
  /** The client whose CSK protected it (client link). */
  readonly clientId: string | undefined;
  readonly bodies: readonly OpenedSipXmlBody[];
  readonly signed: boolean;
  /** Parts that are not XML nor EARs (application/mikey, SDP, …), as received: not covered by the §9.3.5 signatures, so not authenticated here. */
  readonly otherParts: readonly MimePart[];
  /** The EAR parts as received, for copying onto the request sent on (§9.6.2.1, §9.6.5.2.2). */
  readonly earParts: readonly MimePart[];
  readonly ears: McxEarOutcome | undefined;
}

/** What a send did. */
export interface ProtectedSendResult {
  readonly status: number;
  readonly xpkId: number;
  readonly purpose: 'CSK' | 'MuSiK';
}

const rngDefault: Rng = (n) => new Uint8Array(randomBytes(n));
const NOT_OTHER: readonly string[] = [MCPTT_SIGNED_CONTENT_TYPE, EAR_CONTENT_TYPE];
const hostOf = (uri: string): string => {
  const b = baseIdentity(uri, 'mcx.mdsi');
  return b.slice(b.lastIndexOf('@') + 1 || b.indexOf(':') + 1).replace(/:\d+$/, '');
};

/** Protected signalling of one MCX server (see the module comment). */
export class McxMessaging {
  readonly service: McxServerService;
  readonly integrity: 'required' | 'if-present';
  readonly localDomains: readonly string[];
  readonly #required: Readonly<Record<string, XmlProtectionPolicy>>;
  readonly #ears: McxEarContext | undefined;
  readonly #now: () => Date;
  readonly #rng: Rng;

  constructor(o: McxMessagingOptions) {
    this.service = o.service;
    this.integrity = o.integrity ?? 'required';
    this.#required = o.required ?? o.service.config.requiredXml;
    this.localDomains = Object.freeze([...(o.localDomains ?? [hostOf(o.service.config.mdsi)])]);
    this.#ears = o.ears === undefined ? undefined : { ...o.ears, localDomains: this.localDomains, serverUris: o.ears.serverUris ?? [o.service.config.mdsi] };
    this.#now = o.now ?? (() => new Date());
    this.#rng = o.rng ?? rngDefault;
  }

  /** Opens and checks a protected request (see the module comment); a refusal throws. */
  async handleRequest(req: SipRequest): Promise<ProtectedRequestOutcome> {
    if (!PROTECTED_METHODS.includes(req.method)) {
      throw new PolicyError(ErrorCode.UNSUPPORTED, { field: 'sip.method', rule: `must be ${PROTECTED_METHODS.join(' or ')}`, clause: 'TS 33.180 §9.3' });
    }
    const now = this.#now();
    const { config, store, resolver } = this.service;
    const identity = requestIdentity(req, { assertedIdentity: config.assertedIdentity });
    const userUri = config.mcServiceUserIdOf(identity.impu);
    if (userUri === undefined) {
      throw new PolicyError(ErrorCode.FORBIDDEN, { field: `sip.headers.${identity.source}`, rule: 'must name a user with an MC service user ID', clause: 'TS 33.180 §5.4' });
    }
    const partner = isCrossDomain(identity.impu, this.localDomains);
    let accept: readonly XpkPurpose[];
    let keys: MemoryXpkResolver;
    if (partner) {
      accept = ['SPK'];
      keys = await resolver.snapshot({ partner: hostOf(identity.impu) });
    } else {
      if ((await store.listRegistrations(userUri, now.getTime())).length === 0) {
        throw new PolicyError(ErrorCode.FORBIDDEN, { field: `sip.headers.${identity.source}`, rule: 'must name a registered user (uplink signalling is protected with its CSK)', clause: 'TS 33.180 §9.2.1.4' });
      }
      accept = ['CSK'];
      keys = await resolver.snapshot({ userUri });
    }
    const parts = decodeSipBody(req);
    const opened = openSipXmlBodies(parts, { keys: { resolver: keys, accept, mcServiceUserId: userUri, now: () => now }, integrity: this.integrity, required: this.#required });
    // With integrity protection on, a request carries at least one signed XML body: one without
    // any (a bare text or SDP body) would be handed on as if the MC signalling were protected.
    if (this.integrity === 'required' && !opened.signed) {
      throw new PolicyError(ErrorCode.FORBIDDEN, { field: 'sip.body', rule: 'must carry a signed XML body: integrity protection is enabled', clause: 'TS 33.180 §9.3.5' });
    }
    const to = decodeNameAddr(headerValue(req, 'To') ?? '', 'sip.headers.To').uri;
    const ears =
      this.#ears === undefined
        ? undefined
        : await checkMcxEars(parts, { method: req.method, origin: identity.impu, target: to, xml: opened.bodies.map((b) => ({ contentType: b.contentType, xml: b.xml })) }, this.#ears, () => now);
    const firstCsk = partner ? undefined : opened.bodies.flatMap((b) => b.xpkIds)[0];
    const clientId = firstCsk === undefined ? undefined : (await store.getCsk(firstCsk))?.clientId;
    const xmlIndexes = new Set(opened.bodies.map((b) => b.index));
    const essence = (p: MimePart, i: number): string => partMediaType(p, `sip.body.part${i}`).essence;
    const otherParts = parts.filter((p, i) => !xmlIndexes.has(i) && !NOT_OTHER.includes(essence(p, i)));
    const earParts = parts.filter((p, i) => essence(p, i) === EAR_CONTENT_TYPE);
    return Object.freeze({
      method: req.method,
      impu: identity.impu,
      userUri,
      link: partner ? ('partner' as const) : ('client' as const),
      clientId,
      bodies: opened.bodies,
      signed: opened.signed,
      otherParts: Object.freeze(otherParts),
      earParts: Object.freeze(earParts),
      ears,
    });
  }

  /** The key a message to this client is protected with: a MuSiK it accepted, else its newest CSK. */
  async #keyFor(reg: McxRegistration, musikId: number | undefined): Promise<{ xpk: Uint8Array; xpkId: number; purpose: 'CSK' | 'MuSiK' }> {
    const now = this.#now().getTime();
    if (musikId !== undefined) {
      const m = await this.service.store.getMusik(musikId);
      if (m === undefined || (m.expiresAt !== undefined && m.expiresAt <= now)) {
        throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'musikId', rule: 'names no current MuSiK of this server', clause: 'TS 33.180 §9.2.2' });
      }
      const d = (await this.service.store.listMusikDeliveries(musikId)).find((x) => x.userUri === reg.userUri && x.clientId === reg.clientId);
      if (d?.status === 'accepted') return { xpk: m.musik, xpkId: m.musikId, purpose: 'MuSiK' };
    }
    const csks = (await this.service.store.listCsks(reg.userUri))
      .filter((c) => c.clientId === reg.clientId && (c.activatesAt === undefined || c.activatesAt <= now) && (c.expiresAt === undefined || c.expiresAt > now))
      .sort((a, b) => b.createdAt - a.createdAt);
    const c = csks[0];
    if (c === undefined) throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'csk', rule: 'no current CSK is held for this client', clause: 'TS 33.180 §9.3.3' });
    return { xpk: c.csk, xpkId: c.cskId, purpose: 'CSK' };
  }

  /**
   * Sends a MESSAGE whose XML bodies are protected for one registered client (see the module
   * comment); resolves with the client's final status (0 when none came).
   */
  async sendProtected(o: {
    readonly userUri: string;
    readonly clientId: string;
    readonly bodies: readonly SipXmlBodyInput[];
    readonly transport: KeyDownloadTransport;
    /** Protect with this MuSiK when the client accepted it (§9.2.2). */
    readonly musikId?: number;
    /** Sign the bodies (default: when integrity protection is required). */
    readonly sign?: boolean;
    readonly extraParts?: readonly MimePart[];
  }): Promise<ProtectedSendResult> {
    const reg = (await this.service.store.listRegistrations(o.userUri, this.#now().getTime())).find((r) => r.clientId === o.clientId);
    if (reg === undefined) {
      throw new PolicyError(ErrorCode.NOT_FOUND, { field: 'message.clientId', rule: 'must name a registered client of the user', clause: 'TS 33.180 §9.2.1' });
    }
    const k = await this.#keyFor(reg, o.musikId);
    const mdsi = this.service.config.mdsi;
    const parts = protectSipXmlBodies(o.bodies, {
      key: { xpk: k.xpk, xpkId: k.xpkId, purpose: k.purpose, mcServiceUserId: o.userUri },
      sign: o.sign ?? this.integrity === 'required',
      contentIdDomain: hostOf(mdsi),
      rng: this.#rng,
    });
    const body = multipartBody([...parts, ...(o.extraParts ?? [])], createBoundary(this.#rng));
    const req = createSipRequest({ method: 'MESSAGE', uri: reg.contact, from: { uri: mdsi }, to: { uri: reg.impu }, via: o.transport.via(reg), body }, this.#rng);
    let status = 0;
    try {
      status = (await o.transport.request(req, reg)).status;
    } catch {
      status = 0;
    }
    return Object.freeze({ status, xpkId: k.xpkId, purpose: k.purpose });
  }
}
