/**
 * The KMS of TS 33.180 §5.3 and Annex D, independent of HTTP: one call per request, given the
 * resource path under /keymanagement/identity/v1 (D.2.1), the request XML (D.2.2) and the bearer
 * access token (§5.1.3, §5.3.3). It authorises, checks the request, builds the response of D.3
 * and protects it as D.3.1 says. No state is held here: everything is in the store, so several
 * instances on one PostgreSQL database answer alike.
 *
 *   init                         KmsInit: the Root KmsCertificate of the domain (D.2.3, D.3.2)
 *   keyprov[/<uri>[/<ntp hex>]]  KmsKeyProv: the user's KmsKeySet for the period at that time
 *                                (now without one) (D.2.4, D.3.3)
 *   certcache[/<n>]              KmsCertCache: the External KMS certificates (D.2.5, §5.2.8.3)
 *   cert/<kms uri>               KmsCertCache with that one certificate (D.2.6)
 *   lookup/<uri>                 KmsCertCache with the certificate of the KMS serving <uri> (D.2.7)
 *   redirect/<uri>               KRR upload (D.2.8): stored for audit, answered with no content
 *
 * Protection (D.3.1, §5.3.3): a request naming a TrK-ID the KMS issued to this user gets its key
 * material wrapped under that TrK and the response signed with the InK when the request was signed
 * with it (Signature-ID = InK-ID), else with the TrK. When `requireTrk` is set (public safety, a
 * KMS behind an HTTP proxy) key material is never sent in the clear. A TrK / InK rotation the
 * operator scheduled rides on KmsInit / KmsKeyProv answers and completes on the client's first
 * signed request with the new key (§5.3.3 step 2, D.3; client-key-rotation.ts).
 */
import { randomBytes } from 'node:crypto';
import { kmsSigningKey } from '../../crypto/index.js';
import { ErrorCode, FormatError, McsecError, PolicyError } from '../../errors/index.js';
import {
  KRR_MAX_OCTETS,
  checkKmsRequestFields,
  openKmsRequest,
  encodeKmsResponse,
  toXsdDateTime,
  type KmsCertificateInput,
  type KmsCertificateSigner,
  type KmsMessageInput,
  type KmsRequest,
  sameKmsUri,
} from '../../formats/kms-xml/index.js';
import type { KmsClientKeyRotation, KmsClientKeys, KmsDomain, KmsExternalCertificate, KmsStore } from '../../store/index.js';
import { toHex } from '../../util/index.js';
import { MemoryReplayCache, type ReplayCache } from '../../formats/mikey/index.js';
import { authoriseKeyManagement, type AccessTokenVerifier } from '../authz/index.js';
import { KeyIssuer, keyPeriodBounds, keyPeriodNoOf, keyPeriodNoOfNtp } from './key-issuer.js';
import { clientKeysOfRequest, newKeysOf } from './client-key-rotation.js';

/** The resource root of Annex D.2.1. */
export const KMS_BASE_PATH = '/keymanagement/identity/v1';
const D = 'TS 33.180 Annex D';

export interface KmsServiceOptions {
  readonly store: KmsStore;
  readonly kmsUri: string;
  readonly verifier: AccessTokenVerifier;
  /** Accepted difference between a request's Time and ours, ms (D.2.2 suggests 5 s; default 30 s). */
  readonly requestWindowMs?: number | undefined;
  /** Refuse unsigned requests (D.2.2 optional extension). */
  readonly requireSignedRequests?: boolean | undefined;
  /** Never send key material unwrapped (§5.3.3: public safety users behind an HTTP proxy). */
  readonly requireTrk?: boolean | undefined;
  /** Accept KRR uploads (§5.2.8.5 "Allow KRRs"; default true). */
  readonly acceptKrrs?: boolean | undefined;
  /**
   * Serve External certificates as SignedKmsCertificates signed with this KMS's KSAK (ECDSA P-256,
   * checked with the Root certificate's PubAuthKey; D.3.5.1, example D.3.4.3; default true).
   */
  readonly signExternalCertificates?: boolean | undefined;
  /** Certificate validity written in the KmsCertificate, years from the domain's creation (default 10). */
  readonly certificateYears?: number | undefined;
  readonly now?: (() => Date) | undefined;
  /**
   * Where signed requests are remembered for twice the request window, so that a replayed one is
   * refused (ERR_REPLAY). In memory by default; a RedisReplayCache when several instances serve.
   * Unsigned requests carry no nonce (D.2.2) and cannot be told from replays; keyprov is idempotent.
   */
  readonly replayCache?: ReplayCache | undefined;
  /**
   * Client keys (TrK / InK) older than this, ms, get a rotation of both scheduled by the first
   * request naming them that passes every check (§5.3.3 step 2; client-key-rotation.ts). Default:
   * only the operator schedules rotations (`mcsec kms rotate-client-keys`).
   */
  readonly rotateClientKeysAfterMs?: number | undefined;
  /** Randomness for keys made while serving (rotations by age). */
  readonly rng?: ((n: number) => Uint8Array) | undefined;
}

