/**
 * GMS ↔ GMC origin authentication with EARs (TS 33.180 §9.6.2.4, §9.6.5.4) over SIP on loopback:
 * the member's REGISTER carries its EAR (client role, no Authorised Identity needed) and the GMS
 * refuses one without; the GMS's GMK messages carry an EAR signed with its Authorised Identity
 * (mc-role-server, GMS bit) and the member refuses a message without one, or with an EAR signed
 * by the GMS's plain Server URI (no GMS role), storing nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientKeyStore } from '../../src/client/index.js';
import { GroupManagementClient } from '../../src/client/gmc.js';
import { gmcEarHook } from '../../src/client/gmc-ear.js';
import { ServerRole, encodeAuthorisedIdentity } from '../../src/formats/ear/index.js';
import { MemoryReplayCache } from '../../src/formats/mikey/index.js';
import { ContentType, createSipRequest, multipartBody } from '../../src/formats/sip/index.js';
import { KeyIssuer, initDomain, keyPeriodNoOf } from '../../src/functions/kms/index.js';
import {
  GmsService,
  GmsSip,
  InlineFanOut,
  contactDestination,
  gmsEarHook,
  installGmsIdentity,
  signingIdentity,
  warningCode,
  type GmkDelivery,
  type GmsEarHook,
} from '../../src/functions/gms/index.js';
import { KyselyGmsStore, KyselyKmsStore, SecretBox, openDatabase, type StoreDatabase } from '../../src/store/index.js';
import { listenSip, type SipEndpoint } from '../../src/transport/sip/index.js';

const KMS = 'kms.example.org';
const GMS = 'sip:gms@example.org';
const GMS_AUTHORISED = encodeAuthorisedIdentity(GMS, { 'mc-role-server': [ServerRole.GMS] });
const ALICE = 'sip:alice@example.org';
const GROUP = 'sip:fire@example.org';
const dir = mkdtempSync(join(tmpdir(), 'mcsec-gms-ear-'));
const closers: (() => Promise<void> | void)[] = [];
let store: KyselyGmsStore;
let gmsEndpoint: SipEndpoint;
let keys: ClientKeyStore;
let aliceEndpoint: SipEndpoint;
const sent: GmkDelivery[] = [];

let trusted: { kpak: Uint8Array; userKeyPeriod: number; userKeyOffset: number } | undefined;

/** The GMS's EAR hook signing with `identity`'s key set (its Authorised Identity, or not). */
const hookSigningAs = (identity: string): GmsEarHook =>
  gmsEarHook({
    gmsUri: GMS,
    signer: async (at) => {
      const { certificate: c, keySet } = await signingIdentity(store, identity, KMS, at);
      return { uri: identity, kmsUri: KMS, userKeyPeriod: c.userKeyPeriod, userKeyOffset: c.userKeyOffset, kpak: c.pubAuthKey, ssk: keySet.ssk, pvt: keySet.pvt };
    },
    trustedKms: (uri) => (uri === KMS ? trusted : undefined),
    replayCache: new MemoryReplayCache(),
  });

function gms(ear: GmsEarHook): { service: GmsService; sip: GmsSip } {
  const sip = new GmsSip({ endpoint: gmsEndpoint, gmsUri: GMS, ear });
  const service = new GmsService({
    store,
    gmsUri: GMS,
    kmsUri: KMS,
    fanOut: new InlineFanOut({ pointWindow: 6, gtWindow: 6 }),
    sender: { send: (d) => (sent.push(d), sip.send(d)) },
  });
  return { service, sip };
}

