/**
 * The key management client of TS 33.180 §5.3.3 and Annex D: it asks its home KMS for the KMS
 * certificate (init, D.2.3), the user's key sets (keyprov, D.2.4: the current period and, ahead of
 * time, the next) and the External KMS certificates (certcache, D.2.5); verifies each response's
 * signature with the InK or TrK (D.3.1), unwraps key material with the TrK, validates every RSK
 * (RFC 6508 §6.1.2, with the subgroup check of prepareRsk) and SSK/PVT (RFC 6507 §5.1.2) against
 * the UserID the KMS sent, and only then stores them (client key store).
 *
 * It accepts what Annex D allows: plain or wrapped key sets, either hex case, the xsi:type forms of
 * KmsInit / KmsKeyProv, a KmsUri with or without a scheme. A KMS whose certificate's KmsUri is not
 * among the configured ones is refused (§5.2.8.3: a user only takes keys from its home KMS).
 * The KeyPeriodNo and UserID the KMS sends are what is stored; where they differ from this
 * client's own F.2.1 computation (a KMS counting periods from the Unix epoch, say), the result
 * reports it in `disagreements` instead of hiding it.
 * A new TrK / InK in a KmsInit or KmsKeyProv (§5.3.3 step 2) is checked and unwrapped by
 * kms-key-rotation.ts, kept sealed in `keyStore` first, and used from the next request on.
 */
import {
  SakkePublicKey,
  deriveUid,
  keyPeriodNoAt,
  prepareRsk,
  validateEccsiPair,
} from '../crypto/index.js';
import { CryptoError, ErrorCode, PolicyError } from '../errors/index.js';
import {
  encodeKmsRequest,
  openKmsResponse,
  toXsdDateTime,
  verifyCertificateSignatures,
  type KmsCertificate,
  type KmsKeyContent,
  type KmsResponse,
  normaliseKmsUri as normalise,
} from '../formats/kms-xml/index.js';
import { httpsPost } from '../transport/http/index.js';
import { equalBytes, fromHex, toHex } from '../util/index.js';
import type { ClientKeyStore, StoredKeySet } from './key-store.js';
import { openNewClientKeys, type ClientTransportKeys } from './kms-key-rotation.js';

const BASE = '/keymanagement/identity/v1';
const NTP_UNIX_OFFSET = 2_208_988_800;

export interface KmsClientOptions {
  /** The KMS origin, e.g. https://kms.example.org:8443 (resources go under /keymanagement/identity/v1). */
  readonly kmsUrl: string;
  /** KMS URIs this client may take keys from (its home KMS); compared without scheme or case. */
  readonly allowedKmsUris: readonly string[];
  readonly userUri: string;
  /** The access token (§5.1.3), sent as a Bearer token. */
  readonly accessToken: string;
  readonly clientId?: string | undefined;
  readonly deviceId?: string | undefined;
  /** Where a new TrK / InK from the KMS is kept (sealed) before it is used (§5.3.3 step 2). */
  readonly keyStore?: ClientKeyStore | undefined;
  /** The TrK with its TrK-ID, and the InK with its InK-ID, as distributed out of band (§5.3.3). */
  readonly trk?: { readonly id: string; readonly key: Uint8Array } | undefined;
  readonly ink?: { readonly id: string; readonly key: Uint8Array } | undefined;
  /**
   * Refuse External certificates that do not come as SignedKmsCertificates signed by the home KMS
   * (D.3.5.1; default false: unsigned ones are taken from the authenticated home KMS as they are,
   * while a signed one must always verify).
   */
  readonly requireSignedCertificates?: boolean | undefined;
  /** PEM of a CA (or the KMS's self-signed certificate) to trust besides the system ones. */
  readonly caPem?: string | undefined;
  readonly now?: (() => Date) | undefined;
}

/** Where a KMS and this client disagree on a key period (reported, not hidden). */
export interface PeriodDisagreement {
  readonly keyPeriodNo: number;
  readonly ownKeyPeriodNo: number;
  readonly rule: string;
}

