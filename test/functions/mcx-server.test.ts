// The MCX server security function end to end on loopback (TS 33.180 §9.2): our client registers
// with a CSK upload over UDP and TCP; the server stores the CSK sealed, and refuses a wrong
// identity, a wrong purpose tag, a replay and a tampered message with nothing stored; key
// downloads of a MuSiK and of a new CSK are applied by the client; de-registration, the XPK
// resolver, SPK provisioning and retransmitted requests.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { generateKeyId, keyPeriodNoAt } from '../../src/crypto/index.js';
import { McsecError } from '../../src/errors/index.js';
import { createIMessage, MemoryReplayCache } from '../../src/formats/mikey/index.js';
import { ContentType, createSipRequest, createSipResponse, decodeSipMessage, encodeSipMessage, headerValue, type SipRequest, type SipResponse } from '../../src/formats/sip/index.js';
import { mikeyParts } from '../../src/formats/sip/mikey-parts.js';
import { listenSip, type SipEndpoint, type SipTransport } from '../../src/transport/sip/index.js';
import { MCPTT_INFO_POLICY, protectXml, unprotectXml } from '../../src/formats/xmlenc/index.js';
import {
  McxServerService,
  answerMcxRequest,
  baseIdentity,
  registrationRequest,
  requestIdentity,
  sameIdentity,
  ServerTransactions,
  SpkResolver,
  createKeyDownload,
  decodeSpkConfig,
  importSpks,
  keyDownloadRequest,
  keyDownloadTransport,
  mcxServerConfig,
  serveMcxSip,
  xmlKeysOf,
  type McxLogEntry,
} from '../../src/functions/mcx-server/index.js';
import { McxClientKeys, cskRegisterRequest } from '../../src/client/mcx-client-keys.js';
import type { McxUserKeys } from '../../src/client/mcx-user-keys.js';
import { toHex } from '../../src/util/index.js';
import { MDSI, mcxWorld, type McxWorld } from '../helpers/mcx.js';

const ALICE = 'sip:alice@mcx.test';
const BOB = 'sip:bob@mcx.test';
const CAROL = 'sip:carol@mcx.test';
/** The user of the in-process XML tests (their registrations name no live client). */
const ERIN = 'sip:erin@mcx.test';

let world: McxWorld;
let service: McxServerService;
let server: SipEndpoint;
let stop: () => void;
const logs: McxLogEntry[] = [];
const users = new Map<string, McxUserKeys>();

before(async () => {
  world = await mcxWorld();
  service = new McxServerService({ config: mcxServerConfig({ mdsi: MDSI }), keys: world.serverKeys, store: world.mcxStore, replayCache: new MemoryReplayCache() });
  await service.prepare();
  server = await listenSip({ udp: {}, tcp: {} }, { transactionTimeoutMs: 20_000 });
  stop = serveMcxSip(server, service, { log: (e) => logs.push(e) });
  for (const u of [ALICE, BOB, CAROL, ERIN]) users.set(u, await world.userKeysOf(u));
});

after(async () => {
  stop();
  await server.close();
  await world.close();
});

const keysOf = (u: string): McxUserKeys => {
  const k = users.get(u);
  assert.ok(k !== undefined);
  return k;
};

interface Client {
  readonly keys: McxClientKeys;
  readonly sip: SipEndpoint;
  readonly transport: SipTransport;
  readonly contact: string;
  readonly instance: string;
  register(o?: { upload?: Uint8Array; impu?: string; expiresS?: number; method?: 'REGISTER' | 'PUBLISH' }): Promise<SipResponse>;
  send(req: SipRequest): Promise<SipResponse>;
  close(): Promise<void>;
}

/** A client endpoint for `user` over `transport` answering key downloads with its McxClientKeys. */
async function client(user: string, transport: SipTransport, answer?: (req: SipRequest) => SipResponse | undefined): Promise<Client> {
  const sip = await listenSip(transport === 'udp' ? { udp: {} } : { tcp: {} });
  const keys = new McxClientKeys({ user: keysOf(user), server: { mdsi: MDSI } });
  sip.on('request', (req, from) => {
    const fixed = answer?.(req);
    if (fixed !== undefined) {
      void from.respond(fixed);
      return;
    }
    void keys.applyKeyDownload(req).then((r) => from.respond(r.response));
  });
  const port = sip.address(transport)?.port ?? 0;
  const instance = `<urn:uuid:${crypto.randomUUID()}>`;
  const contact = `sip:${user.slice(4, user.indexOf('@'))}@127.0.0.1:${port};transport=${transport}`;
  const serverPort = server.address(transport)?.port ?? 0;
  const send = (req: SipRequest): Promise<SipResponse> => sip.request(req, { transport, host: '127.0.0.1', port: serverPort });
  return {
    keys,
    sip,
    transport,
    contact,
    instance,
    send,
    async register(o = {}) {
      const via = { transport, host: '127.0.0.1', port };
      const base = { via, contact, instance, expiresS: o.expiresS ?? 600, ...(o.impu === undefined ? {} : { impu: o.impu }) };
      let req = o.upload === undefined ? keys.registerRequest(base) : cskRegisterRequest(o.upload, { ...base, mdsi: MDSI, userUri: user }, (n) => new Uint8Array(crypto.getRandomValues(new Uint8Array(n))));
      if (o.method === 'PUBLISH') req = { ...req, method: 'PUBLISH', headers: req.headers.map((h) => (h.name === 'CSeq' ? { name: 'CSeq', value: '1 PUBLISH' } : h)) };
      const res = await send(req);
      if (o.upload === undefined) keys.confirmCsk(res);
      return res;
    },
    async close() {
      // log off (Expires 0) so that later key downloads do not wait for a closed client
      const off = createSipRequest({
        method: 'REGISTER',
        uri: MDSI,
        from: { uri: user },
        to: { uri: user },
        via: { transport, host: '127.0.0.1', port },
        headers: [
          { name: 'Contact', value: `<${contact}>;+sip.instance="${instance}"` },
          { name: 'Expires', value: '0' },
        ],
      });
      await send(off).catch(() => undefined);
      await sip.close();
    },
  };
}

