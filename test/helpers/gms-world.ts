// A KMS (the library's KMS pieces in-process, over HTTPS on loopback), GMSs provisioned from it
// through the client SDK's KmsClient (§5.7.2 step 0), and members with a client key store, a SIP
// endpoint and a group management client registered with their GMS: the setup of the GMS and
// client media tests on loopback.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import pino from 'pino';
import { ClientKeyStore, KmsClient } from '../../src/client/index.js';
import { GroupManagementClient } from '../../src/client/gmc.js';
import type { StoredGmk } from '../../src/client/gmk-store.js';
import { AccessTokenVerifier } from '../../src/functions/authz/index.js';
import { KmsService, buildKmsServer, initDomain } from '../../src/functions/kms/index.js';
import { GmsService, GmsSip, InlineFanOut, installGmsIdentity, type GmkSender } from '../../src/functions/gms/index.js';
import { KyselyGmsStore, KyselyKmsStore, SecretBox, openDatabase, type StoreDatabase } from '../../src/store/index.js';
import { loadOrCreateTls } from '../../src/transport/http/index.js';
import { listenSip, type SipEndpoint, type SipTransport } from '../../src/transport/sip/index.js';

const ISSUER = 'https://idms.example.org';

export interface WorldGms {
  readonly uri: string;
  readonly service: GmsService;
  readonly store: KyselyGmsStore;
  readonly endpoint: SipEndpoint;
  readonly database: StoreDatabase;
}

export interface WorldMember {
  readonly uri: string;
  readonly keys: ClientKeyStore;
  readonly gmc: GroupManagementClient;
  readonly endpoint: SipEndpoint;
}

export interface GmsWorld {
  readonly dir: string;
  readonly kmsUri: string;
  readonly kmsUrl: string;
  readonly caPem: string;
  /** An access token naming `uri` as its MC service ID (the IdMS stand-in). */
  token(uri: string): Promise<string>;
  /** A GMS provisioned by the KMS, SIP on UDP and TCP; `wrapSender` sees every GMK delivery. */
  startGms(uri: string, o?: { readonly wrapSender?: (s: GmkSender) => GmkSender; readonly gmkLifetime?: number }): Promise<WorldGms>;
  /** A member with its keys fetched from the KMS, a SIP endpoint and a (not yet registered) GMC. */
  startMember(uri: string, transport: SipTransport, gms: WorldGms, gmsUri?: string): Promise<WorldMember>;
  close(): Promise<void>;
}

/** The KMS with `users` (GMSs and members) provisioned, listening on loopback. */
export async function gmsWorld(o: { readonly users: readonly string[]; readonly kmsUri?: string; readonly userKeyPeriod?: number; readonly prefix?: string }): Promise<GmsWorld> {
  const KMS = o.kmsUri ?? 'kms.example.org';
  const dir = mkdtempSync(join(tmpdir(), o.prefix ?? 'mcsec-gms-world-'));
  const cleanups: (() => Promise<void> | void)[] = [];
  const idms = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(idms.publicKey)), kid: 'idms-1', alg: 'ES256' };
  const token = (uri: string): Promise<string> =>
    new SignJWT({ mcptt_id: uri, scope: 'openid 3gpp:mc:ptt_key_management_service' })
      .setProtectedHeader({ alg: 'ES256', kid: 'idms-1' })
      .setIssuer(ISSUER)
      .setAudience('mcsec-kms')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(idms.privateKey);

  const kmsDb = openDatabase(undefined, { dataDir: join(dir, 'kms') });
  const kmsStore = await KyselyKmsStore.open(kmsDb, new SecretBox(new Uint8Array(randomBytes(32))));
  await initDomain(kmsStore, { kmsUri: KMS, userKeyPeriod: o.userKeyPeriod ?? 2_419_200, userKeyOffset: 0 });
  await kmsStore.addUsers(KMS, o.users.map((userUri) => ({ userUri })));
  const verifier = new AccessTokenVerifier({ issuer: ISSUER, audience: 'mcsec-kms', jwks: { keys: { keys: [jwk] } } });
  const tls = await loadOrCreateTls({ dataDir: join(dir, 'kms') });
  const app = buildKmsServer({ service: new KmsService({ store: kmsStore, kmsUri: KMS, verifier }), tls, logger: pino({ level: 'silent' }) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const kmsUrl = `https://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
  const caPem = tls.cert;
  cleanups.push(async () => {
    await app.close();
    await kmsDb.close();
  });

  const world: GmsWorld = {
    dir,
    kmsUri: KMS,
    kmsUrl,
    caPem,
    token,
    async startGms(uri, g = {}) {
      const database = openDatabase(undefined, { dataDir: join(dir, uri.replace(/\W/g, '_')) });
      const store = await KyselyGmsStore.open(database, new SecretBox(new Uint8Array(randomBytes(32))));
      // The GMS is a KMS client (§5.7.2 step 0): init, keyprov, certcache through the SDK.
      const client = new KmsClient({ kmsUrl, allowedKmsUris: [KMS], userUri: uri, accessToken: await token(uri), caPem });
      const certificate = await client.init();
      const { keySets } = await client.keyProv(certificate);
      await installGmsIdentity(store, uri, { certificate, keySets, externalCertificates: await client.certCache() });
      const endpoint = await listenSip({ udp: {}, tcp: {} });
      const fanOut = new InlineFanOut({ pointWindow: 6, gtWindow: 6 });
      const sip = new GmsSip({ endpoint, gmsUri: uri });
      const sender = g.wrapSender === undefined ? sip : g.wrapSender(sip);
      const service = new GmsService({ store, gmsUri: uri, kmsUri: KMS, fanOut, sender, gmkLifetime: g.gmkLifetime ?? 3600 });
      sip.serve(service);
      await service.warm();
      cleanups.push(async () => {
        await endpoint.close();
        await database.close();
      });
      return { uri, service, store, endpoint, database };
    },
    async startMember(uri, transport, gms, gmsUri = gms.uri) {
      const keys = new ClientKeyStore(join(dir, 'clients', uri.replace(/\W/g, '_')), new Uint8Array(randomBytes(32)));
      const client = new KmsClient({ kmsUrl, allowedKmsUris: [KMS], userUri: uri, accessToken: await token(uri), caPem });
      await client.fetchAll(keys, { next: false });
      const endpoint = await listenSip(transport === 'udp' ? { udp: {} } : { tcp: {} });
      const port = gms.endpoint.address(transport)?.port ?? 0;
      const gmc = new GroupManagementClient({ userUri: uri, kmsUri: KMS, keys, gmsUri, endpoint, registrar: { transport, host: '127.0.0.1', port } });
      cleanups.push(async () => {
        gmc.close();
        await endpoint.close();
      });
      return { uri, keys, gmc, endpoint };
    },
    async close() {
      for (const c of cleanups.reverse()) await c();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

/** Resolves with the first GMK the client stores that satisfies `pred`; rejects after `ms`. */
export const waitForGmk = (gmc: GroupManagementClient, pred: (g: StoredGmk) => boolean, ms = 30_000): Promise<StoredGmk> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no GMK arrived')), ms);
    const on = (g: StoredGmk): void => {
      if (!pred(g)) return;
      clearTimeout(timer);
      gmc.off('gmk', on);
      resolve(g);
    };
    gmc.on('gmk', on);
  });
