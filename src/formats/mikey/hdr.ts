/**
 * MIKEY Common Header (HDR), RFC 3830 §6.1, with the CS ID maps of RFC 3830 (SRTP-ID),
 * RFC 4563 (empty map) and RFC 6043 §6.1.2 (GENERIC-ID), as TS 33.180 Annex E.1 constrains them.
 *
 *   version (8) | data type (8) | next payload (8) | V (1) PRF func (7) | CSB ID (32) |
 *   #CS (8) | CS ID map type (8) | CS ID map info (variable)
 */
import { ErrorCode, FormatError } from '../../errors/index.js';
import type { Reader, Writer } from '../bytes/index.js';
import { CsIdMapType } from './constants.js';

/** One crypto session of a GENERIC-ID map (RFC 6043 §6.1.2). */
export interface GenericIdCs {
  readonly csId: number;
  readonly protType: number;
  readonly s: boolean;
  readonly policies: readonly number[];
  readonly sessionData: Uint8Array;
  readonly spi: Uint8Array;
}

/** One crypto session of an SRTP-ID map (RFC 3830 §6.1.1). */
export interface SrtpIdCs {
  readonly policyNo: number;
  readonly ssrc: number;
  readonly roc: number;
}

/** The decoded HDR. */
export interface MikeyHdr {
  readonly version: number;
  readonly dataType: number;
  readonly nextPayload: number;
  readonly v: boolean;
  readonly prfFunc: number;
  readonly csbId: number;
  readonly csIdMapType: number;
  /** For map type 0 (SRTP-ID). */
  readonly srtpIds: readonly SrtpIdCs[];
  /** For map type 2 (GENERIC-ID). */
  readonly genericIds: readonly GenericIdCs[];
}

const CLAUSE = 'RFC 3830 §6.1';

function bad(field: string, rule: string, clause = CLAUSE): FormatError {
  return new FormatError(ErrorCode.BAD_VALUE, { field: `mikey.hdr.${field}`, rule, clause });
}

/** Decodes the HDR (syntax only; MIKEY-SAKKE rules are checked by the receiver). */
export function decodeHdr(r: Reader): MikeyHdr {
  const version = r.u8('version');
  if (version !== 1) throw bad('version', 'must be 1');
  const dataType = r.u8('dataType');
  const nextPayload = r.u8('nextPayload');
  const vPrf = r.u8('prfFunc');
  const csbId = r.u32('csbId');
  const csCount = r.u8('csCount');
  const csIdMapType = r.u8('csIdMapType');
  const srtpIds: SrtpIdCs[] = [];
  const genericIds: GenericIdCs[] = [];
  if (csIdMapType === CsIdMapType.SRTP_ID) {
    for (let i = 0; i < csCount; i++) {
      srtpIds.push(
        Object.freeze({ policyNo: r.u8(`cs${i}.policyNo`), ssrc: r.u32(`cs${i}.ssrc`), roc: r.u32(`cs${i}.roc`) }),
      );
    }
  } else if (csIdMapType === CsIdMapType.EMPTY) {
    if (csCount !== 0) throw bad('csCount', 'must be 0 with the empty CS ID map (type 1)', 'TS 33.180 Annex E.1');
  } else if (csIdMapType === CsIdMapType.GENERIC_ID) {
    for (let i = 0; i < csCount; i++) {
      const csId = r.u8(`cs${i}.csId`);
      const protType = r.u8(`cs${i}.protType`);
      const sp = r.u8(`cs${i}.policyCount`);
      const policies: number[] = [];
      for (let k = 0; k < (sp & 0x7f); k++) policies.push(r.u8(`cs${i}.policy${k}`));
      const sessionData = r.bytes(r.u16(`cs${i}.sessionDataLength`), `cs${i}.sessionData`);
      const spi = r.bytes(r.u8(`cs${i}.spiLength`), `cs${i}.spi`);
      genericIds.push(Object.freeze({ csId, protType, s: (sp & 0x80) !== 0, policies: Object.freeze(policies), sessionData, spi }));
    }
  } else {
    throw new FormatError(ErrorCode.UNSUPPORTED, {
      field: 'mikey.hdr.csIdMapType',
      rule: `map type ${csIdMapType} is not supported (0 SRTP-ID, 1 empty, 2 GENERIC-ID)`,
      clause: 'RFC 6043 §6.1',
    });
  }
  return Object.freeze({
    version,
    dataType,
    nextPayload,
    v: (vPrf & 0x80) !== 0,
    prfFunc: vPrf & 0x7f,
    csbId,
    csIdMapType,
    srtpIds: Object.freeze(srtpIds),
    genericIds: Object.freeze(genericIds),
  });
}

/** Encodes an HDR (the inverse of decodeHdr). */
export function encodeHdr(w: Writer, h: MikeyHdr): void {
  w.u8(h.version).u8(h.dataType).u8(h.nextPayload).u8((h.v ? 0x80 : 0) | (h.prfFunc & 0x7f)).u32(h.csbId);
  if (h.csIdMapType === CsIdMapType.SRTP_ID) {
    w.u8(h.srtpIds.length).u8(h.csIdMapType);
    for (const cs of h.srtpIds) w.u8(cs.policyNo).u32(cs.ssrc).u32(cs.roc);
  } else if (h.csIdMapType === CsIdMapType.GENERIC_ID) {
    w.u8(h.genericIds.length).u8(h.csIdMapType);
    for (const cs of h.genericIds) {
      w.u8(cs.csId).u8(cs.protType).u8((cs.s ? 0x80 : 0) | (cs.policies.length & 0x7f));
      for (const p of cs.policies) w.u8(p);
      w.u16(cs.sessionData.length).bytes(cs.sessionData).u8(cs.spi.length).bytes(cs.spi);
    }
  } else {
    w.u8(0).u8(h.csIdMapType);
  }
}
