/**
 * SIP glue of the MCX server (STYLE.md §8 `sip.ts`): requests from a SipEndpoint to the service,
 * answers back on the transport they came in on.
 *
 *   REGISTER, PUBLISH → service.handleRegistration → 200 (Contact with the granted expires,
 *                       RFC 3261 §10.3 step 8) or the error answer of formats/sip/error-status.ts
 *                       (400 / 403 / 488 / 500 with a Warning naming code, field and rule); a KMS
 *                       redirect is a 488 with the KRR as body (§5.2.8.2.3, Annex D.4.1)
 *   OPTIONS           → 200 with Allow (§11.2)          ACK → nothing
 *   anything else     → 405 with Allow (§21.4.6)
 *
 * Retransmissions are matched to their transaction (server-transactions.ts) and never handled
 * twice. `keyDownloadTransport` sends key downloads through the same endpoint: to the address the
 * client registered from, reusing its TCP/TLS connection when it is still open.
 */
import { createSipResponse, type SipRequest, type SipResponse } from '../../formats/sip/index.js';
import { sipErrorStatus } from '../../formats/sip/error-status.js';
import { KmsRedirectError, kmsRedirectResponse } from '../../formats/sip/kms-redirect.js';
import type { SipEndpoint, SipInbound } from '../../transport/sip/index.js';
import type { McxRegistration } from '../../store/mcx-records.js';
import { ServerTransactions } from './server-transactions.js';
import type { KeyDownloadTransport, McxServerService, RegistrationOutcome } from './service.js';
import { PROTECTED_METHODS, type McxMessaging, type ProtectedRequestOutcome } from './protected-message.js';
import { answerProtectedRequest } from './protected-sip.js';

/** Methods this server answers. */
export const MCX_ALLOW = 'REGISTER, PUBLISH, OPTIONS, ACK';

/** A structured log line's fields (STYLE.md §8: fn, op, code, field; never a key). */
export interface McxLogEntry {
  readonly op: string;
  readonly method?: string;
  readonly status?: number;
  readonly code?: string;
  readonly field?: string;
  readonly user?: string;
  readonly cskId?: string;
  readonly transport?: string;
  /** The XPK-ID that protected an accepted MESSAGE / INFO (hex). */
  readonly xpkId?: string;
  /** MC services an access token authorised (§5.1.3.2), e.g. "mcptt". */
  readonly authorised?: string;
}

/** Options of `serveMcxSip`. */
export interface McxSipOptions {
  /** warn-agent of Warning headers (default: the MDSI's host). */
  readonly agent?: string;
  readonly log?: (entry: McxLogEntry) => void;
  /** Protected MESSAGE / INFO (protected-message.ts, TS 33.180 §9.3); without it they get 405. */
  readonly messaging?: McxMessaging;
  /** Receives each accepted protected request, opened (never called for a refused one). */
  readonly onMessage?: (o: ProtectedRequestOutcome, req: SipRequest) => void;
}

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

function hostOf(uri: string): string {
  const m = /^[a-z]+:(?:[^@]*@)?([^;?:]+|\[[^\]]+\])/i.exec(uri);
  return m?.[1] ?? 'mcx';
}

/** The 200 to a registration (Contact with the granted expires, RFC 3261 §10.3 step 8). */
function okResponse(req: SipRequest, o: RegistrationOutcome): SipResponse {
  const headers =
    o.kind === 'bind' && o.contact !== undefined && o.expiresS !== undefined
      ? [
          { name: 'Contact', value: `<${o.contact}>;expires=${o.expiresS}` },
          { name: 'Expires', value: String(o.expiresS) },
        ]
      : [];
  return createSipResponse(req, 200, { headers });
}

