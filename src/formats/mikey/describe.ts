/**
 * A plain, JSON-ready description of a decoded MIKEY message for people debugging interop
 * (`mcsec decode mikey`): every payload with its offset and named fields. Values that are not
 * secret are shown (IDs, RAND, timestamps, CSB-ID); encapsulated SAKKE data and signatures are
 * public too and shown in hex. The §E.6 key-parameters extension is shown as its MCData Protected
 * Payload header (the Key Parameters inside are encrypted under the key carried, so only their
 * length is shown); `describeOpenedKeyParameters` shows them once an I_MESSAGE was opened.
 */
import { fromUtf8, toHex } from '../../util/index.js';
import { McsecError } from '../../errors/index.js';
import { McdataAlgorithm, McdataMessageType, decodeMcdataProtectedPayload, type McdataProtectedPayload } from '../mcdata/index.js';
import { GeneralExtType, IdRole, IdType, PayloadType, TsType } from './constants.js';
import { isProtectedPayloadData, type OpenedKeyParameters } from './key-parameters-extension.js';
import type { MikeyMessage } from './message.js';
import type { MikeyPayload } from './payloads.js';

const nameOf = (table: Readonly<Record<string, number>>, v: number): string =>
  Object.entries(table).find(([, x]) => x === v)?.[0] ?? `unknown(${v})`;

/** Seconds between the NTP epoch (1900) and the Unix epoch. */
const NTP_UNIX = 2_208_988_800n;