const warning = (res: SipResponse): string => headerValue(res, 'Warning') ?? '';

async function cskCount(user: string): Promise<number> {
  return (await world.mcxStore.listCsks(user)).length;
}

/** Flips one octet of an I_MESSAGE inside its SAKKE payload area (signed, so the signature fails). */
function tamper(iMessage: Uint8Array): Uint8Array {
  const t = iMessage.slice();
  const at = Math.floor(t.length / 2);
  t[at] = (t[at] ?? 0) ^ 0x01;
  return t;
}

for (const transport of ['udp', 'tcp'] as const) {
  describe(`CSK upload over ${transport.toUpperCase()} (TS 33.180 §9.2.1.3)`, () => {
    test('REGISTER with a CSK upload: 200, the CSK stored sealed for the client, the registration kept', { timeout: 120_000 }, async () => {
      const alice = await client(ALICE, transport);
      try {
        const res = await alice.register();
        assert.equal(res.status, 200, warning(res));
        assert.match(headerValue(res, 'Contact') ?? '', /;expires=600$/);
        const csk = alice.keys.csk;
        assert.ok(csk !== undefined, 'the client took its CSK into use on the 200');
        const stored = await world.mcxStore.getCsk(csk.keyId);
        assert.ok(stored !== undefined);
        assert.equal(toHex(stored.csk), toHex(csk.key));
        assert.equal(stored.userUri, ALICE);
        assert.equal(stored.clientId, alice.instance.replace(/^"|"$/g, ''));
        assert.equal(stored.origin, 'upload');
        assert.ok(stored.expiresAt !== undefined && stored.expiresAt > Date.now());
        const reg = (await world.mcxStore.listRegistrations(ALICE, Date.now())).find((r) => r.clientId === stored.clientId);
        assert.ok(reg !== undefined);
        assert.equal(reg.transport, transport);
        // sealed at rest: the raw row does not hold the key
        const raw = await world.database.db.selectFrom('store_meta').selectAll().execute();
        assert.ok(raw.length > 0);
        const rows = await (world.database.db.withTables<{ mcx_csk: { csk_id: number; csk_wrapped: string } }>()).selectFrom('mcx_csk').selectAll().execute();
        assert.ok(rows.every((r) => !String(r.csk_wrapped).includes(toHex(csk.key))));
        assert.match(String(rows[0]?.csk_wrapped), /^v1\./);
        // the XPK resolver finds it for the right user only (§9.3.3)
        const x = await service.resolver.resolve(csk.keyId, { userUri: ALICE });
        assert.equal(x.keyType, 'CSK');
        assert.equal(x.mcServiceUserId, ALICE);
        assert.equal(xmlKeysOf(x, ALICE).confidentiality.length, 16);
        await assert.rejects(service.resolver.resolve(csk.keyId, { userUri: BOB }), { code: 'ERR_UNKNOWN_KEY', field: 'xpkId' });
        assert.ok(logs.some((l) => l.op === 'csk-upload' && l.cskId === csk.keyId.toString(16).padStart(8, '0')));
        assert.ok(logs.every((l) => !JSON.stringify(l).includes(toHex(csk.key))), 'no key in any log entry');
      } finally {
        await alice.close();
      }
    });

    test('an upload signed by another user than the REGISTER names: 403 ERR_FORBIDDEN, nothing stored, the message not claimed', { timeout: 120_000 }, async () => {
      const bob = await client(BOB, transport);
      const alice = await client(ALICE, transport);
      try {
        const before = [await cskCount(ALICE), await cskCount(BOB)];
        const upload = bob.keys.createCskUpload();
        const res = await alice.register({ upload: upload.iMessage, impu: ALICE });
        assert.equal(res.status, 403);
        assert.match(warning(res), /^399 mcx\.test "ERR_FORBIDDEN mikey\.IDRi /);
        assert.equal(await world.mcxStore.getCsk(upload.cskId), undefined);
        assert.deepEqual([await cskCount(ALICE), await cskCount(BOB)], before);
        // the refused message left no replay entry: under Bob's own REGISTER it is accepted
        const ok = await bob.register({ upload: upload.iMessage, impu: BOB });
        assert.equal(ok.status, 200, warning(ok));
        assert.equal((await world.mcxStore.getCsk(upload.cskId))?.userUri, BOB);
      } finally {
        await alice.close();
        await bob.close();
      }
    });

    test('an I_MESSAGE carrying a MuSiK, not a CSK: 488 ERR_UNSUPPORTED, nothing stored', { timeout: 120_000 }, async () => {
      const alice = await client(ALICE, transport);
      try {
        const u = keysOf(ALICE);
        const n = keyPeriodNoAt(new Date(), u.userKeyPeriod, u.userKeyOffset);
        const signer = u.signerFor(n);
        assert.ok(signer !== undefined);
        const keyId = generateKeyId('MuSiK');
        const iMessage = createIMessage({
          keyType: 'MuSiK',
          key: new Uint8Array(16).fill(7),
          keyId,
          initiator: { uri: ALICE, kmsUri: u.kmsUri, userKeyPeriod: u.userKeyPeriod, userKeyOffset: u.userKeyOffset, kpak: u.kpak, ...signer },
          responder: { uri: MDSI, kmsUri: u.kmsUri, userKeyPeriod: u.userKeyPeriod, userKeyOffset: u.userKeyOffset, kms: u.kms },
          time: new Date(),
        });
        const before = await cskCount(ALICE);
        const res = await alice.register({ upload: iMessage });
        assert.equal(res.status, 488);
        assert.match(warning(res), /ERR_UNSUPPORTED mikey\.hdr\.csbId\.purposeTag/);
        assert.equal(await cskCount(ALICE), before);
        assert.equal(await world.mcxStore.getCsk(keyId), undefined);
      } finally {
        await alice.close();
      }
    });

    test('the same upload again (a new transaction): 403 ERR_REPLAY, the stored CSK unchanged', { timeout: 120_000 }, async () => {
      const alice = await client(ALICE, transport);
      try {
        const upload = alice.keys.createCskUpload();
        const first = await alice.register({ upload: upload.iMessage });
        assert.equal(first.status, 200, warning(first));
        const held = await world.mcxStore.listCsks(ALICE);
        const again = await alice.register({ upload: upload.iMessage });
        assert.equal(again.status, 403);
        assert.match(warning(again), /ERR_REPLAY mikey /);
        assert.deepEqual((await world.mcxStore.listCsks(ALICE)).map((c) => [c.cskId, c.createdAt]), held.map((c) => [c.cskId, c.createdAt]));
      } finally {
        await alice.close();
      }
    });

    test('a tampered upload: 403 ERR_SIGNATURE, nothing stored', { timeout: 120_000 }, async () => {
      const alice = await client(ALICE, transport);
      try {
        const upload = alice.keys.createCskUpload();
        const before = await cskCount(ALICE);
        const res = await alice.register({ upload: tamper(upload.iMessage) });
        assert.equal(res.status, 403);
        assert.match(warning(res), /ERR_SIGNATURE/);
        assert.equal(await cskCount(ALICE), before);
        assert.equal(await world.mcxStore.getCsk(upload.cskId), undefined);
      } finally {
        await alice.close();
      }
    });
  });
}

describe('the XML parts of a registration, decrypted with the new CSK (TS 33.180 §9.2.1.3 step 2, §9.3.4)', () => {
  const info = `<?xml version="1.0" encoding="UTF-8"?>
<mcpttinfo xmlns="urn:3gpp:ns:mcpttInfo:1.0"><mcptt-Params><mcptt-access-token><mcpttString>eyJhbGciOiJFUzI1NiJ9.e30.sig</mcpttString></mcptt-access-token><mcptt-request-uri type="Normal"><mcpttURI>${ERIN}</mcpttURI></mcptt-request-uri></mcptt-Params></mcpttinfo>`;
  const source = { transport: 'tcp' as const, address: '127.0.0.1', port: 5999 };
  const strict = (): McxServerService =>
    new McxServerService({ config: mcxServerConfig({ mdsi: MDSI, requiredXml: { [ContentType.MCPTT_INFO]: MCPTT_INFO_POLICY } }), keys: world.serverKeys, store: world.mcxStore, replayCache: new MemoryReplayCache() });
  const via = { transport: 'tcp', host: '127.0.0.1', port: 5999 };

  test('the access token and MCPTT ID encrypted under the uploaded CSK are opened; the CSK stored', { timeout: 60_000 }, async () => {
    const svc = strict();
    const keys = new McxClientKeys({ user: keysOf(ERIN), server: { mdsi: MDSI } });
    const req = keys.registerRequest({ via, contact: 'sip:erin@127.0.0.1:5999;transport=tcp', instance: '<urn:uuid:xml-1>', xmlParts: [{ contentType: ContentType.MCPTT_INFO, xml: info, policy: MCPTT_INFO_POLICY }] });
    const body = new TextDecoder().decode(req.body);
    assert.ok(!body.includes('eyJhbGciOiJFUzI1NiJ9'), 'the token is not in the clear on the wire');
    assert.match(body, /EncryptedData/);
    const o = await svc.handleRegistration(req, source);
    assert.ok(o.cskId !== undefined);
    const [part] = o.xmlParts;
    assert.equal(part?.contentType, ContentType.MCPTT_INFO);
    assert.match(part?.xml ?? '', /<mcpttString[^>]*>eyJhbGciOiJFUzI1NiJ9\.e30\.sig<\/mcpttString>/);
    assert.deepEqual(part?.decryptedElements, ['xml.mcpttinfo.mcptt-Params.mcptt-access-token', 'xml.mcpttinfo.mcptt-Params.mcptt-request-uri']);
    // a later body protected by the client with that CSK opens with the resolver's snapshot (§9.3.3)
    assert.ok(keys.confirmCsk(createSipResponse(req, 200)));
    const later = keys.protectXml(info, MCPTT_INFO_POLICY);
    const opened = unprotectXml(later, { keys: { resolver: await svc.resolver.snapshot({ userUri: ERIN }), accept: ['CSK'], mcServiceUserId: ERIN, now: () => new Date() } });
    assert.match(opened.xml, /eyJhbGciOiJFUzI1NiJ9/);
    await assert.rejects(async () => unprotectXml(later, { keys: { resolver: await svc.resolver.snapshot({ userUri: BOB }), accept: ['CSK'], mcServiceUserId: ERIN, now: () => new Date() } }), { code: 'ERR_UNKNOWN_KEY' });
  });

  test('an access token in the clear where the policy requires it encrypted: 403 ERR_FORBIDDEN, nothing stored, the upload not claimed', { timeout: 60_000 }, async () => {
    const svc = strict();
    const keys = new McxClientKeys({ user: keysOf(ERIN), server: { mdsi: MDSI } });
    const upload = keys.createCskUpload();
    const plain = keys.registerRequest({ via, contact: 'sip:erin@127.0.0.1:5999;transport=tcp', instance: '<urn:uuid:xml-2>', extraParts: [{ headers: [{ name: 'Content-Type', value: ContentType.MCPTT_INFO }], body: new TextEncoder().encode(info) }] }, upload);
    await assert.rejects(svc.handleRegistration(plain, source), (e: unknown) => e instanceof McsecError && e.code === 'ERR_FORBIDDEN' && e.field === 'xml.mcpttinfo.mcptt-Params.mcptt-access-token');
    assert.equal(await world.mcxStore.getCsk(upload.cskId), undefined);
    const wire = await answerMcxRequest(svc, plain, { transport: 'tcp', remote: { address: '127.0.0.1', port: 5999 } });
    assert.equal(wire?.status, 403);
    // the same upload with the XML protected is accepted: the refusal claimed nothing
    const good = keys.registerRequest({ via, contact: 'sip:erin@127.0.0.1:5999;transport=tcp', instance: '<urn:uuid:xml-2>', xmlParts: [{ contentType: ContentType.MCPTT_INFO, xml: info, policy: MCPTT_INFO_POLICY }] }, upload);
    assert.equal((await svc.handleRegistration(good, source)).cskId, upload.cskId);
  });

  test('XML protected under a CSK the server does not hold: 488 ERR_UNKNOWN_KEY, nothing stored', { timeout: 60_000 }, async () => {
    const svc = strict();
    const keys = new McxClientKeys({ user: keysOf(ERIN), server: { mdsi: MDSI } });
    const other = keys.createCskUpload();
    const upload = keys.createCskUpload();
    const foreign = protectXml(info, { key: { xpk: other.csk, xpkId: other.cskId, purpose: 'CSK', mcServiceUserId: ERIN }, policy: MCPTT_INFO_POLICY });
    const req = keys.registerRequest({ via, contact: 'sip:erin@127.0.0.1:5999;transport=tcp', instance: '<urn:uuid:xml-3>', extraParts: [{ headers: [{ name: 'Content-Type', value: ContentType.MCPTT_INFO }], body: new TextEncoder().encode(foreign) }] }, upload);
    const res = await answerMcxRequest(svc, req, { transport: 'tcp', remote: { address: '127.0.0.1', port: 5999 } });
    assert.equal(res?.status, 488);
    assert.match(headerValue(res ?? createSipResponse(req, 500), 'Warning') ?? '', /ERR_UNKNOWN_KEY/);
    assert.equal(await world.mcxStore.getCsk(upload.cskId), undefined);
  });
});

describe('key download (TS 33.180 §5.8, §9.2.1.4, §9.2.2)', () => {
  test('a MuSiKGRP to a registered client over TCP: applied by the client by its ID, delivery accepted', { timeout: 120_000 }, async () => {
    const alice = await client(ALICE, 'tcp');
    try {
      assert.equal((await alice.register()).status, 200);
      const musik = await service.createMusik({ groupId: 'sip:group-1@mcx.test', lifetimeMs: 3_600_000 });
      const results = await service.distributeMusik({ musikId: musik.musikId, userUris: [ALICE], transport: keyDownloadTransport(server) });
      const mine = results.find((r) => r.clientId === alice.instance.replace(/^"|"$/g, ''));
      assert.ok(mine !== undefined);
      assert.equal(mine.status, 200);
      const held = alice.keys.multicastKey(musik.musikId);
      assert.ok(held !== undefined);
      assert.equal(held.keyType, 'MuSiK');
      assert.equal(toHex(held.key), toHex(musik.musik));
      assert.deepEqual(held.groupIds, ['sip:group-1@mcx.test']);
      assert.ok(held.expiresAt !== undefined);
      const deliveries = await world.mcxStore.listMusikDeliveries(musik.musikId);
      assert.ok(deliveries.some((d) => d.clientId === mine.clientId && d.status === 'accepted'));
      assert.equal((await service.resolver.resolve(musik.musikId)).keyType, 'MuSiK');
    } finally {
      await alice.close();
    }
  });

  test('a MuSiKAll over UDP, and a client that rejects it is marked rejected (§9.2.2)', { timeout: 120_000 }, async () => {
    const carol = await client(CAROL, 'udp');
    const rejecting = await client(CAROL, 'udp', (req) => (req.method === 'MESSAGE' ? createSipResponse(req, 488) : undefined));
    try {
      assert.equal((await carol.register()).status, 200);
      assert.equal((await rejecting.register()).status, 200);
      const musik = await service.createMusik();
      const results = await service.distributeMusik({ musikId: musik.musikId, userUris: [CAROL], transport: keyDownloadTransport(server) });
      const byClient = new Map(results.map((r) => [r.clientId, r]));
      assert.equal(byClient.get(carol.instance.replace(/^"|"$/g, ''))?.accepted, true);
      assert.equal(carol.keys.multicastKey(musik.musikId)?.groupIds.length, 0);
      const refused = byClient.get(rejecting.instance.replace(/^"|"$/g, ''));
      assert.equal(refused?.accepted, false);
      const d = await world.mcxStore.listMusikDeliveries(musik.musikId);
      assert.deepEqual(d.map((x) => x.status).sort(), ['accepted', 'rejected']);
    } finally {
      await carol.close();
      await rejecting.close();
    }
  });

  test('a CSK update: the client replaces its CSK, the server its stored one, after the 200 (§9.2.1.4)', { timeout: 120_000 }, async () => {
    const alice = await client(ALICE, 'udp');
    try {
      assert.equal((await alice.register()).status, 200);
      const old = alice.keys.csk;
      assert.ok(old !== undefined);
      const clientId = alice.instance.replace(/^"|"$/g, '');
      const r = await service.updateCsk({ userUri: ALICE, clientId, transport: keyDownloadTransport(server) });
      assert.equal(r.accepted, true);
      const now = alice.keys.csk;
      assert.ok(now !== undefined && now.keyId !== old.keyId);
      assert.equal(now.keyId >>> 28, 2, 'purpose tag CSK');
      assert.equal(await world.mcxStore.getCsk(old.keyId), undefined, 'the old CSK is gone');
      const stored = await world.mcxStore.getCsk(now.keyId);
      assert.equal(stored?.origin, 'download');
      assert.equal(toHex(stored?.csk ?? new Uint8Array(0)), toHex(now.key));
    } finally {
      await alice.close();
    }
  });

  test('the client refuses a key download not from its server, a replayed one, and a GMK: nothing applied', { timeout: 120_000 }, async () => {
    const alice = new McxClientKeys({ user: keysOf(ALICE), server: { mdsi: MDSI } });
    // from Bob (signed as Bob, not the MDSI)
    const u = keysOf(BOB);
    const n = keyPeriodNoAt(new Date(), u.userKeyPeriod, u.userKeyOffset);
    const signer = u.signerFor(n);
    assert.ok(signer !== undefined);
    const forged = createIMessage({
      keyType: 'MuSiK',
      key: new Uint8Array(16).fill(1),
      keyId: generateKeyId('MuSiK'),
      initiator: { uri: BOB, kmsUri: u.kmsUri, userKeyPeriod: u.userKeyPeriod, userKeyOffset: u.userKeyOffset, kpak: u.kpak, ...signer },
      responder: { uri: ALICE, kmsUri: u.kmsUri, userKeyPeriod: u.userKeyPeriod, userKeyOffset: u.userKeyOffset, kms: u.kms },
      time: new Date(),
    });
    const msg = (body: Uint8Array): SipRequest =>
      keyDownloadRequest({ mdsi: MDSI, impu: ALICE, contact: 'sip:alice@127.0.0.1:5060', via: { transport: 'UDP', host: '127.0.0.1', port: 5060 }, body: { contentType: 'application/mikey', body } });
    const r1 = await alice.applyKeyDownload(msg(forged));
    assert.equal(r1.response.status, 403);
    assert.equal(r1.error?.code, 'ERR_FORBIDDEN');
    assert.equal(r1.error?.field, 'mikey.IDRi');
    assert.equal(alice.multicastKeys.length, 0);
    // a genuine one, twice
    const musik = await service.createMusik();
    const d = await createKeyDownload({ keys: world.serverKeys, userUri: ALICE, items: [{ keyType: 'MuSiK', key: musik.musik, keyId: musik.musikId }], time: new Date() });
    const r2 = await alice.applyKeyDownload(msg(d.body.body));
    assert.equal(r2.response.status, 200);
    assert.deepEqual(r2.applied, [{ keyType: 'MuSiK', keyId: musik.musikId, action: 'stored' }]);
    const r3 = await alice.applyKeyDownload(msg(d.body.body));
    assert.equal(r3.response.status, 403);
    assert.equal(r3.error?.code, 'ERR_REPLAY');
    // a key type key downloads do not carry (a GMK is the GMS's, §5.7)
    await assert.rejects(createKeyDownload({ keys: world.serverKeys, userUri: ALICE, items: [{ keyType: 'GMK' as 'CSK', key: new Uint8Array(16), keyId: generateKeyId('GMK') }], time: new Date() }), { code: 'ERR_BAD_VALUE' });
  });

  test('several keys in one download: multipart/mixed of application/mikey parts, base64 parts too', { timeout: 120_000 }, async () => {
    const alice = new McxClientKeys({ user: keysOf(ALICE), server: { mdsi: MDSI } });
    const m1 = await service.createMusik();
    const mscck = { keyType: 'MSCCK' as const, key: new Uint8Array(16).fill(9), keyId: generateKeyId('MSCCK') };
    const d = await createKeyDownload({ keys: world.serverKeys, userUri: ALICE, items: [{ keyType: 'MuSiK', key: m1.musik, keyId: m1.musikId }, mscck], time: new Date(), encoding: 'base64' });
    assert.match(d.body.contentType, /^multipart\/mixed;boundary=/);
    const req = keyDownloadRequest({ mdsi: MDSI, impu: ALICE, contact: 'sip:alice@127.0.0.1:5060', via: { transport: 'TCP', host: '127.0.0.1', port: 5060 }, body: d.body });
    assert.equal(mikeyParts(decodeSipMessage(encodeSipMessage(req))).length, 2);
    const r = await alice.applyKeyDownload(req);
    assert.equal(r.response.status, 200, headerValue(r.response, 'Warning'));
    assert.equal(alice.multicastKey(mscck.keyId)?.keyType, 'MSCCK');
    assert.equal(alice.multicastKey(m1.musikId)?.keyType, 'MuSiK');
  });
});

describe('registration lifetime, PUBLISH, retransmissions', () => {
  test('de-registration (Expires 0) removes the client CSK and registration; the resolver then refuses the CSK-ID', { timeout: 120_000 }, async () => {
    const bob = await client(BOB, 'tcp');
    try {
      assert.equal((await bob.register()).status, 200);
      const csk = bob.keys.csk;
      assert.ok(csk !== undefined);
      const clientId = bob.instance.replace(/^"|"$/g, '');
      const off = createSipRequest({
        method: 'REGISTER',
        uri: MDSI,
        from: { uri: BOB },
        to: { uri: BOB },
        via: { transport: 'tcp', host: '127.0.0.1', port: bob.sip.address('tcp')?.port ?? 0 },
        headers: [
          { name: 'Contact', value: `<${bob.contact}>;+sip.instance="${bob.instance}"` },
          { name: 'Expires', value: '0' },
        ],
      });
      assert.equal((await bob.send(off)).status, 200);
      assert.equal(await world.mcxStore.getCsk(csk.keyId), undefined);
      assert.equal((await world.mcxStore.listRegistrations(BOB, Date.now())).some((r) => r.clientId === clientId), false);
      await assert.rejects(service.resolver.resolve(csk.keyId), { code: 'ERR_UNKNOWN_KEY' });
    } finally {
      await bob.close();
    }
  });

  test('a CSK upload in a PUBLISH (§9.2.1.3) is accepted too', { timeout: 120_000 }, async () => {
    const carol = await client(CAROL, 'udp');
    try {
      const upload = carol.keys.createCskUpload();
      const res = await carol.register({ upload: upload.iMessage, method: 'PUBLISH' });
      assert.equal(res.status, 200, warning(res));
      assert.equal((await world.mcxStore.getCsk(upload.cskId))?.userUri, CAROL);
    } finally {
      await carol.close();
    }
  });

  test('an expired or not yet active CSK, an unknown ID and a GMK-ID are refused by the resolver', async () => {
    const past = generateKeyId('CSK');
    await world.mcxStore.replaceCsk({ cskId: past, userUri: 'sip:dave@mcx.test', clientId: 'd1', impu: 'sip:dave@mcx.test', csk: new Uint8Array(16), origin: 'upload', activatesAt: undefined, expiresAt: Date.now() - 1, rand: undefined });
    await assert.rejects(service.resolver.resolve(past), { code: 'ERR_EXPIRED', field: 'xpkId' });
    const later = generateKeyId('CSK');
    await world.mcxStore.replaceCsk({ cskId: later, userUri: 'sip:dave@mcx.test', clientId: 'd2', impu: 'sip:dave@mcx.test', csk: new Uint8Array(16), origin: 'upload', activatesAt: Date.now() + 60_000, expiresAt: undefined, rand: undefined });
    await assert.rejects(service.resolver.resolve(later), { code: 'ERR_EXPIRED' });
    await assert.rejects(service.resolver.resolve(generateKeyId('CSK')), { code: 'ERR_UNKNOWN_KEY' });
    await assert.rejects(service.resolver.resolve(generateKeyId('GMK')), { code: 'ERR_UNKNOWN_KEY' });
    await assert.rejects(service.resolver.resolve(generateKeyId('SPK'), { accept: ['CSK'] }), { code: 'ERR_UNKNOWN_KEY' });
  });

  test('a retransmitted REGISTER (same branch) gets the same answer, not a replay refusal', { timeout: 120_000 }, async () => {
    const alice = await client(ALICE, 'udp');
    try {
      const port = alice.sip.address('udp')?.port ?? 0;
      const req = alice.keys.registerRequest({ via: { transport: 'udp', host: '127.0.0.1', port }, contact: alice.contact, instance: alice.instance });
      const answers: SipResponse[] = [];
      alice.sip.on('response', (r) => answers.push(r));
      const dest = { transport: 'udp' as const, host: '127.0.0.1', port: server.address('udp')?.port ?? 0 };
      await alice.sip.send(req, dest);
      await alice.sip.send(req, dest);
      for (let i = 0; i < 200 && answers.length < 1; i++) await new Promise((r) => setTimeout(r, 50));
      await alice.sip.send(req, dest);
      for (let i = 0; i < 200 && answers.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(answers.length >= 2, `answers: ${answers.length}`);
      assert.deepEqual(answers.map((a) => a.status), answers.map(() => 200));
      const t = new ServerTransactions(() => 0);
      const key = ServerTransactions.keyOf(req);
      assert.ok(key !== undefined);
      assert.equal(t.begin(key), 'new');
      assert.equal(t.begin(key), 'absorb');
      t.complete(key, answers[0] as SipResponse);
      assert.equal(t.begin(key), answers[0]);
    } finally {
      await alice.close();
    }
  });

  test('OPTIONS gets 200 with Allow; INVITE gets 405', { timeout: 30_000 }, async () => {
    const alice = await client(ALICE, 'tcp');
    try {
      const port = alice.sip.address('tcp')?.port ?? 0;
      const mk = (method: string): SipRequest => createSipRequest({ method, uri: MDSI, from: { uri: ALICE }, to: { uri: MDSI }, via: { transport: 'tcp', host: '127.0.0.1', port } });
      const o = await alice.send(mk('OPTIONS'));
      assert.equal(o.status, 200);
      assert.match(headerValue(o, 'Allow') ?? '', /REGISTER/);
      assert.equal((await alice.send(mk('INVITE'))).status, 405);
    } finally {
      await alice.close();
    }
  });
});

describe('SPK provisioning (TS 33.180 §5.5, §9.2.3)', () => {
  const spkId = '3a1b2c3d';
  const file = JSON.stringify({
    spks: [
      { partner: 'partner.example', spkId, spk: '00112233445566778899aabbccddeeff', spkRand: 'ffeeddccbbaa99887766554433221100' },
      { partner: 'old.example', spkId: '30000001', spk: '000102030405060708090a0b0c0d0e0f', spkRand: '0f0e0d0c0b0a09080706050403020100', expires: '2001-01-01T00:00:00Z' },
    ],
  });

  test('a config file is checked, stored sealed, and resolved per partner and by SPK-ID', async () => {
    const entries = decodeSpkConfig(file);
    assert.equal(await importSpks(world.mcxStore, entries), 2);
    assert.equal(await importSpks(world.mcxStore, entries), 2, 'idempotent');
    const r = new SpkResolver(world.mcxStore);
    const spk = await r.forPartner('partner.example', new Date());
    assert.equal(spk.spkId, 0x3a1b2c3d);
    assert.equal(toHex(spk.spkRand), 'ffeeddccbbaa99887766554433221100');
    await assert.rejects(r.forPartner('old.example', new Date()), { code: 'ERR_UNKNOWN_KEY' });
    await assert.rejects(r.byId(0x30000001, new Date()), { code: 'ERR_EXPIRED' });
    await assert.rejects(r.byId(0x3fffffff, new Date()), { code: 'ERR_UNKNOWN_KEY' });
    const x = await service.resolver.resolve(0x3a1b2c3d);
    assert.equal(x.keyType, 'SPK');
    assert.equal(x.partner, 'partner.example');
    await assert.rejects(service.resolver.resolve(0x30000001), { code: 'ERR_EXPIRED' });
  });

  test('bad SPK files are ConfigErrors naming the entry', () => {
    const bad = (spks: unknown[], field: string): void => {
      assert.throws(() => decodeSpkConfig(JSON.stringify({ spks })), (e: unknown) => e instanceof McsecError && e.code === 'ERR_CONFIG' && e.field === field);
    };
    const ok = { partner: 'p', spkId, spk: '00'.repeat(16), spkRand: '11'.repeat(16) };
    bad([{ ...ok, spkId: '2a1b2c3d' }], 'spk.spks[0].spkId');
    bad([{ ...ok, spk: '00'.repeat(15) }], 'spk.spks[0].spk');
    bad([{ ...ok, spkRand: 'zz'.repeat(16) }], 'spk.spks[0].spkRand');
    bad([ok, ok], 'spk.spks[1].spkId');
    bad([{ ...ok, expires: 'soon' }], 'spk.spks[0].expires');
    bad([{ ...ok, partner: '' }], 'spk.spks[0].partner');
    assert.throws(() => decodeSpkConfig('{'), { code: 'ERR_CONFIG', field: 'spk' });
  });
});

describe('whose request it is (authorised-identity.ts, registration.ts)', () => {
  test('baseIdentity is total (a string or a FormatError) and ignores parameters, URI headers and host case', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        try {
          baseIdentity(s);
        } catch (e) {
          assert.ok(e instanceof McsecError && e.code === 'ERR_BAD_VALUE', String(e));
        }
      }),
      { numRuns: 2000 },
    );
    // an Authorised Identity (§9.6.3.1) is its MC service ID plus authorisation fields as URI headers
    assert.equal(sameIdentity('sip:alice@MCX.test?mc-auth=0a1b', 'sip:alice@mcx.test'), true);
    assert.equal(sameIdentity('SIP:alice@mcx.test;user=phone', 'sip:alice@mcx.test'), true);
    assert.equal(sameIdentity('sip:Alice@mcx.test', 'sip:alice@mcx.test'), false, 'the user part is case-sensitive');
    assert.equal(sameIdentity('sip:alice@mcx.test', 'sip:alice@mcx.test.evil'), false);
    assert.equal(sameIdentity('not a uri', 'sip:alice@mcx.test'), false);
  });

  test('the identity of a REGISTER: P-Asserted-Identity when present (unless turned off), else To; of a PUBLISH: From', () => {
    const mk = (method: string, extra: { name: string; value: string }[] = []): SipRequest =>
      createSipRequest({ method, uri: MDSI, from: { uri: 'sip:from@mcx.test' }, to: { uri: 'sip:to@mcx.test' }, via: { transport: 'UDP', host: '127.0.0.1' }, headers: extra });
    assert.deepEqual(requestIdentity(mk('REGISTER')), { impu: 'sip:to@mcx.test', source: 'To' });
    assert.deepEqual(requestIdentity(mk('PUBLISH')), { impu: 'sip:from@mcx.test', source: 'From' });
    const pai = mk('REGISTER', [{ name: 'P-Asserted-Identity', value: '<sip:asserted@mcx.test>' }]);
    assert.equal(requestIdentity(pai).impu, 'sip:asserted@mcx.test');
    assert.equal(requestIdentity(pai, { assertedIdentity: false }).impu, 'sip:to@mcx.test');
  });

  test('registration requests: bind with the granted expires, unbind, unbind-all; malformed ones are FormatErrors', () => {
    const config = mcxServerConfig({ mdsi: MDSI, defaultExpiresS: 600, maxExpiresS: 1000 });
    const mk = (headers: { name: string; value: string }[]): SipRequest =>
      createSipRequest({ method: 'REGISTER', uri: MDSI, from: { uri: ALICE }, to: { uri: ALICE }, via: { transport: 'UDP', host: '127.0.0.1' }, headers });
    assert.deepEqual(registrationRequest(mk([{ name: 'Contact', value: '<sip:a@127.0.0.1>;+sip.instance="<urn:uuid:1>";expires=5000' }]), config), { kind: 'bind', contact: 'sip:a@127.0.0.1', clientId: '<urn:uuid:1>', expiresS: 1000 });
    assert.deepEqual(registrationRequest(mk([{ name: 'Contact', value: '<sip:a@127.0.0.1>' }, { name: 'Expires', value: '0' }]), config), { kind: 'unbind', contact: 'sip:a@127.0.0.1', clientId: 'sip:a@127.0.0.1' });
    assert.deepEqual(registrationRequest(mk([{ name: 'Contact', value: '*' }, { name: 'Expires', value: '0' }]), config), { kind: 'unbind-all' });
    assert.deepEqual(registrationRequest(mk([]), config), { kind: 'none' });
    assert.throws(() => registrationRequest(mk([{ name: 'Contact', value: '*' }]), config), { code: 'ERR_BAD_VALUE', field: 'sip.headers.Contact' });
    assert.throws(() => registrationRequest(mk([{ name: 'Contact', value: '<sip:a@h>' }, { name: 'Expires', value: 'soon' }]), config), { code: 'ERR_BAD_VALUE', field: 'sip.headers.Expires' });
    assert.throws(() => mcxServerConfig({ mdsi: 'mcx.test' }), { code: 'ERR_CONFIG', field: 'mcx.mdsi' });
    assert.throws(() => mcxServerConfig({ mdsi: MDSI, defaultExpiresS: 9000 }), { code: 'ERR_CONFIG', field: 'mcx.defaultExpiresS' });
  });
});
