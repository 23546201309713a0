/**
 * A plain, JSON-ready description of a decoded MIKEY message for people debugging interop
 * (`mcsec decode mikey`): every payload with its offset and named fields. Values that are not
 * secret are shown (IDs, RAND, timestamps, CSB-ID); encapsulated SAKKE data and signatures are
 * public too and shown in hex.
 */
import { fromUtf8, toHex } from '../../util/index.js';
import { McsecError } from '../../errors/index.js';
import { GeneralExtType, IdRole, IdType, PayloadType, TsType } from './constants.js';
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

function describePayload(p: MikeyPayload, offset: number): Record<string, unknown> {
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
      csbId: `0x${h.csbId.toString(16).padStart(8, '0')}`,
      purposeTag: h.csbId >>> 28,
      csIdMapType: h.csIdMapType,
      csCount: h.csIdMapType === 0 ? h.srtpIds.length : h.genericIds.length,
      srtpIds: h.srtpIds.map((c) => ({ ...c })),
      genericIds: h.genericIds.map((c) => ({ csId: c.csId, protType: c.protType, s: c.s, policies: [...c.policies], sessionData: toHex(c.sessionData), spi: toHex(c.spi) })),
    },
    payloads: m.payloads.map((p, i) => describePayload(p, m.offsets[i + 1] as number)),
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
