/**
 * The IdMS's user interaction (TS 33.180 §5.1.2.3.2 steps 3a/3b, Annex C.1 steps 3b-3c), as
 * fastify routes beside oidc-provider: oidc-provider sends the browser to /interaction/<uid>;
 *
 *   GET  /interaction/:uid        login prompt: the login form (login-page.ts); consent prompt
 *                                 (a known session): the grant policy applies and the browser
 *                                 goes on at once (grant-policy.ts: the operator registered the
 *                                 client, B.3, so there is no consent page)
 *   POST /interaction/:uid/login  username (MC ID) + password (check-credentials.ts); wrong →
 *                                 the form again with one message; right → login and consent
 *                                 results, acr 3gpp:acr:password, amr pwd, 303 to oidc-provider
 *   POST /interaction/:uid/abort  access_denied to the client
 *
 * The interaction is bound to the browser by oidc-provider's signed, SameSite=Lax cookie, which a
 * cross-site form post does not carry. Pages are no-store with a restrictive CSP.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import type { KyselyIdmsStore } from '../../store/index.js';
import { checkCredentials } from './check-credentials.js';
import type { IdmsConfig } from './config.js';
import { applyGrantPolicy } from './grant-policy.js';
import { PAGE_CSP, renderErrorPage, renderLoginPage } from './login-page.js';
import { PASSWORD_ACR, splitScope } from './scopes.js';

/** What the routes need. */
export interface InteractionDeps {
  readonly provider: () => Provider;
  readonly store: KyselyIdmsStore;
  readonly config: IdmsConfig;
  readonly logger: Logger;
}

const FORM_LIMIT = 8 * 1024;

function sendPage(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', PAGE_CSP)
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff')
    .send(body);
}

const stale = (reply: FastifyReply): FastifyReply =>
  sendPage(reply, 400, renderErrorPage('Sign-in expired', '<p>This sign-in is no longer valid. Start again from the application.</p>'));

/** Registers the interaction routes on `app`. */
export function registerInteractionRoutes(app: FastifyInstance, d: InteractionDeps): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_LIMIT }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(typeof body === 'string' ? body : body.toString('utf8'))));
  });

  const details = async (req: FastifyRequest<{ Params: { uid: string } }>, reply: FastifyReply) => {
    try {
      const i = await d.provider().interactionDetails(req.raw, reply.raw);
      return i.uid === req.params.uid ? i : undefined;
    } catch {
      return undefined;
    }
  };
  const clientName = async (clientId: unknown): Promise<string> => {
    const c = typeof clientId === 'string' ? await d.provider().Client.find(clientId) : undefined;
    return c?.clientName ?? c?.clientId ?? 'the MC client';
  };

  app.get<{ Params: { uid: string } }>('/interaction/:uid', async (req, reply) => {
    const i = await details(req, reply);
    if (i === undefined) return stale(reply);
    const clientId = String(i.params['client_id'] ?? '');
    if (i.prompt.name === 'consent' && i.session?.accountId !== undefined) {
      const user = await d.store.getUserBySub(i.session.accountId);
      if (user !== undefined && !user.disabled) {
        const grantId = await applyGrantPolicy(d.provider(), { grantId: i.grantId, clientId, user, params: i.params, config: d.config });
        const to = await d.provider().interactionResult(req.raw, reply.raw, { consent: { grantId } }, { mergeWithLastSubmission: true });
        return reply.code(303).header('location', to).header('cache-control', 'no-store').send();
      }
    }
    return sendPage(reply, 200, renderLoginPage({ uid: i.uid, client: await clientName(clientId), scopes: splitScope(i.params['scope']) }));
  });

  app.post<{ Params: { uid: string }; Body: Record<string, string> | undefined }>('/interaction/:uid/login', async (req, reply) => {
    const i = await details(req, reply);
    if (i === undefined) return stale(reply);
    const clientId = String(i.params['client_id'] ?? '');
    const body = req.body ?? {};
    const username = typeof body['username'] === 'string' ? body['username'] : '';
    const user = await checkCredentials(d.store, username, typeof body['password'] === 'string' ? body['password'] : '');
    if (user === undefined) {
      d.logger.warn({ op: 'login', client: clientId, code: 'ERR_UNAUTHORIZED' }, 'login refused');
      return sendPage(reply, 200, renderLoginPage({ uid: i.uid, client: await clientName(clientId), scopes: splitScope(i.params['scope']), username, failed: true }));
    }
    const grantId = await applyGrantPolicy(d.provider(), { grantId: i.grantId, clientId, user, params: i.params, config: d.config });
    const to = await d.provider().interactionResult(
      req.raw,
      reply.raw,
      { login: { accountId: user.sub, acr: PASSWORD_ACR, amr: ['pwd'], remember: false }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
    d.logger.info({ op: 'login', client: clientId }, 'login accepted');
    return reply.code(303).header('location', to).header('cache-control', 'no-store').send();
  });

  app.post<{ Params: { uid: string } }>('/interaction/:uid/abort', async (req, reply) => {
    const i = await details(req, reply);
    if (i === undefined) return stale(reply);
    const to = await d.provider().interactionResult(req.raw, reply.raw, { error: 'access_denied', error_description: 'the user cancelled the sign-in' }, { mergeWithLastSubmission: false });
    return reply.code(303).header('location', to).header('cache-control', 'no-store').send();
  });
}
