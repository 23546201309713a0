/**
 * Wireshark's MIKEY dissector (Debian tshark) as an independent decoder of our I_MESSAGEs: the
 * message rides in the SDP `a=key-mgmt:mikey` line of a SIP INVITE written to a pcap, and every
 * field tshark shows (payload types, CSB-ID, #CS, timestamp, RAND, ID roles / types / values, SP,
 * SAKKE params / scheme / length / data, SIGN type / length) must equal ours. tshark 4.0 reports a
 * GENERIC-ID map (type 2) as malformed; that limitation is asserted, so a tshark that dissects
 * such messages makes this test compare them too. A missing tshark fails the run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as c from '../../src/crypto/index.js';
import { CsIdMapType, PayloadType, createIMessage, decodeMikey, type MikeyMessage } from '../../src/formats/mikey/index.js';
import { fromUtf8, toBase64 } from '../../src/util/index.js';
import { sipInviteWithMikey, udpFrame, writePcap } from './pcap.js';

const dir = mkdtempSync(join(tmpdir(), 'mcsec-tshark-'));
const periods = { userKeyPeriod: 2_592_000, userKeyOffset: 0 };
const kmsUri = 'kms.example.org';
const s = c.generateSakkeKmsKey();
const kms = new c.SakkePublicKey(s.zT);
const e = c.generateEccsiKmsKey();
const now = new Date();
const period = c.keyPeriodNoAt(now, periods.userKeyPeriod, periods.userKeyOffset);
const uid = (uri: string): Uint8Array => c.deriveUid({ uri, kmsUri, ...periods, keyPeriodNo: period });
const alice = 'sip:alice@example.org';
const pair = c.generateEccsiPair(e, uid(alice));

function iMessage(keyType: c.KeyType, extra: { hide?: boolean; generic?: boolean; sp?: boolean } = {}): Uint8Array {
  return createIMessage({
    keyType,
    key: new Uint8Array(randomBytes(16)),
    keyId: c.generateKeyId(keyType),
    initiator: { uri: alice, kmsUri, ...periods, kpak: e.kpak, ...pair, sakkeToSelf: kms },
    responder: { uri: 'sip:bob@example.org', kmsUri, ...periods, kms },
    time: now,
    ...(extra.hide === true ? { hideIdentities: true } : {}),
    ...(extra.generic === true
      ? { cryptoSessions: [{ csId: 0, protType: 0, s: false, policies: [0], sessionData: new Uint8Array(0), spi: Uint8Array.of(1, 2, 3, 4) }] }
      : {}),
    ...(extra.sp === true
      ? { extraPayloads: [{ type: PayloadType.SP, policyNo: 0, protType: 0, params: [{ type: 0, value: Uint8Array.of(6) }, { type: 1, value: Uint8Array.of(16) }] }] }
      : {}),
  });
}

type Fields = Record<string, unknown>;

function tshark(message: Uint8Array, name: string): Fields {
  const pcap = join(dir, `${name}.pcap`);
  writePcap(pcap, [udpFrame(sipInviteWithMikey(toBase64(message)), 5060, 5060)]);
  let out: string;
  try {
    out = execFileSync('tshark', ['-r', pcap, '-T', 'ek'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(`tshark unavailable: install it (apt-get install -y tshark): ${String(err)}`);
  }
  const line = out.trim().split('\n').filter((l) => l.includes('"layers"')).pop();
  assert.ok(line !== undefined, 'tshark printed no packet');
  const layers = (JSON.parse(line) as { layers: Record<string, Fields> }).layers;
  const flat: Fields = {};
  const walk = (o: unknown): void => {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return;
    for (const [k, v] of Object.entries(o)) {
      if (k.startsWith('mikey_mikey_') || k.startsWith('_ws_expert')) flat[k.replace('mikey_mikey_', '')] = v;
      walk(v);
    }
  };
  walk(layers);
  return flat;
}

const colon = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);

function expectSameAsOurs(m: MikeyMessage, f: Fields): void {
  assert.equal(String(f['version']), String(m.hdr.version));
  assert.equal(String(f['type']), String(m.hdr.dataType));
  assert.equal(String(f['prf_func']), String(m.hdr.prfFunc));
  assert.equal(String(f['csb_id']), `0x${m.hdr.csbId.toString(16).padStart(8, '0')}`);
  assert.equal(String(f['cs_count']), String(m.hdr.genericIds.length + m.hdr.srtpIds.length));
  assert.equal(String(f['cs_id_map_type']), String(m.hdr.csIdMapType));
  for (const p of m.payloads) {
    switch (p.type) {
      case PayloadType.T: {
        assert.equal(String(f['t_ts_type']), String(p.tsType));
        const ms = (Number(p.value >> 32n) - c.NTP_UNIX_OFFSET) * 1000;
        assert.equal(String(f['t_ntp']).slice(0, 19), new Date(ms).toISOString().slice(0, 19));
        break;
      }
      case PayloadType.RAND:
        assert.equal(String(f['rand_len']), String(p.rand.length));
        assert.equal(String(f['rand_data']), colon(p.rand));
        break;
      case PayloadType.SAKKE:
        assert.equal(String(f['sakke_params']), String(p.sakkeParams));
        assert.equal(String(f['sakke_idscheme']), String(p.idScheme));
        assert.equal(String(f['sakke_len']), String(p.data.length));
        assert.equal(String(f['sakke_data']), colon(p.data));
        break;
      default:
        break;
    }
  }
  const idrs = m.payloads.flatMap((p) => (p.type === PayloadType.IDR ? [p] : []));
  assert.deepEqual(list(f['id_role']), idrs.map((p) => String(p.role)));
  assert.deepEqual(list(f['id_type']), idrs.map((p) => String(p.idType)));
  assert.deepEqual(list(f['id_len']), idrs.map((p) => String(p.data.length)));
  const shown = list(f['id_data']);
  idrs.forEach((p, i) => {
    if (p.role === 8 || p.role === 9) {
      // A hidden identity is the 32-octet UID under ID type URI; tshark renders those octets as
      // text with replacement characters, so only its length (checked above) is comparable.
      assert.equal(p.data.length, 32);
    } else {
      assert.equal(shown[i], fromUtf8(p.data), `IDR ${i}`);
    }
  });
  assert.ok(m.sign !== undefined);
  assert.equal(String(f['sign_type']), String(m.sign.sType));
  assert.equal(String(f['sign_len']), String(m.sign.signature.length));
  assert.equal(String(f['sign_data']), colon(m.sign.signature));
}

test('tshark decodes our I_MESSAGEs (empty CS ID map) exactly as we do, for each key type', () => {
  for (const keyType of ['GMK', 'PCK', 'CSK', 'MuSiK'] as const) {
    const msg = iMessage(keyType, { sp: keyType === 'PCK' });
    const m = decodeMikey(msg);
    assert.equal(m.hdr.csIdMapType, CsIdMapType.EMPTY);
    expectSameAsOurs(m, tshark(msg, keyType));
  }
});

test('tshark decodes identity-hidden messages (IDRuidi / IDRuidr, roles 8 / 9) the same', () => {
  const msg = iMessage('PCK', { hide: true });
  const f = tshark(msg, 'hidden');
  assert.deepEqual(list(f['id_role']), ['8', '9', '6', '7']);
  expectSameAsOurs(decodeMikey(msg), f);
});

test('GENERIC-ID (map type 2): tshark 4.0 reports it malformed; a newer tshark must match fully', () => {
  const msg = iMessage('PCK', { generic: true });
  const f = tshark(msg, 'generic');
  const version = execFileSync('tshark', ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
  const malformed = JSON.stringify(f).toLowerCase().includes('malformed') || f['sign_type'] === undefined;
  if (malformed) {
    assert.match(version, /TShark \(Wireshark\) 4\.0\./, `a tshark other than 4.0 (${version}) still fails GENERIC-ID: look again`);
    assert.equal(String(f['cs_id_map_type']), '2');
  } else {
    expectSameAsOurs(decodeMikey(msg), f);
  }
});
