/**
 * The receiver's negative matrix for MIKEY-SAKKE I_MESSAGEs (TS 33.180 Annex E, RFC 3830): for each
 * payload of a valid signed message, the message re-built (and re-signed, so the signature is not
 * what refuses it) with that payload removed, duplicated, or with its length field one larger or
 * smaller, and the typed error each must give. Nothing enters the replay cache on any refusal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as c from '../../src/crypto/index.js';
import {
  MemoryReplayCache,
  PayloadType,
  SignType,
  createIMessage,
  decodeMikey,
  encodeMikey,
  openIMessage,
  type MikeyPayload,
} from '../../src/formats/mikey/index.js';

const periods = { userKeyPeriod: 2_592_000, userKeyOffset: 0 };
const kmsUri = 'kms.example.org';
const now = new Date();
const period = c.keyPeriodNoAt(now, periods.userKeyPeriod, periods.userKeyOffset);
const uid = (uri: string): Uint8Array => c.deriveUid({ uri, kmsUri, ...periods, keyPeriodNo: period });
const s = c.generateSakkeKmsKey();
const kms = new c.SakkePublicKey(s.zT);
const e = c.generateEccsiKmsKey();
const a = 'sip:alice@example.org';
const b = 'sip:bob@example.org';
const pair = c.generateEccsiPair(e, uid(a));
const signer = { ...pair, kpak: e.kpak, id: uid(a) };
const bobKeys = c.prepareRsk(kms, uid(b), c.extractRsk(s.z, uid(b)));
const valid = createIMessage({
  keyType: 'PCK',
  key: new Uint8Array(randomBytes(16)),
  keyId: c.generateKeyId('PCK'),
  initiator: { uri: a, kmsUri, ...periods, kpak: e.kpak, ...pair, sakkeToSelf: kms },
  responder: { uri: b, kmsUri, ...periods, kms },
  time: now,
});
const m = decodeMikey(valid);

const rebuild = (payloads: readonly MikeyPayload[]): Uint8Array =>
  encodeMikey({ hdr: m.hdr, payloads }, { sType: SignType.ECCSI, signatureLength: 129, sign: (x) => c.signEccsi(x, signer) });

async function refused(bytes: Uint8Array, want: { code: string | RegExp; field?: RegExp }, label: string): Promise<void> {
  const cache = new MemoryReplayCache();
  await assert.rejects(
    openIMessage(bytes, {
      uri: b,
      kmsUri,
      ...periods,
      recipientFor: () => bobKeys,
      trustedKms: () => ({ kpak: e.kpak, ...periods }),
      replayCache: cache,
      now: () => now,
    }),
    (err: unknown) => {
      assert.ok(err instanceof Error && 'code' in err && 'field' in err, `${label}: ${String(err)}`);
      if (typeof want.code === 'string') assert.equal(err.code, want.code, `${label}: ${String(err)}`);
      else assert.match(String(err.code), want.code, `${label}: ${String(err)}`);
      if (want.field !== undefined) assert.match(String(err.field), want.field, label);
      return true;
    },
  );
  assert.equal(cache.size, 0, `${label}: nothing recorded`);
}

const names: Record<number, string> = { 5: 'T', 11: 'RAND', 14: 'IDR', 10: 'SP', 26: 'SAKKE', 21: 'GENERAL_EXT' };

test('the re-built valid message still opens (the matrix below changes one thing at a time)', async () => {
  const cache = new MemoryReplayCache();
  const opened = await openIMessage(rebuild(m.payloads), {
    uri: b, kmsUri, ...periods, recipientFor: () => bobKeys, trustedKms: () => ({ kpak: e.kpak, ...periods }), replayCache: cache, now: () => now,
  });
  assert.equal(opened.keyType, 'PCK');
  assert.equal(cache.size, 1);
});

test('each payload removed: the message must contain it (Annex E.1); SAKKE-to-self is optional', async () => {
  let cases = 0;
  for (let i = 0; i < m.payloads.length; i++) {
    const p = m.payloads[i] as MikeyPayload;
    const without = m.payloads.filter((_, k) => k !== i);
    const label = `without payload ${i} (${names[p.type] ?? p.type})`;
    if (p.type === PayloadType.GENERAL_EXT) {
      continue; // optional (§E.5): covered by the round-trip tests
    }
    await refused(rebuild(without), { code: 'ERR_BAD_VALUE', field: /^mikey$/ }, label);
    cases += 1;
  }
  assert.equal(cases, m.payloads.length - 1);
});

test('each payload duplicated: a second T, RAND, IDR role, SAKKE or SAKKE-to-self is refused', async () => {
  for (let i = 0; i < m.payloads.length; i++) {
    const p = m.payloads[i] as MikeyPayload;
    const twice = [...m.payloads.slice(0, i + 1), p, ...m.payloads.slice(i + 1)];
    await refused(rebuild(twice), { code: 'ERR_BAD_VALUE', field: /^mikey\.payload\d+(\.role)?$/ }, `payload ${i} (${names[p.type] ?? p.type}) twice`);
  }
});

test('each payload length field one larger or one smaller: a typed decode error, never a key', async () => {
  // Where each payload's first length field sits, relative to the payload start (after next payload).
  const lengthAt: Record<number, { at: number; size: 1 | 2 }> = {
    [PayloadType.RAND]: { at: 1, size: 1 },
    [PayloadType.IDR]: { at: 3, size: 2 },
    [PayloadType.SAKKE]: { at: 3, size: 2 },
    [PayloadType.GENERAL_EXT]: { at: 2, size: 2 },
  };
  let cases = 0;
  for (let i = 0; i < m.payloads.length; i++) {
    const p = m.payloads[i] as MikeyPayload;
    const where = lengthAt[p.type];
    if (where === undefined) continue;
    const start = (m.offsets[i + 1] as number) + 1 + where.at;
    for (const delta of [1, -1]) {
      const bytes = valid.slice();
      const v = new DataView(bytes.buffer);
      if (where.size === 1) v.setUint8(start, v.getUint8(start) + delta);
      else v.setUint16(start, v.getUint16(start) + delta);
      await refused(bytes, { code: expectedCode(bytes) }, `payload ${i} (${names[p.type] ?? p.type}) length ${delta > 0 ? '+1' : '-1'}`);
      cases += 1;
    }
  }
  assert.ok(cases >= 14, `cases ${cases}`);
});

/**
 * What the receiver must say: the decoder's own error when the message no longer decodes; when it
 * still decodes (a length change can shift fields yet keep the chain valid), a later refusal: an
 * Annex E rule, a responder that is not us, or the signature over the changed octets.
 */
