/**
 * What an operator does to stand a KMS up (TS 33.180 §5.3): make the domain's master keys, add
 * users, provision key sets ahead of time in bulk, issue the TrK / InK that are distributed to a
 * client out of band (§5.3.3: "initially distributed via an out-of-band mechanism along with
 * their 32-bit identifiers"), and load the certificates of trusted External KMSs (§5.2.8.3:
 * "External KMS Certificates shall be manually loaded onto the Home KMS").
 */
import { randomBytes } from 'node:crypto';
import { generateEccsiKmsKey, generateSakkeKmsKey } from '../../crypto/index.js';
import { ConfigError, ErrorCode } from '../../errors/index.js';
import { decodeKmsResponse, type KmsCertificate } from '../../formats/kms-xml/index.js';
import type { KmsDomain, KmsStore } from '../../store/index.js';
import { toHex } from '../../util/index.js';
import { KeyIssuer, keyPeriodNoOf } from './key-issuer.js';
import { externalCertificateToJson } from './kms-service.js';

export interface DomainSettings {
  readonly kmsUri: string;
  /** Seconds per user key period (D.3.2.2 UserKeyPeriod; e.g. 2419200 = 28 days). */
  readonly userKeyPeriod: number;
  /** Seconds from 1900-01-01 where periods start (D.3.2.2 UserKeyOffset). */
  readonly userKeyOffset: number;
}

/** Makes the domain with fresh master keys (z, KSAK), unless it exists; returns the stored one. */
export async function initDomain(store: KmsStore, s: DomainSettings): Promise<{ readonly domain: KmsDomain; readonly created: boolean }> {
  const held = await store.getDomain(s.kmsUri);
  if (held !== undefined) return { domain: held, created: false };
  if (!Number.isSafeInteger(s.userKeyPeriod) || s.userKeyPeriod < 1 || !Number.isSafeInteger(s.userKeyOffset) || s.userKeyOffset < 0) {
    throw new ConfigError(ErrorCode.CONFIG, { field: '--user-key-period', rule: 'period must be a positive and offset a non-negative integer of seconds', clause: 'TS 33.180 Annex D.3.2.2' });
  }
  const sakke = generateSakkeKmsKey();
  const eccsi = generateEccsiKmsKey();
  const domain = await store.createDomain({ ...s, pubEncKey: sakke.zT, pubAuthKey: eccsi.kpak, z: sakke.z, ksak: eccsi.ksak });
  sakke.z.fill(0);
  eccsi.ksak.fill(0);
  return { domain, created: true };
}

async function domainOf(store: KmsStore, kmsUri: string): Promise<KmsDomain> {
  const d = await store.getDomain(kmsUri);
  if (d === undefined) throw new ConfigError(ErrorCode.CONFIG, { field: '--kms-uri', rule: `no domain ${kmsUri} in this store: run mcsec kms init-domain first` });
  return d;
}

/**
 * Provisions key sets for `userUris` for the periods at `at` and, with `next`, the following one,
 * storing them (existing ones are kept). Calls `progress(done, total)` after each user.
 */
export async function provisionKeySets(
  store: KmsStore,
  kmsUri: string,
  userUris: readonly string[],
  o: { readonly at?: Date | undefined; readonly next?: boolean | undefined; readonly progress?: ((done: number, total: number) => void) | undefined } = {},
): Promise<number> {
  const domain = await domainOf(store, kmsUri);
  const issuer = new KeyIssuer(store, domain);
  const first = keyPeriodNoOf(domain, o.at ?? new Date());
  const periods = o.next === true ? [first, first + 1] : [first];
  let made = 0;
  for (const [i, uri] of userUris.entries()) {
    for (const p of periods) {
      if ((await store.getKeySet(kmsUri, uri, p)) === undefined) {
        await store.putKeySet(issuer.make(uri, p));
        made += 1;
      }
    }
    o.progress?.(i + 1, userUris.length);
  }
  return made;
}

/** A TrK and InK with their 32-bit IDs (§5.3.3), to hand to the client out of band. */
export interface IssuedClientKeys {
  readonly userUri: string;
  readonly trkId: string;
  readonly trk: string;
  readonly inkId: string;
  readonly ink: string;
}

/** Issues a 256-bit TrK and a 256-bit InK for a user of the domain, with random 32-bit IDs. */
export async function issueClientKeys(store: KmsStore, kmsUri: string, userUri: string): Promise<IssuedClientKeys> {
  await domainOf(store, kmsUri);
  if (!(await store.hasUser(kmsUri, userUri))) throw new ConfigError(ErrorCode.CONFIG, { field: 'userUri', rule: 'must be a user of the domain: add it first' });
  for (;;) {
    const trkId = toHex(new Uint8Array(randomBytes(4)));
    const inkId = toHex(new Uint8Array(randomBytes(4)));
    const trk = new Uint8Array(randomBytes(32));
    const ink = new Uint8Array(randomBytes(32));
    // Not the new TrK-ID of a pending rotation either (client-key-rotation.ts).
    if ((await store.findClientKeyRotation(trkId)) !== undefined) continue;
    const stored = await store.putClientKeys({ clientId: trkId, trk, ink, inkId, userUri });
    if (stored.userUri === userUri && stored.inkId === inkId) return { userUri, trkId, trk: toHex(trk), inkId, ink: toHex(ink) };
    // A 32-bit ID already in use: draw again.
  }
}

/**
 * Loads the certificate of a trusted External KMS from a KMS response holding it (a KmsInit, or a
 * KmsCertCache with one certificate), as that KMS serves it (§5.2.8.3).
 */
export async function addExternalCertificate(store: KmsStore, kmsUri: string, responseXml: string, migration: boolean): Promise<KmsCertificate> {
  await domainOf(store, kmsUri);
  const r = decodeKmsResponse(responseXml);
  const m = r.kmsMessage;
  const certs = m === undefined ? [] : 'init' in m ? [m.init.certificate] : 'certCache' in m ? m.certCache.certificates : [];
  const [cert] = certs;
  if (cert === undefined || certs.length !== 1) {
    throw new ConfigError(ErrorCode.CONFIG, { field: 'certificate', rule: 'must be a KMS response holding exactly one KmsCertificate (KmsInit or KmsCertCache)', clause: 'TS 33.180 Annex D.3.2' });
  }
  if (cert.kmsUri === kmsUri) throw new ConfigError(ErrorCode.CONFIG, { field: 'certificate.KmsUri', rule: "is this KMS's own URI, not an External KMS" });
  await store.putExternalCertificate({ kmsUri, extKmsUri: cert.kmsUri, certificate: externalCertificateToJson(cert), migration });
  return cert;
}
