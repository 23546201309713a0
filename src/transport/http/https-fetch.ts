/**
 * A Fetch API function over node:https that trusts the system CAs plus `caPem` (a lab IdMS or
 * KMS with its self-signed certificate, TS 33.180 Annex B.12), for libraries that accept a custom
 * fetch (openid-client's `customFetch`, jose's). It never follows redirects (3xx answers come back
 * as they are, `Location` included: the caller decides), caps the answer size, and never turns
 * certificate verification off. Plain http is allowed to loopback addresses only.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ErrorCode, McsecError } from '../../errors/index.js';

/** What the fetch function accepts. */
export interface FetchInit {
  readonly method?: string | undefined;
  readonly headers?: Readonly<Record<string, string>> | Headers | undefined;
  readonly body?: string | URLSearchParams | Uint8Array | ArrayBuffer | null | undefined | ReadableStream;
  readonly signal?: AbortSignal | null | undefined;
  readonly redirect?: string | undefined;
}

/** Options of `httpsFetch`. */
export interface HttpsFetchOptions {
  readonly caPem?: string | undefined;
  readonly maxBytes?: number | undefined;
  readonly timeoutMs?: number | undefined;
}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);
const NULL_BODY = new Set([101, 204, 205, 304]);

async function bodyBytes(body: FetchInit['body']): Promise<Uint8Array | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (body instanceof URLSearchParams) return new TextEncoder().encode(body.toString());
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  return new Uint8Array(await new Response(body).arrayBuffer());
}

function headersOf(res: IncomingMessage): Headers {
  const h = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    if (name !== undefined && value !== undefined) h.append(name, value);
  }
  return h;
}

/** Makes a fetch function trusting `caPem` besides the system CAs. */
export function httpsFetch(o: HttpsFetchOptions = {}): (url: string | URL, init?: FetchInit) => Promise<Response> {
  const max = o.maxBytes ?? 1 << 20;
  return async (input, init = {}) => {
    const url = new URL(input.toString());
    const fail = (rule: string): McsecError => new McsecError(ErrorCode.IO, { field: 'https', rule });
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
      throw fail(`${url.origin} must be https (TS 33.180 Annex B.12)`);
    }
    const body = await bodyBytes(init.body);
    const headers: Record<string, string> = {};
    if (init.headers instanceof Headers) init.headers.forEach((v, k) => (headers[k] = v));
    else if (init.headers !== undefined) Object.assign(headers, init.headers);
    if (body !== undefined) headers['content-length'] = String(body.length);
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<Response>((resolve, reject) => {
      const req = request(
        url,
        {
          method: init.method ?? 'GET',
          headers,
          timeout: o.timeoutMs ?? 15_000,
          ...(init.signal === null || init.signal === undefined ? {} : { signal: init.signal }),
          ...(o.caPem === undefined || url.protocol !== 'https:' ? {} : { ca: o.caPem }),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > max) req.destroy(fail(`answer from ${url.origin} exceeds ${max} octets`));
            else chunks.push(c);
          });
          res.on('end', () => {
            const status = res.statusCode ?? 500;
            resolve(new Response(NULL_BODY.has(status) ? null : Buffer.concat(chunks), { status, headers: headersOf(res) }));
          });
          res.on('error', (e) => reject(e instanceof McsecError ? e : fail(`reading the answer from ${url.origin} failed: ${e.message}`)));
        },
      );
      req.on('timeout', () => req.destroy(fail(`no answer from ${url.origin} in time`)));
      req.on('error', (e) => reject(e instanceof McsecError ? e : fail(`${init.method ?? 'GET'} ${url.origin}${url.pathname} failed: ${e.message}`)));
      req.end(body);
    });
  };
}