export interface FetchResult {
  readonly certificate: KmsCertificate;
  readonly keySets: readonly StoredKeySet[];
  readonly externalCertificates: readonly KmsCertificate[];
  readonly disagreements: readonly PeriodDisagreement[];
  readonly signature: 'valid' | 'absent';
}

const plainKey = (c: KmsKeyContent, field: string): Uint8Array => {
  if ('key' in c) return c.key;
  throw new CryptoError(ErrorCode.DECRYPT, { field, rule: 'is wrapped: the TrK is needed to unwrap it', clause: 'TS 33.180 Annex D.3.1' });
};

export class KmsClient {
  readonly #o: KmsClientOptions;
  readonly #now: () => Date;
  /** The TrK / InK in use: the configured ones until the KMS sends new ones. */
  #keys: ClientTransportKeys;

  constructor(o: KmsClientOptions) {
    this.#o = o;
    this.#now = o.now ?? (() => new Date());
    this.#keys = Object.freeze({ trk: o.trk, ink: o.ink });
  }

  /** The TrK / InK this client names in its next request (the KMS may have rotated them). */
  get clientKeys(): ClientTransportKeys {
    return this.#keys;
  }

  /** One request/response round (D.2.2 → D.3.1), decoded, verified and unwrapped. */
  async call(resource: string): Promise<KmsResponse> {
    return (await this.#round(resource)).response;
  }

  /** `call`, with the response text it verified (for checks on the document itself). */
  async #round(resource: string): Promise<{ readonly response: KmsResponse; readonly body: string }> {
    const o = this.#o;
    const url = `${o.kmsUrl.replace(/\/+$/, '')}${BASE}/${resource}`;
    const held = this.#keys;
    const signer = held.ink ?? held.trk;
    const body = encodeKmsRequest(
      {
        userUri: o.userUri,
        kmsUri: o.allowedKmsUris[0] ?? '',
        time: toXsdDateTime(this.#now()),
        clientId: o.clientId,
        deviceId: o.deviceId,
        clientReqUrl: url,
        trkId: held.trk?.id,
        signatureId: signer?.id,
      },
      signer?.key,
    );
    const answer = await httpsPost(url, body, { headers: { authorization: `Bearer ${o.accessToken}` }, caPem: o.caPem });
    if (answer.status !== 200) {
      const msg = /<(?:\w+:)?ErrorMsg>([^<]*)</.exec(answer.body)?.[1] ?? answer.body.trim().slice(0, 300);
      throw new PolicyError(answer.status === 401 ? ErrorCode.UNAUTHORIZED : answer.status === 404 ? ErrorCode.NOT_FOUND : ErrorCode.FORBIDDEN, {
        field: `kms.${resource.split('/')[0] ?? ''}`,
        rule: `the KMS answered HTTP ${answer.status}: ${msg}`,
        clause: 'TS 33.180 Annex D.3.1',
      });
    }
    // Verify with the key that signed the request (D.3.1), then check any new TrK / InK and unwrap.
    const verified = openKmsResponse(answer.body, { ink: signer?.key, requireSignature: signer !== undefined });
    const { response, next } = openNewClientKeys(verified.response, held);
    if (!o.allowedKmsUris.some((u) => normalise(u) === normalise(response.kmsUri))) {
      throw new PolicyError(ErrorCode.FORBIDDEN, { field: 'kmsResponse.KmsUri', rule: 'must be a KMS this client is configured to use', clause: 'TS 33.180 §5.2.8.3' });
    }
    if (next !== undefined) {
      // Kept before it is used: the KMS retires the old keys on the first request naming the new ones.
      o.keyStore?.putClientKeys(o.allowedKmsUris[0] ?? '', o.userUri, next, held);
      this.#keys = next;
    }
    return { response, body: answer.body };
  }

  /** init: the home KMS certificate (D.2.3), which must be a Root certificate of an allowed KMS. */
  async init(): Promise<KmsCertificate> {
    const r = await this.call('init');
    const m = r.kmsMessage;
    if (m === undefined || !('init' in m)) throw new PolicyError(ErrorCode.BAD_VALUE, { field: 'kmsResponse.KmsMessage', rule: 'must be a KmsInit', clause: 'TS 33.180 Annex D.3.1' });
    const c = m.init.certificate;
    if (!this.#o.allowedKmsUris.some((u) => normalise(u) === normalise(c.kmsUri)) || (c.role !== undefined && c.role !== 'Root')) {
      throw new PolicyError(ErrorCode.FORBIDDEN, { field: 'kmsResponse.KmsInit.KmsCertificate', rule: 'must be the Root certificate of a configured KMS', clause: 'TS 33.180 §5.2.8.3' });
    }
    return c;
  }

  /**
   * keyprov for the period at `at` (now when absent; D.2.4 time segment otherwise), each key set
   * validated against `cert` before it is returned.
   */
  async keyProv(cert: KmsCertificate, at?: Date): Promise<{ readonly keySets: readonly StoredKeySet[]; readonly disagreements: readonly PeriodDisagreement[] }> {
    const o = this.#o;
    const time = at === undefined ? '' : `/${encodeURIComponent(o.userUri)}/${ntpHex(at)}`;
    const r = await this.call(`keyprov${time}`);
    const m = r.kmsMessage;
    if (m === undefined || !('keyProv' in m)) throw new PolicyError(ErrorCode.BAD_VALUE, { field: 'kmsResponse.KmsMessage', rule: 'must be a KmsKeyProv', clause: 'TS 33.180 Annex D.3.1' });
    const kms = new SakkePublicKey(cert.pubEncKey);
    const keySets: StoredKeySet[] = [];
    const disagreements: PeriodDisagreement[] = [];
    for (const [i, s] of m.keyProv.keySets.entries()) {
      const p = `kmsResponse.KmsKeyProv.KmsKeySet[${i}]`;
      if (s.userUri !== o.userUri) throw new PolicyError(ErrorCode.BAD_VALUE, { field: `${p}.UserUri`, rule: 'must be the user the keys were asked for', clause: 'TS 33.180 Annex D.3.3.2' });
      if (normalise(s.kmsUri) !== normalise(cert.kmsUri)) throw new PolicyError(ErrorCode.BAD_VALUE, { field: `${p}.KmsUri`, rule: 'must be the KMS of the certificate', clause: 'TS 33.180 Annex D.3.3.2' });
      const userId = fromHex(s.userId, `${p}.UserID`);
      const rsk = plainKey(s.userDecryptKey, `${p}.UserDecryptKey`);
      const ssk = plainKey(s.userSigningKeySSK, `${p}.UserSigningKeySSK`);
      const pvt = plainKey(s.userPubTokenPVT, `${p}.UserPubTokenPVT`);
      prepareRsk(kms, userId, rsk); // RFC 6508 §6.1.2 (+ order q)
      validateEccsiPair(cert.pubAuthKey, userId, { ssk, pvt }); // RFC 6507 §5.1.2
      const own = deriveUid({ uri: s.userUri, kmsUri: cert.kmsUri, userKeyPeriod: cert.userKeyPeriod, userKeyOffset: cert.userKeyOffset, keyPeriodNo: s.keyPeriodNo });
      const ownNo = keyPeriodNoAt(at ?? this.#now(), cert.userKeyPeriod, cert.userKeyOffset);
      if (!equalBytes(own, userId)) {
        disagreements.push({ keyPeriodNo: s.keyPeriodNo, ownKeyPeriodNo: ownNo, rule: `UserID ${toHex(userId)} is not the F.2.1 UID of this user for KeyPeriodNo ${s.keyPeriodNo}` });
      } else if (ownNo !== s.keyPeriodNo) {
        disagreements.push({ keyPeriodNo: s.keyPeriodNo, ownKeyPeriodNo: ownNo, rule: `the KMS sent KeyPeriodNo ${s.keyPeriodNo}; F.2.1 gives ${ownNo} for the time asked` });
      }
      keySets.push(Object.freeze({ kmsUri: cert.kmsUri, userUri: s.userUri, keyPeriodNo: s.keyPeriodNo, userId, rsk, ssk, pvt, validFrom: s.validFrom, validTo: s.validTo }));
    }
    return { keySets, disagreements };
  }

  /**
   * certcache: the External KMS certificates (D.2.5). Every SignedKmsCertificate must verify with
   * the PubAuthKey of the home certificate its KeyName names (its CertUri or KmsUri; D.3.5.1);
   * with `requireSignedCertificates`, an unsigned one is refused. `home` is fetched when absent.
   */
  async certCache(home?: KmsCertificate): Promise<readonly KmsCertificate[]> {
    const root = home ?? (await this.init());
    const { response: r, body } = await this.#round('certcache');
    const m = r.kmsMessage;
    if (m === undefined || !('certCache' in m)) throw new PolicyError(ErrorCode.BAD_VALUE, { field: 'kmsResponse.KmsMessage', rule: 'must be a KmsCertCache', clause: 'TS 33.180 Annex D.3.1' });
    const names = [root.certUri, root.kmsUri].filter((n): n is string => n !== undefined).map(normalise);
    verifyCertificateSignatures(body, (keyName) => (names.includes(normalise(keyName)) ? root.pubAuthKey : undefined));
    m.certCache.certificates.forEach((c, i) => {
      if (!c.signed && this.#o.requireSignedCertificates === true) {
        throw new PolicyError(ErrorCode.FORBIDDEN, { field: `kmsResponse.KmsCertCache.KmsCertificate[${i}]`, rule: 'must be a SignedKmsCertificate signed by the home KMS', clause: 'TS 33.180 Annex D.3.5.1' });
      }
    });
    return m.certCache.certificates;
  }

  /**
   * The whole provisioning: init, keyprov now and for the next period, certcache; everything
   * validated, then stored in `store` (nothing is stored when any check fails).
   */
  async fetchAll(store: ClientKeyStore, o: { readonly next?: boolean | undefined } = {}): Promise<FetchResult> {
    const certificate = await this.init();
    const now = await this.keyProv(certificate);
    const keySets = [...now.keySets];
    const disagreements = [...now.disagreements];
    if (o.next !== false) {
      const last = keySets.reduce((m, k) => Math.max(m, k.keyPeriodNo), -1);
      // The start of the next period by the KMS's own numbering (F.2.1: seconds from 1900 + offset).
      const nextStart = (certificate.userKeyOffset + (last + 1) * certificate.userKeyPeriod - NTP_UNIX_OFFSET) * 1000;
      const ahead = await this.keyProv(certificate, new Date(nextStart + 1000));
      keySets.push(...ahead.keySets.filter((k) => !keySets.some((h) => h.keyPeriodNo === k.keyPeriodNo)));
      disagreements.push(...ahead.disagreements);
    }
    const externalCertificates = await this.certCache(certificate);
    store.putCertificate({ ...certificate });
    for (const k of keySets) store.putKeySet(k);
    return Object.freeze({ certificate, keySets, externalCertificates, disagreements, signature: (this.#o.ink ?? this.#o.trk) === undefined ? 'absent' : 'valid' });
  }
}

/** The NTP-UTC 64-bit timestamp of `date` in 16 hex digits (D.2.4 time segment). */
export function ntpHex(date: Date): string {
  const s = Math.floor(date.getTime() / 1000) + NTP_UNIX_OFFSET;
  const frac = Math.floor(((date.getTime() % 1000) / 1000) * 2 ** 32);
  return `${s.toString(16).padStart(8, '0')}${frac.toString(16).padStart(8, '0')}`.toUpperCase();
}
