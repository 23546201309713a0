// KMS requests (TS 33.180 Annex D.2.2): encode, decode, the D.1 HMAC signature, the KMS-side
// checks (KmsUri, time window, ClientReqUrl), KRR upload in KrrList (D.2.8), D.3.5.1 schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkKmsRequest, decodeKmsRequest, encodeKmsRequest } from '../../src/formats/kms-xml/kms-request.js';
import { encodeKrr } from '../../src/formats/kms-xml/krr.js';
import { McsecError } from '../../src/errors/index.js';

const dir = mkdtempSync(join(tmpdir(), 'mcsec-kreq-'));
const schema = join(import.meta.dirname, '..', 'fixtures', 'kms', 'schema', 'kms-response.xsd');
function xmllint(xml: string): void {
  const f = join(dir, `r${Math.random().toString(16).slice(2)}.xml`);
  writeFileSync(f, xml);
  execFileSync('xmllint', ['--noout', '--schema', schema, f], { stdio: 'pipe' });
}
const code = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof McsecError, String(e));
    return e.code;
  }
  return 'no error';
};
const url = 'https://kms.example.org/keymanagement/identity/v1/keyprov';
const now = new Date('2026-11-29T10:00:00Z');
const base = { userUri: 'sip:alice@example.org', kmsUri: 'kms.example.org', clientReqUrl: url, time: '2026-11-29T10:00:01Z', clientId: 'c1', deviceId: 'd1' };
const ink = new Uint8Array(32).fill(7);
const expect = { kmsUri: 'kms.example.org', resourceUri: url, windowMs: 5000, now, requireSignature: false };

test('D.2.2: a plain KmsRequest round-trips and validates against the D.3.5.1 schema', () => {
  const xml = encodeKmsRequest({ ...base, trkId: 'trk-1' });
  xmllint(xml);
  const r = decodeKmsRequest(xml);
  assert.deepEqual([r.signed, r.userUri, r.kmsUri, r.time, r.clientId, r.deviceId, r.clientReqUrl, r.trkId], [false, base.userUri, base.kmsUri, base.time, 'c1', 'd1', url, 'trk-1']);
  assert.equal(checkKmsRequest(xml, expect).userUri, base.userUri);
});

test('D.2.2: a SignedKmsRequest verifies with the key its Signature-ID names, and nothing else', () => {
  const xml = encodeKmsRequest({ ...base, signatureId: 'ink-1' }, ink);
  xmllint(xml);
  const keys = (id: string): Uint8Array | undefined => (id === 'ink-1' ? ink : undefined);
  assert.equal(checkKmsRequest(xml, { ...expect, signingKey: keys, requireSignature: true }).signed, true);
  assert.equal(code(() => checkKmsRequest(xml, { ...expect, signingKey: () => new Uint8Array(32).fill(8) })), 'ERR_SIGNATURE');
  assert.equal(code(() => checkKmsRequest(xml, { ...expect, signingKey: () => undefined })), 'ERR_UNKNOWN_KEY');
  assert.equal(code(() => checkKmsRequest(xml.replace('alice', 'mallory'), { ...expect, signingKey: keys })), 'ERR_SIGNATURE');
  assert.equal(code(() => checkKmsRequest(encodeKmsRequest(base), { ...expect, signingKey: keys, requireSignature: true })), 'ERR_UNKNOWN_KEY');
  assert.equal(code(() => encodeKmsRequest(base, ink)), 'ERR_BAD_VALUE'); // no Signature-ID
});

test('D.2.2: the KMS refuses a foreign KmsUri, a stale or future Time and a ClientReqUrl that is not the resource', () => {
  const xml = encodeKmsRequest(base);
  assert.equal(code(() => checkKmsRequest(xml, { ...expect, kmsUri: 'kms.other.org' })), 'ERR_BAD_VALUE');
  assert.equal(code(() => checkKmsRequest(xml, { ...expect, now: new Date('2026-11-29T10:00:07Z') })), 'ERR_EXPIRED');
  assert.equal(code(() => checkKmsRequest(xml, { ...expect, now: new Date('2026-11-29T09:59:55Z') })), 'ERR_EXPIRED');
  assert.equal(code(() => checkKmsRequest(xml, { ...expect, resourceUri: `${url}/x` })), 'ERR_BAD_VALUE');
  // A Time without a zone is read as UTC.
  assert.equal(checkKmsRequest(encodeKmsRequest({ ...base, time: '2026-11-29T10:00:01' }), expect).time, '2026-11-29T10:00:01');
});

test('D.2.8: a KRR uploaded in KrrList decodes with its fields, and the document validates', () => {
  const krr = encodeKrr({
    krrCreatorUri: 'sip:p@example.org', initiatorUri: 'sip:i@example.org', initiatorKmsUri: 'kms.i.org', receiverUri: 'sip:r@example.org',
    receiverKmsUri: 'kms.reject.org', initiatorKmsList: 'ANY', receiverKmsList: ['kms.ok.org'], time: '2026-11-29T10:00:00Z', id: 'k1',
  });
  const xml = encodeKmsRequest({ ...base, clientReqUrl: `${url.replace('keyprov', 'redirect')}/sip%3Ar%40example.org`, krr });
  xmllint(xml);
  const r = decodeKmsRequest(xml);
  assert.equal(r.krrList?.receiverKmsUri, 'kms.reject.org');
  assert.deepEqual(r.krrList?.receiverKmsList, ['kms.ok.org']);
});

test('D.2.2: the decoder is strict and total on malformed input', () => {
  const xml = encodeKmsRequest(base);
  assert.equal(code(() => decodeKmsRequest(xml.replace(/<Time>.*<\/Time>/, ''))), 'ERR_BAD_VALUE');
  assert.equal(code(() => decodeKmsRequest(xml.replace('Version="1.1.0"', 'Version="9"'))), 'ERR_UNSUPPORTED');
  assert.equal(code(() => decodeKmsRequest('<KmsRequest')), 'ERR_BAD_VALUE');
  assert.equal(code(() => decodeKmsRequest('x'.repeat(300 * 1024))), 'ERR_TOO_LARGE');
  assert.equal(code(() => decodeKmsRequest(xml.replace('<ClientId>', '<Bogus>x</Bogus><ClientId>'))), 'ERR_BAD_VALUE');
  const signed = encodeKmsRequest({ ...base, signatureId: 's' }, ink);
  assert.equal(code(() => decodeKmsRequest(signed.replace(/<ds:Signature>[\s\S]*<\/ds:Signature>/, ''))), 'ERR_BAD_VALUE');
});
