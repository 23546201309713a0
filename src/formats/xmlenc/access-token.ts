/**
 * The access token an MC client puts in the MC service info body of a REGISTER or PUBLISH
 * (TS 33.180 §5.1.3.2.2, §5.1.3.2.3: "the SIP REGISTER message may include the access token";
 * confidentiality protected as §9.3.2 "access token" says). Stage 3 names the element per service
 * (TS 24.379 mcpttinfo `mcptt-access-token`, TS 24.281 mcvideoinfo `mcvideo-access-token`,
 * TS 24.282 mcdatainfo `mcdata-access-token`), each holding the token in its `…String` child.
 *
 * `accessTokensOf` reads them from an (already decrypted) body: total, size-capped (the body's cap
 * of xml-tree.ts, 16 KiB per token), each value a compact JWS (RFC 7515 §7.1), at most one per
 * service; anything else is a FormatError naming the element. Checking a token is the resource
 * server's job (functions/authz).
 */
import type { Element } from '@xmldom/xmldom';
import { ErrorCode, FormatError } from '../../errors/index.js';
import { isElement, readDocument } from './xml-tree.js';

const CLAUSE = 'TS 33.180 §5.1.3.2';

/** The MC services whose info body carries an access token, with their stage-3 names. */
export const ACCESS_TOKEN_ELEMENTS = Object.freeze({
  mcptt: Object.freeze({ namespace: 'urn:3gpp:ns:mcpttInfo:1.0', element: 'mcptt-access-token', value: 'mcpttString' }),
  mcvideo: Object.freeze({ namespace: 'urn:3gpp:ns:mcvideoInfo:1.0', element: 'mcvideo-access-token', value: 'mcvideoString' }),
  mcdata: Object.freeze({ namespace: 'urn:3gpp:ns:mcdataInfo:1.0', element: 'mcdata-access-token', value: 'mcdataString' }),
} as const);

/** An MC service that takes an access token over SIP. */
export type AccessTokenService = keyof typeof ACCESS_TOKEN_ELEMENTS;

/** A token found in a body. */
export interface BodyAccessToken {
  readonly service: AccessTokenService;
  readonly token: string;
  /** Where it was, for error fields (never the value). */
  readonly field: string;
}

/** Longest token accepted, characters. */
export const ACCESS_TOKEN_MAX_CHARS = 16 * 1024;

const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function textOf(el: Element): string {
  let s = '';
  for (const c of el.childNodes) {
    if (c.nodeType === 3 || c.nodeType === 4) s += c.nodeValue ?? '';
    else if (isElement(c)) throw new Error('element');
  }
  return s;
}

/** The token inside one access-token element: its `…String` child, or its own text. */
function tokenOf(el: Element, valueName: string, field: string): string {
  const bad = (rule: string): FormatError => new FormatError(ErrorCode.BAD_VALUE, { field, rule, clause: CLAUSE });
  const children = Array.from(el.childNodes).filter(isElement);
  let text: string;
  try {
    if (children.length === 0) text = textOf(el);
    else if (children.length === 1 && children[0]?.localName === valueName && children[0].namespaceURI === el.namespaceURI) text = textOf(children[0]);
    else throw bad(`must hold the token as text or in one ${valueName} element`);
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw bad(`must hold the token as text or in one ${valueName} element`);
  }
  const token = text.trim();
  if (token.length > ACCESS_TOKEN_MAX_CHARS) throw new FormatError(ErrorCode.TOO_LARGE, { field, rule: `must be at most ${ACCESS_TOKEN_MAX_CHARS} characters`, clause: CLAUSE });
  if (!JWS_COMPACT.test(token)) throw bad('must be a JWS in compact serialization (RFC 7515 §7.1), in the clear (decrypt the body first, §9.3.4)');
  return token;
}

/** The access tokens of an MC service info body (see the module comment). */
export function accessTokensOf(xml: string | Uint8Array, field = 'xml'): readonly BodyAccessToken[] {
  const doc = readDocument(xml, field, CLAUSE);
  const out: BodyAccessToken[] = [];
  for (const [service, names] of Object.entries(ACCESS_TOKEN_ELEMENTS) as [AccessTokenService, (typeof ACCESS_TOKEN_ELEMENTS)[AccessTokenService]][]) {
    const found = Array.from(doc.getElementsByTagNameNS(names.namespace, names.element));
    if (found.length === 0) continue;
    const at = `${field}.${names.element}`;
    if (found.length > 1) throw new FormatError(ErrorCode.BAD_VALUE, { field: at, rule: 'must appear at most once', clause: CLAUSE });
    const [el] = found;
    if (el === undefined) continue;
    out.push(Object.freeze({ service, token: tokenOf(el, names.value, at), field: at }));
  }
  return Object.freeze(out);
}