/** One request as the HTTP layer hands it over. */
export interface KmsCall {
  /** The path below KMS_BASE_PATH, still percent-encoded, without a leading slash. */
  readonly path: string;
  /** The full resource URI the client posted to (compared with ClientReqUrl). */
  readonly resourceUri: string;
  readonly body: string;
  readonly authorization: string | undefined;
}

/** What the HTTP layer sends back. */
export interface KmsAnswer {
  readonly status: 200 | 204;
  readonly body: string;
  /** For logs: the user and operation, never key material. */
  readonly user: string;
  readonly operation: string;
  readonly keyPeriodNo?: number | undefined;
  /** A TrK / InK rotation this answer offered (new keys carried) or completed (§5.3.3). */
  readonly rotation?: 'offered' | 'completed' | undefined;
}

const notFound = (field: string, rule: string, clause = D): PolicyError => new PolicyError(ErrorCode.NOT_FOUND, { field, rule, clause });

function decodeSegment(s: string, field: string): string {
  try {
    const v = decodeURIComponent(s);
    if (v.length === 0 || v.length > 2048) throw new Error('length');
    return v;
  } catch {
    throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'must be a percent-encoded URI of 1 to 2048 characters', clause: 'TS 33.180 Annex D.2.4' });
  }
}


/** The KMS request handler (see the module header). */
export class KmsService {
  readonly #o: KmsServiceOptions;
  readonly #now: () => Date;

  readonly #replay: ReplayCache;

  constructor(o: KmsServiceOptions) {
    this.#o = o;
    this.#now = o.now ?? (() => new Date());
    this.#replay = o.replayCache ?? new MemoryReplayCache();
  }

  get kmsUri(): string {
    return this.#o.kmsUri;
  }

  /** The domain never changes once made (kms-admin.ts), so one read per process is enough. */
  #cached: KmsDomain | undefined;

  async #domain(): Promise<KmsDomain> {
    if (this.#cached !== undefined) return this.#cached;
    const d = await this.#o.store.getDomain(this.#o.kmsUri);
    if (d === undefined) throw new McsecError(ErrorCode.CONFIG, { field: 'kms.domain', rule: `no domain ${this.#o.kmsUri}: run mcsec kms init-domain` });
    this.#cached = d;
    return d;
  }

