/**
 * KMS requests of TS 33.180 Annex D.2.2: the KmsRequest XML a key management client POSTs to
 * the KMS, optionally signed as a SignedKmsRequest (the D.1 security extension: an enveloped
 * HMAC-SHA256 XML signature under the InK, else the TrK, with Signature-ID naming the key).
 *
 *   SignedKmsRequest@Id { KmsRequest, ds:Signature }
 *   KmsRequest@Version=1.1.0 { UserUri, KmsUri, Time, ClientId?, DeviceId?, ClientReqUrl,
 *     KrrList? (one KmsRedirectResponse, D.2.8), ClientError?, ##other* (ext:TrK-ID, ext:Signature-ID) }
 *
 * The KMS-side checks of D.2.2 (the signature, the KmsUri, the time window, ClientReqUrl equal to
 * the resource the request was posted to) are checkKmsRequest's; the decoder only decodes.
 */
import type { Element } from '@xmldom/xmldom';
import { ErrorCode, PolicyError } from '../../errors/index.js';
import { randomBytes } from 'node:crypto';
import { toHex } from '../../util/index.js';
import { decodeKrrElement, type KmsRedirectResponse } from './krr.js';
import { verifyXmlHmacSignatureOn } from './kms-protection.js';
import { KmsNamespace } from './kms-response.js';
import {
  Children, attr, attributes, bad, dateTime, documentText, fail, integer, nonEmpty, opt as optEl, parse, signatureInfo, text, tokenAttr,
  type XmlSignatureInfo,
} from './xml-read.js';
import {
  NCNAME, bad as badValue, dateTime as checkDateTime, el, hmacSignatureTemplate, hmacSigner, int, leaf, opt, serialize, signTree, signatureNode, str,
  toXsdDateTime, type Node,
} from './xml-write.js';

const D22 = 'TS 33.180 Annex D.2.2';
const D35 = 'TS 33.180 Annex D.3.5';
const { KMS, KMS_EXTENSIONS, KRR, XMLDSIG, XSI } = KmsNamespace;
/** The largest KMS request accepted, in octets (a KrrList of nested KRRs fits well within it). */
export const KMS_REQUEST_MAX_OCTETS = 256 * 1024;
/** The MIME type of KMS request and response bodies (TS 33.180 Annex D uses XML over HTTPS). */
export const KMS_XML_CONTENT_TYPE = 'application/xml';

/** A decoded KmsRequest (TS 33.180 Annex D.2.2). */
export interface KmsRequest {
  readonly signed: boolean;
  readonly id: string | undefined;
  readonly userUri: string;
  readonly kmsUri: string;
  readonly time: string;
  readonly clientId: string | undefined;
  readonly deviceId: string | undefined;
  readonly clientReqUrl: string;
  readonly krrList: KmsRedirectResponse | undefined;
  readonly clientError: { readonly errorCode: number; readonly errorMsg: string } | undefined;
  readonly trkId: string | undefined;
  readonly signatureId: string | undefined;
  readonly signature: XmlSignatureInfo | undefined;
}