function ntpToIso(value: bigint): string | null {
  const seconds = value >> 32n;
  const ms = Number(seconds - NTP_UNIX) * 1000 + Math.floor((Number(value & 0xffff_ffffn) / 2 ** 32) * 1000);
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function text(data: Uint8Array): string | null {
  try {
    const s = fromUtf8(data);
    return /^[\x20-\x7e]*$/.test(s) ? s : null;
  } catch (err) {
    if (err instanceof McsecError) return null;
    throw err;
  }
}

const hex8 = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

/** The header of an MCData Protected Payload (§8.5.4.1); the Payload itself by length only. */
function describeProtectedPayload(pp: McdataProtectedPayload): Record<string, unknown> {
  return {
    messageType: `0x${pp.messageType.toString(16).padStart(2, '0')}`,
    protected: (pp.messageType & McdataMessageType.PROTECTED) !== 0,
    authenticated: (pp.messageType & McdataMessageType.AUTHENTICATED) !== 0,
    dateTime: pp.dateTime.toISOString(),
    payloadId: pp.payloadId,
    payloadSequenceNumber: pp.payloadSequenceNumber,
    payloadAlgorithm: nameOf(McdataAlgorithm, pp.payloadAlgorithm),
    ...(pp.signallingAlgorithm !== undefined ? { signallingAlgorithm: nameOf(McdataAlgorithm, pp.signallingAlgorithm) } : {}),
    iv: toHex(pp.iv),
    dppkId: hex8(pp.dppkId),
    payload: { iei: pp.payload.iei, length: pp.payload.value.length },
    iMessage: pp.iMessage === undefined ? null : { iei: pp.iMessage.iei, length: pp.iMessage.value.length },
  };
}

/** A §E.6 extension as far as it decodes without the key. */
function describeKeyParametersData(data: Uint8Array, csbId: number): Record<string, unknown> {
  if (!isProtectedPayloadData(data)) return { format: 'legacy', data: toHex(data) };
  try {
    const pp = decodeMcdataProtectedPayload(data, { where: 'keyParameters.protectedPayload' });
    return { format: 'current', dppkIdIsCsbId: pp.dppkId === csbId, protectedPayload: describeProtectedPayload(pp) };
  } catch (err) {
    if (!(err instanceof McsecError)) throw err;
    return { format: 'invalid', error: { code: err.code, field: err.field, rule: err.rule }, data: toHex(data) };
  }
}

/** JSON-ready key parameters of an opened I_MESSAGE: lowercase hex, ISO times, null for unset. */
export function describeOpenedKeyParameters(kp: OpenedKeyParameters): Record<string, unknown> {
  if (kp.format === 'legacy') return { format: 'legacy', length: kp.raw.length, data: toHex(kp.raw) };
  return {
    format: 'current',
    keyType: kp.keyType,
    status: { ...kp.status },
    activationTime: kp.activationTime?.toISOString() ?? null,
    expiryTime: kp.expiryTime?.toISOString() ?? null,
    text: kp.text,
    mcGroupIds: kp.mcGroupIds?.map((g) => ({ iei: g.iei, id: g.id })) ?? null,
    reserved: kp.reserved === undefined ? null : { iei: kp.reserved.iei, value: toHex(kp.reserved.value) },
    iei: kp.iei,
    protectedPayload: describeProtectedPayload(kp.protectedPayload),
  };
}

function describePayload(p: MikeyPayload, offset: number, csbId: number): Record<string, unknown> {
  const base = { offset, type: p.type, name: nameOf(PayloadType, p.type) };
  switch (p.type) {
    case PayloadType.T:
      return { ...base, tsType: p.tsType, tsTypeName: nameOf(TsType, p.tsType), value: p.value.toString(), time: p.tsType === TsType.COUNTER ? null : ntpToIso(p.value) };
    case PayloadType.RAND:
      return { ...base, length: p.rand.length, rand: toHex(p.rand) };
    case PayloadType.IDR:
      return { ...base, role: p.role, roleName: nameOf(IdRole, p.role), idType: p.idType, idTypeName: nameOf(IdType, p.idType), length: p.data.length, id: text(p.data) ?? toHex(p.data) };
    case PayloadType.SP:
      return { ...base, policyNo: p.policyNo, protType: p.protType, params: p.params.map((q) => ({ type: q.type, value: toHex(q.value) })) };
    case PayloadType.SAKKE:
      return { ...base, sakkeParams: p.sakkeParams, idScheme: p.idScheme, length: p.data.length, sakkeData: toHex(p.data) };
    case PayloadType.GENERAL_EXT:
      return {
        ...base,
        extType: p.extType,
        extTypeName: nameOf(GeneralExtType, p.extType),
        length: p.data.length,
        ...(p.sakke !== undefined
          ? { sakke: { sakkeParams: p.sakke.sakkeParams, idScheme: p.sakke.idScheme, length: p.sakke.data.length, sakkeData: toHex(p.sakke.data) } }
          : p.extType === GeneralExtType.KEY_PARAMETERS
            ? { keyParameters: describeKeyParametersData(p.data, csbId) }
            : { data: toHex(p.data) }),
      };
  }
}

/** The JSON-ready description. */
export function describeMikey(m: MikeyMessage): Record<string, unknown> {
  const h = m.hdr;
  return {
    hdr: {
      offset: 0,
      version: h.version,
      dataType: h.dataType,
      nextPayload: h.nextPayload,
      v: h.v,
      prfFunc: h.prfFunc,
      csbId: hex8(h.csbId),
      purposeTag: h.csbId >>> 28,
      csIdMapType: h.csIdMapType,
      csCount: h.csIdMapType === 0 ? h.srtpIds.length : h.genericIds.length,
      srtpIds: h.srtpIds.map((c) => ({ ...c })),
      genericIds: h.genericIds.map((c) => ({ csId: c.csId, protType: c.protType, s: c.s, policies: [...c.policies], sessionData: toHex(c.sessionData), spi: toHex(c.spi) })),
    },
    payloads: m.payloads.map((p, i) => describePayload(p, m.offsets[i + 1] as number, h.csbId)),
    sign:
      m.sign === undefined
        ? null
        : { offset: m.offsets[m.offsets.length - 1], sType: m.sign.sType, length: m.sign.signature.length, signedLength: m.signedPart?.length ?? 0, signature: toHex(m.sign.signature) },
  };
}

/** Lines of text for a terminal, one per field, indented under each payload. */
export function describeMikeyText(m: MikeyMessage): string[] {
  const d = describeMikey(m);
  const out: string[] = [];
  const dump = (title: string, obj: Record<string, unknown>): void => {
    out.push(title);
    for (const [k, v] of Object.entries(obj)) {
      if (k === 'offset') continue;
      out.push(`    ${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
    }
  };
  dump(`@0 HDR`, d['hdr'] as Record<string, unknown>);
  for (const p of d['payloads'] as Record<string, unknown>[]) dump(`@${String(p['offset'])} ${String(p['name'])}`, p);
  const sign = d['sign'] as Record<string, unknown> | null;
  if (sign !== null) dump(`@${String(sign['offset'])} SIGN`, sign);
  return out;
}