  /** The Root KmsCertificate of the domain (D.3.2.2). */
  rootCertificate(d: KmsDomain): KmsCertificateInput {
    const from = new Date(d.createdAt);
    const to = new Date(d.createdAt);
    to.setUTCFullYear(to.getUTCFullYear() + (this.#o.certificateYears ?? 10));
    return {
      version: '1.1.0',
      role: 'Root',
      certUri: `${d.kmsUri}/cert`,
      kmsUri: d.kmsUri,
      issuer: d.kmsUri,
      validFrom: toXsdDateTime(from),
      validTo: toXsdDateTime(to),
      revoked: false,
      userIdFormat: '2',
      userKeyPeriod: d.userKeyPeriod,
      userKeyOffset: d.userKeyOffset,
      pubEncKey: d.pubEncKey,
      pubAuthKey: d.pubAuthKey,
      parameterSet: 1,
    };
  }

  /** Handles one request; throws McsecError (mapped to HTTP by the route layer). */
  async handle(call: KmsCall): Promise<KmsAnswer> {
    const segments = call.path.split('/');
    const operation = segments[0] ?? '';
    if (!['init', 'keyprov', 'certcache', 'cert', 'lookup', 'redirect'].includes(operation)) {
      throw notFound('path', `must be one of init, keyprov, certcache, cert, lookup, redirect under ${KMS_BASE_PATH}`, 'TS 33.180 Annex D.2.1');
    }
    const claims = await this.#o.verifier.verifyAuthorization(call.authorization);
    const domain = await this.#domain();
    // D.2.2: the TrK-ID names the client keys; they verify a signed request and protect the answer.
    const opened = openKmsRequest(call.body);
    const request = opened.request;
    const maxAgeMs = this.#o.rotateClientKeysAfterMs;
    const age = maxAgeMs === undefined ? undefined : { maxAgeMs, now: this.#now().getTime(), rng: this.#o.rng };
    const keys = await clientKeysOfRequest(this.#o.store, request, age);
    const client = keys.client;
    if (request.trkId !== undefined && (client === undefined || (client.userUri !== undefined && client.userUri !== request.userUri))) {
      throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'kmsRequest.TrK-ID', rule: 'must name a TrK this KMS issued to the user', clause: 'TS 33.180 §5.3.3' });
    }
    if (request.signature !== undefined || this.#o.requireSignedRequests === true) {
      const id = request.signatureId;
      const key = client === undefined || id === undefined ? undefined : id === client.inkId ? client.ink : id === client.clientId ? client.trk : undefined;
      if (key === undefined) throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'kmsRequest.Signature-ID', rule: 'must name the InK or TrK of the TrK-ID given', clause: 'TS 33.180 Annex D.2.2' });
      opened.verifySignature(key);
    }
    const windowMs = this.#o.requestWindowMs ?? 30_000;
    const now = this.#now();
    checkKmsRequestFields(request, { kmsUri: domain.kmsUri, resourceUri: call.resourceUri, windowMs, now });
    // The user the request is made for must be the token's (§5.3.3 step 1).
    authoriseKeyManagement(claims, request.userUri);
    if (request.signature !== undefined) {
      // After the request and token checks, so that a refused request records nothing.
      const fresh = await this.#replay.claim(`kms-request:${toHex(request.signature.signatureValue)}`, now.getTime(), now.getTime() + 2 * windowMs);
      if (!fresh) throw new PolicyError(ErrorCode.REPLAY, { field: 'signedKmsRequest', rule: 'was seen before within the request window', clause: 'TS 33.180 Annex D.2.2' });
    }
    // §5.3.3 (client-key-rotation.ts), once the request passed every check of its operation too
    // (`settle`, last in each case): the first signed request with the new TrK / InK retires the old
    // one; new keys go only to a request signed with the key in force (the InK, else the TrK), so a
    // TrK and a token without the InK do not get the new InK.
    const signedInForce = request.signature !== undefined && client !== undefined && request.signatureId === (client.inkId ?? client.clientId);
    let completed = false;
    let offer: KmsClientKeyRotation | undefined;
    let offered: { readonly rotation?: 'offered' } = {};
    const settle = async (): Promise<void> => {
      if (request.signature !== undefined && keys.complete !== undefined) completed = await keys.complete();
      offer = signedInForce ? (keys.offer ?? (await keys.due?.())) : undefined;
      offered = offer === undefined ? {} : { rotation: 'offered' };
    };
    const protection = this.#protection(request, client);
    const respond = (kmsMessage: KmsMessageInput | undefined, extra: Partial<KmsAnswer> = {}): KmsAnswer => ({
      status: 200,
      user: request.userUri,
      operation,
      rotation: completed ? 'completed' : undefined,
      ...extra,
      body: encodeKmsResponse(
        {
          userUri: request.userUri,
          kmsUri: domain.kmsUri,
          clientReqUrl: request.clientReqUrl,
          kmsMessage,
          trkId: protection.trkId,
          signatureId: protection.signatureId,
        },
        { trk: protection.trk, ink: protection.ink, now: this.#now },
      ),
    });

    switch (operation) {
      case 'init':
        this.#noMoreSegments(segments, 1);
        await settle();
        return respond({ init: { certificate: this.rootCertificate(domain), ...newKeysOf(offer) } }, offered);
      case 'keyprov': {
        this.#noMoreSegments(segments, 3);
        const target = segments[1] === undefined ? request.userUri : decodeSegment(segments[1], 'path.uri');
        if (target !== request.userUri) authoriseKeyManagement(claims, target);
        if (!(await this.#o.store.hasUser(domain.kmsUri, target))) throw notFound('kmsRequest.UserUri', 'must be a user of this KMS domain', 'TS 33.180 §5.3.3');
        if (protection.trk === undefined && this.#o.requireTrk === true) {
          throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'kmsRequest.TrK-ID', rule: 'is required: key material is only sent wrapped under a TrK', clause: 'TS 33.180 §5.3.3' });
        }
        const at = segments[2] === undefined ? undefined : ntpSegment(segments[2]);
        const periodNo = at === undefined ? keyPeriodNoOf(domain, this.#now()) : keyPeriodNoOfNtp(domain, at);
        const set = await new KeyIssuer(this.#o.store, domain).keySet(target, periodNo);
        const { from, to } = keyPeriodBounds(domain, periodNo);
        await settle();
        return respond(
          {
            keyProv: {
              keySets: [
                {
                  kmsUri: domain.kmsUri,
                  certUri: `${domain.kmsUri}/cert`,
                  issuer: domain.kmsUri,
                  userUri: target,
                  userId: toHex(set.userId).toUpperCase(),
                  validFrom: toXsdDateTime(from),
                  validTo: toXsdDateTime(to),
                  keyPeriodNo: periodNo,
                  revoked: false,
                  userDecryptKey: { key: set.rsk },
                  userSigningKeySSK: { key: set.ssk },
                  userPubTokenPVT: { key: set.pvt },
                },
              ],
              ...newKeysOf(offer),
            },
          },
          { keyPeriodNo: periodNo, ...offered },
        );
      }
      case 'certcache': {
        this.#noMoreSegments(segments, 2);
        const list = await this.#o.store.listExternalCertificates(domain.kmsUri);
        const cacheNum = list.reduce((m, c) => Math.max(m, c.addedAt), 0);
        const signer = this.#certificateSigner(domain);
        await settle();
        return respond({ certCache: { cacheNum, certificates: list.map((c) => toExternal(c, signer)) } });
      }
      case 'cert': {
        this.#noMoreSegments(segments, 2);
        const wanted = decodeSegment(segments[1] ?? '', 'path.kmsUri');
        const certificate = await this.#certificateOf(domain, wanted);
        if (certificate === undefined) throw notFound('path.kmsUri', 'must name this KMS or an External KMS loaded here', 'TS 33.180 Annex D.2.6');
        await settle();
        return respond({ certCache: { certificates: [certificate] } });
      }
      case 'lookup': {
        this.#noMoreSegments(segments, 2);
        const uri = decodeSegment(segments[1] ?? '', 'path.uri');
        if (!(await this.#o.store.hasUser(domain.kmsUri, uri))) throw notFound('path.uri', 'must be an entity whose KMS this KMS knows', 'TS 33.180 Annex D.2.7');
        await settle();
        return respond({ certCache: { certificates: [this.rootCertificate(domain)] } });
      }
      default: {
        // redirect/<uri> (D.2.8): KRRs kept for audit; "the KMS does not respond ... unless an error occurs".
        this.#noMoreSegments(segments, 2);
        const target = decodeSegment(segments[1] ?? '', 'path.uri');
        if (this.#o.acceptKrrs === false) throw new PolicyError(ErrorCode.FORBIDDEN, { field: 'kmsRequest.KrrList', rule: 'KRRs are not accepted by this KMS (§5.2.8.5 policy)', clause: 'TS 33.180 §5.2.8.5' });
        if (request.krrList === undefined) throw new FormatError(ErrorCode.BAD_VALUE, { field: 'kmsRequest.KrrList', rule: 'is required in a KMS Redirect Upload', clause: 'TS 33.180 Annex D.2.8' });
        const krr = /<(?:[A-Za-z_][\w.-]*:)?KrrList\b[\s\S]*<\/(?:[A-Za-z_][\w.-]*:)?KrrList\s*>/.exec(call.body)?.[0] ?? '';
        if (krr.length > KRR_MAX_OCTETS) throw new FormatError(ErrorCode.TOO_LARGE, { field: 'kmsRequest.KrrList', rule: `must be at most ${KRR_MAX_OCTETS} octets`, clause: 'TS 33.180 Annex D.2.8' });
        await this.#o.store.addKrrAudit({ id: `krr-${toHex(new Uint8Array(randomBytes(12)))}`, kmsUri: domain.kmsUri, userUri: request.userUri, targetUri: target, krr });
        await settle();
        return { status: 204, body: '', user: request.userUri, operation, rotation: completed ? 'completed' : undefined };
      }
    }
  }

  #noMoreSegments(segments: readonly string[], max: number): void {
    if (segments.length > max || segments.some((s, i) => i > 0 && s.length === 0)) {
      throw notFound('path', `has at most ${max - 1} segment(s) after the operation`, 'TS 33.180 Annex D.2');
    }
  }

  async #certificateOf(domain: KmsDomain, kmsUri: string): Promise<KmsCertificateInput | undefined> {
    if (sameKmsUri(kmsUri, domain.kmsUri)) return this.rootCertificate(domain);
    const list = await this.#o.store.listExternalCertificates(domain.kmsUri);
    const found = list.find((c) => sameKmsUri(c.extKmsUri, kmsUri));
    return found === undefined ? undefined : toExternal(found, this.#certificateSigner(domain));
  }

  #signer: KmsCertificateSigner | undefined;

  /** The KSAK as the ECDSA key of SignedKmsCertificates, named by the Root certificate's CertUri. */
  #certificateSigner(domain: KmsDomain): KmsCertificateSigner | undefined {
    if (this.#o.signExternalCertificates === false) return undefined;
    const certUri = this.rootCertificate(domain).certUri ?? domain.kmsUri;
    this.#signer ??= { privateKey: kmsSigningKey(domain.ksak, domain.pubAuthKey), keyName: certUri };
    return this.#signer;
  }

  /** Which keys protect the answer (D.3.1, §5.3.3). */
  #protection(request: KmsRequest, client: KmsClientKeys | undefined): {
    readonly trk: Uint8Array | undefined; readonly ink: Uint8Array | undefined; readonly trkId: string | undefined; readonly signatureId: string | undefined;
  } {
    if (client === undefined) return { trk: undefined, ink: undefined, trkId: undefined, signatureId: undefined };
    const useInk = client.ink !== undefined && client.inkId !== undefined && request.signatureId === client.inkId;
    return {
      trk: client.trk,
      ink: useInk ? client.ink : undefined,
      trkId: client.clientId,
      signatureId: useInk ? client.inkId : client.clientId,
    };
  }
}

/** The NTP-UTC 64-bit time of the D.2.4 time segment (16 hex digits), as NTP seconds. */
function ntpSegment(s: string): number {
  if (!/^[0-9A-Fa-f]{16}$/.test(s)) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field: 'path.time', rule: 'must be an NTP-UTC 64-bit timestamp in 16 hex digits', clause: 'TS 33.180 Annex D.2.4' });
  }
  return Number.parseInt(s.slice(0, 8), 16);
}

/** An External certificate as served: Role External, the Migration mark (§5.3.1) when the operator loaded it as one, signed when a signer is given. */
function toExternal(c: KmsExternalCertificate, signer: KmsCertificateSigner | undefined): KmsCertificateInput {
  return { ...externalCertificateFromJson(c.certificate), role: 'External', migration: c.migration ? true : undefined, ...(signer === undefined ? {} : { signer }) };
}

/** An External KMS certificate as the store keeps it (JSON; keys in hex). */
export function externalCertificateFromJson(text: string): KmsCertificateInput {
  const v: unknown = JSON.parse(text);
  if (typeof v !== 'object' || v === null) throw new FormatError(ErrorCode.BAD_VALUE, { field: 'externalCertificate', rule: 'must be a JSON object' });
  const get = (k: string): unknown => Reflect.get(v, k);
  const s = (k: string): string => {
    const x = get(k);
    if (typeof x !== 'string') throw new FormatError(ErrorCode.BAD_VALUE, { field: `externalCertificate.${k}`, rule: 'must be a string' });
    return x;
  };
  const n = (k: string): number => {
    const x = get(k);
    if (typeof x !== 'number') throw new FormatError(ErrorCode.BAD_VALUE, { field: `externalCertificate.${k}`, rule: 'must be a number' });
    return x;
  };
  const o = (k: string): string | undefined => (get(k) === undefined ? undefined : s(k));
  const hex = (k: string): Uint8Array => Uint8Array.from(Buffer.from(s(k), 'hex'));
  return {
    kmsUri: s('kmsUri'), certUri: o('certUri'), issuer: o('issuer'), validFrom: o('validFrom'), validTo: o('validTo'),
    userIdFormat: s('userIdFormat'), userKeyPeriod: n('userKeyPeriod'), userKeyOffset: n('userKeyOffset'),
    pubEncKey: hex('pubEncKey'), pubAuthKey: hex('pubAuthKey'),
  };
}

/** The JSON the store keeps for an External KMS certificate (hex keys), from a decoded certificate. */
export function externalCertificateToJson(c: KmsCertificateInput): string {
  return JSON.stringify({
    kmsUri: c.kmsUri, certUri: c.certUri, issuer: c.issuer, validFrom: c.validFrom, validTo: c.validTo,
    userIdFormat: c.userIdFormat, userKeyPeriod: c.userKeyPeriod, userKeyOffset: c.userKeyOffset,
    pubEncKey: toHex(c.pubEncKey), pubAuthKey: toHex(c.pubAuthKey),
  });
}
