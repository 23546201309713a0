/**
 * SIP glue of protected MESSAGE / INFO at the MCX server (protected-message.ts, TS 33.180 §9.3,
 * §9.6): an accepted request gets a 200 and is handed to `onMessage`; a refused one gets the
 * answer of formats/sip/error-status.ts (400 malformed; 403 signature, decryption, stripped
 * signature, EAR refusals; 488 an unknown XPK-ID or a key of the wrong purpose or link) with a
 * Warning naming code and field, and is handed to nobody. Log lines name the user, the method and
 * the XPK-ID; never a key, a body or a decrypted value.
 */
import { createSipResponse, sipErrorStatus, type SipRequest, type SipResponse } from '../../formats/sip/index.js';
import type { SipInbound } from '../../transport/sip/index.js';
import type { McxMessaging } from './protected-message.js';
import type { McxSipOptions } from './sip.js';

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

/** Answers one protected request (MESSAGE / INFO). */
export async function answerProtectedRequest(
  messaging: McxMessaging,
  req: SipRequest,
  from: Pick<SipInbound, 'transport' | 'remote'>,
  opts: McxSipOptions & { readonly agent: string },
): Promise<SipResponse> {
  const log = opts.log ?? (() => undefined);
  try {
    const o = await messaging.handleRequest(req);
    const xpkId = o.bodies.flatMap((b) => b.xpkIds)[0];
    log({ op: 'protected-request', method: req.method, status: 200, user: o.userUri, transport: from.transport, ...(xpkId === undefined ? {} : { xpkId: hex8(xpkId) }) });
    opts.onMessage?.(o, req);
    return createSipResponse(req, 200);
  } catch (err) {
    const e = sipErrorStatus(err, opts.agent);
    const field = typeof err === 'object' && err !== null && 'field' in err && typeof err.field === 'string' ? err.field : undefined;
    log({ op: 'refused', method: req.method, status: e.status, code: e.code, transport: from.transport, ...(field === undefined ? {} : { field }) });
    return createSipResponse(req, e.status, { reason: e.reason, headers: [{ name: 'Warning', value: e.warning }] });
  }
}
