/**
 * `mcsec decode kms <file|->`: prints a KmsResponse / SignedKmsResponse of TS 33.180 Annex D.3.
 * With `--trk` / `--ink` (hex) the signature is verified (InK, else TrK: D.3.1) and the key
 * material unwrapped with the TrK. `--json` prints one object: the KmsResponse fields under their
 * Annex D element names (KmsUri, UserUri, Time, KmsId, ClientReqUrl, TrK-ID, Signature-ID), then
 * signature, kmsMessage (init | keyProv | certCache) whose certificate and key set fields are
 * camelCase (userIdFormat, userKeyPeriod, …, userId, keyPeriodNo, userDecryptKey,
 * userSigningKeySSK, userPubTokenPVT), as the KMS issue names them; hex in lowercase.
 */
import type { Command } from 'commander';
import { ConfigError, ErrorCode } from '../errors/index.js';
import {
  openKmsResponse,
  type KmsCertificate,
  type KmsKeyContent,
  type KmsKeySet,
  type KmsNewKeys,
  type KmsResponse,
  type KmsSignatureStatus,
} from '../formats/kms-xml/index.js';
import { fromHex, toBase64, toHex } from '../util/index.js';
import { printLine } from './output.js';
import { readBytes } from './input.js';

function keyOption(value: string | undefined, name: string, lengths: (n: number) => boolean, rule: string): Uint8Array | undefined {
  if (value === undefined) return undefined;
  const hex = value.replace(/^0x/i, '');
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) throw new ConfigError(ErrorCode.USAGE, { field: name, rule: 'must be hex' });
  const key = fromHex(hex, name);
  if (!lengths(key.length)) throw new ConfigError(ErrorCode.USAGE, { field: name, rule });
  return key;
}

type Json = string | number | boolean | null | undefined | readonly Json[] | { readonly [k: string]: Json };

function encryptedJson(c: KmsKeyContent): Json {
  if ('key' in c) return undefined;
  const e = c.encryptedKey;
  return {
    encryptedKey: {
      algorithm: e.algorithm,
      keyName: e.keyName,
      cipherValue: toBase64(e.cipherValue),
      carriedKeyName: e.carriedKeyName,
    },
  };
}

const keyJson = (c: KmsKeyContent): Json => ('key' in c ? toHex(c.key) : encryptedJson(c));
const newKeyJson = (c: KmsKeyContent): Json =>
  'key' in c ? { carriedKeyName: c.carriedKeyName, key: toHex(c.key) } : encryptedJson(c);

function certificateJson(c: KmsCertificate): Json {
  return {
    version: c.version,
    role: c.role,
    isSecurityGateway: c.isSecurityGateway,
    certUri: c.certUri,
    kmsUri: c.kmsUri,
    issuer: c.issuer,
    validFrom: c.validFrom,
    validTo: c.validTo,
    revoked: c.revoked,
    userIdFormat: c.userIdFormat,
    userKeyPeriod: c.userKeyPeriod,
    userKeyOffset: c.userKeyOffset,
    pubEncKey: toHex(c.pubEncKey),
    pubAuthKey: toHex(c.pubAuthKey),
    parameterSet: c.parameterSet,
    kmsDomainList: c.kmsDomainList,
    migration: c.migration,
    signed: c.signed,
  };
}

function keySetJson(s: KmsKeySet): Json {
  return {
    version: s.version,
    kmsUri: s.kmsUri,
    certUri: s.certUri,
    issuer: s.issuer,
    userUri: s.userUri,
    userId: s.userId,
    validFrom: s.validFrom,
    validTo: s.validTo,
    keyPeriodNo: s.keyPeriodNo,
    revoked: s.revoked,
    userDecryptKey: keyJson(s.userDecryptKey),
    userSigningKeySSK: keyJson(s.userSigningKeySSK),
    userPubTokenPVT: keyJson(s.userPubTokenPVT),
  };
}

const newKeysJson = (k: KmsNewKeys): { [k: string]: Json } => ({
  newTransportKeys: k.newTransportKeys.map(newKeyJson),
  newIntegrityKeys: k.newIntegrityKeys.map(newKeyJson),
});

/** The JSON-ready description of a decoded (and possibly verified and unwrapped) response. */
export function describeKmsResponse(r: KmsResponse, signature: KmsSignatureStatus): Json {
  const m = r.kmsMessage;
  let kmsMessage: Json = null;
  if (m !== undefined && 'init' in m) kmsMessage = { init: { certificate: certificateJson(m.init.certificate), ...newKeysJson(m.init) } };
  if (m !== undefined && 'keyProv' in m) kmsMessage = { keyProv: { keySets: m.keyProv.keySets.map(keySetJson), ...newKeysJson(m.keyProv) } };
  if (m !== undefined && 'certCache' in m) {
    kmsMessage = { certCache: { cacheNum: m.certCache.cacheNum, certificates: m.certCache.certificates.map(certificateJson) } };
  }
  return {
    KmsUri: r.kmsUri,
    UserUri: r.userUri,
    Time: r.time,
    KmsId: r.kmsId,
    ClientReqUrl: r.clientReqUrl,
    'TrK-ID': r.trkId,
    'Signature-ID': r.signatureId,
    signature,
    signatureKeyName: r.signature?.keyName,
    kmsMessage,
    kmsError: r.kmsError === undefined ? undefined : { errorCode: r.kmsError.errorCode, errorMsg: r.kmsError.errorMsg },
  };
}

