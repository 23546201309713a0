/**
 * XML URI attribute encryption, TS 33.180 §9.3.4.3: the URI is encrypted with AES-128-GCM under a
 * 96-bit random IV and embedded in a new SIP URI whose domain marks it as encrypted:
 *
 *   sip:<C>;iv=<IV>;key-id=<XPK-ID>;alg=128-aes-gcm@mc1-encryption.3gppnetwork.org
 *
 * Choices where the clause is open (docs/xml-protection.md):
 *   - "base64" is base64url without padding: both examples use '-' and '_', a 16-character IV
 *     (12 octets) and a 6-character key-id (4 octets), which only unpadded base64url gives.
 *   - <C> is ciphertext || 128-bit tag (RFC 5116) of the UTF-8 attribute value (the whole URI,
 *     scheme included), with no associated data (the clause names none).
 *   - "XPK as the key": the key is the §F.1.4 confidentiality key derived from the XPK, as §9.3.3
 *     says for all of §9.3 (and §9.3.4.2, which also says "the CSK", uses the derived key).
 *   - alg is written "128-aes-gcm" as in both examples ("128-AES-GCM" in the text) and read in
 *     either case; the parameters are read in the clause's order, each once.
 * A value is taken as encrypted when it is a sip: URI whose domain (after the last '@') is the
 * encryption domain; it must then parse exactly. Failures of the ciphertext itself (base64, length,
 * authentication) are uniformly ERR_DECRYPT.
 */
import { openAesGcm, sealAesGcm } from '../../crypto/index.js';
import { CryptoError, ErrorCode, FormatError } from '../../errors/index.js';
import { fromBase64Canonical, fromUtf8, toBase64Url, u32be, utf8 } from '../../util/index.js';
import { DEFAULT_ENCRYPTION_DOMAIN, URI_ALGORITHM } from './constants.js';

export const S9343 = 'TS 33.180 §9.3.4.3';
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const DOMAIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** The parts of an encrypted URI. */
export interface EncryptedUri {
  /** Ciphertext || tag, or null when it is not canonical base64url (a decryption failure). */
  readonly ciphertext: Uint8Array | null;
  readonly iv: Uint8Array;
  readonly xpkId: number;
}

/** Bytes of unpadded canonical base64url, or null. */
export function fromBase64UrlCanonical(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]+$/.test(s)) return null;
  const std = s.replace(/-/g, '+').replace(/_/g, '/');
  return fromBase64Canonical(std + '='.repeat((4 - (std.length % 4)) % 4));
}

/** Checks an encryption domain (a host name). */
export function checkEncryptionDomain(domain: string, field = 'encryptionDomain'): string {
  if (!DOMAIN.test(domain)) throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'must be a domain name', clause: S9343 });
  return domain;
}

/** Whether `value` is a URI in the encryption domain (and so must decrypt). */
export function isEncryptedUri(value: string, domain: string = DEFAULT_ENCRYPTION_DOMAIN): boolean {
  const at = value.lastIndexOf('@');
  return /^sip:/i.test(value) && at > 0 && value.slice(at + 1).toLowerCase() === domain.toLowerCase();
}

/** Encrypts one URI with the 128-bit confidentiality key (§9.3.4.3). */
export function encryptUri(
  uri: string,
  key: Uint8Array,
  xpkId: number,
  rng: (n: number) => Uint8Array,
  domain: string = DEFAULT_ENCRYPTION_DOMAIN,
): string {
  if (key.length !== 16) {
    throw new FormatError(ErrorCode.UNSUPPORTED, { field: 'key', rule: 'URI attribute encryption is defined for 128-bit keys only', clause: S9343 });
  }
  checkEncryptionDomain(domain);
  const iv = rng(IV_LENGTH);
  if (iv.length !== IV_LENGTH) throw new FormatError(ErrorCode.BAD_VALUE, { field: 'rng', rule: `must return ${IV_LENGTH} octets`, clause: S9343 });
  const c = sealAesGcm(key, iv, new Uint8Array(0), utf8(uri));
  return `sip:${toBase64Url(c)};iv=${toBase64Url(iv)};key-id=${toBase64Url(u32be(xpkId))};alg=${URI_ALGORITHM}@${domain}`;
}

/** Parses an encrypted URI strictly (call when isEncryptedUri holds); `field` names the attribute. */
export function decodeEncryptedUri(value: string, field: string, domain: string = DEFAULT_ENCRYPTION_DOMAIN): EncryptedUri {
  const bad = (rule: string): FormatError => new FormatError(ErrorCode.BAD_VALUE, { field, rule, clause: S9343 });
  if (!isEncryptedUri(value, domain)) throw bad(`must be sip:...@${domain}`);
  const user = value.slice(4, value.lastIndexOf('@'));
  const parts = user.split(';');
  const [c, iv, keyId, alg] = parts;
  if (parts.length !== 4 || c === undefined || iv === undefined || keyId === undefined || alg === undefined) {
    throw bad('must be <ciphertext>;iv=<IV>;key-id=<XPK-ID>;alg=<algorithm> before the domain');
  }
  const param = (p: string, name: string): string => {
    if (!p.startsWith(`${name}=`)) throw bad(`must have the ${name} parameter here`);
    return p.slice(name.length + 1);
  };
  const ivBytes = fromBase64UrlCanonical(param(iv, 'iv'));
  if (ivBytes === null || ivBytes.length !== IV_LENGTH) throw bad('iv must be the base64url encoded 96-bit IV');
  const id = fromBase64UrlCanonical(param(keyId, 'key-id'));
  if (id === null || id.length !== 4) throw bad('key-id must be the base64url encoded 4-octet XPK-ID');
  if (param(alg, 'alg').toLowerCase() !== URI_ALGORITHM) {
    throw new FormatError(ErrorCode.UNSUPPORTED, { field, rule: `alg must be ${URI_ALGORITHM}`, clause: S9343 });
  }
  return Object.freeze({
    ciphertext: fromBase64UrlCanonical(c),
    iv: ivBytes,
    xpkId: new DataView(id.buffer, id.byteOffset, 4).getUint32(0),
  });
}

/** The URI inside; any failure of the ciphertext is ERR_DECRYPT naming `field`. */
export function decryptUri(e: EncryptedUri, key: Uint8Array, field: string): string {
  const failed = (): CryptoError => new CryptoError(ErrorCode.DECRYPT, { field, rule: 'does not decrypt', clause: S9343 });
  if (key.length !== 16 || e.ciphertext === null || e.ciphertext.length < TAG_LENGTH) throw failed();
  let plain: Uint8Array;
  try {
    plain = openAesGcm(key, e.iv, new Uint8Array(0), e.ciphertext, field);
  } catch {
    throw failed();
  }
  try {
    return fromUtf8(plain, field);
  } catch {
    throw new FormatError(ErrorCode.BAD_VALUE, { field, rule: 'must decrypt to UTF-8 text', clause: S9343 });
  }
}
