/**
 * A new TrK and/or InK from the KMS (TS 33.180 §5.3.3 step 2: a KMSInit or KMSKeyProv response
 * "optionally, a new TrK and/or a new InK"; Annex D.3, examples D.3.4.1 / D.3.4.2): each comes as
 * a NewTransportKey / NewIntegrityKey holding an xenc:EncryptedKey wrapped under the TrK the
 * request named (ds:KeyName = that TrK-ID) whose CarriedKeyName is the new key's ID.
 *
 * `openNewClientKeys` takes a response whose signature was verified and whose key material is
 * still wrapped, checks the offer, unwraps everything under the TrK held and returns the keys to
 * use from the next request on. All or nothing: an offer with no TrK to unwrap it, a KeyName
 * naming another wrapping key (PolicyError ERR_UNKNOWN_KEY), a key that does not unwrap
 * (CryptoError ERR_DECRYPT), a new TrK that is not 256 bits or an InK under 128 (CryptoError
 * ERR_INVALID_KEY), a missing or reused CarriedKeyName (FormatError ERR_BAD_VALUE), or more than
 * one key of a kind (PolicyError ERR_UNSUPPORTED) throws, and nothing is applied.
 */
import { CryptoError, ErrorCode, FormatError, PolicyError } from '../errors/index.js';
import { unwrapKmsResponse, type KmsKeyContent, type KmsNewKeys, type KmsResponse } from '../formats/kms-xml/index.js';

/** A TrK or InK with its ID (§5.3.3: 32-bit identifiers; any KMS's naming is kept as sent). */
export interface ClientKey {
  readonly id: string;
  readonly key: Uint8Array;
}

/** The keys protecting a client's KMS exchanges (D.2.2, D.3.1). */
export interface ClientTransportKeys {
  readonly trk: ClientKey | undefined;
  readonly ink: ClientKey | undefined;
}

const D31 = 'TS 33.180 Annex D.3.1';
const S533 = 'TS 33.180 §5.3.3';

function offerOf(response: KmsResponse): { readonly keys: KmsNewKeys; readonly path: string } | undefined {
  const m = response.kmsMessage;
  if (m === undefined || 'certCache' in m) return undefined;
  if ('init' in m) return { keys: m.init, path: 'kmsResponse.KmsMessage.KmsInit' };
  return { keys: m.keyProv, path: 'kmsResponse.KmsMessage.KmsKeyProv' };
}

/** Checks one wrapped offer (still as sent) against the TrK held. */
function checkWrapped(c: KmsKeyContent, held: ClientKey | undefined, field: string): string {
  if (!('encryptedKey' in c)) throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'must hold an xenc:EncryptedKey', clause: D31 });
  const e = c.encryptedKey;
  if (held === undefined) {
    throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: `${field}.EncryptedKey`, rule: 'must be wrapped under a TrK this client holds (it holds none)', clause: D31 });
  }
  if (e.keyName !== undefined && e.keyName !== held.id) {
    throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: `${field}.EncryptedKey.KeyInfo.KeyName`, rule: 'must name the TrK of the request', clause: 'TS 33.180 Annex D.3.4' });
  }
  const id = e.carriedKeyName;
  if (id === undefined || id.length === 0 || id.length > 256) {
    throw new FormatError(ErrorCode.BAD_VALUE, { field: `${field}.EncryptedKey.CarriedKeyName`, rule: "must be present, the new key's ID (1 to 256 characters)", clause: 'TS 33.180 Annex D.3.4' });
  }
  return id;
}

/** The key an unwrapped offer carries, its length checked. */
function unwrapped(c: KmsKeyContent | undefined, min: number, max: number, field: string, rule: string): Uint8Array {
  if (c === undefined || !('key' in c)) throw new CryptoError(ErrorCode.DECRYPT, { field, rule: 'must unwrap under the TrK', clause: D31 });
  if (c.key.length < min || c.key.length > max) throw new CryptoError(ErrorCode.INVALID_KEY, { field, rule, clause: S533 });
  return c.key;
}

/**
 * The response unwrapped under the TrK held, and the keys to use from the next request on when it
 * offered a new TrK and/or InK (undefined otherwise). See the module header for the refusals.
 */
export function openNewClientKeys(response: KmsResponse, held: ClientTransportKeys): { readonly response: KmsResponse; readonly next: ClientTransportKeys | undefined } {
  const offer = offerOf(response);
  const trks = offer?.keys.newTransportKeys ?? [];
  const inks = offer?.keys.newIntegrityKeys ?? [];
  if (offer === undefined || (trks.length === 0 && inks.length === 0)) {
    return { response: held.trk === undefined ? response : unwrapKmsResponse(response, held.trk.key), next: undefined };
  }
  const p = offer.path;
  for (const [name, list] of [['NewTransportKey', trks], ['NewIntegrityKey', inks]] as const) {
    if (list.length > 1) throw new PolicyError(ErrorCode.UNSUPPORTED, { field: `${p}.${name}`, rule: 'is taken once per response: more than one is ambiguous', clause: S533 });
  }
  const trkId = trks[0] === undefined ? undefined : checkWrapped(trks[0], held.trk, `${p}.NewTransportKey[0]`);
  const inkId = inks[0] === undefined ? undefined : checkWrapped(inks[0], held.trk, `${p}.NewIntegrityKey[0]`);
  if (held.trk === undefined) throw new PolicyError(ErrorCode.UNKNOWN_KEY, { field: p, rule: 'new keys need a TrK to unwrap them', clause: D31 });
  // Every wrapped key of the response (key sets too) unwraps, or nothing is used.
  const opened = unwrapKmsResponse(response, held.trk.key);
  const o = offerOf(opened);
  let trk = held.trk;
  let ink = held.ink;
  if (trkId !== undefined) {
    const f = `${p}.NewTransportKey[0]`;
    if (trkId === held.trk.id) throw new FormatError(ErrorCode.BAD_VALUE, { field: `${f}.EncryptedKey.CarriedKeyName`, rule: 'must differ from the TrK-ID it replaces', clause: S533 });
    trk = { id: trkId, key: unwrapped(o?.keys.newTransportKeys[0], 32, 32, f, 'must be a 256-bit TrK') };
  }
  if (inkId !== undefined) {
    const f = `${p}.NewIntegrityKey[0]`;
    if (inkId === held.ink?.id || inkId === trk.id) {
      throw new FormatError(ErrorCode.BAD_VALUE, { field: `${f}.EncryptedKey.CarriedKeyName`, rule: 'must differ from the InK-ID it replaces and from the TrK-ID (Signature-ID names one of them, D.2.2)', clause: S533 });
    }
    ink = { id: inkId, key: unwrapped(o?.keys.newIntegrityKeys[0], 16, 64, f, 'must be an InK of 128 to 512 bits') };
  }
  return { response: opened, next: Object.freeze({ trk, ink }) };
}