function kmsRequest(e: Element, path: string, signed: boolean, id: string | undefined, sig: XmlSignatureInfo | undefined): KmsRequest {
  attributes(e, path, ['Id', 'Version']);
  const version = tokenAttr(e, 'Version');
  if (version !== undefined && version !== '1.1.0') throw fail(ErrorCode.UNSUPPORTED, `${path}@Version`, "must be '1.1.0'", D22);
  const c = new Children(e, path, [KMS], true);
  const p = (n: string): string => `${path}.${n}`;
  const userUri = nonEmpty(c.one('UserUri'), p('UserUri'), D22);
  const kmsUri = nonEmpty(c.one('KmsUri'), p('KmsUri'), D22);
  const time = dateTime(c.one('Time'), p('Time'), D22);
  const clientId = optEl(c.optional('ClientId'), (x) => text(x, p('ClientId')));
  const deviceId = optEl(c.optional('DeviceId'), (x) => text(x, p('DeviceId')));
  const clientReqUrl = nonEmpty(c.one('ClientReqUrl'), p('ClientReqUrl'), D22);
  const krrEl = c.optional('KrrList');
  const errEl = c.optional('ClientError');
  c.done();
  let krrList: KmsRedirectResponse | undefined;
  if (krrEl !== undefined) {
    // KrrList is of krr:KmsRedirectResponseType: its children are the KRR's, in the KRR namespace.
    krrList = decodeKrrElement(krrEl, p('KrrList'));
  }
  const clientError = optEl(errEl, (x) => {
    const ec = new Children(x, p('ClientError'), [KMS], true);
    const errorCode = integer(ec.one('ErrorCode'), p('ClientError.ErrorCode'), D22, Number.MIN_SAFE_INTEGER);
    const errorMsg = text(ec.one('ErrorMsg'), p('ClientError.ErrorMsg'));
    ec.done();
    return Object.freeze({ errorCode, errorMsg });
  });
  const extension = (name: string): string | undefined => {
    const found = c.foreign.filter((x) => x.namespaceURI === KMS_EXTENSIONS && x.localName === name);
    if (found.length > 1) throw bad(p(name), 'must occur at most once', D35);
    return optEl(found[0], (x) => nonEmpty(x, p(name), D35));
  };
  return Object.freeze({
    signed, id, userUri, kmsUri, time, clientId, deviceId, clientReqUrl, krrList, clientError,
    trkId: extension('TrK-ID'), signatureId: extension('Signature-ID'), signature: sig,
  });
}

function decodeRoot(root: Element): KmsRequest {
  if (root.namespaceURI !== KMS || (root.localName !== 'SignedKmsRequest' && root.localName !== 'KmsRequest')) {
    throw bad('kmsRequest', `the root element must be SignedKmsRequest or KmsRequest in the namespace ${KMS}`, D22);
  }
  if (root.localName === 'KmsRequest') return kmsRequest(root, 'kmsRequest', false, undefined, undefined);
  attributes(root, 'signedKmsRequest', ['Id']);
  const c = new Children(root, 'signedKmsRequest', [KMS, XMLDSIG], false);
  const request = c.one('KmsRequest');
  const sig = c.one('Signature', XMLDSIG);
  c.done();
  return kmsRequest(request, 'kmsRequest', true, attr(root, 'Id'), signatureInfo(sig, 'signedKmsRequest.Signature', D22));
}

const parseRequest = (input: string | Uint8Array): Element =>
  parse(documentText(input, 'kmsRequest', KMS_REQUEST_MAX_OCTETS, D22), 'kmsRequest', D22);

/** Decodes a KmsRequest or SignedKmsRequest (TS 33.180 Annex D.2.2); the signature is not checked. */
export function decodeKmsRequest(input: string | Uint8Array): KmsRequest {
  return decodeRoot(parseRequest(input));
}

/** A decoded request whose signature can be checked on the same parsed document. */
export interface OpenedKmsRequest {
  readonly request: KmsRequest;
  /** Verifies the D.1 signature with `key` (the InK or TrK its Signature-ID names); ERR_SIGNATURE otherwise. */
  verifySignature(key: Uint8Array): void;
}

/** Decodes a request once, for a caller that finds the signature key (asynchronously) from it. */
export function openKmsRequest(input: string | Uint8Array): OpenedKmsRequest {
  const root = parseRequest(input);
  const request = decodeRoot(root);
  return Object.freeze({
    request,
    verifySignature: (key: Uint8Array): void => verifyXmlHmacSignatureOn(root, request.signature, request.id, key, 'signedKmsRequest.Signature'),
  });
}