before(async () => {
  // Keys from the KMS's KeyIssuer directly (the e2e test goes through a KMS over HTTPS): the GMS
  // Server URI, the GMS Authorised Identity (the KMS provisions that string too, §9.6.3.2) and alice.
  const kmsDb = openDatabase('sqlite::memory:');
  const kmsStore = await KyselyKmsStore.open(kmsDb, new SecretBox(new Uint8Array(32).fill(3)));
  const { domain } = await initDomain(kmsStore, { kmsUri: KMS, userKeyPeriod: 2_419_200, userKeyOffset: 0 });
  const issuer = new KeyIssuer(kmsStore, domain);
  const period = keyPeriodNoOf(domain, new Date());
  const certificate = { kmsUri: KMS, userKeyPeriod: domain.userKeyPeriod, userKeyOffset: domain.userKeyOffset, pubEncKey: domain.pubEncKey, pubAuthKey: domain.pubAuthKey };
  trusted = { kpak: domain.pubAuthKey, userKeyPeriod: domain.userKeyPeriod, userKeyOffset: domain.userKeyOffset };
  const database: StoreDatabase = openDatabase(undefined, { dataDir: join(dir, 'gms') });
  store = await KyselyGmsStore.open(database, new SecretBox(new Uint8Array(32).fill(4)));
  await installGmsIdentity(store, GMS, { certificate, keySets: [issuer.make(GMS, period)] });
  await installGmsIdentity(store, GMS_AUTHORISED, { certificate, keySets: [issuer.make(GMS_AUTHORISED, period)] });
  keys = new ClientKeyStore(join(dir, 'alice'), new Uint8Array(32).fill(5));
  keys.putCertificate({ ...certificate, role: 'Root' });
  keys.putKeySet({ ...issuer.make(ALICE, period), validFrom: undefined, validTo: undefined });
  await kmsDb.close();
  gmsEndpoint = await listenSip({ udp: {} });
  aliceEndpoint = await listenSip({ udp: {} });
  closers.push(() => gmsEndpoint.close(), () => aliceEndpoint.close(), () => database.close());
});

after(async () => {
  for (const c of closers.reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

test('§9.6.2.4: REGISTER without an EAR is refused; with the member\'s EAR it binds, and the GMK comes with the GMS\'s EAR', async () => {
  const { service, sip } = gms(hookSigningAs(GMS_AUTHORISED));
  sip.serve(service);
  await service.createGroup({ groupUri: GROUP, members: [ALICE] });
  const registrar = { transport: 'udp' as const, host: '127.0.0.1', port: gmsEndpoint.address('udp')?.port ?? 0 };
  const plain = new GroupManagementClient({ userUri: ALICE, kmsUri: KMS, keys, gmsUri: GMS, endpoint: aliceEndpoint, registrar });
  await assert.rejects(plain.register(), { code: 'ERR_UNAUTHORIZED', field: 'gmc.register' });
  plain.close();
  const ear = gmcEarHook({ userUri: ALICE, kmsUri: KMS, keys, replayCache: new MemoryReplayCache() });
  const alice = new GroupManagementClient({ userUri: ALICE, kmsUri: KMS, keys, gmsUri: GMS, endpoint: aliceEndpoint, registrar, ear });
  closers.push(() => alice.close());
  const arrived = new Promise((resolve) => alice.once('gmk', resolve));
  await alice.register(300);
  await arrived;
  assert.equal(alice.gmks().length, 1);

  // A GMK message without an EAR (an I_MESSAGE the GMS made, sent bare) is refused; nothing stored.
  const last = sent[sent.length - 1];
  assert.ok(last !== undefined);
  const raw = await listenSip({ udp: {} });
  closers.push(() => raw.close());
  const post = async (body: { contentType: string; body: Uint8Array }): Promise<[number, string | undefined]> => {
    const req = createSipRequest({ method: 'MESSAGE', uri: alice.contact, from: { uri: GMS }, to: { uri: ALICE }, via: { transport: 'udp', host: '127.0.0.1', port: raw.address('udp')?.port ?? 0 }, body });
    const res = await raw.request(req, contactDestination(alice.contact));
    return [res.status, warningCode(res)];
  };
  assert.deepEqual(await post({ contentType: ContentType.MIKEY, body: last.imessage }), [403, 'ERR_UNAUTHORIZED']);
  // With an EAR signed by the GMS's plain Server URI: no GMS role bit (§9.6.2.4: an Authorised Identity).
  const unauthorised = hookSigningAs(GMS);
  const part = await unauthorised.createEar({ origin: GMS, target: ALICE, requestType: 'notify-group-configuration-request', time: new Date() });
  const body = multipartBody([{ headers: [{ name: 'Content-Type', value: ContentType.MIKEY }], body: last.imessage }, part], 'mcsec-test-boundary');
  assert.deepEqual(await post(body), [403, 'ERR_FORBIDDEN']);
  assert.equal(alice.gmks().length, 1, 'nothing stored');
});
