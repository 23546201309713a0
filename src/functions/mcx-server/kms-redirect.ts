/**
 * KMS Redirect Responses from the MCX server (TS 33.180 §5.2.8, Annex D.4). A CSK upload "may"
 * be answered with a KRR "(e.g. if the MC client has migrated or is roaming)" (§9.2.1.3, §5.2.2);
 * the server is the inbound CS proxy of §5.2.8.2.3 Case A: "For MIKEY messages entering from a MC
 * client ..., a KRR is created if the IDRkmsi is not acceptable. This could be either that the
 * KMS is not supported within the domain, or that the KMS is not supported for the user given the
 * user's current state": the KRR's initiator list is the KMSs acceptable for the user, its
 * receiver list 'ANY', and the MIKEY message is dropped (nothing is opened or stored).
 *
 * The server signs each KRR itself, as its creator (KRRCreatorUri = the MDSI unless configured),
 * with an ECDSA P-256 key and its X.509 certificate (D.4.3); a KRR names the message it answers
 * (IDRi, IDRkmsi, IDRr, IDRkmsr, §5.2.8.2.1), so it is made per refusal, not stored ready-made.
 * The configuration is a JSON file the operator writes (the format is mcsec's):
 *
 *   { "initiatorKmsUris": ["kms.example.org"],                 acceptable for every user
 *     "users": { "sip:bob@example.org": ["kms.partner.org"] },  per user (migrated, roaming)
 *     "creatorUri": "sip:mcx@example.org",                      optional, default the MDSI
 *     "signer": { "key": "krr-key.pem", "certificate": "krr-cert.pem" } }   optional (unsigned)
 *
 * `checkInitiatorKms` throws a KmsRedirectError (formats/sip/kms-redirect.ts) carrying the KRR;
 * the SIP glue answers it with `kmsRedirectResponse` (a 488, Annex D.4.1). The message's signature
 * cannot be checked (its KMS is the one not accepted), so a KRR is only made for an IDRi that is
 * the request's own user (a hidden IDRi, §E.7, stands for that user): nobody gets a KRR signed by
 * the server about another user.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { ConfigError, ErrorCode, FormatError, PolicyError } from '../../errors/index.js';
import { encodeKrr, type KrrSigner } from '../../formats/kms-xml/index.js';
import { IdRole, PayloadType, decodeMikey } from '../../formats/mikey/index.js';
import { KmsRedirectError } from '../../formats/sip/index.js';
import { fromUtf8 } from '../../util/index.js';
import { sameIdentity } from './authorised-identity.js';

/** Which initiator KMSs the server accepts, and how it signs its KRRs. */
export interface KmsRedirectPolicy {
  /** Initiator KMSs acceptable for every user, preferred first. */
  readonly initiatorKmsUris: readonly string[];
  /** Per MC service user ID, the acceptable initiator KMSs instead (a migrated or roaming user). */
  readonly users: ReadonlyMap<string, readonly string[]>;
  /** KRRCreatorUri; default the MDSI. */
  readonly creatorUri: string | undefined;
  readonly signer: KrrSigner | undefined;
}

const S52823 = 'TS 33.180 §5.2.8.2.3';
const conf = (field: string, rule: string, clause = S52823): ConfigError => new ConfigError(ErrorCode.CONFIG, { field, rule, clause });

function uriList(v: unknown, field: string): readonly string[] {
  if (!Array.isArray(v) || v.length === 0) throw conf(field, 'must be a non-empty array of KMS URIs');
  return Object.freeze(
    v.map((u: unknown, i) => {
      if (typeof u !== 'string' || u.length === 0 || u.length > 2048 || /[\s<>&]/.test(u)) throw conf(`${field}[${i}]`, 'must be a KMS URI');
      return u;
    }),
  );
}

/**
 * Decodes and checks a KRR configuration file (see the module comment); `readPem(path, field)`
 * reads the signer's files (the CLI resolves them against the file's folder).
 */