/** A KmsRequest to emit. */
export interface KmsRequestInput {
  readonly userUri: string;
  readonly kmsUri: string;
  readonly time?: string | undefined;
  readonly clientId?: string | undefined;
  readonly deviceId?: string | undefined;
  readonly clientReqUrl: string;
  /** A KRR document to upload (D.2.8): its root becomes the KrrList element. */
  readonly krr?: string | undefined;
  readonly clientError?: { readonly errorCode: number; readonly errorMsg: string } | undefined;
  readonly trkId?: string | undefined;
  /** Required when `signingKey` is given (D.2.2): the InK-ID, or the TrK-ID when the TrK signs. */
  readonly signatureId?: string | undefined;
}

/**
 * Encodes a KmsRequest (TS 33.180 Annex D.2.2); with `signingKey` (the InK, else the TrK) a
 * SignedKmsRequest with the D.1 HMAC-SHA256 signature.
 */
export function encodeKmsRequest(value: KmsRequestInput, signingKey?: Uint8Array, now: () => Date = () => new Date()): string {
  const p = (f: string): string => `kmsRequest.${f}`;
  if (signingKey !== undefined && value.signatureId === undefined) throw badValue(p('Signature-ID'), 'is required when a signature is applied', D22);
  const ext = (name: string, v: string | undefined): Node | undefined =>
    opt(v, (s) => el(name, { xmlns: KMS_EXTENSIONS }, str(s, p(name), D35, true)));
  let krr: Node | undefined;
  if (value.krr !== undefined) {
    const inner = value.krr.replace(/^\uFEFF?<\?xml[^>]*\?>\s*/, '').trim();
    const m = /^<KmsRedirectResponse\b([^>]*)>([\s\S]*)<\/KmsRedirectResponse\s*>$/.exec(inner);
    if (m === null) throw badValue(p('KrrList'), 'must be a KmsRedirectResponse document', 'TS 33.180 Annex D.2.8');
    // KrrList is a KMS-namespace element of the KRR type: its children stay in the KRR namespace.
    const attrs = (m[1] ?? '').replace(/\sxmlns="[^"]*"/, '');
    krr = { name: '', attrs: [], content: '', raw: `<kms:KrrList xmlns:kms="${KMS}" xmlns="${KRR}"${attrs}>${m[2] ?? ''}</kms:KrrList>` };
  }
  const children = [
    leaf('UserUri', str(value.userUri, p('UserUri'), D22, true)),
    leaf('KmsUri', str(value.kmsUri, p('KmsUri'), D22, true)),
    leaf('Time', checkDateTime(value.time ?? toXsdDateTime(now()), p('Time'), D22)),
    leaf('ClientId', opt(value.clientId, (s) => str(s, p('ClientId'), D22))),
    leaf('DeviceId', opt(value.deviceId, (s) => str(s, p('DeviceId'), D22))),
    leaf('ClientReqUrl', str(value.clientReqUrl, p('ClientReqUrl'), D22, true)),
    krr,
    opt(value.clientError, (e) => el('ClientError', {}, [
      el('ErrorCode', {}, int(e.errorCode, p('ClientError.ErrorCode'), D22, Number.MIN_SAFE_INTEGER)),
      el('ErrorMsg', {}, str(e.errorMsg, p('ClientError.ErrorMsg'), D22)),
    ])),
    ext('TrK-ID', value.trkId),
    ext('Signature-ID', value.signatureId),
  ];
  const header = '<?xml version="1.0" encoding="UTF-8"?>\n';
  const ns = { xmlns: KMS, 'xmlns:xsi': XSI, 'xmlns:ds': XMLDSIG };
  if (signingKey === undefined) return `${header}${serialize(el('KmsRequest', { ...ns, Version: '1.1.0' }, children))}\n`;
  const id = `req-${toHex(new Uint8Array(randomBytes(8)))}`;
  if (!NCNAME.test(id)) throw badValue('signedKmsRequest@Id', 'must be an NCName', D22);
  const signatureId = value.signatureId ?? '';
  const build = (digest: string, sigValue: string): Node =>
    el('SignedKmsRequest', { ...ns, Id: id }, [
      el('KmsRequest', { Version: '1.1.0' }, children),
      signatureNode(hmacSignatureTemplate(id, signatureId), digest, sigValue),
    ]);
  return signTree(build, hmacSigner(signingKey), header);
}

