/**
 * The TLS certificate of an mcsec server (TS 33.180 §5.3.3, Annex B.12: HTTPS to the KMS and the
 * IdMS): the files the operator names, or else a self-signed ECDSA P-256 certificate made once in
 * the data directory (`tls-cert.pem`, `tls-key.pem` 0600) and reused on later starts, so that
 * clients can pin it (`--ca <data-dir>/tls-cert.pem`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSelfSignedCertificate } from '../../crypto/x509.js';
import { ConfigError, ErrorCode } from '../../errors/index.js';

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  /** Where the certificate is, for clients to trust. */
  readonly certPath: string;
  /** It was made just now. */
  readonly created: boolean;
}

function read(path: string, field: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError(ErrorCode.IO, { field, rule: `must name a readable PEM file (${path})` });
  }
}

/** The certificate and key: given files, or the data directory's own (made when missing). */
export async function loadOrCreateTls(o: { readonly dataDir: string; readonly certFile?: string | undefined; readonly keyFile?: string | undefined; readonly hostnames?: readonly string[] | undefined }): Promise<TlsFiles> {
  if (o.certFile !== undefined || o.keyFile !== undefined) {
    if (o.certFile === undefined || o.keyFile === undefined) throw new ConfigError(ErrorCode.USAGE, { field: '--tls-cert', rule: 'and --tls-key go together' });
    return { cert: read(o.certFile, '--tls-cert'), key: read(o.keyFile, '--tls-key'), certPath: o.certFile, created: false };
  }
  const certPath = join(o.dataDir, 'tls-cert.pem');
  const keyPath = join(o.dataDir, 'tls-key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) return { cert: read(certPath, '--data-dir'), key: read(keyPath, '--data-dir'), certPath, created: false };
  const names = [...new Set(['localhost', '127.0.0.1', '::1', ...(o.hostnames ?? [])])];
  const made = await createSelfSignedCertificate({ commonName: names.find((n) => !/^[\d.:]+$/.test(n) && n !== 'localhost') ?? 'localhost', altNames: names });
  try {
    mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(keyPath, made.privateKeyPem, { mode: 0o600 });
    writeFileSync(certPath, made.certificatePem, { mode: 0o644 });
  } catch {
    throw new ConfigError(ErrorCode.IO, { field: '--data-dir', rule: 'must be a folder mcsec can write its TLS certificate to' });
  }
  return { cert: made.certificatePem, key: made.privateKeyPem, certPath, created: true };
}
