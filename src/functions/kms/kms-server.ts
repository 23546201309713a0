/**
 * `mcsec kms serve`: the KMS of kms-service.ts on HTTPS (fastify), routes under
 * /keymanagement/identity/v1 (TS 33.180 Annex D.2.1), every one a POST with the D.2.2 request XML.
 * Bodies are capped (256 KiB); answers are XML (application/xml); errors are a KmsResponse with a
 * KmsError (D.3.5.1 ErrorType: ErrorCode = the HTTP status, ErrorMsg = code, field and rule) when
 * the request named its user, plain text otherwise, with the status of wire-errors.ts; 401 carries
 * `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3).
 * Log lines (pino) name the operation, user, key period, status and time; never a key, token or body.
 */
import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import { ErrorCode } from '../../errors/index.js';
import { KMS_REQUEST_MAX_OCTETS, KMS_XML_CONTENT_TYPE, decodeKmsRequest, encodeKmsResponse } from '../../formats/kms-xml/index.js';
import { toWireError } from '../wire-errors.js';
import { KMS_BASE_PATH, type KmsService } from './kms-service.js';

export interface KmsServerOptions {
  readonly service: KmsService;
  readonly tls: { readonly cert: string; readonly key: string };
  readonly logger: Logger;
  /** The origin clients use (scheme://host:port), to rebuild the resource URI for ClientReqUrl. */
  readonly publicOrigin?: string | undefined;
}

/** Builds the fastify app (not listening). */
export function buildKmsServer(o: KmsServerOptions) {
  const app = Fastify({
    https: { cert: o.tls.cert, key: o.tls.key, minVersion: 'TLSv1.2' },
    loggerInstance: o.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: KMS_REQUEST_MAX_OCTETS,
    return503OnClosing: true,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: KMS_REQUEST_MAX_OCTETS }, (_req, body, done) => done(null, body));

  app.post(`${KMS_BASE_PATH}/*`, async (req, reply) => {
    const started = process.hrtime.bigint();
    const path = (req.params as { '*'?: string })['*'] ?? '';
    const host = req.headers.host ?? 'localhost';
    const origin = o.publicOrigin ?? `https://${host}`;
    const resourceUri = `${origin}${req.url.split('?')[0] ?? ''}`;
    const body = typeof req.body === 'string' ? req.body : '';
    try {
      const a = await o.service.handle({ path, resourceUri, body, authorization: req.headers.authorization });
      req.log.info({ op: a.operation, user: a.user, keyPeriodNo: a.keyPeriodNo, rotation: a.rotation, status: a.status, ms: ms(started) }, 'kms request');
      if (a.status === 204) return reply.code(204).send();
      return reply.code(200).type(KMS_XML_CONTENT_TYPE).send(a.body);
    } catch (e) {
      const w = toWireError(e);
      const user = userOf(body);
      req.log[w.status === 500 ? 'error' : 'warn']({ op: path.split('/')[0], user, status: w.status, code: w.code, ms: ms(started), ...(w.status === 500 ? { err: e } : {}) }, 'kms request refused');
      if (w.status === 401) reply.header('www-authenticate', 'Bearer error="invalid_token"');
      if (user === undefined) return reply.code(w.status).type('text/plain').send(`${w.code} ${w.message}\n`);
      const xml = encodeKmsResponse({
        userUri: user,
        kmsUri: o.service.kmsUri,
        clientReqUrl: resourceUri,
        kmsError: { errorCode: w.status, errorMsg: `${w.code} ${w.message}` },
      });
      return reply.code(w.status).type(KMS_XML_CONTENT_TYPE).send(xml);
    }
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).type('text/plain').send(`${ErrorCode.NOT_FOUND} ${req.method} ${req.url.split('?')[0] ?? ''}: KMS resources are POSTs under ${KMS_BASE_PATH} (TS 33.180 Annex D.2.1)\n`);
  });
  app.setErrorHandler((err, req, reply) => {
    // fastify's own refusals (body too large, bad content) come here.
    const sc: unknown = typeof err === 'object' && err !== null ? Reflect.get(err, 'statusCode') : undefined;
    const status = typeof sc === 'number' && sc >= 400 && sc < 500 ? sc : 500;
    const code = status === 413 ? ErrorCode.TOO_LARGE : status === 500 ? ErrorCode.INTERNAL : ErrorCode.BAD_VALUE;
    req.log.warn({ status, code }, 'kms request refused');
    reply.code(status).type('text/plain').send(`${code} ${status === 413 ? `request body must be at most ${KMS_REQUEST_MAX_OCTETS} octets` : status === 500 ? 'internal error' : 'bad request'}\n`);
  });
  return app;
}

const ms = (started: bigint): number => Number((process.hrtime.bigint() - started) / 1000n) / 1000;

/** The UserUri of a request that decodes, for the error answer; undefined otherwise. */
function userOf(body: string): string | undefined {
  try {
    return decodeKmsRequest(body).userUri;
  } catch {
    return undefined;
  }
}
