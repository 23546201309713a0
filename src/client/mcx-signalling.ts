/**
 * The client's protected application signalling with its MCX server (TS 33.180 §9.3), on the keys
 * of McxClientKeys (§9.2.1, §9.2.2):
 *
 * - `messageRequest`: a SIP MESSAGE (or INFO) whose XML bodies are protected with the current CSK
 *   (§9.3.3: the XPK of client-server links; §9.2.1.4: the CSK is for uplink signalling), what each
 *   body's policy lists encrypted (§9.3.4), and every XML body signed (§9.3.5, integrity on by
 *   default), in a multipart/mixed body with any further parts (an EAR, §9.6.5.2.1);
 * - `openMessage`: a request from the server, opened with the CSK or a MuSiK the client holds
 *   (§9.2.2), signatures verified first (required by default), P0 of §F.1.4 the user's own MC
 *   service user ID; resolves with the answer to send: 200, or the SIP error of
 *   formats/sip/error-status.ts, and nothing opened on a refusal.
 */
import { randomBytes } from 'node:crypto';
import { createBoundary, createSipRequest, createSipResponse, decodeSipBody, multipartBody, sipErrorStatus, type MimePart, type Rng, type SipRequest, type SipResponse } from '../formats/sip/index.js';
import {
  MemoryXpkResolver,
  openSipXmlBodies,
  protectSipXmlBodies,
  type OpenedSipXmlBody,
  type SipXmlBodyInput,
  type XmlProtectionPolicy,
} from '../formats/xmlenc/index.js';
import { ErrorCode, McsecError, PolicyError } from '../errors/index.js';
import type { McxClientKeys } from './mcx-client-keys.js';

/** Options of McxClientSignalling. */
export interface McxClientSignallingOptions {
  readonly keys: McxClientKeys;
  /** `required` (default): bodies from the server must come signed (§9.3.5); `if-present`. */
  readonly integrity?: 'required' | 'if-present';
  /** What must arrive encrypted, per content type (§9.3.2). */
  readonly required?: Readonly<Record<string, XmlProtectionPolicy>>;
  readonly now?: () => Date;
  readonly rng?: Rng;
}

/** What a MESSAGE to the server needs. */
export interface ClientMessageInput {
  /** Request-URI and To (default the server's MDSI). */
  readonly uri?: string;
  readonly to?: string;
  readonly via: { readonly transport: string; readonly host: string; readonly port?: number };
  readonly bodies: readonly SipXmlBodyInput[];
  readonly extraParts?: readonly MimePart[];
  readonly method?: 'MESSAGE' | 'INFO';
  /** Sign the XML bodies (default true). */
  readonly sign?: boolean;
}

const rngDefault: Rng = (n) => new Uint8Array(randomBytes(n));
const agentOf = (uri: string): string => /^[a-z]+:(?:[^@]*@)?([^;?:]+)/i.exec(uri)?.[1] ?? 'mc-client';

/** Protected signalling of one client with its MCX server (see the module comment). */
export class McxClientSignalling {
  readonly keys: McxClientKeys;
  readonly #integrity: 'required' | 'if-present';
  readonly #required: Readonly<Record<string, XmlProtectionPolicy>> | undefined;
  readonly #now: () => Date;
  readonly #rng: Rng;

  constructor(o: McxClientSignallingOptions) {
    this.keys = o.keys;
    this.#integrity = o.integrity ?? 'required';
    this.#required = o.required;
    this.#now = o.now ?? (() => new Date());
    this.#rng = o.rng ?? rngDefault;
  }

  /** A MESSAGE (or INFO) to the server, its XML bodies protected with the current CSK. */
  messageRequest(r: ClientMessageInput): SipRequest {
    const c = this.keys.csk;
    if (c === undefined) throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'csk', rule: 'no CSK is held for this server yet', clause: 'TS 33.180 §9.3.3' });
    const user = this.keys.user.uri;
    const parts = protectSipXmlBodies(r.bodies, {
      key: { xpk: c.key, xpkId: c.keyId, purpose: 'CSK', mcServiceUserId: user },
      sign: r.sign ?? true,
      contentIdDomain: agentOf(user),
      rng: this.#rng,
    });
    const body = multipartBody([...parts, ...(r.extraParts ?? [])], createBoundary(this.#rng));
    const to = r.to ?? r.uri ?? this.keys.server.mdsi;
    return createSipRequest({ method: r.method ?? 'MESSAGE', uri: r.uri ?? to, from: { uri: user }, to: { uri: to }, via: r.via, body }, this.#rng);
  }

  /** The keys a server's request may name: the CSK and the MuSiKs held (§9.2.2). */
  #resolver(): MemoryXpkResolver {
    const view = new MemoryXpkResolver();
    const c = this.keys.csk;
    if (c !== undefined) view.set(c.keyId, { key: c.key, purpose: 'CSK', notAfter: c.expiresAt });
    for (const m of this.keys.multicastKeys) if (m.keyType === 'MuSiK') view.set(m.keyId, { key: m.key, purpose: 'MuSiK', notAfter: m.expiresAt });
    return view;
  }

  /** Opens a protected request from the server; resolves with the bodies and the answer to send. */
  openMessage(req: SipRequest): { readonly response: SipResponse; readonly bodies: readonly OpenedSipXmlBody[]; readonly error: McsecError | undefined } {
    try {
      const opened = openSipXmlBodies(decodeSipBody(req), {
        keys: { resolver: this.#resolver(), accept: ['CSK', 'MuSiK'], mcServiceUserId: this.keys.user.uri, now: this.#now },
        integrity: this.#integrity,
        required: this.#required,
      });
      return Object.freeze({ response: createSipResponse(req, 200), bodies: opened.bodies, error: undefined });
    } catch (err) {
      const e = sipErrorStatus(err, agentOf(this.keys.user.uri));
      const response = createSipResponse(req, e.status, { reason: e.reason, headers: [{ name: 'Warning', value: e.warning }] });
      return Object.freeze({ response, bodies: Object.freeze([]), error: err instanceof McsecError ? err : undefined });
    }
  }
}
