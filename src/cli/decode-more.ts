/**
 * More `mcsec decode <format>` commands for debugging the wire:
 *   decode sip <file|->          a SIP message (RFC 3261): start line, headers, body parts; MIKEY
 *                                parts (application/mikey, or an SDP a=key-mgmt:mikey line) described
 *                                payload by payload, never a key; XML parts opened and their
 *                                signatures checked with --csk/--spk/--musik and --user
 *                                (TS 33.180 §9.3, decode-sip-keys.ts); the KRR of a 488
 *                                (Annex D.4.1) field by field
 *   decode krr <file|->          a KMS Redirect Response (TS 33.180 Annex D.4); `--verify` checks its
 *                                ECDSA signatures with the certificates it carries
 *   decode kms-request <file|->  a KmsRequest / SignedKmsRequest (Annex D.2.2)
 *   decode ear <file|->          an EAR (TS 33.180 §9.6.4, Annex J): payload fields, signer, signature
 *                                length (not verified: that needs the signer's KMS certificate)
 * Each takes `--json`. Errors are one line with code, field and clause (output.ts).
 */
import type { Command } from 'commander';
import { KRR_CONTENT_TYPE, decodeKmsRequest, decodeKrr, verifyKrr, type KmsRedirectResponse } from '../formats/kms-xml/index.js';
import { decodeMikey, decodeMikeyInput, describeMikey, describeMikeyText } from '../formats/mikey/index.js';
import { EAR_CONTENT_TYPE, decodeEar, earIdToString, type DecodedEar } from '../formats/ear/index.js';
import { decodeSipBody, decodeSipMessage, headerValue, partMediaType, type MimePart } from '../formats/sip/index.js';
import { fromUtf8, toHex } from '../util/index.js';
import { addSipKeyOptions, describeXmlReportText, openSipParts, xmlKeysOf, type SipKeyOptions } from './decode-sip-keys.js';
import { readBytes } from './input.js';
import { printLine } from './output.js';

type Json = string | number | boolean | null | undefined | readonly Json[] | { readonly [k: string]: Json };

/** The MIKEY messages a body part carries: the part itself, or the key-mgmt lines of an SDP. */
function mikeyOf(part: MimePart): Uint8Array[] {
  const type = partMediaType(part);
  const t = type === undefined ? '' : `${type.type}/${type.subtype}`.toLowerCase();
  if (t === 'application/mikey') return [decodeMikeyInput(part.body)];
  if (t === 'application/sdp') {
    const lines = fromUtf8(part.body, 'sip.body').split(/\r?\n/);
    return lines.filter((l) => /^a=key-mgmt:\s*mikey\s/i.test(l)).map((l) => decodeMikeyInput(new TextEncoder().encode(l.replace(/^a=key-mgmt:\s*/i, ''))));
  }
  return [];
}

function describeEar(e: DecodedEar): Json {
  const p = e.payload;
  const r = p.request;
  return {
    messageType: p.messageType, dateTime: p.dateTime.toISOString(), earId: earIdToString(p.earId),
    sourceRole: p.sourceRole, sourceId: p.sourceId, targetRole: p.targetRole, targetId: p.targetId,
    request: r === undefined ? null : {
      requestType: r.requestType,
      requestId: r.requestId === undefined ? null : r.requestId.value,
      requestExpiry: r.requestExpiry === undefined ? null : r.requestExpiry.value.toISOString(),
    },
    signature: { algorithm: e.algorithm, signingUid: toHex(e.signingUid), signingKmsUri: e.signingKmsUri, octets: e.signature.length, verified: false },
  };
}

const isEarPart = (part: MimePart): boolean => (headerValue(part, 'Content-Type') ?? '').toLowerCase().startsWith(EAR_CONTENT_TYPE);
const isKrrPart = (part: MimePart, i: number): boolean => partMediaType(part, `sip.body.part${i}`).essence === KRR_CONTENT_TYPE;

function describeKrr(k: KmsRedirectResponse): Json {
  return {
    id: k.id, time: k.time, krrCreatorUri: k.krrCreatorUri, initiatorUri: k.initiatorUri, initiatorKmsUri: k.initiatorKmsUri,
    receiverUri: k.receiverUri, receiverKmsUri: k.receiverKmsUri,
    initiatorKmsList: k.initiatorKmsList === 'ANY' ? 'ANY' : [...k.initiatorKmsList],
    receiverKmsList: k.receiverKmsList === 'ANY' ? 'ANY' : [...k.receiverKmsList],
    signed: k.signature !== undefined,
    received: k.received === undefined ? null : describeKrr(k.received),
  };
}

