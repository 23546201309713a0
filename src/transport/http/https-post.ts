/**
 * One HTTPS POST with a size-capped answer, for the clients of mcsec servers (KMS requests,
 * D.2.1). Trusts the system CAs plus `caPem` when given (a lab KMS with its self-signed
 * certificate); never turns verification off.
 */
import { request } from 'node:https';
import { ErrorCode, McsecError } from '../../errors/index.js';

export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: string;
}

export interface PostOptions {
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly caPem?: string | undefined;
  readonly timeoutMs?: number | undefined;
  readonly maxBytes?: number | undefined;
}

export function httpsPost(url: string, body: string, o: PostOptions = {}): Promise<HttpAnswer> {
  const max = o.maxBytes ?? 1 << 20;
  return new Promise((resolve, reject) => {
    const fail = (rule: string): McsecError => new McsecError(ErrorCode.IO, { field: 'https', rule });
    let req: ReturnType<typeof request>;
    try {
      req = request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(body)), ...o.headers },
        ...(o.caPem === undefined ? {} : { ca: o.caPem }),
        timeout: o.timeoutMs ?? 15_000,
      }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > max) req.destroy(fail(`answer from ${new URL(url).origin} exceeds ${max} octets`));
          else chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => reject(e instanceof McsecError ? e : fail(`reading the answer failed: ${e.message}`)));
      });
    } catch (e) {
      reject(fail(`cannot POST to ${url}: ${e instanceof Error ? e.message : String(e)}`));
      return;
    }
    req.on('timeout', () => req.destroy(fail(`no answer from ${url} in time`)));
    req.on('error', (e) => reject(e instanceof McsecError ? e : fail(`POST ${url} failed: ${e.message}`)));
    req.end(body);
  });
}
