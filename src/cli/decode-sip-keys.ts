/**
 * `mcsec decode sip` with keys: the XML parts of a SIP message opened and their signatures checked
 * (TS 33.180 §9.3), when the XPKs are given on the command line:
 *
 *   --csk <hex> --csk-id <hex>       a CSK (client <-> MC domain, §9.2.1, §9.3.3)
 *   --spk <hex> --spk-id <hex>       an SPK (server <-> server, §5.5, §9.2.3)
 *   --musik <hex> --musik-id <hex>   a MuSiK (multicast signalling, §9.2.2)
 *   --user <uri>                     the MC service user ID: P0 of the §F.1.4 key derivation
 *
 * Every XML part (`…/xml`, `…+xml`) but the signatures body goes through unprotectXml
 * (formats/xmlenc, §9.3.4): what was encrypted (element paths, URI attributes) is reported with
 * the plaintext. A signatures body (application/vnd.3gpp.mcptt-signed+xml, §9.3.5) is verified
 * against the parts its References name by Content-ID, over their octets as received. With one key
 * given, XML naming no XPK-ID uses it (§9.3.4.2). A part that does not open or verify is the
 * typed error of xmlenc (ERR_DECRYPT, ERR_UNKNOWN_KEY, ERR_SIGNATURE ...), its field prefixed with
 * the part (`sip.body.part1.xml...`). Keys are never printed.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError, CryptoError, ErrorCode, FormatError, McsecError, PolicyError } from '../errors/index.js';
import { partMediaType, type MimePart } from '../formats/sip/index.js';
import {
  mimeContentId,
  MCPTT_SIGNED_CONTENT_TYPE,
  MemoryXpkResolver,
  isXpkIdOf,
  unprotectXml,
  verifyXmlBodies,
  type XmlReceiverKeys,
  type XpkPurpose,
} from '../formats/xmlenc/index.js';
import { signedContentIds } from '../formats/xmlenc/xml-signatures.js';
import { fromHex, fromUtf8 } from '../util/index.js';

/** The key options as commander hands them over. */
export interface SipKeyOptions {
  readonly csk?: string;
  readonly cskId?: string;
  readonly spk?: string;
  readonly spkId?: string;
  readonly musik?: string;
  readonly musikId?: string;
  readonly user?: string;
}

/** What opening one XML part showed. */
export interface XmlPartReport {
  /** 'opened' with keys; 'not-opened' when it holds XML encryption and no key was given; 'plain' otherwise. */
  readonly protection: 'opened' | 'not-opened' | 'plain';
  readonly decryptedElements: readonly string[];
  readonly decryptedAttributes: readonly string[];
  readonly messageType: string | undefined;
  /** XPK-IDs used, 8 hex digits each. */
  readonly xpkIds: readonly string[];
  /** The XML after decryption (with keys only). */
  readonly plaintext: string | undefined;
  /** The index of the signatures part that covers this part, whether it verified. */
  readonly signature: { readonly by: number; readonly verified: boolean } | undefined;
}

/** What a signatures part showed. */
export interface SignaturesReport {
  readonly covers: readonly string[];
  readonly verified: boolean;
}

const S933 = 'TS 33.180 §9.3.3';
const usage = (field: string, rule: string, clause = S933): ConfigError => new ConfigError(ErrorCode.USAGE, { field, rule, clause });
const hex8 = (n: number): string => n.toString(16).padStart(8, '0');
const XMLENC_NS = 'http://www.w3.org/2001/04/xmlenc#';

/** Adds the key options to a command. */
export function addSipKeyOptions(c: Command): Command {
  return c
    .option('--csk <hex|@file>', 'a CSK (128 bits) to open and check XML parts with (§9.2.1, §9.3); @file reads the hex from a file')
    .option('--csk-id <hex>', 'its CSK-ID (8 hex digits, purpose tag 2)')
    .option('--spk <hex|@file>', 'an SPK (128 bits) (§5.5, §9.2.3)')
    .option('--spk-id <hex>', 'its SPK-ID (8 hex digits, purpose tag 3)')
    .option('--musik <hex|@file>', 'a MuSiK (128 bits) (§9.2.2)')
    .option('--musik-id <hex>', 'its MuSiK-ID (8 hex digits, purpose tag 6)')
    .option('--user <uri>', 'the MC service user ID, P0 of the XML key derivation (§F.1.4)');
}