function keyText(c: KmsKeyContent): string {
  if ('key' in c) return `${toHex(c.key)}${c.carriedKeyName !== undefined ? `  (${c.carriedKeyName})` : ''}`;
  const e = c.encryptedKey;
  const alg = e.algorithm?.replace(/^.*#/, '') ?? 'kw-aes256 (implied)';
  const carried = e.carriedKeyName !== undefined ? `${e.carriedKeyName}: ` : '';
  return `${carried}encrypted, ${alg}${e.keyName !== undefined ? ` under ${e.keyName}` : ''}, ${e.cipherValue.length} octets`;
}

function certificateText(c: KmsCertificate, title: string, out: string[]): void {
  const attrs = [c.role, c.version !== undefined ? `version ${c.version}` : undefined, c.signed ? 'signed' : undefined];
  out.push(`    ${title} (${attrs.filter((a) => a !== undefined).join(', ')})`);
  const row = (k: string, v: string | number | boolean | undefined): void => {
    if (v !== undefined) out.push(`      ${k.padEnd(14)}${String(v)}`);
  };
  row('CertUri', c.certUri);
  row('KmsUri', c.kmsUri);
  row('Issuer', c.issuer);
  row('ValidFrom', c.validFrom);
  row('ValidTo', c.validTo);
  row('Revoked', c.revoked);
  row('UserIdFormat', c.userIdFormat);
  row('UserKeyPeriod', c.userKeyPeriod);
  row('UserKeyOffset', c.userKeyOffset);
  row('PubEncKey', toHex(c.pubEncKey));
  row('PubAuthKey', toHex(c.pubAuthKey));
  row('ParameterSet', c.parameterSet);
  row('KmsDomainList', c.kmsDomainList?.join(' '));
  row('SecurityGw', c.isSecurityGateway);
  row('Migration', c.migration);
}

function newKeysText(k: KmsNewKeys, out: string[]): void {
  k.newTransportKeys.forEach((c, i) => out.push(`    NewTransportKey[${i}]  ${keyText(c)}`));
  k.newIntegrityKeys.forEach((c, i) => out.push(`    NewIntegrityKey[${i}]  ${keyText(c)}`));
}

/** The human-readable description, one line per field. */
export function describeKmsResponseText(r: KmsResponse, signature: KmsSignatureStatus): string[] {
  const out: string[] = [];
  const sig = r.signature;
  const by = sig?.keyName !== undefined ? `, KeyName ${sig.keyName}` : '';
  out.push(`${r.signed ? 'SignedKmsResponse' : 'KmsResponse'}  signature: ${signature}${by}`);
  const row = (k: string, v: string | undefined): void => {
    if (v !== undefined) out.push(`  ${k.padEnd(14)}${v}`);
  };
  row('UserUri', r.userUri);
  row('KmsUri', r.kmsUri);
  row('Time', r.time);
  row('KmsId', r.kmsId);
  row('ClientReqUrl', r.clientReqUrl);
  row('TrK-ID', r.trkId);
  row('Signature-ID', r.signatureId);
  const m = r.kmsMessage;
  if (m !== undefined && 'init' in m) {
    out.push('  KmsInit');
    certificateText(m.init.certificate, 'KmsCertificate', out);
    newKeysText(m.init, out);
  } else if (m !== undefined && 'keyProv' in m) {
    out.push('  KmsKeyProv');
    m.keyProv.keySets.forEach((s, i) => {
      out.push(`    KmsKeySet[${i}]${s.version !== undefined ? ` (version ${s.version})` : ''}`);
      const line = (k: string, v: string | number | boolean | undefined): void => {
        if (v !== undefined) out.push(`      ${k.padEnd(18)}${String(v)}`);
      };
      line('KmsUri', s.kmsUri);
      line('CertUri', s.certUri);
      line('Issuer', s.issuer);
      line('UserUri', s.userUri);
      line('UserID', s.userId);
      line('ValidFrom', s.validFrom);
      line('ValidTo', s.validTo);
      line('KeyPeriodNo', s.keyPeriodNo);
      line('Revoked', s.revoked);
      line('UserDecryptKey', keyText(s.userDecryptKey));
      line('UserSigningKeySSK', keyText(s.userSigningKeySSK));
      line('UserPubTokenPVT', keyText(s.userPubTokenPVT));
    });
    newKeysText(m.keyProv, out);
  } else if (m !== undefined) {
    out.push(`  KmsCertCache${m.certCache.cacheNum !== undefined ? ` (CacheNum ${m.certCache.cacheNum})` : ''}`);
    m.certCache.certificates.forEach((c, i) => certificateText(c, `KmsCertificate[${i}]`, out));
  }
  if (r.kmsError !== undefined) out.push(`  KmsError      ${r.kmsError.errorCode} ${r.kmsError.errorMsg}`);
  return out;
}

/** Adds `decode kms <input>` to the `decode` command. */
export function registerDecodeKms(decode: Command): void {
  decode
    .command('kms')
    .description('decode a KMS response (TS 33.180 Annex D.3); with --trk / --ink verify it and unwrap its keys')
    .argument('<input>', 'a file holding the KmsResponse / SignedKmsResponse XML, or - for standard input')
    .option('--json', 'print one JSON object')
    .option('--trk <hex>', 'the 256-bit transport key: unwraps key material (and verifies the signature without --ink)')
    .option('--ink <hex>', 'the integrity key: verifies the HMAC-SHA256 signature')
    .action((input: string, o: { json?: boolean; trk?: string; ink?: string }) => {
      const trk = keyOption(o.trk, '--trk', (n) => n === 32, 'must be 256 bits (64 hex digits)');
      const ink = keyOption(o.ink, '--ink', (n) => n >= 16 && n <= 64, 'must be 128 to 512 bits');
      const { response, signature } = openKmsResponse(readBytes(input), { trk, ink });
      if (o.json === true) printLine(JSON.stringify(describeKmsResponse(response, signature)));
      else for (const line of describeKmsResponseText(response, signature)) printLine(line);
    });
}
