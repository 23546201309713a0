/**
 * Self-signed X.509 certificates with ECDSA P-256 keys, on @peculiar/x509 (node:crypto reads
 * certificates but cannot write one). Used for the TLS certificate a server makes in its data
 * directory when none is given, and for the signing certificate of KMS Redirect Responses
 * (TS 33.180 Annex D.4.3: ECDSA-SHA256 with the X.509 certificate in KeyInfo).
 */
import { KeyObject, X509Certificate as NodeX509, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** A certificate with its private key, as PEM and as node:crypto objects. */
export interface CertifiedKey {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  /** DER of the certificate. */
  readonly certificate: Uint8Array;
  readonly privateKey: KeyObject;
}

export interface SelfSignedOptions {
  /** Subject common name. */
  readonly commonName: string;
  /** DNS names and IP addresses for subjectAltName (TLS). */
  readonly altNames?: readonly string[] | undefined;
  readonly days?: number | undefined;
  readonly now?: Date | undefined;
}

/** Makes an ECDSA P-256 key and a self-signed certificate for it (SHA-256). */
export async function createSelfSignedCertificate(o: SelfSignedOptions): Promise<CertifiedKey> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const notBefore = new Date((o.now ?? new Date()).getTime() - 60_000);
  const notAfter = new Date(notBefore.getTime() + (o.days ?? 825) * 86_400_000);
  const names = (o.altNames ?? []).map((n) => (isIP(n) === 0 ? { type: 'dns' as const, value: n } : { type: 'ip' as const, value: n }));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex').replace(/^[89a-f]/, '1'),
    name: `CN=${o.commonName.replace(/[,+"\\<>;=]/g, '_')}`,
    notBefore,
    notAfter,
    keys: keys as unknown as x509.X509CertificateCreateSelfSignedParams['keys'],
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
    ],
  });
  const privateKey = KeyObject.from(keys.privateKey);
  const certificate = new Uint8Array(cert.rawData);
  new NodeX509(certificate); // node:crypto reads it back
  return Object.freeze({
    certificatePem: cert.toString('pem'),
    privateKeyPem: String(privateKey.export({ type: 'pkcs8', format: 'pem' })),
    certificate,
    privateKey,
  });
}
