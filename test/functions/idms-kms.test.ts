// The KMS accepting access tokens issued by our IdMS (TS 33.180 §5.1.3 step C-2, §5.3.3, Annex
// B.2.2): the KMS's AccessTokenVerifier fetches the IdMS JWKS over HTTPS trusting the IdMS's
// self-signed certificate; the MC client logs in with the IdM client (code + PKCE, the login form
// filled in) asking for the KMS resource and the key management scope, then provisions its keys.
// A token for another resource, without the key management scope, or for another user is refused.
// The MCX server too (§5.1.3.2): the IdMS's token for the MCPTT resource, in a REGISTER's
// mcptt-info encrypted under the CSK uploaded with it, authorises the MCPTT service.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ClientKeyStore, KmsClient } from '../../src/client/index.js';
import { discoverIdms, loginWithPassword, type Idms } from '../../src/client/idm/index.js';
import { McsecError } from '../../src/errors/index.js';
import { AccessTokenVerifier } from '../../src/functions/authz/index.js';
import { KmsService, buildKmsServer, initDomain, issueClientKeys } from '../../src/functions/kms/index.js';
import { KyselyKmsStore, SecretBox, openDatabase } from '../../src/store/index.js';
import { loadOrCreateTls } from '../../src/transport/http/index.js';
import { fromHex } from '../../src/util/index.js';
import { ALICE, CLIENT_ID, REDIRECT, provisionAlice, startTestIdms, type TestIdms } from '../helpers/idms.js';
import { MemoryReplayCache } from '../../src/formats/mikey/index.js';
import { ContentType } from '../../src/formats/sip/index.js';
import { MCPTT_INFO_POLICY } from '../../src/formats/xmlenc/index.js';
import { McxServerService, mcxServerConfig } from '../../src/functions/mcx-server/index.js';
import { McxClientKeys } from '../../src/client/mcx-client-keys.js';
import { MDSI, mcxWorld } from '../helpers/mcx.js';

const KMS_URI = 'kms.example.org';
const KMS_RESOURCE = 'https://kms.example.org';
const MCPTT_RESOURCE = 'https://mcptt.example.org';

const code = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof McsecError, String(e));
    return e.code;
  }
  return 'no error';
};

