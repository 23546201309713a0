/**
 * The system demo of `npm start` / `mcsec demo`: one MC system on loopback, every step over the
 * real protocol and printed with its clause. An IdMS (Annex B) and a KMS (Annex D) on HTTPS with
 * SQLite in a temporary folder; Alice and Bob log in (code + PKCE), fetch and validate their keys;
 * Alice starts a private call: a PCK in a MIKEY-SAKKE I_MESSAGE signed with her SSK and encrypted
 * to Bob (Annex E.3); Bob opens it; both derive the SRTP keys of §7.4.1 and a voice packet goes
 * from Alice to Bob protected with AEAD_AES_128_GCM (RFC 7714) and its MKI (the PCK-ID).
 * Later issues add the GMS, MCX server, gateways and the SeGy. Nothing secret is printed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ClientKeyStore, KmsClient } from '../client/index.js';
import { discoverIdms, loginWithPassword } from '../client/idm/index.js';
import { SakkePublicKey, derivePrivateCallMaster, generateKeyId, prepareRsk } from '../crypto/index.js';
import { MemoryReplayCache, createIMessage, openIMessage } from '../formats/mikey/index.js';
import { SrtpReceiver, SrtpSender, encodeRtpPacket, generateSsrc, keyIdMki } from '../formats/srtp/index.js';
import { AccessTokenVerifier } from '../functions/authz/index.js';
import { addClient, addUser, decodeIdmsConfig, startIdmsServer } from '../functions/idms/index.js';
import { KmsService, buildKmsServer, initDomain, issueClientKeys } from '../functions/kms/index.js';
import { KyselyIdmsStore, KyselyKmsStore, SecretBox, openDatabase } from '../store/index.js';
import { loadOrCreateTls } from '../transport/http/index.js';
import { equalBytes, fromHex, toBase64, toHex } from '../util/index.js';
import type { DemoLog } from './crypto-round-trip.js';

const KMS_URI = 'kms.example.org';
const KMS_RESOURCE = 'https://kms.example.org';
const REDIRECT = 'http://127.0.0.1/cb';
const USERS = [
  { username: 'alice', uri: 'sip:alice@example.org' },
  { username: 'bob', uri: 'sip:bob@example.org' },
] as const;

/** Runs the demo; true when every check passed. Servers and files are cleaned up either way. */
export async function runSystemDemo(log: DemoLog): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'mcsec-demo-'));
  const silent = pino({ level: 'silent' });
  const closers: (() => Promise<unknown>)[] = [];
  try {
    // IdMS (Annex B) with its own store.
    const idmsDb = openDatabase(undefined, { dataDir: join(dir, 'idms') });
    closers.push(() => idmsDb.close());
    const idmsStore = await KyselyIdmsStore.open(idmsDb, new SecretBox(new Uint8Array(randomBytes(32))));
    const idmsTls = await loadOrCreateTls({ dataDir: join(dir, 'idms') });
    const idms = await startIdmsServer({ store: idmsStore, config: decodeIdmsConfig({ resources: [{ uri: KMS_RESOURCE }] }), tls: idmsTls, logger: silent, port: 0, host: '127.0.0.1' });
    closers.unshift(() => idms.close());
    const passwords = new Map<string, string>();
    for (const u of USERS) {
      const password = toBase64(new Uint8Array(randomBytes(12)));
      passwords.set(u.username, password);
      await addUser(idmsStore, { username: u.username, password, mcServiceIds: { mcptt_id: u.uri } });
    }
    await addClient(idmsStore, { clientId: 'mcptt-client', redirectUris: [REDIRECT] });
    log(`IdMS on ${idms.issuer}: users alice, bob (scrypt password hashes), native client mcptt-client`, 'TS 33.180 §5.1.2, Annex B.3, B.12');

    // KMS (Annex D) with its own store, trusting the IdMS's keys.
    const kmsDb = openDatabase(undefined, { dataDir: join(dir, 'kms') });
    closers.push(() => kmsDb.close());
    const kmsStore = await KyselyKmsStore.open(kmsDb, new SecretBox(new Uint8Array(randomBytes(32))));
    const { domain } = await initDomain(kmsStore, { kmsUri: KMS_URI, userKeyPeriod: 2_419_200, userKeyOffset: 0 });
    await kmsStore.addUsers(KMS_URI, USERS.map((u) => ({ userUri: u.uri })));
    const clientKeys = new Map<string, Awaited<ReturnType<typeof issueClientKeys>>>();
    for (const u of USERS) clientKeys.set(u.uri, await issueClientKeys(kmsStore, KMS_URI, u.uri));
    const verifier = new AccessTokenVerifier({ issuer: idms.issuer, audience: KMS_RESOURCE, jwks: { url: `${idms.issuer}/jwks`, caPem: idmsTls.cert } });
    const kmsTls = await loadOrCreateTls({ dataDir: join(dir, 'kms') });
    const app = buildKmsServer({ service: new KmsService({ store: kmsStore, kmsUri: KMS_URI, verifier }), tls: kmsTls, logger: silent });
    await app.listen({ port: 0, host: '127.0.0.1' });
    closers.unshift(() => app.close());
    const addr = app.server.address();
    const kmsUrl = `https://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
    log(`KMS ${KMS_URI} on ${kmsUrl}: SAKKE z / Z_T and ECCSI KSAK / KPAK made and sealed, a TrK and InK issued to each user`, 'TS 33.180 §5.3, Annex D.3.2',
      `Z_T ${toHex(domain.pubEncKey.subarray(0, 8))}…, KPAK ${toHex(domain.pubAuthKey.subarray(0, 8))}… (public)`);

    // Each user: login (code + PKCE), then key provisioning validated before storage.
    const idm = await discoverIdms({ issuer: idms.issuer, clientId: 'mcptt-client', caPem: idmsTls.cert });
    const held = new Map<string, Awaited<ReturnType<KmsClient['fetchAll']>>>();
    for (const u of USERS) {
      const tokens = await loginWithPassword(idm, { username: u.username, password: passwords.get(u.username) ?? '', redirectUri: REDIRECT, scope: 'openid 3gpp:mc:ptt_service 3gpp:mc:ptt_key_management_service', resource: KMS_RESOURCE });
      log(`${u.username} logs in: authorization code + PKCE S256, access token for the KMS with mcptt_id ${u.uri}`, 'TS 33.180 Annex B.4.2, B.2.2');
      const k = clientKeys.get(u.uri);
      if (k === undefined) return false;
      const client = new KmsClient({
        kmsUrl, allowedKmsUris: [KMS_URI], userUri: u.uri, accessToken: tokens.access_token, caPem: kmsTls.cert,
        trk: { id: k.trkId, key: fromHex(k.trk) }, ink: { id: k.inkId, key: fromHex(k.ink) },
      });
      const r = await client.fetchAll(new ClientKeyStore(join(dir, `ue-${u.username}`)));
      held.set(u.uri, r);
      log(`${u.username} fetches keys: init, keyprov (periods ${r.keySets.map((s) => s.keyPeriodNo).join(', ')}), certcache; signatures valid, keys unwrapped with the TrK, RSK and SSK/PVT validated, stored sealed`,
        'TS 33.180 §5.3.3, Annex D.2, RFC 6508 §6.1.2, RFC 6507 §5.1.2');
    }

    // Private call set-up: Alice's PCK to Bob in an I_MESSAGE (Annex E.3).
    const alice = held.get(USERS[0].uri);
    const bob = held.get(USERS[1].uri);
    const aliceKeys = alice?.keySets[0];
    const bobKeys = bob?.keySets[0];
    if (alice === undefined || bob === undefined || aliceKeys === undefined || bobKeys === undefined) return false;
    const cert = alice.certificate;
    const periods = { userKeyPeriod: cert.userKeyPeriod, userKeyOffset: cert.userKeyOffset };
    const kms = new SakkePublicKey(cert.pubEncKey);
    const pck = new Uint8Array(randomBytes(16));
    const pckId = generateKeyId('PCK');
    const now = new Date();
    const message = createIMessage({
      keyType: 'PCK', key: pck, keyId: pckId, time: now,
      initiator: { uri: USERS[0].uri, kmsUri: KMS_URI, ...periods, kpak: cert.pubAuthKey, ssk: aliceKeys.ssk, pvt: aliceKeys.pvt },
      responder: { uri: USERS[1].uri, kmsUri: KMS_URI, ...periods, kms },
    });
    log(`Alice makes a PCK (PCK-ID 0x${pckId.toString(16).padStart(8, '0')}) and sends it to Bob in a MIKEY-SAKKE I_MESSAGE, signed (ECCSI) and encrypted (SAKKE)`,
      'TS 33.180 §7.2, Annex E.3, RFC 6509', `mikey ${toBase64(message).slice(0, 48)}… (${message.length} octets; decode it with \`mcsec decode mikey\`)`);
    const recipient = prepareRsk(kms, bobKeys.userId, bobKeys.rsk);
    const opened = await openIMessage(message, {
      uri: USERS[1].uri, kmsUri: KMS_URI, ...periods,
      recipientFor: (no) => (no === bobKeys.keyPeriodNo ? recipient : undefined),
      trustedKms: (uri) => (uri === KMS_URI ? { kpak: cert.pubAuthKey, ...periods } : undefined),
      replayCache: new MemoryReplayCache(), now: () => now,
    });
    const sameKey = equalBytes(opened.key, pck) && opened.keyId === pckId && opened.initiatorUri === USERS[0].uri;
    log(sameKey ? "Bob opens it: Alice's signature verifies, the PCK decapsulates, the purpose tag is a PCK's" : 'Bob opened a different key', 'TS 33.180 Annex E.3, RFC 6507 §5.2.2, RFC 6508 §6.2.2');

    // Media: SRTP master key and salt from the PCK (§7.4.1), one voice packet.
    const master = derivePrivateCallMaster({ pck, pckId, rand: opened.rand, service: 'MCPTT', origin: 'initiator' });
    const bobMaster = derivePrivateCallMaster({ pck: opened.key, pckId: opened.keyId, rand: opened.rand, service: 'MCPTT', origin: 'initiator' });
    const sender = new SrtpSender({ ...master, mki: keyIdMki(pckId) });
    const voice = new Uint8Array(randomBytes(160));
    const rtp = encodeRtpPacket({ header: { padding: false, marker: true, payloadType: 96, sequenceNumber: 1, timestamp: 160, ssrc: generateSsrc(), csrcs: [], extension: undefined }, payload: voice, padding: new Uint8Array(0) });
    const srtp = sender.protectRtp(rtp);
    const receiverByMki = new SrtpReceiver({ mkiLength: 4, lookup: () => bobMaster });
    const back = receiverByMki.unprotectRtp(srtp);
    const heard = equalBytes(back, rtp);
    log(heard ? `Alice's voice packet (${rtp.length} octets RTP, ${srtp.length} octets SRTP with the PCK-ID as MKI) is unprotected by Bob unchanged`
      : "Bob could not unprotect Alice's packet", 'TS 33.180 §7.4.1, §7.5, RFC 3711, RFC 7714');
    return sameKey && heard;
  } finally {
    for (const c of closers) await c().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
