/**
 * Checks key material a KMS issued (TS 33.180 §5.3, Annex D.3.3): the RSK against the KMS's
 * PubEncKey (RFC 6508 §6.1.2) and the SSK/PVT pair against its PubAuthKey (RFC 6507 §5.1.2),
 * for the UID of §F.2.1. Used by clients before storing keys and by `mcsec keys check`.
 */
import { McsecError } from '../errors/index.js';
import { deriveUid, prepareRsk, SakkePublicKey, validateEccsiPair } from '../crypto/index.js';
import type { KeyMaterial } from '../formats/key-material/index.js';
import { toHex } from '../util/index.js';

/** The outcome for one key. */
export type KeyVerdict = 'valid' | 'invalid' | 'absent';

/** What `checkKeyMaterial` found. */
export interface KeyCheckResult {
  readonly uid: string;
  readonly rsk: KeyVerdict;
  readonly signingPair: KeyVerdict;
  /** The failed rule of an invalid RSK, with its code, field and clause. */
  readonly rskError?: ReturnType<McsecError['toJSON']>;
  /** The failed rule of an invalid signing pair. */
  readonly signingPairError?: ReturnType<McsecError['toJSON']>;
}

function verdict(check: () => void): { v: KeyVerdict; e?: ReturnType<McsecError['toJSON']> } {
  try {
    check();
    return { v: 'valid' };
  } catch (err) {
    if (err instanceof McsecError) return { v: 'invalid', e: err.toJSON() };
    throw err;
  }
}

/** Checks whatever keys are present. */
export function checkKeyMaterial(m: KeyMaterial): KeyCheckResult {
  const uid = 'uid' in m.user ? m.user.uid : deriveUid(m.user);
  const out: {
    uid: string;
    rsk: KeyVerdict;
    signingPair: KeyVerdict;
    rskError?: ReturnType<McsecError['toJSON']>;
    signingPairError?: ReturnType<McsecError['toJSON']>;
  } = { uid: toHex(uid), rsk: 'absent', signingPair: 'absent' };
  const rsk = m.userDecryptKey;
  if (rsk !== undefined) {
    const r = verdict(() => {
      prepareRsk(new SakkePublicKey(m.kms.pubEncKey), uid, rsk);
    });
    out.rsk = r.v;
    if (r.e !== undefined) out.rskError = r.e;
  }
  const ssk = m.userSigningKeySSK;
  const pvt = m.userPubTokenPVT;
  if (ssk !== undefined || pvt !== undefined) {
    const r = verdict(() => {
      validateEccsiPair(m.kms.pubAuthKey, uid, { ssk: ssk ?? new Uint8Array(0), pvt: pvt ?? new Uint8Array(0) });
    });
    out.signingPair = r.v;
    if (r.e !== undefined) out.signingPairError = r.e;
  }
  return out;
}
