/**
 * The client's signalling keys with its MCX server (TS 33.180 §9.2): making the CSK and its upload
 * (§9.2.1.2, §9.2.1.3, §E.4.1: IDRi = the user's MC service ID, IDRr = the server's MDSI, the CSK
 * encapsulated to the MDSI's UID, signed with the user's), the REGISTER that carries it, and the
 * key downloads the server sends (§5.8.2, §9.2.1.4, §9.2.2, §H.3):
 *
 * - every application/mikey part is opened with the user's RSK and the signature checked against
 *   the server's identity (IDRi must be the MDSI this client registered with, §E.4.1);
 * - a CSK replaces every previous CSK of that server (§9.2.1.4: "discard any previous CSKs
 *   associated with the MC Server FQDN"); a MuSiK or MSCCK is stored by its ID (§9.2.2); a key
 *   whose §E.6 status says revoked is removed, not stored (§5.2.4);
 * - all parts are checked before any is applied, and the replay claims are made last; the answer
 *   is a 200 (§5.8.2 step 2) or the SIP error of formats/sip/error-status.ts.
 *
 * A REGISTER's 488 may carry a KMS Redirect Response (§5.2.8, Annex D.4): `kmsRedirectOf` verifies
 * it against the certificates trusted to sign KRRs (`krr.trustedSigners`), checks it answers this
 * user's upload, and returns the KMS lists and the KMS to use next (§5.2.8.2.5), or a typed error.
 *
 * Keys are held in memory by this object (§5.11.1 asks them to be "stored in a protected state"
 * while not in use; persisting them is not done yet).
 */
import { randomBytes } from 'node:crypto';
import { deriveUid, generateKeyId, keyPeriodNoAt, type KeyType } from '../crypto/index.js';
import { ErrorCode, FormatError, McsecError, PolicyError } from '../errors/index.js';
import { createIMessage, openIMessage, MemoryReplayCache, type KeyParametersInput, type OpenedIMessage, type ReplayCache } from '../formats/mikey/index.js';
import { ContentType, createBoundary, createSipRequest, createSipResponse, multipartBody, type MimePart, type Rng, type SipRequest, type SipResponse } from '../formats/sip/index.js';
import { sipErrorStatus } from '../formats/sip/error-status.js';
import { readKmsRedirect, selectKmsUri, type KmsRedirect } from '../formats/sip/kms-redirect.js';
import { mikeyPart, mikeyParts, type MikeyTransferEncoding } from '../formats/sip/mikey-parts.js';
import { protectXml, type XmlProtectionPolicy } from '../formats/xmlenc/index.js';
import { equalBytes, utf8 } from '../util/index.js';
import type { McxUserKeys } from './mcx-user-keys.js';

/** The MCX server as the client knows it. */
export interface McxServerPeer {
  /** The server's MDSI (IDRr of uploads, IDRi of downloads, §E.4.1). */
  readonly mdsi: string;
  /** The KMS of the server's keys (IDRkmsr); default: the user's own. */
  readonly kmsUri?: string;
}

/** A CSK upload I_MESSAGE and the CSK in it. */
export interface CskUploadMessage {
  readonly cskId: number;
  readonly csk: Uint8Array;
  /** The I_MESSAGE's RAND (random, RFC 3830 §6.11): the KFC-RAND of SRTCP under this CSK (§9.4.2). */
  readonly rand: Uint8Array;
  readonly iMessage: Uint8Array;
}

/** A signalling key held by the client. */
export interface HeldKey {
  readonly keyType: 'CSK' | 'MuSiK' | 'MSCCK';
  readonly keyId: number;
  readonly key: Uint8Array;
  /** The RAND of the MIKEY message that carried the key: its KFC-RAND for SRTCP (§9.4.2, §9.4.3). */
  readonly rand: Uint8Array;
  readonly receivedAt: Date;
  readonly expiresAt: Date | undefined;
  readonly groupIds: readonly string[];
}

/** What a key download did. */
export interface AppliedKey {
  readonly keyType: HeldKey['keyType'];
  readonly keyId: number;
  readonly action: 'stored' | 'replaced-csk' | 'revoked';
}

