// MCX user service authorisation at the MCX server (TS 33.180 §5.1.3, §5.1.3.2.2 steps 9-11,
// §5.1.3.2.3): the access token travels in the mcptt-info body of a REGISTER or PUBLISH,
// encrypted under the CSK uploaded with it (§9.2.1.3 step 2, §9.3.2); the server decrypts it,
// checks it with the one resource-server module (functions/authz: signature against the IdMS
// JWKS, issuer, audience, expiry) and binds the IMPU to the MC service ID only when the token's
// mcptt_id is that ID and it holds 3gpp:mc:ptt_service (Annex B.4.2.2). A bad token refuses the
// whole request: nothing stored, the CSK upload not claimed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { McsecError } from '../../src/errors/index.js';
import { MemoryReplayCache } from '../../src/formats/mikey/index.js';
import { ContentType, createSipResponse, headerValue, type SipRequest } from '../../src/formats/sip/index.js';
import { MCPTT_INFO_POLICY, accessTokensOf } from '../../src/formats/xmlenc/index.js';
import { AccessTokenVerifier } from '../../src/functions/authz/index.js';
import { McxServerService, answerMcxRequest, mcxServerConfig, serveMcxSip, type AccessTokenMode, type McxLogEntry } from '../../src/functions/mcx-server/index.js';
import { McxClientKeys } from '../../src/client/mcx-client-keys.js';
import type { McxUserKeys } from '../../src/client/mcx-user-keys.js';
import { listenSip } from '../../src/transport/sip/index.js';
import { verifierOf } from '../../src/cli/token-options.js';
import { MDSI, mcxWorld, type McxWorld } from '../helpers/mcx.js';

const ISSUER = 'https://idms.mcx.test';
const AUDIENCE = 'mcptt-server.mcx.test';
const ERIN = 'sip:erin@mcx.test';
const FRED = 'sip:fred@mcx.test';
const PTT = '3gpp:mc:ptt_service';

let world: McxWorld;
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let signKey: PrivateKey;
let otherKey: PrivateKey;
let verifier: AccessTokenVerifier;
const users = new Map<string, McxUserKeys>();

before(async () => {
  world = await mcxWorld();
  const pair = await generateKeyPair('ES256', { extractable: true });
  signKey = pair.privateKey;
  otherKey = (await generateKeyPair('ES256')).privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'idms-1', alg: 'ES256', use: 'sig' };
  verifier = new AccessTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: { keys: [jwk] } } });
  for (const u of [ERIN, FRED]) users.set(u, await world.userKeysOf(u));
});

after(async () => {
  await world.close();
});

const keysOf = (u: string): McxUserKeys => {
  const k = users.get(u);
  assert.ok(k !== undefined);
  return k;
};

interface TokenInput {
  readonly mcpttId?: string;
  readonly scope?: string;
  readonly issuer?: string;
  readonly audience?: string;
  readonly expiresAt?: number;
  readonly key?: PrivateKey;
}

/** An access token as the IdMS issues it (B.2.2): ES256, kid of the JWKS, the MCX claims. */
async function token(t: TokenInput = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ mcptt_id: t.mcpttId ?? ERIN, scope: t.scope ?? `openid ${PTT}`, client_id: 'mcptt-client' })
    .setProtectedHeader({ alg: 'ES256', kid: 'idms-1' })
    .setIssuer(t.issuer ?? ISSUER)
    .setAudience(t.audience ?? AUDIENCE)
    .setSubject('erin')
    .setIssuedAt(now - 5)
    .setExpirationTime(t.expiresAt ?? now + 300)
    .sign(t.key ?? signKey);
}

const info = (tok: string): string => `<?xml version="1.0" encoding="UTF-8"?>
<mcpttinfo xmlns="urn:3gpp:ns:mcpttInfo:1.0"><mcptt-Params><mcptt-access-token><mcpttString>${tok}</mcpttString></mcptt-access-token><mcptt-request-uri type="Normal"><mcpttURI>${ERIN}</mcpttURI></mcptt-request-uri></mcptt-Params></mcpttinfo>`;

const source = { transport: 'tcp' as const, address: '127.0.0.1', port: 5998 };
const from = { transport: 'tcp' as const, remote: { address: '127.0.0.1', port: 5998 } };
const via = { transport: 'tcp', host: '127.0.0.1', port: 5998 };

function serviceWith(mode: AccessTokenMode | undefined): McxServerService {
  return new McxServerService({
    config: mcxServerConfig({ mdsi: MDSI }),
    keys: world.serverKeys,
    store: world.mcxStore,
    replayCache: new MemoryReplayCache(),
    ...(mode === undefined ? {} : { accessTokens: { verifier, mode } }),
  });
}

