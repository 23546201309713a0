/**
 * MIKEY payload bodies (after the one-octet next-payload field, which the message codec reads):
 *   T (RFC 3830 §6.6): TS type (8) | TS value (64 for NTP-UTC and NTP, 32 for COUNTER)
 *   RAND (§6.11): RAND len (8) | RAND
 *   IDR (RFC 6043 §6.6): ID role (8) | ID type (8) | ID len (16) | ID data
 *   SP (§6.10): policy no (8) | prot type (8) | policy param length (16) | (type 8, length 8, value)*
 *   SAKKE (RFC 6509 §4.2): SAKKE params (8) | ID scheme (8) | SAKKE data length (16) | data
 *   General extension (§6.15): type (8) | length (16) | data; type 6 (SAKKE-to-self, TS 33.180 §E.5)
 *     holds a whole SAKKE payload, its own next-payload octet set to zero and ignored
 *   SIGN (§6.5): S type (4) | signature length (12) | signature (no next-payload field: always last)
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import { Reader, type Writer } from '../bytes/index.js';
import { GeneralExtType, PayloadType, TsType } from './constants.js';

/** One SP policy parameter. */
export interface SpParam {
  readonly type: number;
  readonly value: Uint8Array;
}

/** A SAKKE payload body. */
export interface SakkeBody {
  readonly sakkeParams: number;
  readonly idScheme: number;
  readonly data: Uint8Array;
}

/** A decoded payload (not the SIGN, which the message holds apart). */
export type MikeyPayload =
  | { readonly type: typeof PayloadType.T; readonly tsType: number; readonly value: bigint }
  | { readonly type: typeof PayloadType.RAND; readonly rand: Uint8Array }
  | { readonly type: typeof PayloadType.IDR; readonly role: number; readonly idType: number; readonly data: Uint8Array }
  | {
      readonly type: typeof PayloadType.SP;
      readonly policyNo: number;
      readonly protType: number;
      readonly params: readonly SpParam[];
    }
  | ({ readonly type: typeof PayloadType.SAKKE } & SakkeBody)
  | {
      readonly type: typeof PayloadType.GENERAL_EXT;
      readonly extType: number;
      readonly data: Uint8Array;
      /** For type 6 (SAKKE-to-self): the SAKKE payload inside. */
      readonly sakke?: SakkeBody;
    };

const bad = (field: string, rule: string, clause: string): FormatError =>
  new FormatError(ErrorCode.BAD_VALUE, { field, rule, clause });

/** Decodes the body of a payload of `type` whose next-payload octet was already read. */
export function decodePayloadBody(type: number, r: Reader, rel: string): MikeyPayload {
  const field = `mikey.${rel}`;
  const f = (name: string): string => `${rel}.${name}`;
  switch (type) {
    case PayloadType.T: {
      const tsType = r.u8(f('tsType'));
      if (tsType === TsType.NTP_UTC || tsType === TsType.NTP) return Object.freeze({ type, tsType, value: r.u64(f('tsValue')) });
      if (tsType === TsType.COUNTER) return Object.freeze({ type, tsType, value: BigInt(r.u32(f('tsValue'))) });
      throw bad(`${field}.tsType`, `TS type ${tsType} is not defined (0, 1, 2)`, 'RFC 3830 §6.6');
    }
    case PayloadType.RAND: {
      const n = r.u8(f('randLength'));
      if (n < 16) throw bad(`${field}.randLength`, 'must be at least 16 octets', 'RFC 3830 §6.11');
      return Object.freeze({ type, rand: r.bytes(n, f('rand')) });
    }
    case PayloadType.IDR: {
      const role = r.u8(f('role'));
      const idType = r.u8(f('idType'));
      const n = r.u16(f('idLength'));
      return Object.freeze({ type, role, idType, data: r.bytes(n, f('idData')) });
    }
    case PayloadType.SP: {
      const policyNo = r.u8(f('policyNo'));
      const protType = r.u8(f('protType'));
      const pr = r.sub(r.u16(f('policyParamLength')), f('policyParams'));
      const params: SpParam[] = [];
      while (pr.remaining > 0) {
        const pt = pr.u8(`param${params.length}.type`);
        params.push(Object.freeze({ type: pt, value: pr.bytes(pr.u8(`param${params.length}.length`), `param${params.length}.value`) }));
      }
      return Object.freeze({ type, policyNo, protType, params: Object.freeze(params) });
    }
    case PayloadType.SAKKE:
      return Object.freeze({ type, ...decodeSakkeBody(r, rel) });
    case PayloadType.GENERAL_EXT: {
      const extType = r.u8(f('extType'));
      const data = r.bytes(r.u16(f('length')), f('data'));
      if (extType === GeneralExtType.SAKKE_TO_SELF) {
        const inner = new Reader(data, `${field}.sakkeToSelf`, 'TS 33.180 §E.5');
        inner.u8('nextPayload'); // set to zero by the sender and ignored (§E.5)
        const sakke = decodeSakkeBody(inner, '');
        inner.done();
        return Object.freeze({ type, extType, data, sakke });
      }
      return Object.freeze({ type, extType, data });
    }
    default:
      throw new FormatError(ErrorCode.UNSUPPORTED, {
        field: `${field}.type`,
        rule: `payload type ${type} is not supported in a MIKEY-SAKKE message`,
        clause: 'TS 33.180 Annex E.1',
      });
  }
}

function decodeSakkeBody(r: Reader, rel: string): SakkeBody {
  const f = (name: string): string => (rel === '' ? name : `${rel}.${name}`);
  const sakkeParams = r.u8(f('sakkeParams'));
  const idScheme = r.u8(f('idScheme'));
  const data = r.bytes(r.u16(f('sakkeDataLength')), f('sakkeData'));
  return Object.freeze({ sakkeParams, idScheme, data });
}

function encodeSakkeBody(w: Writer, b: SakkeBody): void {
  w.u8(b.sakkeParams).u8(b.idScheme).u16(b.data.length).bytes(b.data);
}

/** Encodes a payload body (the inverse of decodePayloadBody). */
export function encodePayloadBody(w: Writer, p: MikeyPayload): void {
  switch (p.type) {
    case PayloadType.T:
      w.u8(p.tsType);
      if (p.tsType === TsType.COUNTER) w.u32(Number(p.value));
      else w.u64(p.value);
      return;
    case PayloadType.RAND:
      w.u8(p.rand.length).bytes(p.rand);
      return;
    case PayloadType.IDR:
      w.u8(p.role).u8(p.idType).u16(p.data.length).bytes(p.data);
      return;
    case PayloadType.SP: {
      let n = 0;
      for (const q of p.params) n += 2 + q.value.length;
      w.u8(p.policyNo).u8(p.protType).u16(n);
      for (const q of p.params) w.u8(q.type).u8(q.value.length).bytes(q.value);
      return;
    }
    case PayloadType.SAKKE:
      encodeSakkeBody(w, p);
      return;
    case PayloadType.GENERAL_EXT:
      w.u8(p.extType).u16(p.data.length).bytes(p.data);
      return;
  }
}