/** What the KMS expects of a request (D.2.2). */
export interface KmsRequestExpectations {
  /** The KMS's own KMS URI. */
  readonly kmsUri: string;
  /** The resource URI the request was posted to (compared with ClientReqUrl). */
  readonly resourceUri: string;
  /** The window either side of `now` for Time, milliseconds (D.2.2 suggests 5 s). */
  readonly windowMs: number;
  readonly now: Date;
  /** Keys by Signature-ID (InK-ID or TrK-ID) for the user; a signed request needs one. */
  readonly signingKey?: ((signatureId: string) => Uint8Array | undefined) | undefined;
  /** Refuse unsigned requests. */
  readonly requireSignature: boolean;
}

/** A KMS URI without its scheme, trailing slash or case: "kms.example.org", "https://KMS.example.org/" and
 *  "sip:kms.example.org" name one KMS (Annex D examples write it both with and without a scheme). */
export const normaliseKmsUri = (u: string): string => u.trim().replace(/^[a-z][a-z0-9+.-]*:(\/\/)?/i, '').replace(/\/+$/, '').toLowerCase();
export const sameKmsUri = (a: string, b: string): boolean => normaliseKmsUri(a) === normaliseKmsUri(b);

const ABS_DATE = /^(-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:\d{2})?$/;

/**
 * Decodes a KMS request and applies the checks of D.2.2: signature (when present, or when
 * required), KmsUri, Time within the window (a Time without zone is read as UTC), ClientReqUrl.
 * Throws FormatError for XML that does not decode, CryptoError ERR_SIGNATURE for a signature that
 * does not verify, PolicyError for the rest.
 */
export function checkKmsRequest(input: string | Uint8Array, x: KmsRequestExpectations): KmsRequest {
  const opened = openKmsRequest(input);
  const { request } = opened;
  if (request.signature !== undefined || x.requireSignature) {
    const key = request.signatureId === undefined ? undefined : x.signingKey?.(request.signatureId);
    if (key === undefined) {
      throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'kmsRequest.Signature-ID', rule: 'must name an InK or TrK held for this user', clause: D22 });
    }
    opened.verifySignature(key);
  }
  checkKmsRequestFields(request, x);
  return request;
}

/** The D.2.2 checks other than the signature: KmsUri, Time within the window (no zone = UTC), ClientReqUrl. */
export function checkKmsRequestFields(request: KmsRequest, x: Pick<KmsRequestExpectations, 'kmsUri' | 'resourceUri' | 'windowMs' | 'now'>): void {
  const policy = (field: string, rule: string, code: (typeof ErrorCode)[keyof typeof ErrorCode] = ErrorCode.BAD_VALUE): PolicyError =>
    new PolicyError(code, { field, rule, clause: D22 });
  if (!sameKmsUri(request.kmsUri, x.kmsUri)) throw policy('kmsRequest.KmsUri', "must be this KMS's KMS URI");
  const m = ABS_DATE.exec(request.time);
  const t = m === null ? NaN : Date.parse(`${m[1] ?? ''}${m[2] ?? 'Z'}`);
  if (!Number.isFinite(t) || Math.abs(t - x.now.getTime()) > x.windowMs) {
    throw policy('kmsRequest.Time', `must be within ${x.windowMs} ms of the KMS's time`, ErrorCode.EXPIRED);
  }
  if (request.clientReqUrl !== x.resourceUri) throw policy('kmsRequest.ClientReqUrl', 'must be the resource URI the request was posted to');
}