export function decodeKmsRedirectConfig(text: string, readPem: (path: string, field: string) => string): KmsRedirectPolicy {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw conf('krr', 'must be JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw conf('krr', 'must be an object');
  const initiatorKmsUris = uriList(Reflect.get(v, 'initiatorKmsUris'), 'krr.initiatorKmsUris');
  const users = new Map<string, readonly string[]>();
  const u: unknown = Reflect.get(v, 'users');
  if (u !== undefined) {
    if (typeof u !== 'object' || u === null || Array.isArray(u)) throw conf('krr.users', 'must be an object of MC service user ID to KMS URIs');
    for (const [user, list] of Object.entries(u)) users.set(user, uriList(list, `krr.users.${user}`));
  }
  const creator: unknown = Reflect.get(v, 'creatorUri');
  if (creator !== undefined && (typeof creator !== 'string' || !/^[a-z][a-z0-9+.-]*:\S+$/i.test(creator))) throw conf('krr.creatorUri', 'must be a URI');
  const s: unknown = Reflect.get(v, 'signer');
  let signer: KrrSigner | undefined;
  if (s !== undefined) {
    if (typeof s !== 'object' || s === null) throw conf('krr.signer', 'must be an object with key and certificate');
    const path = (k: string): string => {
      const p: unknown = Reflect.get(s, k);
      if (typeof p !== 'string' || p.length === 0) throw conf(`krr.signer.${k}`, 'must be the path of a PEM file');
      return p;
    };
    try {
      signer = Object.freeze({
        privateKey: createPrivateKey(readPem(path('key'), 'krr.signer.key')),
        certificate: new Uint8Array(new X509Certificate(readPem(path('certificate'), 'krr.signer.certificate')).raw),
      });
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw conf('krr.signer', 'must be a PEM private key and X.509 certificate', 'TS 33.180 Annex D.4.3');
    }
    try {
      encodeKrr({ krrCreatorUri: 'sip:check@invalid', initiatorUri: 'sip:i@invalid', initiatorKmsUri: 'kms.invalid', receiverUri: 'sip:r@invalid', receiverKmsUri: 'kms.invalid', initiatorKmsList: 'ANY', receiverKmsList: 'ANY' }, signer);
    } catch {
      throw conf('krr.signer', 'must be an ECDSA P-256 key and the certificate of that key', 'TS 33.180 Annex D.4.3');
    }
  }
  return Object.freeze({ initiatorKmsUris, users, creatorUri: typeof creator === 'string' ? creator : undefined, signer });
}

/** The IDR payloads of an I_MESSAGE as text; a hidden identity (§E.7) is left out (the caller knows the user). */
function identities(iMessage: Uint8Array): { idri: string | undefined; idrr: string | undefined; kmsi: string | undefined; kmsr: string | undefined } {
  const out: { idri: string | undefined; idrr: string | undefined; kmsi: string | undefined; kmsr: string | undefined } = { idri: undefined, idrr: undefined, kmsi: undefined, kmsr: undefined };
  decodeMikey(iMessage).payloads.forEach((p, i) => {
    if (p.type !== PayloadType.IDR) return;
    const text = (): string => fromUtf8(p.data, `mikey.payload${i}.idData`);
    if (p.role === IdRole.INITIATOR) out.idri = text();
    else if (p.role === IdRole.RESPONDER) out.idrr = text();
    else if (p.role === IdRole.INITIATOR_KMS) out.kmsi = text();
    else if (p.role === IdRole.RESPONDER_KMS) out.kmsr = text();
  });
  return out;
}

/**
 * §5.2.8.2.3 Case A for a CSK upload from `userUri`: returns when the I_MESSAGE's IDRkmsi is
 * acceptable for the user; otherwise throws a KmsRedirectError carrying a KRR (signed when the
 * policy has a signer) whose initiator list is the user's acceptable KMSs and receiver list 'ANY'.
 */
export function checkInitiatorKms(iMessage: Uint8Array, o: { readonly userUri: string; readonly policy: KmsRedirectPolicy; readonly mdsi: string; readonly now: Date }): void {
  const id = identities(iMessage);
  if (id.kmsi === undefined) throw new FormatError(ErrorCode.BAD_VALUE, { field: 'mikey.IDRkmsi', rule: 'is required', clause: 'TS 33.180 §E.4.1' });
  const acceptable = o.policy.users.get(o.userUri) ?? o.policy.initiatorKmsUris;
  if (acceptable.includes(id.kmsi)) return;
  // A KRR speaks for the request's user only: an IDRi naming somebody else gets no KRR (§5.4, §E.4.1).
  if (id.idri !== undefined && !sameIdentity(id.idri, o.userUri)) {
    throw new PolicyError(ErrorCode.FORBIDDEN, { field: 'mikey.IDRi', rule: 'the initiator must be the MC service user ID the SIP request is made under', clause: 'TS 33.180 §5.4, §E.4.1' });
  }
  const krr = encodeKrr(
    {
      krrCreatorUri: o.policy.creatorUri ?? o.mdsi,
      initiatorUri: id.idri ?? o.userUri,
      initiatorKmsUri: id.kmsi,
      receiverUri: id.idrr ?? o.mdsi,
      receiverKmsUri: id.kmsr ?? id.kmsi,
      initiatorKmsList: acceptable,
      receiverKmsList: 'ANY',
    },
    o.policy.signer,
    () => o.now,
  );
  throw new KmsRedirectError(krr, {
    field: 'mikey.IDRkmsi',
    rule: 'names a KMS this server does not accept for the user; the KMS Redirect Response lists those it does',
    clause: `${S52823}, Annex D.4`,
  });
}