/** Options of McxClientKeys. */
export interface McxClientKeysOptions {
  readonly user: McxUserKeys;
  readonly server: McxServerPeer;
  /** Replay cache for key downloads (default: in memory). */
  readonly replayCache?: ReplayCache;
  readonly now?: () => Date;
  readonly rng?: Rng;
  /** Accepted clock difference of received I_MESSAGEs, ms (default 5 min). */
  readonly windowMs?: number;
  /** KMS Redirect Responses (§5.2.8.5): signers trusted (X.509 DER), unsigned ones accepted, Migration KMSs usable. */
  readonly krr?: { readonly trustedSigners: readonly Uint8Array[]; readonly allowUnsigned?: boolean; readonly migrationKmsUris?: readonly string[] };
}

/** A KRR answering a CSK upload, accepted: its lists and the initiator KMS to use next (undefined: none usable, §5.2.8.2.5 d). */
export interface CskUploadRedirect extends KmsRedirect {
  readonly selectedKmsUri: string | undefined;
}

/** What a REGISTER with a CSK upload needs besides the upload. */
export interface CskRegisterInput {
  /** Request-URI: the server's PSI (§9.2.1.3; default the MDSI). */
  readonly uri?: string;
  /** The user's public identity for From / To (default the MC service user ID). */
  readonly impu?: string;
  readonly via: { readonly transport: string; readonly host: string; readonly port?: number };
  readonly contact: string;
  /** The RFC 5626 instance ID to put on the Contact. */
  readonly instance?: string;
  readonly expiresS?: number;
  /** Further parts, sent as they are. */
  readonly extraParts?: readonly MimePart[];
  /**
   * XML parts to protect with the CSK being uploaded (§9.2.1.3: "Encrypted Access token, MCPTT
   * ID"): what `policy` lists is encrypted per §9.3.4 under the new CSK-ID.
   */
  readonly xmlParts?: readonly { readonly contentType: string; readonly xml: string; readonly policy: XmlProtectionPolicy }[];
  readonly encoding?: MikeyTransferEncoding;
  readonly callId?: string;
  readonly cseq?: number;
}

/** The REGISTER of §9.2.1.3: multipart/mixed with the application/mikey part first. */
export function cskRegisterRequest(upload: Uint8Array, r: CskRegisterInput & { readonly mdsi: string; readonly userUri: string }, rng: Rng): SipRequest {
  const impu = r.impu ?? r.userUri;
  const body = multipartBody([mikeyPart(upload, r.encoding ?? 'binary'), ...(r.extraParts ?? [])], createBoundary(rng));
  const contact = `<${r.contact}>${r.instance === undefined ? '' : `;+sip.instance="${r.instance}"`}`;
  return createSipRequest(
    {
      method: 'REGISTER',
      uri: r.uri ?? r.mdsi,
      from: { uri: impu },
      to: { uri: impu },
      via: r.via,
      ...(r.callId === undefined ? {} : { callId: r.callId }),
      ...(r.cseq === undefined ? {} : { cseq: r.cseq }),
      headers: [
        { name: 'Contact', value: contact },
        { name: 'Expires', value: String(r.expiresS ?? 3600) },
      ],
      body,
    },
    rng,
  );
}

const rngDefault: Rng = (n) => new Uint8Array(randomBytes(n));

/** A MIME part of an XML body. */
const xmlPart = (contentType: string, xml: string): MimePart => Object.freeze({ headers: Object.freeze([{ name: 'Content-Type', value: contentType }]), body: utf8(xml) });
const DOWNLOAD_TYPES: readonly KeyType[] = ['CSK', 'MuSiK', 'MSCCK'];

/** A key type a key download may carry, narrowed (the #open check refused any other). */
function downloadType(t: KeyType): HeldKey['keyType'] {
  if (t === 'CSK' || t === 'MuSiK' || t === 'MSCCK') return t;
  throw new PolicyError(ErrorCode.UNSUPPORTED, { field: 'mikey.hdr.csbId.purposeTag', rule: 'must be a CSK, MuSiK or MSCCK', clause: 'TS 33.180 §5.8.1' });
}