/** Handles one request (exported for tests and for proxies that route to the MCX function). */
export async function answerMcxRequest(service: McxServerService, req: SipRequest, from: Pick<SipInbound, 'transport' | 'remote'>, opts: McxSipOptions = {}): Promise<SipResponse | undefined> {
  const log = opts.log ?? (() => undefined);
  if (req.method === 'ACK') return undefined;
  const allow = opts.messaging === undefined ? MCX_ALLOW : `${MCX_ALLOW}, ${PROTECTED_METHODS.join(', ')}`;
  if (req.method === 'OPTIONS') return createSipResponse(req, 200, { headers: [{ name: 'Allow', value: allow }] });
  if (opts.messaging !== undefined && PROTECTED_METHODS.includes(req.method)) return answerProtectedRequest(opts.messaging, req, from, { ...opts, agent: opts.agent ?? hostOf(service.config.mdsi) });
  if (req.method !== 'REGISTER' && req.method !== 'PUBLISH') {
    return createSipResponse(req, 405, { headers: [{ name: 'Allow', value: allow }] });
  }
  try {
    const o = await service.handleRegistration(req, { transport: from.transport, address: from.remote.address, port: from.remote.port });
    log({ op: o.cskId === undefined ? 'register' : 'csk-upload', method: req.method, status: 200, user: o.userUri, transport: from.transport, ...(o.cskId === undefined ? {} : { cskId: hex8(o.cskId) }), ...(o.authorisations.length === 0 ? {} : { authorised: o.authorisations.map((x) => x.service).join(',') }) });
    return okResponse(req, o);
  } catch (err) {
    const e = sipErrorStatus(err, opts.agent ?? hostOf(service.config.mdsi));
    const field = typeof err === 'object' && err !== null && 'field' in err && typeof err.field === 'string' ? err.field : undefined;
    log({ op: 'refused', method: req.method, status: e.status, code: e.code, transport: from.transport, ...(field === undefined ? {} : { field }) });
    // §5.2.8.2.3, Annex D.4.1: a KMS redirect is a 488 carrying the KRR.
    if (err instanceof KmsRedirectError) return kmsRedirectResponse(req, err.krr, { headers: [{ name: 'Warning', value: e.warning }] });
    return createSipResponse(req, e.status, { reason: e.reason, headers: [{ name: 'Warning', value: e.warning }] });
  }
}

/** Serves the MCX function on an endpoint; returns a function that stops serving. */
export function serveMcxSip(endpoint: SipEndpoint, service: McxServerService, opts: McxSipOptions = {}): () => void {
  const transactions = new ServerTransactions();
  const onRequest = (req: SipRequest, from: SipInbound): void => {
    void (async () => {
      let key: string | undefined;
      try {
        key = ServerTransactions.keyOf(req);
      } catch {
        key = undefined;
      }
      if (key !== undefined && req.method !== 'ACK') {
        const seen = transactions.begin(key);
        if (seen === 'absorb') return;
        if (seen !== 'new') {
          await from.respond(seen);
          return;
        }
      }
      let res: SipResponse | undefined;
      try {
        res = await answerMcxRequest(service, req, from, opts);
      } catch {
        // answerMcxRequest maps every refusal; this is a response that could not be built at all
        res = createSipResponse(req, 500);
      }
      if (res === undefined) return;
      if (key !== undefined) transactions.complete(key, res);
      await from.respond(res);
    })().catch(() => undefined);
  };
  endpoint.on('request', onRequest);
  return () => {
    endpoint.off('request', onRequest);
  };
}

/** Key downloads through `endpoint`, from its address on the registration's transport. */
export function keyDownloadTransport(endpoint: SipEndpoint): KeyDownloadTransport {
  return {
    via(reg: McxRegistration) {
      const a = endpoint.address(reg.transport);
      return { transport: reg.transport, host: a?.address ?? '127.0.0.1', ...(a === undefined ? {} : { port: a.port }) };
    },
    request(req: SipRequest, reg: McxRegistration) {
      return endpoint.request(req, { transport: reg.transport, host: reg.host, port: reg.port });
    },
  };
}
