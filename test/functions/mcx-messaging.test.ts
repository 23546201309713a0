// Protected application signalling through the MCX server (TS 33.180 §9.3, §9.2.1, §9.2.2, §9.6)
// on loopback, over UDP, TCP and TLS: a client registers with a CSK upload, receives a MuSiK by
// key download, sends a MESSAGE whose XML bodies are encrypted and signed under its CSK (the
// server opens it and hands it on), and opens the MESSAGEs the server protects for it (CSK, then
// the MuSiK). Then the refusals: unknown XPK-ID, wrong purpose tag, another user's CSK, stripped
// signature, signature wrapping, a clear access token where the policy requires it encrypted, an
// unregistered sender: typed errors, the right SIP status, nothing handed on. And the EAR checks
// (§9.6.2.2 privileged, §9.6.2.3 across domains): expired, replayed, mis-addressed, unauthorised.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { keyPeriodNoAt } from '../../src/crypto/index.js';
import { createSelfSignedCertificate } from '../../src/crypto/x509.js';
import { EAR_CONTENT_TYPE, EarRequestType, EarRole, ServerRole, createEar, encodeAuthorisedIdentity, type EarSigner } from '../../src/formats/ear/index.js';
import { MemoryReplayCache } from '../../src/formats/mikey/index.js';
import { ContentType, createSipRequest, decodeSipBody, headerValue, headerValues, multipartBody, type MimePart, type SipRequest, type SipResponse } from '../../src/formats/sip/index.js';
import { mikeyParts } from '../../src/formats/sip/mikey-parts.js';
import { MCPTT_INFO_POLICY, MCPTT_SIGNED_CONTENT_TYPE, protectSipXmlBodies, type SipXmlBodyInput } from '../../src/formats/xmlenc/index.js';
import {
  McxMessaging,
  McxServerService,
  answerMcxRequest,
  importSpks,
  keyDownloadTransport,
  mcxServerConfig,
  serveMcxSip,
  type McxLogEntry,
  type ProtectedRequestOutcome,
} from '../../src/functions/mcx-server/index.js';
import { McxClientKeys } from '../../src/client/mcx-client-keys.js';
import { McxClientSignalling } from '../../src/client/mcx-signalling.js';
import type { McxUserKeys } from '../../src/client/mcx-user-keys.js';
import { listenSip, type SipEndpoint, type SipTransport } from '../../src/transport/sip/index.js';
import { toHex, utf8 } from '../../src/util/index.js';
import { KMS_URI, MDSI, mcxWorld, type McxWorld } from '../helpers/mcx.js';

const ALICE = 'sip:alice@mcx.test';
const BOB = 'sip:bob@mcx.test';
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.e30.c2lnbmF0dXJl';
const PARTNER_SERVER = 'sip:mcptt-server@partner.test';
const DAN = 'sip:dan@partner.test';

const info = (user: string, extra = ''): string => `<?xml version="1.0" encoding="UTF-8"?>
<mcpttinfo xmlns="urn:3gpp:ns:mcpttInfo:1.0"><mcptt-Params><mcptt-access-token><mcpttString>${TOKEN}</mcpttString></mcptt-access-token><mcptt-calling-user-id><mcpttURI>${user}</mcpttURI></mcptt-calling-user-id><mcptt-called-party-id><mcpttURI>${BOB}</mcpttURI></mcptt-called-party-id>${extra}</mcptt-Params></mcpttinfo>`;
const lists = `<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list><entry uri="${BOB}"/></list></resource-lists>`;
/** The bodies a client sends: the mcptt-info under the MCPTT policy, the URI list whole (§9.3.2). */
const bodiesOf = (user: string, extra = ''): SipXmlBodyInput[] => [
  { contentType: ContentType.MCPTT_INFO, xml: info(user, extra), policy: MCPTT_INFO_POLICY },
  { contentType: ContentType.RESOURCE_LISTS, xml: lists, wholeDocument: { messageType: 'MCPTT private call request' } },
];

let world: McxWorld;
let service: McxServerService;
let messaging: McxMessaging;
let server: SipEndpoint;
let stop: () => void;
let cert: string;
let key: string;
const logs: McxLogEntry[] = [];
const delivered: ProtectedRequestOutcome[] = [];
const users = new Map<string, McxUserKeys>();
const earReplay = new MemoryReplayCache();

/** The deployment's privileged-signalling rule of these tests (§9.6.2.2): an ambient listening request. */
const AMBIENT_LISTENING = 0x0102;