describe('KMS with access tokens of the IdMS', () => {
  let t: TestIdms;
  let idms: Idms;
  let kms: { url: string; caPem: string; close: () => Promise<unknown> };
  const dir = mkdtempSync(join(tmpdir(), 'mcsec-idms-kms-'));
  const database = openDatabase(undefined, { dataDir: dir });
  let keys: Awaited<ReturnType<typeof issueClientKeys>>;

  before(async () => {
    t = await startTestIdms({ config: { resources: [{ uri: KMS_RESOURCE }, { uri: MCPTT_RESOURCE }] } });
    await provisionAlice(t.store);
    idms = await discoverIdms({ issuer: t.idms.issuer, clientId: CLIENT_ID, caPem: t.caPem });
    const store = await KyselyKmsStore.open(database, new SecretBox(new Uint8Array(randomBytes(32))));
    await initDomain(store, { kmsUri: KMS_URI, userKeyPeriod: 2_419_200, userKeyOffset: 0 });
    await store.addUsers(KMS_URI, [{ userUri: ALICE.mcptt }, { userUri: 'sip:bob@example.org' }]);
    keys = await issueClientKeys(store, KMS_URI, ALICE.mcptt);
    const verifier = new AccessTokenVerifier({ issuer: t.idms.issuer, audience: KMS_RESOURCE, jwks: { url: `${t.idms.issuer}/jwks`, caPem: t.caPem } });
    const tls = await loadOrCreateTls({ dataDir: join(dir, 'kms') });
    const app = buildKmsServer({ service: new KmsService({ store, kmsUri: KMS_URI, verifier }), tls, logger: pino({ level: 'silent' }) });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const addr = app.server.address();
    kms = { url: `https://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`, caPem: tls.cert, close: () => app.close() };
  });
  after(async () => {
    await kms.close();
    await database.close();
    await t.close();
  });

  const client = (accessToken: string, userUri: string = ALICE.mcptt): KmsClient =>
    new KmsClient({
      kmsUrl: kms.url, allowedKmsUris: [KMS_URI], userUri, accessToken, caPem: kms.caPem,
      trk: { id: keys.trkId, key: fromHex(keys.trk) }, ink: { id: keys.inkId, key: fromHex(keys.ink) },
    });

  test('§5.3.3: a token for the KMS resource with the key management scope provisions the keys', async () => {
    const tokens = await loginWithPassword(idms, { username: ALICE.username, password: ALICE.password, redirectUri: REDIRECT, scope: 'openid 3gpp:mc:ptt_key_management_service', resource: KMS_RESOURCE });
    const r = await client(tokens.access_token).fetchAll(new ClientKeyStore(join(dir, 'client')));
    assert.equal(r.signature, 'valid');
    assert.equal(r.keySets.length, 2);
    assert.equal(tokens.mc_service_ids?.['mcptt_id'], ALICE.mcptt, 'the MC service ID from the ID token');
  });

  test('refused: another audience (401), no key management scope (403), another user (403)', async () => {
    const forMcptt = await loginWithPassword(idms, { username: ALICE.username, password: ALICE.password, redirectUri: REDIRECT, scope: 'openid 3gpp:mc:ptt_key_management_service 3gpp:mc:ptt_service', resource: MCPTT_RESOURCE });
    assert.equal(await code(client(forMcptt.access_token).init()), 'ERR_UNAUTHORIZED');
    const noKm = await loginWithPassword(idms, { username: ALICE.username, password: ALICE.password, redirectUri: REDIRECT, scope: 'openid 3gpp:mc:ptt_service', resource: KMS_RESOURCE });
    assert.equal(await code(client(noKm.access_token).init()), 'ERR_FORBIDDEN');
    const good = await loginWithPassword(idms, { username: ALICE.username, password: ALICE.password, redirectUri: REDIRECT, scope: 'openid 3gpp:mc:ptt_key_management_service', resource: KMS_RESOURCE });
    assert.equal(await code(client(good.access_token, 'sip:bob@example.org').init()), 'ERR_FORBIDDEN');
  });

  test('§5.1.3.2: the MCX server authorises MCPTT for a REGISTER carrying the IdMS token for the MCPTT resource; a KMS token or one without the service scope is refused', async () => {
    const world = await mcxWorld();
    try {
      const verifier = new AccessTokenVerifier({ issuer: t.idms.issuer, audience: MCPTT_RESOURCE, jwks: { url: `${t.idms.issuer}/jwks`, caPem: t.caPem } });
      const svc = new McxServerService({ config: mcxServerConfig({ mdsi: MDSI }), keys: world.serverKeys, store: world.mcxStore, replayCache: new MemoryReplayCache(), accessTokens: { verifier, mode: 'required' } });
      const user = await world.userKeysOf(ALICE.mcptt);
      const register = (token: string, n: number) => {
        const info = `<?xml version="1.0" encoding="UTF-8"?>\n<mcpttinfo xmlns="urn:3gpp:ns:mcpttInfo:1.0"><mcptt-Params><mcptt-access-token><mcpttString>${token}</mcpttString></mcptt-access-token></mcptt-Params></mcpttinfo>`;
        const keys = new McxClientKeys({ user, server: { mdsi: MDSI } });
        return keys.registerRequest({ via: { transport: 'tcp', host: '127.0.0.1', port: 5999 }, contact: 'sip:alice@127.0.0.1:5999;transport=tcp', instance: `<urn:uuid:idms-mcx-${n}>`, xmlParts: [{ contentType: ContentType.MCPTT_INFO, xml: info, policy: MCPTT_INFO_POLICY }] });
      };
      const source = { transport: 'tcp' as const, address: '127.0.0.1', port: 5999 };
      const ptt = await loginWithPassword(idms, { username: ALICE.username, password: ALICE.password, redirectUri: REDIRECT, scope: 'openid 3gpp:mc:ptt_service', resource: MCPTT_RESOURCE });
      const o = await svc.handleRegistration(register(ptt.access_token, 1), source);
      assert.deepEqual(o.authorisations.map((a) => [a.service, a.mcServiceId]), [['mcptt', ALICE.mcptt]]);
      const forKms = await loginWithPassword(idms, { username: ALICE.username, password: ALICE.password, redirectUri: REDIRECT, scope: 'openid 3gpp:mc:ptt_key_management_service', resource: KMS_RESOURCE });
      assert.equal(await code(svc.handleRegistration(register(forKms.access_token, 2), source)), 'ERR_UNAUTHORIZED');
      const noPtt = await loginWithPassword(idms, { username: ALICE.username, password: ALICE.password, redirectUri: REDIRECT, scope: 'openid 3gpp:mc:ptt_key_management_service', resource: MCPTT_RESOURCE });
      assert.equal(await code(svc.handleRegistration(register(noPtt.access_token, 3), source)), 'ERR_FORBIDDEN');
    } finally {
      await world.close();
    }
  });
});