/** The receiver keys the options name, or undefined when no key is given. */
export function xmlKeysOf(o: SipKeyOptions, now: () => Date = () => new Date()): XmlReceiverKeys | undefined {
  const given: [XpkPurpose, string, string | undefined, string | undefined][] = [
    ['CSK', 'csk', o.csk, o.cskId],
    ['SPK', 'spk', o.spk, o.spkId],
    ['MuSiK', 'musik', o.musik, o.musikId],
  ];
  const resolver = new MemoryXpkResolver();
  const accept: XpkPurpose[] = [];
  const ids: number[] = [];
  for (const [purpose, name, given0, id] of given) {
    if (given0 === undefined && id === undefined) continue;
    // `@file` reads the hex from a file, so the key is not in the process list (ps) or shell history
    let key = given0;
    if (key?.startsWith('@') === true) {
      try {
        key = readFileSync(key.slice(1), 'utf8').trim();
      } catch {
        throw new ConfigError(ErrorCode.IO, { field: `--${name}`, rule: `must name a readable file after @ (${key.slice(1)})` });
      }
    }
    if (key === undefined || id === undefined) throw usage(`--${name}`, `--${name} and --${name}-id go together`);
    if (!/^[0-9a-fA-F]{32}$/.test(key)) throw usage(`--${name}`, 'must be 32 hex digits (128 bits)');
    if (!/^[0-9a-fA-F]{8}$/.test(id)) throw usage(`--${name}-id`, 'must be 8 hex digits (32 bits)');
    const xpkId = Number.parseInt(id, 16);
    if (!isXpkIdOf(xpkId, purpose)) throw usage(`--${name}-id`, `must carry the purpose tag of a ${purpose}`, 'TS 33.180 Annex G');
    resolver.set(xpkId, { key: fromHex(key, `--${name}`), purpose });
    accept.push(purpose);
    ids.push(xpkId);
  }
  if (accept.length === 0) {
    if (o.user !== undefined) throw usage('--user', 'is used with --csk, --spk or --musik');
    return undefined;
  }
  if (o.user === undefined || o.user.length === 0) throw usage('--user', 'is required with a key: the MC service user ID is P0 of the key derivation', 'TS 33.180 §F.1.4');
  return Object.freeze({ resolver, accept, mcServiceUserId: o.user, now, defaultXpkId: ids.length === 1 ? ids[0] : undefined });
}

/** The same error with its field placed inside the part. */
function inPart(e: unknown, index: number): unknown {
  if (!(e instanceof McsecError)) return e;
  const f = { field: `sip.body.part${index}.${e.field}`, rule: e.rule, ...(e.clause === undefined ? {} : { clause: e.clause }) };
  if (e instanceof CryptoError) return new CryptoError(e.code, f);
  if (e instanceof PolicyError) return new PolicyError(e.code, f);
  if (e instanceof FormatError) return new FormatError(e.code, f);
  return new McsecError(e.code, f);
}

const isXml = (essence: string): boolean => essence.endsWith('+xml') || essence.endsWith('/xml');

/**
 * Opens and checks the XML parts (see the module comment); the result has one entry per part
 * index: an XmlPartReport, a SignaturesReport, or undefined for a part that is not XML.
 */
