/**
 * The GMS on SIP (RFC 3261): the wire glue between a SipEndpoint and GmsService.
 *
 * Sending (`GmkSender`): each member's GMK I_MESSAGE goes in a SIP MESSAGE (RFC 3428) to its
 * registered contact, From the GMS Server URI, To the member; the body is the binary MIKEY
 * message as `application/mikey` (RFC 3830 §10, as TS 33.180 §9.2.1.3 carries an I_MESSAGE in
 * SIP), or, with an EAR hook (ear-hook.ts, §9.6.2.4), `multipart/mixed` of that and an
 * `application/vnd.3gpp.mc-signalling-ear` part. The member's final response is its Notify Group
 * Configuration Response (§5.7.2 step 2): 2xx delivered; another final status refused (its
 * Warning names the error code); no final response failed. See docs/gms.md for why MESSAGE.
 *
 * Receiving: REGISTER (the registrar, check-register.ts; pending GMKs are sent once the 200 is
 * out), MESSAGE with an `application/mikey` body (a GMK from a primary GMS, CR §11.1.2.2;
 * answered before the redistribution runs), OPTIONS (200); anything else 405. Errors are
 * answered through toWireError (400 / 401 / 403 / 404 / 500, a Warning with the code and field,
 * never a value). A retransmitted request (same branch, method and Call-ID, RFC 3261 §17.2.2)
 * gets the response already sent, or nothing while the first copy is being handled.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, McsecError, PolicyError } from '../../errors/index.js';
import {
  ContentType,
  createBoundary,
  createSipRequest,
  createSipResponse,
  decodeSipBody,
  findPart,
  headerValue,
  multipartBody,
  paramValue,
  decodeVia,
  type MimePart,
  type SipHeader,
  type SipRequest,
  type SipResponse,
} from '../../formats/sip/index.js';
import type { SipEndpoint, SipInbound } from '../../transport/sip/index.js';
import type { AccessTokenVerifier } from '../authz/index.js';
import { toWireError } from '../wire-errors.js';
import { checkRegister, checkRegisterToken, type RegisterPolicy } from './check-register.js';
import { contactDestination } from './contact.js';
import type { GmsEarHook } from './ear-hook.js';
import type { GmkDelivery, GmkDeliveryOutcome, GmkSender, GmsLogger, GmsService } from './service.js';

export interface GmsSipOptions extends RegisterPolicy {
  readonly endpoint: SipEndpoint;
  /** The GMS Server URI (From of its messages). */
  readonly gmsUri: string;
  /** Host written in Via for this GMS's requests when it listens on a wildcard address. */
  readonly viaHost?: string | undefined;
  /** Access tokens required on REGISTER (RFC 8898 Bearer, §5.1.3); absent: none asked for. */
  readonly verifier?: AccessTokenVerifier | undefined;
  readonly ear?: GmsEarHook | undefined;
  readonly logger?: GmsLogger | undefined;
  readonly rng?: ((n: number) => Uint8Array) | undefined;
}

const ALLOW = 'REGISTER, MESSAGE, OPTIONS';
const TRANSACTION_MS = 32_000; // Timer J / 64·T1 (RFC 3261 §17.2.2)
const noop = (): void => undefined;

/** The Warning header of a refusal: code and field, never a value (STYLE.md §4). */
export function warningOf(e: McsecError | undefined, code: string): SipHeader {
  const text = e === undefined ? code : `${e.code} ${e.field}`;
  return { name: 'Warning', value: `399 mcsec "${text.replace(/["\\]/g, '')}"` };
}

/** The error code a response's Warning names, if any. */
export function warningCode(res: SipResponse): string | undefined {
  return /"(ERR_[A-Z_]+)/.exec(headerValue(res, 'Warning') ?? '')?.[1];
}

/** Remembers server transactions to answer retransmissions (RFC 3261 §17.2.2). */
export class ServerTransactions {
  readonly #seen = new Map<string, { at: number; response: SipResponse | undefined }>();
  /** true when the request is new (and now remembered); a retransmission is answered here. */
  admit(req: SipRequest, from: SipInbound): boolean {
    const key = transactionKey(req);
    const now = Date.now();
    for (const [k, v] of this.#seen) if (now - v.at > TRANSACTION_MS) this.#seen.delete(k);
    const held = this.#seen.get(key);
    if (held !== undefined) {
      if (held.response !== undefined) void from.respond(held.response).catch(noop);
      return false;
    }
    this.#seen.set(key, { at: now, response: undefined });
    return true;
  }
  /** Sends the final response and remembers it for retransmissions. */
  async respond(req: SipRequest, from: SipInbound, res: SipResponse): Promise<void> {
    const held = this.#seen.get(transactionKey(req));
    if (held !== undefined) held.response = res;
    await from.respond(res);
  }
}

function transactionKey(req: SipRequest): string {
  const via = decodeVia(headerValue(req, 'Via') ?? '', 'sip.headers.Via');
  return `${paramValue(via.params, 'branch') ?? ''}|${req.method}|${headerValue(req, 'Call-ID') ?? ''}`;
}

/** The GMS's SIP side: sends GMK messages, serves REGISTER and GMK transfers. */
export class GmsSip implements GmkSender {
  readonly #o: GmsSipOptions;
  readonly #log: GmsLogger;
  readonly #rng: (n: number) => Uint8Array;
  readonly #transactions = new ServerTransactions();
  #service: GmsService | undefined;

  constructor(o: GmsSipOptions) {
    this.#o = o;
    this.#log = o.logger ?? { info: noop, warn: noop };
    this.#rng = o.rng ?? ((n) => new Uint8Array(randomBytes(n)));
  }