export function registerDecodeMore(decode: Command): void {
  addSipKeyOptions(decode
    .command('sip')
    .description('decode a SIP message: start line, headers, body parts, MIKEY payloads inside, XML parts opened with the keys given (RFC 3261, TS 33.180 §9.3)')
    .argument('<input>', 'file, or - for stdin')
    .option('--json', 'print one JSON object'))
    .action((input: string, o: SipKeyOptions & { json?: boolean }) => {
      const keys = xmlKeysOf(o);
      const m = decodeSipMessage(readBytes(input), { datagram: true });
      const parts = decodeSipBody(m);
      const xml = openSipParts(parts, keys);
      const described = parts.map((p, i) => {
        const type = headerValue(p, 'Content-Type');
        const mikey = mikeyOf(p).map((b) => describeMikey(decodeMikey(b)));
        const ear = isEarPart(p) ? describeEar(decodeEar(p.body)) : undefined;
        const krr = isKrrPart(p, i) ? describeKrr(decodeKrr(p.body)) : undefined;
        const x = xml[i];
        return { index: i, contentType: type, octets: p.body.length, ...(mikey.length > 0 ? { mikey } : {}), ...(ear === undefined ? {} : { ear }), ...(krr === undefined ? {} : { krr }), ...(x === undefined ? {} : { xml: x }) };
      });
      if (o.json === true) {
        printLine(JSON.stringify({
          ...(m.kind === 'request' ? { method: m.method, uri: m.uri } : { status: m.status, reason: m.reason }),
          headers: m.headers.map((h) => ({ name: h.name, value: h.value })),
          parts: described,
        }));
        return;
      }
      printLine(m.kind === 'request' ? `${m.method} ${m.uri} SIP/2.0` : `SIP/2.0 ${m.status} ${m.reason}`);
      for (const h of m.headers) printLine(`  ${h.name}: ${h.value}`);
      parts.forEach((p, i) => {
        printLine(`part ${i}: ${headerValue(p, 'Content-Type') ?? '(no type)'}, ${p.body.length} octets`);
        for (const b of mikeyOf(p)) for (const line of describeMikeyText(decodeMikey(b))) printLine(`  ${line}`);
        if (isEarPart(p)) printLine(`  EAR ${JSON.stringify(describeEar(decodeEar(p.body)))}`);
        if (isKrrPart(p, i)) printLine(`  KRR ${JSON.stringify(describeKrr(decodeKrr(p.body)))}`);
        const x = xml[i];
        if (x !== undefined) for (const line of describeXmlReportText(x)) printLine(`  ${line}`);
      });
    });

  decode
    .command('krr')
    .description('decode a KMS Redirect Response (TS 33.180 Annex D.4)')
    .argument('<input>', 'file, or - for stdin')
    .option('--json', 'print one JSON object')
    .option('--verify', 'verify the ECDSA-SHA256 signatures with the X.509 certificates carried (D.4.3)')
    .action((input: string, o: { json?: boolean; verify?: boolean }) => {
      const bytes = readBytes(input);
      const v = o.verify === true ? verifyKrr(bytes) : undefined;
      const k = v?.krr ?? decodeKrr(bytes);
      const signers = v?.signers.map((s) => ({ krrCreatorUri: s.krrCreatorUri, subject: s.subject, fingerprint256: s.fingerprint256 }));
      const out = { ...(describeKrr(k) as Record<string, Json>), signature: v === undefined ? (k.signature === undefined ? 'absent' : 'unverified') : 'valid', ...(signers === undefined ? {} : { signers }) };
      if (o.json === true) printLine(JSON.stringify(out));
      else for (const [key, value] of Object.entries(out)) printLine(`${key.padEnd(16)}${typeof value === 'string' ? value : JSON.stringify(value)}`);
    });

  decode
    .command('ear')
    .description('decode an EAR (TS 33.180 §9.6.4, Annex J): payload, request, signer')
    .argument('<input>', 'file, or - for stdin')
    .option('--json', 'print one JSON object')
    .action((input: string, o: { json?: boolean }) => {
      const out = describeEar(decodeEar(readBytes(input))) as Record<string, Json>;
      if (o.json === true) printLine(JSON.stringify(out));
      else for (const [key, value] of Object.entries(out)) printLine(`${key.padEnd(14)}${typeof value === 'string' ? value : JSON.stringify(value)}`);
    });

  decode
    .command('kms-request')
    .description('decode a KmsRequest / SignedKmsRequest (TS 33.180 Annex D.2.2)')
    .argument('<input>', 'file, or - for stdin')
    .option('--json', 'print one JSON object')
    .action((input: string, o: { json?: boolean }) => {
      const r = decodeKmsRequest(readBytes(input));
      const out: Record<string, Json> = {
        UserUri: r.userUri, KmsUri: r.kmsUri, Time: r.time, ClientId: r.clientId, DeviceId: r.deviceId, ClientReqUrl: r.clientReqUrl,
        'TrK-ID': r.trkId, 'Signature-ID': r.signatureId, signed: r.signed,
        signatureValue: r.signature === undefined ? undefined : `${toHex(r.signature.signatureValue).slice(0, 16)}… (${r.signature.signatureValue.length} octets)`,
        krrList: r.krrList === undefined ? undefined : describeKrr(r.krrList),
        clientError: r.clientError === undefined ? undefined : { errorCode: r.clientError.errorCode, errorMsg: r.clientError.errorMsg },
      };
      if (o.json === true) printLine(JSON.stringify(out));
      else for (const [key, value] of Object.entries(out)) if (value !== undefined) printLine(`${key.padEnd(16)}${typeof value === 'string' ? value : JSON.stringify(value)}`);
    });
}