export function openSipParts(parts: readonly MimePart[], keys: XmlReceiverKeys | undefined): readonly (XmlPartReport | SignaturesReport | undefined)[] {
  const essences = parts.map((p, i) => partMediaType(p, `sip.body.part${i}`).essence);
  // One addr-spec per part, unique across the message: a signature names exactly one part.
  const ids = parts.map((p, i) => mimeContentId(p, `sip.body.part${i}`));
  const named = ids.filter((id): id is string => id !== undefined);
  if (new Set(named).size !== named.length) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field: 'sip.body', rule: 'every Content-ID must name one part', clause: 'RFC 2392, TS 33.180 §9.3.5' });
  }
  const contentIdOf = (_p: MimePart, j: number): string | undefined => ids[j];
  // Signatures first: they cover the parts as received, before decryption.
  const signedBy = new Map<number, { by: number; verified: boolean }>();
  const signatures = new Map<number, SignaturesReport>();
  essences.forEach((essence, i) => {
    if (essence !== MCPTT_SIGNED_CONTENT_TYPE) return;
    const body = parts[i]?.body ?? new Uint8Array(0);
    try {
      const covers = signedContentIds(body);
      if (keys !== undefined) {
        const bodies = parts.flatMap((p, j) => {
          const id = contentIdOf(p, j);
          return j !== i && id !== undefined && covers.includes(id) ? [{ contentId: id, content: p.body }] : [];
        });
        verifyXmlBodies(body, bodies, { keys });
      }
      parts.forEach((p, j) => {
        const id = contentIdOf(p, j);
        if (id !== undefined && covers.includes(id)) signedBy.set(j, { by: i, verified: keys !== undefined });
      });
      signatures.set(i, Object.freeze({ covers, verified: keys !== undefined }));
    } catch (e) {
      throw inPart(e, i);
    }
  });
  return Object.freeze(
    parts.map((p, i): XmlPartReport | SignaturesReport | undefined => {
      const s = signatures.get(i);
      if (s !== undefined) return s;
      if (!isXml(essences[i] ?? '')) return undefined;
      const signature = signedBy.get(i);
      if (keys === undefined) {
        const encrypted = fromUtf8(p.body, `sip.body.part${i}`).includes(XMLENC_NS);
        return Object.freeze({ protection: encrypted ? 'not-opened' : 'plain', decryptedElements: [], decryptedAttributes: [], messageType: undefined, xpkIds: [], plaintext: undefined, signature });
      }
      try {
        const o = unprotectXml(p.body, { keys });
        return Object.freeze({
          protection: 'opened',
          decryptedElements: o.decryptedElements,
          decryptedAttributes: o.decryptedAttributes,
          messageType: o.messageType,
          xpkIds: Object.freeze([...new Set(o.xpkIds)].map(hex8)),
          plaintext: o.xml,
          signature,
        });
      } catch (e) {
        throw inPart(e, i);
      }
    }),
  );
}

/** Text lines describing one part's report. */
export function describeXmlReportText(r: XmlPartReport | SignaturesReport): string[] {
  if ('covers' in r) return [`signatures over ${r.covers.map((c) => `<${c}>`).join(', ') || 'nothing'}: ${r.verified ? 'verified' : 'not verified (no key given)'}`];
  const lines: string[] = [];
  if (r.protection === 'not-opened') lines.push('XML encryption present, not opened (give --csk, --spk or --musik with --user)');
  if (r.protection === 'opened') {
    lines.push(r.decryptedElements.length + r.decryptedAttributes.length === 0 ? 'nothing was encrypted' : `decrypted with XPK-ID ${r.xpkIds.join(', ')}:`);
    for (const e of r.decryptedElements) lines.push(`  element ${e}`);
    for (const a of r.decryptedAttributes) lines.push(`  attribute ${a}`);
    if (r.messageType !== undefined) lines.push(`message type ${r.messageType}`);
  }
  if (r.signature !== undefined) lines.push(`signed (part ${r.signature.by}): ${r.signature.verified ? 'verified' : 'not verified (no key given)'}`);
  else if (r.protection !== 'plain' || r.plaintext !== undefined) lines.push('not signed');
  if (r.plaintext !== undefined) lines.push('plaintext:', ...r.plaintext.split(/\r?\n/).map((l) => `  ${l}`));
  return lines;
}