/** Records a replay claim and makes it in the real cache only when asked (change state last). */
class HeldClaim implements ReplayCache {
  held: [string, number, number] | undefined;
  claim(key: string, now: number, expires: number): boolean {
    this.held = [key, now, expires];
    return true;
  }
}

/** The client's CSK and multicast keys with one MCX server (see the module comment). */
export class McxClientKeys {
  readonly user: McxUserKeys;
  readonly server: McxServerPeer;
  readonly #replay: ReplayCache;
  readonly #now: () => Date;
  readonly #rng: Rng;
  readonly #windowMs: number;
  readonly #krr: McxClientKeysOptions['krr'];
  #pending: CskUploadMessage | undefined;
  #csk: HeldKey | undefined;
  readonly #multicast = new Map<number, HeldKey>();

  constructor(o: McxClientKeysOptions) {
    this.user = o.user;
    this.server = o.server;
    this.#replay = o.replayCache ?? new MemoryReplayCache();
    this.#now = o.now ?? (() => new Date());
    this.#rng = o.rng ?? rngDefault;
    this.#windowMs = o.windowMs ?? 5 * 60_000;
    this.#krr = o.krr;
  }

  /** Makes a CSK and its upload I_MESSAGE (§9.2.1.3 step 1); it becomes current on `confirmCsk`. */
  createCskUpload(o: { readonly keyParameters?: KeyParametersInput; readonly hideIdentities?: boolean; readonly keyId?: number; readonly rand?: Uint8Array } = {}): CskUploadMessage {
    const time = this.#now();
    const u = this.user;
    const n = keyPeriodNoAt(time, u.userKeyPeriod, u.userKeyOffset);
    const signer = u.signerFor(n);
    if (signer === undefined) throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'user.keys', rule: `no SSK/PVT is held for key period ${n}`, clause: 'TS 33.180 §5.3' });
    const serverKmsUri = this.server.kmsUri ?? u.kmsUri;
    const serverKms = u.trustedKms(serverKmsUri);
    if (serverKms === undefined) throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'server.kmsUri', rule: 'must be a KMS this client trusts', clause: 'TS 33.180 §5.2.7' });
    const csk = this.#rng(16);
    const cskId = o.keyId ?? generateKeyId('CSK', this.#rng);
    // RFC 3830 §6.11: a random RAND; the server keeps the one it receives as the KFC-RAND (§9.4.2)
    const rand = o.rand ?? this.#rng(16);
    const iMessage = createIMessage({
      keyType: 'CSK',
      key: csk,
      keyId: cskId,
      initiator: { uri: u.uri, kmsUri: u.kmsUri, userKeyPeriod: u.userKeyPeriod, userKeyOffset: u.userKeyOffset, kpak: u.kpak, ssk: signer.ssk, pvt: signer.pvt },
      responder: { uri: this.server.mdsi, kmsUri: serverKmsUri, userKeyPeriod: serverKms.userKeyPeriod, userKeyOffset: serverKms.userKeyOffset, kms: serverKms.kms },
      time,
      rand,
      ...(o.hideIdentities === true ? { hideIdentities: true } : {}),
      ...(o.keyParameters === undefined ? {} : { keyParameters: o.keyParameters }),
      rng: this.#rng,
    });
    this.#pending = Object.freeze({ cskId, csk, rand, iMessage });
    return this.#pending;
  }

  /** A REGISTER carrying a new CSK upload (§9.2.1.3 step 2), its XML parts protected with that CSK. */
  registerRequest(r: CskRegisterInput, upload: CskUploadMessage = this.createCskUpload()): SipRequest {
    const key = { xpk: upload.csk, xpkId: upload.cskId, purpose: 'CSK' as const, mcServiceUserId: this.user.uri };
    const xml = (r.xmlParts ?? []).map((p) => xmlPart(p.contentType, protectXml(p.xml, { key, policy: p.policy, rng: this.#rng })));
    return cskRegisterRequest(upload.iMessage, { ...r, extraParts: [...xml, ...(r.extraParts ?? [])], mdsi: this.server.mdsi, userUri: this.user.uri }, this.#rng);
  }

  /** Protects an XML body with the current CSK (§9.3.4, §9.3.3: the XPK of client-server links). */
  protectXml(xml: string, policy: XmlProtectionPolicy, wholeDocument?: { readonly messageType: string }): string {
    const c = this.#csk;
    if (c === undefined) throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'csk', rule: 'no CSK is held for this server yet', clause: 'TS 33.180 §9.3.3' });
    return protectXml(xml, { key: { xpk: c.key, xpkId: c.keyId, purpose: 'CSK', mcServiceUserId: this.user.uri }, policy, wholeDocument, rng: this.#rng });
  }

  /** The server's answer to the REGISTER: a 2xx makes the uploaded CSK current; otherwise it is dropped. */
  confirmCsk(res: SipResponse): boolean {
    const p = this.#pending;
    this.#pending = undefined;
    if (p === undefined || res.status < 200 || res.status >= 300) return false;
    this.#csk = Object.freeze({ keyType: 'CSK' as const, keyId: p.cskId, key: p.csk, rand: p.rand, receivedAt: this.#now(), expiresAt: undefined, groupIds: Object.freeze([]) });
    return true;
  }

  /**
   * The KMS Redirect Response of the server's answer to a CSK upload (§5.2.8.2.3 Case A), verified
   * and checked (formats/sip/kms-redirect.ts); undefined when the answer is not a 488 with a KRR.
   * Without `krr` options no signer is trusted, so a KRR is refused (ERR_UNKNOWN_KEY).
   */
  kmsRedirectOf(res: SipResponse): CskUploadRedirect | undefined {
    const u = this.user;
    const r = readKmsRedirect(res, { trustedSigners: this.#krr?.trustedSigners ?? [], allowUnsigned: this.#krr?.allowUnsigned === true, initiatorUri: u.uri, initiatorKmsUri: u.kmsUri });
    return r === undefined ? undefined : Object.freeze({ ...r, selectedKmsUri: selectKmsUri(r.initiatorKmsList, u.kmsUri, this.#krr?.migrationKmsUris) });
  }

  /** The CSK in use with the server (uplink signalling, §9.2.1.4). */
  get csk(): HeldKey | undefined {
    return this.#csk;
  }

  /** A MuSiK or MSCCK by its ID (§9.2.2: the MKI / DPPK-ID names it). */
  multicastKey(keyId: number): HeldKey | undefined {
    return this.#multicast.get(keyId);
  }

  /** The MuSiKs and MSCCKs held. */
  get multicastKeys(): readonly HeldKey[] {
    return Object.freeze([...this.#multicast.values()]);
  }

  /** Opens one key download I_MESSAGE and checks it is a key this server may send us. */
  async #open(iMessage: Uint8Array, claim: HeldClaim): Promise<OpenedIMessage> {
    const u = this.user;
    const opened = await openIMessage(iMessage, {
      uri: u.uri,
      kmsUri: u.kmsUri,
      userKeyPeriod: u.userKeyPeriod,
      userKeyOffset: u.userKeyOffset,
      recipientFor: (n) => u.recipientFor(n),
      trustedKms: (k) => u.trustedKms(k),
      replayCache: claim,
      now: this.#now,
      windowMs: this.#windowMs,
    });
    const serverKmsUri = this.server.kmsUri ?? u.kmsUri;
    const kms = u.trustedKms(serverKmsUri);
    const fromServer =
      opened.initiatorKmsUri === serverKmsUri &&
      (opened.initiatorUri !== undefined
        ? stripUri(opened.initiatorUri) === stripUri(this.server.mdsi)
        : kms !== undefined && equalBytes(opened.initiatorUid, deriveUid({ uri: this.server.mdsi, kmsUri: serverKmsUri, userKeyPeriod: kms.userKeyPeriod, userKeyOffset: kms.userKeyOffset, keyPeriodNo: opened.keyPeriodNo })));
    if (!fromServer) {
      throw new PolicyError(ErrorCode.FORBIDDEN, { field: 'mikey.IDRi', rule: 'a key download must come from the MDSI of this client\'s MCX server', clause: 'TS 33.180 §5.8.1, §E.4.1' });
    }
    if (!DOWNLOAD_TYPES.includes(opened.keyType)) {
      throw new PolicyError(ErrorCode.UNSUPPORTED, { field: 'mikey.hdr.csbId.purposeTag', rule: `must be a CSK, MuSiK or MSCCK in a key download, not a ${opened.keyType}`, clause: 'TS 33.180 §5.8.1, Annex G' });
    }
    return opened;
  }

  /**
   * Applies a key download request (SIP MESSAGE or NOTIFY, §5.8.2): all parts are opened and
   * checked, then replay claims made, then keys stored. Resolves with the answer to send.
   */
  async applyKeyDownload(req: SipRequest): Promise<{ readonly response: SipResponse; readonly applied: readonly AppliedKey[]; readonly error: McsecError | undefined }> {
    try {
      const parts = mikeyParts(req);
      if (parts.length === 0) throw new FormatError(ErrorCode.BAD_VALUE, { field: 'sip.body', rule: `must carry ${ContentType.MIKEY} parts`, clause: 'TS 33.180 §5.8.2' });
      const opened: { o: OpenedIMessage; claim: HeldClaim }[] = [];
      for (const p of parts) {
        const claim = new HeldClaim();
        opened.push({ o: await this.#open(p, claim), claim });
      }
      if (opened.filter((x) => x.o.keyType === 'CSK').length > 1) {
        throw new FormatError(ErrorCode.BAD_VALUE, { field: 'sip.body', rule: 'must carry at most one CSK', clause: 'TS 33.180 §9.2.1.4' });
      }
      for (const { claim } of opened) {
        const h = claim.held;
        if (h === undefined || !(await this.#replay.claim(h[0], h[1], h[2]))) {
          throw new PolicyError(ErrorCode.REPLAY, { field: 'mikey', rule: 'this message was received before', clause: 'RFC 3830 §5.4' });
        }
      }
      const applied = opened.map(({ o }) => this.#store(o));
      return Object.freeze({ response: createSipResponse(req, 200), applied: Object.freeze(applied), error: undefined });
    } catch (err) {
      const e = sipErrorStatus(err, agentOf(this.user.uri));
      const response = createSipResponse(req, e.status, { reason: e.reason, headers: [{ name: 'Warning', value: e.warning }] });
      return Object.freeze({ response, applied: Object.freeze([]), error: err instanceof McsecError ? err : undefined });
    }
  }

  #store(o: OpenedIMessage): AppliedKey {
    const keyType = downloadType(o.keyType);
    const kp = o.keyParameters !== undefined && o.keyParameters.format === 'current' ? o.keyParameters : undefined;
    if (kp?.status.revoked === true) {
      if (keyType === 'CSK') {
        if (this.#csk?.keyId === o.keyId) this.#csk = undefined;
      } else {
        this.#multicast.delete(o.keyId);
      }
      return { keyType, keyId: o.keyId, action: 'revoked' };
    }
    const held: HeldKey = Object.freeze({
      keyType,
      keyId: o.keyId,
      key: o.key,
      rand: o.rand,
      receivedAt: this.#now(),
      expiresAt: kp?.expiryTime,
      groupIds: Object.freeze((kp?.mcGroupIds ?? []).map((g) => g.id)),
    });
    if (keyType === 'CSK') {
      this.#csk = held;
      this.#pending = undefined;
      return { keyType, keyId: o.keyId, action: 'replaced-csk' };
    }
    this.#multicast.set(o.keyId, held);
    return { keyType, keyId: o.keyId, action: 'stored' };
  }
}

/** A URI without parameters and headers, scheme and host lower-cased (RFC 3261 §19.1.4). */
function stripUri(uri: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):([^?;]*)/.exec(uri);
  if (m === null) return uri;
  const rest = m[2] ?? '';
  const at = rest.lastIndexOf('@');
  return `${(m[1] ?? '').toLowerCase()}:${at < 0 ? '' : rest.slice(0, at + 1)}${(at < 0 ? rest : rest.slice(at + 1)).toLowerCase()}`;
}

function agentOf(uri: string): string {
  return /^[a-z]+:(?:[^@]*@)?([^;?:]+)/i.exec(uri)?.[1] ?? 'mc-client';
}