/** A REGISTER from `user` with a CSK upload and, when `tok` is given, the token encrypted under that CSK. */
function register(user: string, tok: string | undefined, instance: string, keys = new McxClientKeys({ user: keysOf(user), server: { mdsi: MDSI } })): { req: SipRequest; keys: McxClientKeys; cskId: number } {
  const upload = keys.createCskUpload();
  const req = keys.registerRequest(
    {
      via,
      contact: `sip:${user.slice(4, user.indexOf('@'))}@127.0.0.1:5998;transport=tcp`,
      instance,
      ...(tok === undefined ? {} : { xmlParts: [{ contentType: ContentType.MCPTT_INFO, xml: info(tok), policy: MCPTT_INFO_POLICY }] }),
    },
    upload,
  );
  return { req, keys, cskId: upload.cskId };
}

const refusedWith = (code: string, field?: RegExp) => (e: unknown): boolean =>
  e instanceof McsecError && e.code === code && (field === undefined || field.test(e.field));

describe('access tokens in REGISTER / PUBLISH (TS 33.180 §5.1.3.2)', () => {
  test('a valid token, encrypted under the uploaded CSK: the MCPTT service is authorised for the MC service ID, the CSK stored', { timeout: 60_000 }, async () => {
    const svc = serviceWith('optional');
    const tok = await token();
    const { req, cskId } = register(ERIN, tok, '<urn:uuid:tok-1>');
    assert.ok(!new TextDecoder().decode(req.body).includes(tok), 'the token is not on the wire in the clear (§9.3.2)');
    const o = await svc.handleRegistration(req, source);
    assert.equal(o.cskId, cskId);
    assert.equal(o.authorisations.length, 1);
    assert.equal(o.authorisations[0]?.service, 'mcptt');
    assert.equal(o.authorisations[0]?.mcServiceId, ERIN);
    assert.ok((o.authorisations[0]?.expiresAt ?? 0) > Date.now());
    assert.ok((await world.mcxStore.getCsk(cskId)) !== undefined);
  });

  test('over a real SIP socket: 200, the log names the authorised service and never the token', { timeout: 60_000 }, async () => {
    const logs: McxLogEntry[] = [];
    const svc = serviceWith('optional');
    const server = await listenSip({ tcp: {} });
    const stop = serveMcxSip(server, svc, { log: (e) => logs.push(e) });
    const client = await listenSip({ tcp: {} });
    try {
      const tok = await token();
      const { req } = register(ERIN, tok, '<urn:uuid:tok-2>');
      const res = await client.request(req, { transport: 'tcp', host: '127.0.0.1', port: server.address('tcp')?.port ?? 0 });
      assert.equal(res.status, 200);
      const entry = logs.find((l) => l.op === 'csk-upload');
      assert.equal(entry?.authorised, 'mcptt');
      assert.ok(!JSON.stringify(logs).includes(tok.split('.')[2] ?? tok));
    } finally {
      stop();
      await client.close();
      await server.close();
    }
  });

  test("a token of another user (mcptt_id is not the REGISTER's MC service ID): 403 ERR_FORBIDDEN, nothing stored, the upload not claimed", { timeout: 60_000 }, async () => {
    const svc = serviceWith('optional');
    const keys = new McxClientKeys({ user: keysOf(ERIN), server: { mdsi: MDSI } });
    const upload = keys.createCskUpload();
    const mk = (tok: string): SipRequest =>
      keys.registerRequest({ via, contact: 'sip:erin@127.0.0.1:5998;transport=tcp', instance: '<urn:uuid:tok-3>', xmlParts: [{ contentType: ContentType.MCPTT_INFO, xml: info(tok), policy: MCPTT_INFO_POLICY }] }, upload);
    const bad = mk(await token({ mcpttId: FRED }));
    await assert.rejects(svc.handleRegistration(bad, source), refusedWith('ERR_FORBIDDEN', /mcptt-access-token$/));
    const wire = await answerMcxRequest(svc, bad, from);
    assert.equal(wire?.status, 403);
    assert.match(headerValue(wire ?? createSipResponse(bad, 500), 'Warning') ?? '', /ERR_FORBIDDEN/);
    assert.equal(await world.mcxStore.getCsk(upload.cskId), undefined);
    assert.equal((await world.mcxStore.listRegistrations(ERIN, 0)).some((r) => r.clientId === '<urn:uuid:tok-3>' || r.clientId === 'urn:uuid:tok-3'), false);
    // the same upload with the right token is then accepted: the refusal claimed nothing
    const good = await svc.handleRegistration(mk(await token()), source);
    assert.equal(good.cskId, upload.cskId);
  });

  test('a token without the MCPTT service scope (only key management): 403 ERR_FORBIDDEN', { timeout: 60_000 }, async () => {
    const svc = serviceWith('optional');
    const { req, cskId } = register(ERIN, await token({ scope: 'openid 3gpp:mc:ptt_key_management_service' }), '<urn:uuid:tok-4>');
    await assert.rejects(svc.handleRegistration(req, source), refusedWith('ERR_FORBIDDEN'));
    assert.equal(await world.mcxStore.getCsk(cskId), undefined);
  });

  test('expired, foreign-issuer, wrong-audience and wrongly signed tokens: 403 ERR_UNAUTHORIZED, nothing stored', { timeout: 120_000 }, async () => {
    const svc = serviceWith('optional');
    const cases: [string, TokenInput][] = [
      ['expired', { expiresAt: Math.floor(Date.now() / 1000) - 3600 }],
      ['foreign issuer', { issuer: 'https://idms.other.test' }],
      ['wrong audience', { audience: 'kms.mcx.test' }],
      ['signed by another key', { key: otherKey }],
    ];
    for (const [name, input] of cases) {
      const { req, cskId } = register(ERIN, await token(input), `<urn:uuid:tok-5-${name.replace(/ /g, '-')}>`);
      await assert.rejects(svc.handleRegistration(req, source), refusedWith('ERR_UNAUTHORIZED', /mcptt-access-token$/), name);
      const wire = await answerMcxRequest(svc, req, from);
      assert.equal(wire?.status, 403, name);
      assert.equal(await world.mcxStore.getCsk(cskId), undefined, name);
    }
    // a token whose payload was altered after signing
    const tok = await token();
    const [h, , s] = tok.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ mcptt_id: ERIN, scope: PTT, iss: ISSUER, aud: AUDIENCE, exp: 4_000_000_000 })).toString('base64url')}.${s}`;
    const { req } = register(ERIN, forged, '<urn:uuid:tok-5-forged>');
    await assert.rejects(svc.handleRegistration(req, source), refusedWith('ERR_UNAUTHORIZED'));
  });

  test('a valid token sent in the clear (not encrypted under the CSK, §9.3.2): 403 ERR_FORBIDDEN, nothing stored, in both modes', { timeout: 60_000 }, async () => {
    for (const mode of ['optional', 'required'] as const) {
      const svc = serviceWith(mode);
      const keys = new McxClientKeys({ user: keysOf(ERIN), server: { mdsi: MDSI } });
      const upload = keys.createCskUpload();
      const plain = keys.registerRequest(
        { via, contact: 'sip:erin@127.0.0.1:5998;transport=tcp', instance: `<urn:uuid:tok-clear-${mode}>`, extraParts: [{ headers: [{ name: 'Content-Type', value: ContentType.MCPTT_INFO }], body: new TextEncoder().encode(info(await token())) }] },
        upload,
      );
      await assert.rejects(svc.handleRegistration(plain, source), refusedWith('ERR_FORBIDDEN', /mcptt-access-token$/), mode);
      assert.equal((await answerMcxRequest(svc, plain, from))?.status, 403, mode);
      assert.equal(await world.mcxStore.getCsk(upload.cskId), undefined, mode);
    }
  });

  test("a value that is no compact JWS: 400 ERR_BAD_VALUE naming the element", { timeout: 60_000 }, async () => {
    const svc = serviceWith('optional');
    const { req } = register(ERIN, 'not-a-token', '<urn:uuid:tok-6>');
    await assert.rejects(svc.handleRegistration(req, source), refusedWith('ERR_BAD_VALUE', /mcptt-access-token$/));
    assert.equal((await answerMcxRequest(svc, req, from))?.status, 400);
  });

  test('optional mode: a REGISTER without a token registers (§5.1.3.2.1: not delayed), with no authorisation', { timeout: 60_000 }, async () => {
    const svc = serviceWith('optional');
    const { req, cskId } = register(FRED, undefined, '<urn:uuid:tok-7>');
    const o = await svc.handleRegistration(req, source);
    assert.equal(o.cskId, cskId);
    assert.deepEqual(o.authorisations, []);
  });

  test('required mode: without a token 403 ERR_UNAUTHORIZED and nothing stored; with one 200', { timeout: 60_000 }, async () => {
    const svc = serviceWith('required');
    const { req, cskId } = register(FRED, undefined, '<urn:uuid:tok-8>');
    await assert.rejects(svc.handleRegistration(req, source), refusedWith('ERR_UNAUTHORIZED', /^sip\.body$/));
    assert.equal((await answerMcxRequest(svc, req, from))?.status, 403);
    assert.equal(await world.mcxStore.getCsk(cskId), undefined);
    const ok = register(FRED, await token({ mcpttId: FRED }), '<urn:uuid:tok-8>');
    const o = await svc.handleRegistration(ok.req, source);
    assert.equal(o.authorisations[0]?.mcServiceId, FRED);
  });

  test('a PUBLISH carries the token too (§5.1.3.2.3)', { timeout: 60_000 }, async () => {
    const svc = serviceWith('required');
    const { req } = register(ERIN, await token(), '<urn:uuid:tok-9>');
    const publish: SipRequest = { ...req, method: 'PUBLISH', headers: req.headers.map((h) => (h.name === 'CSeq' ? { name: 'CSeq', value: '1 PUBLISH' } : h)) };
    const o = await svc.handleRegistration(publish, source);
    assert.equal(o.authorisations[0]?.service, 'mcptt');
  });

  test('without a verifier the server authorises nothing, whatever the body says', { timeout: 60_000 }, async () => {
    const svc = serviceWith(undefined);
    const { req } = register(ERIN, await token(), '<urn:uuid:tok-10>');
    assert.deepEqual((await svc.handleRegistration(req, source)).authorisations, []);
  });
});

describe('accessTokensOf (formats/xmlenc/access-token.ts)', () => {
  test('reads mcptt, mcvideo and mcdata tokens, bare text or in the …String child; refuses two of one service', () => {
    const t = 'eyJhbGciOiJFUzI1NiJ9.eyJhIjoxfQ.c2ln';
    const both = `<r><mcpttinfo xmlns="urn:3gpp:ns:mcpttInfo:1.0"><mcptt-Params><mcptt-access-token> ${t} </mcptt-access-token></mcptt-Params></mcpttinfo><mcvideoinfo xmlns="urn:3gpp:ns:mcvideoInfo:1.0"><mcvideo-access-token><mcvideoString>${t}</mcvideoString></mcvideo-access-token></mcvideoinfo></r>`;
    assert.deepEqual(
      accessTokensOf(both).map((x) => [x.service, x.token]),
      [
        ['mcptt', t],
        ['mcvideo', t],
      ],
    );
    const two = `<mcpttinfo xmlns="urn:3gpp:ns:mcpttInfo:1.0"><mcptt-access-token>${t}</mcptt-access-token><mcptt-access-token>${t}</mcptt-access-token></mcpttinfo>`;
    assert.throws(() => accessTokensOf(two), refusedWith('ERR_BAD_VALUE'));
    // the element in another namespace is not the MCPTT one
    assert.deepEqual(accessTokensOf(`<mcpttinfo xmlns="urn:example"><mcptt-access-token>${t}</mcptt-access-token></mcpttinfo>`), []);
    assert.throws(() => accessTokensOf(`<mcpttinfo xmlns="urn:3gpp:ns:mcpttInfo:1.0"><mcptt-access-token><x/></mcptt-access-token></mcpttinfo>`), refusedWith('ERR_BAD_VALUE'));
    assert.throws(() => accessTokensOf(`<mcpttinfo xmlns="urn:3gpp:ns:mcpttInfo:1.0"><mcptt-access-token>a.${'b'.repeat(17_000)}.c</mcptt-access-token></mcpttinfo>`), refusedWith('ERR_TOO_LARGE'));
  });

  test('total on any input: tokens or a FormatError, never another exception', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.constantFrom('<mcpttinfo xmlns="urn:3gpp:ns:mcpttInfo:1.0"><mcptt-access-token>'), fc.string().map((s) => `<mcpttinfo xmlns="urn:3gpp:ns:mcpttInfo:1.0"><mcptt-access-token>${s}</mcptt-access-token></mcpttinfo>`)), (s) => {
        try {
          const r = accessTokensOf(s);
          for (const x of r) assert.match(x.token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
        } catch (e) {
          assert.ok(e instanceof McsecError, String(e));
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('mcx serve token options (cli/token-options.ts)', () => {
  test('--issuer needs --jwks and the reverse; none gives no verifier', () => {
    assert.equal(verifierOf({}), undefined);
    assert.throws(() => verifierOf({ issuer: ISSUER }), refusedWith('ERR_USAGE', /^--jwks$/));
    assert.throws(() => verifierOf({ jwks: 'jwks.json' }), refusedWith('ERR_USAGE', /^--issuer$/));
  });
});
