/**
 * The XML parts of a registration, opened with the client's CSK (TS 33.180 §9.2.1.3: "Once the
 * CSK has been extracted, MC user specific information (e.g. the access token) protected in the
 * SIP message as defined in clause 9.3.4, may be decrypted"; the REGISTER example carries
 * "Encrypted Access token, MCPTT ID" beside the I_MESSAGE).
 *
 * Every part whose media type is XML (`…/xml` or `…+xml`, RFC 7303) goes through unprotectXml
 * (formats/xmlenc, §9.3.4) with the CSKs of the user, the one just uploaded included: EncryptedData
 * and encrypted URI attributes are decrypted, an XML naming no XPK-ID uses the new CSK (§9.3.4.2:
 * the KeyName is optional); with a `required` policy (e.g. MCPTT_INFO_POLICY), what it lists must
 * have arrived encrypted. A part that does not open refuses the whole request.
 */
import { decodeSipBody, partMediaType, type SipRequest } from '../../formats/sip/index.js';
import { unprotectXml, type XmlProtectionPolicy, type XpkResolver } from '../../formats/xmlenc/index.js';

/** An XML part after unprotection. */
export interface OpenedXmlPart {
  /** Its index among the body parts. */
  readonly index: number;
  readonly contentType: string;
  readonly xml: string;
  readonly decryptedElements: readonly string[];
  readonly decryptedAttributes: readonly string[];
}

/** What opening the XML parts needs. */
export interface XmlPartsContext {
  /** The user's CSKs (the new one included). */
  readonly resolver: XpkResolver;
  /** P0 of §F.1.4: the MC service user ID. */
  readonly mcServiceUserId: string;
  /** The XPK-ID for XML that names none: the CSK just uploaded. */
  readonly defaultXpkId: number | undefined;
  readonly now: () => Date;
  /** What must arrive encrypted, per content type essence. */
  readonly required?: Readonly<Record<string, XmlProtectionPolicy>>;
}

const isXml = (essence: string): boolean => essence.endsWith('+xml') || essence.endsWith('/xml');

/** Opens every XML part of `req` (see the module comment). */
export function openXmlParts(req: SipRequest, ctx: XmlPartsContext): readonly OpenedXmlPart[] {
  const out: OpenedXmlPart[] = [];
  decodeSipBody(req).forEach((p, index) => {
    const type = partMediaType(p, `sip.body.part${index}`);
    if (!isXml(type.essence)) return;
    const opened = unprotectXml(p.body, {
      keys: { resolver: ctx.resolver, accept: ['CSK'], mcServiceUserId: ctx.mcServiceUserId, now: ctx.now, defaultXpkId: ctx.defaultXpkId },
      required: ctx.required?.[type.essence],
    });
    out.push(Object.freeze({ index, contentType: type.essence, xml: opened.xml, decryptedElements: opened.decryptedElements, decryptedAttributes: opened.decryptedAttributes }));
  });
  return Object.freeze(out);
}