function expectedCode(bytes: Uint8Array): string | RegExp {
  try {
    decodeMikey(bytes);
  } catch (err) {
    return err instanceof Error && 'code' in err ? String(err.code) : 'untyped';
  }
  return /^ERR_(BAD_VALUE|UNSUPPORTED|UNKNOWN_KEY|SIGNATURE|NOT_ON_CURVE|BAD_LENGTH)$/;
}

test('a message without its SIGN payload, or with a wrong signature type or length, is refused', async () => {
  const unsigned = encodeMikey({ hdr: m.hdr, payloads: m.payloads });
  await refused(unsigned, { code: 'ERR_BAD_VALUE', field: /^mikey$/ }, 'no SIGN');
  const rsa = encodeMikey({ hdr: m.hdr, payloads: m.payloads }, { sType: SignType.RSA_PKCS1, signatureLength: 129, sign: (x) => c.signEccsi(x, signer) });
  await refused(rsa, { code: 'ERR_BAD_VALUE', field: /^mikey\.sign\.sType$/ }, 'RSA sign type');
  const short = encodeMikey({ hdr: m.hdr, payloads: m.payloads }, { sType: SignType.ECCSI, signatureLength: 128, sign: (x) => c.signEccsi(x, signer).subarray(0, 128) });
  await refused(short, { code: 'ERR_BAD_VALUE', field: /^mikey\.sign\.signatureLength$/ }, '128-octet signature');
});