before(async () => {
  world = await mcxWorld();
  service = new McxServerService({
    config: mcxServerConfig({ mdsi: MDSI, requiredXml: { [ContentType.MCPTT_INFO]: MCPTT_INFO_POLICY } }),
    keys: world.serverKeys,
    store: world.mcxStore,
    replayCache: new MemoryReplayCache(),
  });
  await service.prepare();
  messaging = new McxMessaging({
    service,
    ears: {
      trustedKms: (u) => world.serverKeys.trustedKms(u),
      replayCache: earReplay,
      privileged: (f) => (f.xml.some((x) => x.xml.includes('<ambient-listening-type')) ? AMBIENT_LISTENING : undefined),
    },
  });
  const made = await createSelfSignedCertificate({ commonName: 'localhost', altNames: ['localhost', '127.0.0.1'] });
  cert = made.certificatePem;
  key = made.privateKeyPem;
  server = await listenSip({ udp: {}, tcp: {}, tls: { key, cert } }, { transactionTimeoutMs: 20_000, tlsCa: cert });
  stop = serveMcxSip(server, service, { messaging, log: (e) => logs.push(e), onMessage: (o) => delivered.push(o) });
  for (const u of [ALICE, BOB]) users.set(u, await world.userKeysOf(u));
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
const warning = (res: SipResponse): string => headerValue(res, 'Warning') ?? '';
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const instanceOf = (s: string): string => s.replace(/^"|"$/g, '');

interface Client {
  readonly keys: McxClientKeys;
  readonly signalling: McxClientSignalling;
  readonly sip: SipEndpoint;
  readonly transport: SipTransport;
  readonly instance: string;
  /** Protected requests from the server the client opened (bodies) or refused (status). */
  readonly inbox: { status: number; xml: string[]; code: string | undefined }[];
  register(): Promise<SipResponse>;
  send(req: SipRequest): Promise<SipResponse>;
  via(): { transport: string; host: string; port: number };
  close(): Promise<void>;
}

/** A client of `user` over `transport`: key downloads applied, protected MESSAGEs opened. */
async function client(user: string, transport: SipTransport): Promise<Client> {
  const sip = await listenSip(transport === 'udp' ? { udp: {} } : transport === 'tcp' ? { tcp: {} } : { tls: { key, cert } }, { tlsCa: cert });
  const keys = new McxClientKeys({ user: keysOf(user), server: { mdsi: MDSI } });
  const signalling = new McxClientSignalling({ keys });
  const inbox: Client['inbox'] = [];
  sip.on('request', (req, from) => {
    if (mikeyParts(req).length > 0) {
      void keys.applyKeyDownload(req).then((r) => from.respond(r.response));
      return;
    }
    const r = signalling.openMessage(req);
    inbox.push({ status: r.response.status, xml: r.bodies.map((b) => b.xml), code: r.error?.code });
    void from.respond(r.response);
  });
  const port = sip.address(transport)?.port ?? 0;
  const instance = `<urn:uuid:${crypto.randomUUID()}>`;
  const contact = `sip:${user.slice(4, user.indexOf('@'))}@127.0.0.1:${port};transport=${transport}`;
  const serverPort = server.address(transport)?.port ?? 0;
  const send = (req: SipRequest): Promise<SipResponse> => sip.request(req, { transport, host: '127.0.0.1', port: serverPort, ...(transport === 'tls' ? { servername: 'localhost' } : {}) });
  const via = (): { transport: string; host: string; port: number } => ({ transport, host: '127.0.0.1', port });
  return {
    keys,
    signalling,
    sip,
    transport,
    instance,
    inbox,
    send,
    via,
    async register() {
      const req = keys.registerRequest({ via: via(), contact, instance, expiresS: 600 });
      const res = await send(req);
      keys.confirmCsk(res);
      return res;
    },
    async close() {
      const off = createSipRequest({
        method: 'REGISTER',
        uri: MDSI,
        from: { uri: user },
        to: { uri: user },
        via: via(),
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

/** Replaces the body of `req` by `parts` (multipart/mixed), keeping its headers but Content-Type. */
function withParts(req: SipRequest, parts: readonly MimePart[]): SipRequest {
  const body = multipartBody(parts, 'mcsec-test-boundary');
  return { ...req, headers: [...req.headers.filter((h) => h.name.toLowerCase() !== 'content-type'), { name: 'Content-Type', value: body.contentType }], body: body.body };
}
const essenceOf = (p: MimePart): string => (headerValue(p, 'Content-Type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

for (const transport of ['udp', 'tcp', 'tls'] as const) {
  describe(`protected signalling over ${transport.toUpperCase()}`, () => {
    test('CSK upload, MuSiK by key download, a protected MESSAGE each way (TS 33.180 §9.2, §9.3)', { timeout: 180_000 }, async () => {
      const alice = await client(ALICE, transport);
      try {
        // 1. REGISTER with a CSK upload (§9.2.1.3)
        const reg = await alice.register();
        assert.equal(reg.status, 200, warning(reg));
        const csk = alice.keys.csk;
        assert.ok(csk !== undefined);
        // 2. a MuSiK by key download (§9.2.2, §5.8)
        const musik = await service.createMusik({ groupId: 'sip:fire@mcx.test', lifetimeMs: 3_600_000 });
        const results = await service.distributeMusik({ musikId: musik.musikId, userUris: [ALICE], transport: keyDownloadTransport(server) });
        const mine = results.find((r) => r.clientId === instanceOf(alice.instance));
        assert.equal(mine?.accepted, true);
        assert.equal(toHex(alice.keys.multicastKey(musik.musikId)?.key ?? new Uint8Array(0)), toHex(musik.musik));
        // 3. client → server: mcptt-info (policy elements encrypted) and a URI list (whole
        //    document), both signed, under the CSK
        const before = delivered.length;
        const req = alice.signalling.messageRequest({ via: alice.via(), to: BOB, bodies: bodiesOf(ALICE) });
        const wire = new TextDecoder().decode(req.body);
        assert.ok(!wire.includes(TOKEN) && !wire.includes(BOB), 'neither the token nor the called party is on the wire in the clear');
        assert.match(wire, /application\/vnd\.3gpp\.mcptt-signed\+xml/);
        const res = await alice.send(req);
        assert.equal(res.status, 200, warning(res));
        assert.equal(delivered.length, before + 1);
        const got = delivered.at(-1);
        assert.ok(got !== undefined);
        assert.equal(got.userUri, ALICE);
        assert.equal(got.link, 'client');
        assert.equal(got.clientId, instanceOf(alice.instance));
        assert.equal(got.signed, true);
        assert.deepEqual(got.bodies.map((b) => b.contentType), [ContentType.MCPTT_INFO, ContentType.RESOURCE_LISTS]);
        assert.match(got.bodies[0]?.xml ?? '', new RegExp(`<mcpttString[^>]*>${esc(TOKEN)}</mcpttString>`));
        assert.deepEqual(got.bodies[0]?.decryptedElements, ['xml.mcpttinfo.mcptt-Params.mcptt-access-token', 'xml.mcpttinfo.mcptt-Params.mcptt-calling-user-id', 'xml.mcpttinfo.mcptt-Params.mcptt-called-party-id']);
        assert.equal(got.bodies[1]?.messageType, 'MCPTT private call request');
        assert.match(got.bodies[1]?.xml ?? '', /<entry uri="sip:bob@mcx\.test"\/>/);
        assert.deepEqual([...new Set(got.bodies.flatMap((b) => b.xpkIds))], [csk.keyId]);
        // 4. server → client under the client's CSK, then under the MuSiK it accepted
        const t = keyDownloadTransport(server);
        const viaCsk = await messaging.sendProtected({ userUri: ALICE, clientId: instanceOf(alice.instance), bodies: bodiesOf(MDSI), transport: t });
        assert.deepEqual([viaCsk.status, viaCsk.purpose, viaCsk.xpkId], [200, 'CSK', csk.keyId]);
        const viaMusik = await messaging.sendProtected({ userUri: ALICE, clientId: instanceOf(alice.instance), bodies: bodiesOf(MDSI), transport: t, musikId: musik.musikId });
        assert.deepEqual([viaMusik.status, viaMusik.purpose, viaMusik.xpkId], [200, 'MuSiK', musik.musikId]);
        const opened = alice.inbox.filter((m) => m.status === 200);
        assert.equal(opened.length, 2);
        for (const m of opened) assert.match(m.xml[0] ?? '', new RegExp(esc(TOKEN)));
        // 5. no key, token or decrypted URI in any log line
        const text = JSON.stringify(logs);
        for (const secret of [toHex(csk.key), toHex(musik.musik), TOKEN, BOB]) assert.ok(!text.includes(secret), 'a secret or decrypted value was logged');
        assert.ok(logs.some((l) => l.op === 'protected-request' && l.xpkId === csk.keyId.toString(16).padStart(8, '0') && l.transport === transport));
      } finally {
        await alice.close();
      }
    });
  });
}

describe('refusals of protected requests: typed errors, SIP status, nothing handed on', () => {
  let alice: Client;
  before(async () => {
    alice = await client(ALICE, 'tcp');
    assert.equal((await alice.register()).status, 200);
  });
  after(async () => {
    await alice.close();
  });

  /** Sends `req` and checks status, Warning code and field, and that nothing was delivered. */
  async function refused(req: SipRequest, status: number, code: string, field?: string): Promise<void> {
    const before = delivered.length;
    const res = await alice.send(req);
    assert.equal(res.status, status, warning(res));
    assert.match(warning(res), new RegExp(`"${code} ${field === undefined ? '' : esc(field)}`));
    assert.equal(delivered.length, before, 'a refused request was handed on');
  }
  const good = (): SipRequest => alice.signalling.messageRequest({ via: alice.via(), to: BOB, bodies: bodiesOf(ALICE) });

  test('the unchanged request is accepted (the refusals below are of changes to it)', { timeout: 60_000 }, async () => {
    assert.equal((await alice.send(good())).status, 200);
  });

  test('XML under an XPK-ID the server holds no key for: 488 ERR_UNKNOWN_KEY', { timeout: 60_000 }, async () => {
    const stranger = new McxClientKeys({ user: keysOf(ALICE), server: { mdsi: MDSI } }).createCskUpload();
    const parts = protectSipXmlBodies(bodiesOf(ALICE), { key: { xpk: stranger.csk, xpkId: stranger.cskId, purpose: 'CSK', mcServiceUserId: ALICE } });
    await refused(withParts(good(), parts), 488, 'ERR_UNKNOWN_KEY', 'signatures.Signature[0].KeyInfo.KeyName');
    const unsigned = protectSipXmlBodies(bodiesOf(ALICE), { key: { xpk: stranger.csk, xpkId: stranger.cskId, purpose: 'CSK', mcServiceUserId: ALICE }, sign: false });
    const lenient = new McxMessaging({ service, integrity: 'if-present' });
    await assert.rejects(lenient.handleRequest(withParts(good(), unsigned)), { code: 'ERR_UNKNOWN_KEY', field: 'xml.mcpttinfo.mcptt-Params.mcptt-access-token.EncryptedData.KeyInfo.KeyName' });
  });

  test('a key of the wrong purpose tag (the MuSiK, downlink only) on the uplink: 488 ERR_UNKNOWN_KEY', { timeout: 120_000 }, async () => {
    const musik = await service.createMusik();
    await service.distributeMusik({ musikId: musik.musikId, userUris: [ALICE], transport: keyDownloadTransport(server) });
    const held = alice.keys.multicastKey(musik.musikId);
    assert.ok(held !== undefined);
    const parts = protectSipXmlBodies(bodiesOf(ALICE), { key: { xpk: held.key, xpkId: held.keyId, purpose: 'MuSiK', mcServiceUserId: ALICE } });
    await refused(withParts(good(), parts), 488, 'ERR_UNKNOWN_KEY');
    // a CSK whose XPK-ID carries another purpose tag (an SPK's, 3) is refused before any use
    const csk = alice.keys.csk;
    assert.ok(csk !== undefined);
    assert.throws(() => protectSipXmlBodies(bodiesOf(ALICE), { key: { xpk: csk.key, xpkId: (csk.keyId & 0x0fff_ffff) | 0x3000_0000, purpose: 'CSK', mcServiceUserId: ALICE } }), { code: 'ERR_UNKNOWN_KEY', field: 'key.xpk' });
  });

  test("another user's request protected with Alice's CSK: 488 ERR_UNKNOWN_KEY (the CSK is held for Alice only)", { timeout: 120_000 }, async () => {
    const bob = await client(BOB, 'udp');
    try {
      assert.equal((await bob.register()).status, 200);
      const csk = alice.keys.csk;
      assert.ok(csk !== undefined);
      const parts = protectSipXmlBodies(bodiesOf(BOB), { key: { xpk: csk.key, xpkId: csk.keyId, purpose: 'CSK', mcServiceUserId: BOB } });
      const req = withParts(bob.signalling.messageRequest({ via: bob.via(), to: ALICE, bodies: bodiesOf(BOB) }), parts);
      const res = await bob.send(req);
      assert.equal(res.status, 488, warning(res));
      assert.match(warning(res), /ERR_UNKNOWN_KEY/);
    } finally {
      await bob.close();
    }
  });

  test('the signatures body stripped: 403 ERR_FORBIDDEN (integrity protection enabled, §9.3.5)', { timeout: 60_000 }, async () => {
    const req = good();
    const parts = decodeSipBody(req).filter((p) => essenceOf(p) !== MCPTT_SIGNED_CONTENT_TYPE);
    assert.equal(parts.length, 2);
    await refused(withParts(req, parts), 403, 'ERR_FORBIDDEN', 'sip.body');
  });

  test('no XML body at all (only text) with integrity protection enabled: 403 ERR_FORBIDDEN, not handed on as protected', { timeout: 60_000 }, async () => {
    const text: MimePart = { headers: [{ name: 'Content-Type', value: 'text/plain' }], body: new TextEncoder().encode('meet at the gate') };
    await refused(withParts(good(), [text]), 403, 'ERR_FORBIDDEN', 'sip.body');
  });

  test('signature wrapping: a second body under a signed Content-ID, an unsigned extra body, a swapped body, two signatures bodies: 403 ERR_SIGNATURE', { timeout: 60_000 }, async () => {
    const req = good();
    const parts = decodeSipBody(req);
    const [infoPart, listPart, sigPart] = parts;
    assert.ok(infoPart !== undefined && listPart !== undefined && sigPart !== undefined);
    const other = decodeSipBody(alice.signalling.messageRequest({ via: alice.via(), to: BOB, bodies: bodiesOf(ALICE, '<mcptt-calling-group-id><mcpttURI>sip:evil@mcx.test</mcpttURI></mcptt-calling-group-id>') }))[0];
    assert.ok(other !== undefined);
    // a forged body carrying the signed body's Content-ID, placed first
    const forged: MimePart = { headers: infoPart.headers, body: other.body };
    await refused(withParts(req, [forged, infoPart, listPart, sigPart]), 403, 'ERR_SIGNATURE', 'sip.body');
    // an extra XML body no signature covers
    const extra: MimePart = { headers: [{ name: 'Content-Type', value: ContentType.MCPTT_INFO }, { name: 'Content-ID', value: '<extra@mcx.test>' }], body: other.body };
    await refused(withParts(req, [infoPart, listPart, extra, sigPart]), 403, 'ERR_SIGNATURE');
    // the signed body replaced by another validly encrypted one under the same Content-ID
    await refused(withParts(req, [forged, listPart, sigPart]), 403, 'ERR_SIGNATURE');
    // an XML body without a Content-ID
    await refused(withParts(req, [{ headers: [infoPart.headers[0] ?? { name: 'Content-Type', value: ContentType.MCPTT_INFO }], body: infoPart.body }, listPart, sigPart]), 403, 'ERR_SIGNATURE');
    // two signatures bodies
    await refused(withParts(req, [infoPart, listPart, sigPart, sigPart]), 403, 'ERR_SIGNATURE', 'sip.body');
    // one flipped octet of ciphertext
    const text = new TextDecoder().decode(infoPart.body);
    const flipped = text.replace(/<xenc:CipherValue>(.)/, (_, c: string) => `<xenc:CipherValue>${c === 'A' ? 'B' : 'A'}`);
    assert.notEqual(flipped, text);
    await refused(withParts(req, [{ headers: infoPart.headers, body: utf8(flipped) }, listPart, sigPart]), 403, 'ERR_SIGNATURE');
  });

  test('the access token signed but in the clear where the policy requires it encrypted: 403 ERR_FORBIDDEN', { timeout: 60_000 }, async () => {
    const req = alice.signalling.messageRequest({ via: alice.via(), to: BOB, bodies: [{ contentType: ContentType.MCPTT_INFO, xml: info(ALICE) }] });
    await refused(req, 403, 'ERR_FORBIDDEN', 'xml.mcpttinfo.mcptt-Params.mcptt-access-token');
  });

  test('a request from a user with no registration: 403 ERR_FORBIDDEN', { timeout: 60_000 }, async () => {
    const req = good();
    const fromCarol = { ...req, headers: req.headers.map((h) => (h.name === 'From' ? { name: 'From', value: '<sip:carol@mcx.test>;tag=1' } : h)) };
    await refused(fromCarol, 403, 'ERR_FORBIDDEN', 'sip.headers.From');
  });

  test('the client refuses a server MESSAGE with a tampered body or no signature: 403, nothing opened', { timeout: 60_000 }, async () => {
    const csk = alice.keys.csk;
    assert.ok(csk !== undefined);
    const parts = protectSipXmlBodies(bodiesOf(MDSI), { key: { xpk: csk.key, xpkId: csk.keyId, purpose: 'CSK', mcServiceUserId: ALICE } });
    const base = createSipRequest({ method: 'MESSAGE', uri: 'sip:alice@127.0.0.1', from: { uri: MDSI }, to: { uri: ALICE }, via: { transport: 'TCP', host: '127.0.0.1', port: 5060 } });
    assert.equal(alice.signalling.openMessage(withParts(base, parts)).response.status, 200);
    const [p0, p1, sig] = parts;
    assert.ok(p0 !== undefined && p1 !== undefined && sig !== undefined);
    const r1 = alice.signalling.openMessage(withParts(base, [{ headers: p0.headers, body: utf8(`${new TextDecoder().decode(p0.body)} `) }, p1, sig]));
    assert.deepEqual([r1.response.status, r1.error?.code, r1.bodies.length], [403, 'ERR_SIGNATURE', 0]);
    const r2 = alice.signalling.openMessage(withParts(base, [p0, p1]));
    assert.deepEqual([r2.response.status, r2.error?.code, r2.error?.field], [403, 'ERR_FORBIDDEN', 'sip.body']);
  });

  test('without messaging the server still answers MESSAGE with 405; with it, OPTIONS lists MESSAGE and INFO', async () => {
    const req = good();
    const plain = await answerMcxRequest(service, req, { transport: 'tcp', remote: { address: '127.0.0.1', port: 5999 } });
    assert.equal(plain?.status, 405);
    const options = createSipRequest({ method: 'OPTIONS', uri: MDSI, from: { uri: ALICE }, to: { uri: MDSI }, via: alice.via() });
    const o = await answerMcxRequest(service, options, { transport: 'tcp', remote: { address: '127.0.0.1', port: 5999 } }, { messaging });
    assert.ok(o !== undefined);
    assert.match(headerValues(o, 'Allow').join(', '), /MESSAGE, INFO$/);
    const infoReq = alice.signalling.messageRequest({ via: alice.via(), to: BOB, bodies: bodiesOf(ALICE), method: 'INFO' });
    assert.equal((await alice.send(infoReq)).status, 200);
  });
});

describe('EARs on MCX signalling (TS 33.180 §9.6.2.2, §9.6.2.3, §9.6.5.4)', () => {
  const source = { transport: 'tcp' as const, remote: { address: '127.0.0.1', port: 5999 } };
  let alice: Client;
  let aliceAuthorised: EarSigner;
  let alicePlain: EarSigner;
  let partner: EarSigner;
  let partnerPlain: EarSigner;

  const signerOf = async (uri: string): Promise<EarSigner> => {
    const k = await world.userKeysOf(uri);
    const s = k.signerFor(keyPeriodNoAt(new Date(), k.userKeyPeriod, k.userKeyOffset));
    assert.ok(s !== undefined);
    return { uri, kmsUri: KMS_URI, userKeyPeriod: k.userKeyPeriod, userKeyOffset: k.userKeyOffset, kpak: k.kpak, ssk: s.ssk, pvt: s.pvt };
  };
  const earPart = (body: Uint8Array): MimePart => ({ headers: [{ name: 'Content-Type', value: EAR_CONTENT_TYPE }], body });
  const ambient = '<anyExt><ambient-listening-type>remote-init</ambient-listening-type></anyExt>';

  before(async () => {
    alice = await client(ALICE, 'tcp');
    assert.equal((await alice.register()).status, 200);
    // Alice's Authorised Identity with the MCPTT ambient listening bit (Table J.3.3.3-1, bit 1)
    aliceAuthorised = await signerOf(encodeAuthorisedIdentity(ALICE, { 'mc-priv-mcptt': [1] }));
    alicePlain = await signerOf(ALICE);
    partner = await signerOf(encodeAuthorisedIdentity(PARTNER_SERVER, { 'mc-role-server': [ServerRole.MCPTT_SERVER] }));
    partnerPlain = await signerOf(encodeAuthorisedIdentity(PARTNER_SERVER, { 'mc-role-server': [ServerRole.GMS] }));
    await importSpks(world.mcxStore, [{ partner: 'partner.test', spkId: 0x3a1b_2c3d, spk: new Uint8Array(16).fill(0x5a), spkRand: new Uint8Array(16).fill(1), expiresAt: undefined }]);
  });
  after(async () => {
    await alice.close();
  });

  const privileged = (ear?: Uint8Array): SipRequest =>
    alice.signalling.messageRequest({ via: alice.via(), to: BOB, bodies: bodiesOf(ALICE, ambient), extraParts: ear === undefined ? [] : [earPart(ear)] });
  const aliceEar = (o: { signer?: EarSigner; target?: string; targetRole?: 1 | 2 | 3; at?: Date; requestId?: number } = {}): Uint8Array =>
    createEar(
      { dateTime: o.at ?? new Date(), sourceRole: EarRole.CLIENT, sourceId: (o.signer ?? aliceAuthorised).uri, targetRole: o.targetRole ?? EarRole.CLIENT, targetId: o.target ?? BOB, request: { requestType: EarRequestType.PRIVILEGED, requestId: o.requestId ?? AMBIENT_LISTENING } },
      o.signer ?? aliceAuthorised,
    );
  const answer = async (req: SipRequest): Promise<SipResponse> => {
    const res = await answerMcxRequest(service, req, source, { messaging, onMessage: (o) => delivered.push(o) });
    assert.ok(res !== undefined);
    return res;
  };
  const expectRefused = async (req: SipRequest, status: number, code: string, field?: string): Promise<void> => {
    const before = delivered.length;
    const res = await answer(req);
    assert.equal(res.status, status, warning(res));
    assert.match(warning(res), new RegExp(`"${code} ${field === undefined ? '' : esc(field)}`));
    assert.equal(delivered.length, before);
  };

  test('privileged signalling with the requester\'s Authorised Identity EAR: accepted once; the same EAR again: 403 ERR_REPLAY', { timeout: 60_000 }, async () => {
    const ear = aliceEar();
    const res = await answer(privileged(ear));
    assert.equal(res.status, 200, warning(res));
    const got = delivered.at(-1);
    assert.deepEqual(got?.ears?.required, ['privileged']);
    assert.deepEqual(got?.ears?.ears[0]?.authorisation?.checked, [{ field: 'mc-priv-mcptt', bit: 1 }]);
    assert.deepEqual(got?.earParts.map((p) => toHex(p.body)), [toHex(ear)], 'the EAR as received, to copy on (§9.6.2.1)');
    await expectRefused(privileged(ear), 403, 'ERR_REPLAY', 'ear.payload.earId');
  });

  test('two EARs, the second a replay: 403 ERR_REPLAY and the first EAR ID is not recorded (it is accepted afterwards)', { timeout: 60_000 }, async () => {
    const used = aliceEar();
    assert.equal((await answer(privileged(used))).status, 200);
    const fresh = aliceEar();
    const both = alice.signalling.messageRequest({ via: alice.via(), to: BOB, bodies: bodiesOf(ALICE, ambient), extraParts: [earPart(fresh), earPart(used)] });
    await expectRefused(both, 403, 'ERR_REPLAY', 'ear.payload.earId');
    const res = await answer(privileged(fresh));
    assert.equal(res.status, 200, warning(res));
  });

  test('privileged signalling without an EAR: 403 ERR_UNAUTHORIZED; signed without the authorisation: 403 ERR_FORBIDDEN', { timeout: 60_000 }, async () => {
    await expectRefused(privileged(), 403, 'ERR_UNAUTHORIZED', 'sip.body');
    await expectRefused(privileged(aliceEar({ signer: alicePlain })), 403, 'ERR_FORBIDDEN', 'ear.payload.sourceId');
    await expectRefused(privileged(aliceEar({ requestId: 0x0101 })), 403, 'ERR_FORBIDDEN', 'ear.payload.request.requestId');
  });

  test('an expired EAR (10 min old): 403 ERR_EXPIRED; a mis-addressed one (another target): 403 ERR_FORBIDDEN; nothing claimed', { timeout: 60_000 }, async () => {
    await expectRefused(privileged(aliceEar({ at: new Date(Date.now() - 600_000) })), 403, 'ERR_EXPIRED', 'ear.payload.dateTime');
    const misaddressed = aliceEar({ target: 'sip:carol@mcx.test' });
    await expectRefused(privileged(misaddressed), 403, 'ERR_FORBIDDEN', 'ear.payload.targetId');
    await expectRefused(privileged(aliceEar({ target: 'sip:other-server@mcx.test', targetRole: EarRole.SERVER })), 403, 'ERR_FORBIDDEN', 'ear.payload.targetId');
    // a privileged EAR on a request that is not privileged (§9.6.5.4 step 6)
    const plainReq = alice.signalling.messageRequest({ via: alice.via(), to: BOB, bodies: bodiesOf(ALICE), extraParts: [earPart(aliceEar())] });
    await expectRefused(plainReq, 403, 'ERR_FORBIDDEN', 'ear.payload.request.requestType');
  });

  /** A MESSAGE from Dan of the partner domain, bodies under the partner SPK, with these EARs. */
  const fromPartner = (ears: readonly Uint8Array[]): SipRequest => {
    const parts = protectSipXmlBodies(bodiesOf(DAN), { key: { xpk: new Uint8Array(16).fill(0x5a), xpkId: 0x3a1b_2c3d, purpose: 'SPK', mcServiceUserId: DAN } });
    const body = multipartBody([...parts, ...ears.map(earPart)], 'mcsec-partner');
    return createSipRequest({ method: 'MESSAGE', uri: ALICE, from: { uri: DAN }, to: { uri: ALICE }, via: { transport: 'TCP', host: '127.0.0.1', port: 5999 }, body });
  };
  const partnerEar = (signer: EarSigner, o: { at?: Date; target?: string } = {}): Uint8Array =>
    createEar({ dateTime: o.at ?? new Date(), sourceRole: EarRole.SERVER, sourceId: signer.uri, targetRole: EarRole.SERVER, targetId: o.target ?? MDSI, request: { requestType: EarRequestType.INTERWORKING } }, signer);

  test('across domains: bodies under the partner SPK with the partner server\'s EAR are accepted (link partner)', { timeout: 60_000 }, async () => {
    const res = await answer(fromPartner([partnerEar(partner)]));
    assert.equal(res.status, 200, warning(res));
    const got = delivered.at(-1);
    assert.equal(got?.link, 'partner');
    assert.equal(got?.userUri, DAN);
    assert.deepEqual(got?.ears?.required, ['cross-domain']);
    assert.match(got?.bodies[0]?.xml ?? '', new RegExp(esc(TOKEN)));
  });

  test('across domains: no EAR 403 ERR_UNAUTHORIZED; a server without an MCX role 403 ERR_FORBIDDEN; expired 403 ERR_EXPIRED; mis-addressed 403 ERR_FORBIDDEN', { timeout: 60_000 }, async () => {
    await expectRefused(fromPartner([]), 403, 'ERR_UNAUTHORIZED', 'sip.body');
    await expectRefused(fromPartner([partnerEar(partnerPlain)]), 403, 'ERR_FORBIDDEN', 'ear.payload.sourceId.mc-role-server');
    await expectRefused(fromPartner([partnerEar(partner, { at: new Date(Date.now() - 3_600_000) })]), 403, 'ERR_EXPIRED', 'ear.payload.dateTime');
    await expectRefused(fromPartner([partnerEar(partner, { target: 'sip:mcx-server@elsewhere.test' })]), 403, 'ERR_FORBIDDEN', 'ear.payload.targetId');
    // a partner's bodies under a user's CSK are not taken: the partner link accepts SPKs only
    const csk = alice.keys.csk;
    assert.ok(csk !== undefined);
    const parts = protectSipXmlBodies(bodiesOf(DAN), { key: { xpk: csk.key, xpkId: csk.keyId, purpose: 'CSK', mcServiceUserId: DAN } });
    const req = createSipRequest({ method: 'MESSAGE', uri: ALICE, from: { uri: DAN }, to: { uri: ALICE }, via: { transport: 'TCP', host: '127.0.0.1', port: 5999 }, body: multipartBody([...parts, earPart(partnerEar(partner))], 'mcsec-partner') });
    await expectRefused(req, 488, 'ERR_UNKNOWN_KEY');
  });

  test('across domains with implicit cross-system authentication (CR 11.1.1): no EAR needed, an attached one still verified', { timeout: 60_000 }, async () => {
    const implicit = new McxMessaging({ service, ears: { trustedKms: (u) => world.serverKeys.trustedKms(u), replayCache: new MemoryReplayCache(), crossDomain: 'implicit' } });
    const o = await implicit.handleRequest(fromPartner([]));
    assert.deepEqual([o.link, o.ears?.required, o.ears?.ears.length], ['partner', [], 0]);
    await assert.rejects(implicit.handleRequest(fromPartner([partnerEar(partner, { at: new Date(Date.now() - 3_600_000) })])), { code: 'ERR_EXPIRED', field: 'ear.payload.dateTime' });
  });
});