  /** Starts answering requests for `service`. */
  serve(service: GmsService): void {
    this.#service = service;
    this.#o.endpoint.on('request', (req, from) => {
      void this.#handle(req, from).catch((err: unknown) => {
        this.#log.warn({ fn: 'gms', op: 'sip', code: err instanceof McsecError ? err.code : ErrorCode.INTERNAL }, 'request not answered');
      });
    });
  }

  /** Sends one member's GMK message to its contact (SIP MESSAGE) and reports its answer. */
  async send(d: GmkDelivery): Promise<GmkDeliveryOutcome> {
    const dest = contactDestination(d.contact, 'gms.registration.contact');
    const addr = this.#o.endpoint.address(dest.transport);
    if (addr === undefined) return { state: 'failed', code: ErrorCode.CONFIG };
    const wildcard = addr.address === '0.0.0.0' || addr.address === '::';
    const host = wildcard ? (this.#o.viaHost ?? '127.0.0.1') : addr.address;
    const mikey: MimePart = { headers: [{ name: 'Content-Type', value: ContentType.MIKEY }], body: d.imessage };
    const body =
      this.#o.ear === undefined
        ? { contentType: ContentType.MIKEY, body: d.imessage }
        : multipartBody(
            [mikey, await this.#o.ear.createEar({ origin: this.#o.gmsUri, target: d.memberUri, requestType: 'notify-group-configuration-request', time: new Date() })],
            createBoundary(this.#rng),
          );
    const req = createSipRequest(
      {
        method: 'MESSAGE',
        uri: d.contact,
        from: { uri: this.#o.gmsUri },
        to: { uri: d.memberUri },
        via: { transport: dest.transport, host: host.includes(':') ? `[${host}]` : host, port: addr.port, rport: true },
        body,
      },
      this.#rng,
    );
    try {
      const res = await this.#o.endpoint.request(req, dest);
      if (res.status >= 200 && res.status < 300) return { state: 'delivered', status: res.status };
      return { state: 'refused', status: res.status, code: warningCode(res) };
    } catch (err) {
      return { state: 'failed', code: err instanceof McsecError ? err.code : ErrorCode.IO };
    }
  }

  async #handle(req: SipRequest, from: SipInbound): Promise<void> {
    const service = this.#service;
    if (service === undefined || !this.#transactions.admit(req, from)) return;
    const reply = (res: SipResponse): Promise<void> => this.#transactions.respond(req, from, res);
    try {
      switch (req.method) {
        case 'REGISTER':
          await this.#register(req, service, reply);
          return;
        case 'MESSAGE':
          await this.#transfer(req, service, reply);
          return;
        case 'OPTIONS':
          await reply(createSipResponse(req, 200, { headers: [{ name: 'Allow', value: ALLOW }] }, this.#rng));
          return;
        default:
          await reply(createSipResponse(req, 405, { headers: [{ name: 'Allow', value: ALLOW }] }, this.#rng));
      }
    } catch (err) {
      const w = toWireError(err);
      const e = err instanceof McsecError && w.status !== 500 ? err : undefined;
      const headers = [warningOf(e, w.code), ...(w.status === 401 ? [{ name: 'WWW-Authenticate', value: `Bearer realm="${this.#o.gmsUri.replace(/["\\]/g, '')}"` }] : [])];
      this.#log.warn({ fn: 'gms', op: req.method.toLowerCase(), code: w.code, field: e?.field }, 'refused');
      await reply(createSipResponse(req, w.status, { headers }, this.#rng));
    }
  }

  async #register(req: SipRequest, service: GmsService, reply: (res: SipResponse) => Promise<void>): Promise<void> {
    const r = checkRegister(req, this.#o);
    // Removing a binding is allowed to anyone who may bind (a member removed meanwhile included).
    if (r.action !== 'remove' && !(await service.isMember(r.aor))) {
      throw new PolicyError(ErrorCode.NOT_FOUND, { field: 'sip.headers.To', rule: 'must be a member of a group of this GMS', clause: 'RFC 3261 §10.3' });
    }
    if (this.#o.verifier !== undefined) await checkRegisterToken(req, r.aor, this.#o.verifier);
    if (this.#o.ear !== undefined) await this.#o.ear.verifyEar({ request: req, parts: decodeSipBody(req), origin: r.aor, target: this.#o.gmsUri });
    if (r.action === 'remove') await service.unregister(r.aor);
    if (r.action === 'bind' && r.contact !== undefined) await service.register(r.aor, r.contact, r.expires);
    const headers = r.action === 'bind' && r.contact !== undefined ? [{ name: 'Contact', value: `<${r.contact}>;expires=${r.expires}` }] : [];
    await reply(createSipResponse(req, 200, { headers }, this.#rng));
    if (r.action === 'bind') {
      void service.deliverPending(r.aor).catch((err: unknown) => {
        this.#log.warn({ fn: 'gms', op: 'deliverPending', code: err instanceof McsecError ? err.code : ErrorCode.INTERNAL }, 'pending GMKs not sent');
      });
    }
  }

  async #transfer(req: SipRequest, service: GmsService, reply: (res: SipResponse) => Promise<void>): Promise<void> {
    const part = findPart(decodeSipBody(req), ContentType.MIKEY);
    if (part === undefined) {
      await reply(createSipResponse(req, 415, { headers: [{ name: 'Accept', value: ContentType.MIKEY }] }, this.#rng));
      return;
    }
    const accepted = await service.acceptTransfer(part.body);
    await reply(createSipResponse(req, 200, {}, this.#rng));
    await accepted.distributed;
  }
}
