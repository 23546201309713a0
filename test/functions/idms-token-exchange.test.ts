// Two IdMSs as two identity management domains (TS 33.180 §5.1.4, Annex B.7, B.8, C.2), driven by
// openid-client: the user logs in at the primary (A), exchanges the access token for a security
// token for the partner (B, RFC 8693), and B, trusting A's JWKS from its configuration, checks it and
// issues its own access token (RFC 7523 grant, B.7.4). Then every refusal: a partner A is not
// configured for, a wrong token type, a token that is not A's access token or not the client's,
// tampering, expiry (A's and B's clocks moved), replay, another partner's audience, another client,
// an untrusted issuer, and scopes outside B.7.4.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { completeLoginForm } from '../../src/client/idm/index.js';
import { AccessTokenVerifier } from '../../src/functions/authz/index.js';
import { addClient } from '../../src/functions/idms/index.js';
import { httpsFetch } from '../../src/transport/http/https-fetch.js';
import { ALICE, CLIENT_ID, REDIRECT, freePort, provisionAlice, startTestIdms, type TestIdms } from '../helpers/idms.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';
const GMS_B = 'https://gms.b.example.org';

const oauthError = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof oidc.ResponseBodyError) return e.error;
    throw e;
  }
  return 'no error';
};

describe('token exchange between two IdMS domains (B.7)', () => {
  let a: TestIdms;
  let b: TestIdms;
  let c: TestIdms;
  const shift = { a: 0, b: 0 };
  let A: string;
  let B: string;
  let C: string;
  let atA: oidc.Configuration;
  let atA2: oidc.Configuration;
  let atB: oidc.Configuration;
  let atB2: oidc.Configuration;
  let atC: oidc.Configuration;
  let aliceAccess: string;
  let aliceId: string;

  before(async () => {
    const [pa, pb, pc] = [await freePort(), await freePort(), await freePort()];
    [A, B, C] = [`https://127.0.0.1:${pa}`, `https://127.0.0.1:${pb}`, `https://127.0.0.1:${pc}`];
    a = await startTestIdms({ port: pa, now: () => Date.now() + shift.a, config: { partners: [{ resource: B }, { resource: C }], ttl: { securityToken: 120 } } });
    const trustA = { issuer: A, jwksUri: `${A}/jwks`, caPem: a.caPem };
    b = await startTestIdms({
      port: pb,
      now: () => Date.now() + shift.b,
      config: { resources: [{ uri: GMS_B }], trustedIdms: [{ ...trustA, scopes: ['3gpp:mc:ptt_group_management_service', '3gpp:mc:ptt_service'] }] },
    });
    c = await startTestIdms({ port: pc, config: { partners: [{ resource: B }] } });
    await provisionAlice(a.store);
    await addClient(a.store, { clientId: 'other-client', redirectUris: [REDIRECT] });
    await addClient(b.store, { clientId: CLIENT_ID, redirectUris: [REDIRECT] });
    await addClient(b.store, { clientId: 'other-client', redirectUris: [REDIRECT] });
    await provisionAlice(c.store);
    const discover = (t: TestIdms, clientId = CLIENT_ID) =>
      oidc.discovery(new URL(t.idms.issuer), clientId, undefined, oidc.None(), { [oidc.customFetch]: httpsFetch({ caPem: t.caPem }) });
    [atA, atA2, atB, atB2, atC] = [await discover(a), await discover(a, 'other-client'), await discover(b), await discover(b, 'other-client'), await discover(c)];
    const tokens = await login(atA, a);
    aliceAccess = tokens.access_token;
    aliceId = tokens.id_token ?? '';
  });
  after(async () => {
    await a.close();
    await b.close();
    await c.close();
  });

  async function login(config: oidc.Configuration, t: TestIdms) {
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid 3gpp:mc:ptt_service', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    const cb = await completeLoginForm(httpsFetch({ caPem: t.caPem }), { authorizationUrl: url, redirectUri: REDIRECT, username: ALICE.username, password: ALICE.password });
    return oidc.authorizationCodeGrant(config, cb, { pkceCodeVerifier: verifier });
  }
  const exchange = (config: oidc.Configuration, subject: string, resource: string, type = JWT) =>
    oidc.genericGrantRequest(config, TOKEN_EXCHANGE, { resource, subject_token: subject, subject_token_type: type });
  const partnerToken = (config: oidc.Configuration, assertion: string, scope = 'openid 3gpp:mc:ptt_group_management_service') =>
    oidc.genericGrantRequest(config, JWT_BEARER, { assertion, scope });

  test('B.7.2/B.7.3: the primary issues a security token for the partner (B.8 claims)', async () => {
    const r = await exchange(atA, aliceAccess, B);
    assert.equal(r['issued_token_type'], JWT);
    assert.equal(r.token_type.toLowerCase(), 'bearer');
    assert.equal(r.expires_in, 120);
    assert.equal(decodeProtectedHeader(r.access_token).typ, 'JWT');
    const st = decodeJwt(r.access_token);
    assert.equal(st.iss, A);
    assert.equal(st.sub, decodeJwt(aliceAccess).sub);
    assert.deepEqual(st.aud, [CLIENT_ID, B], 'B.8: the client_id and the partner address');
    assert.equal((st.exp ?? 0) - (st.iat ?? 0), 120);
    assert.equal(typeof st.jti, 'string');
    assert.equal(st['mcptt_id'], ALICE.mcptt);
  });

  test('B.7.4/B.7.5: the partner validates it with the primary JWKS and issues its own access token', async () => {
    const st = (await exchange(atA, aliceAccess, B)).access_token;
    const r = await partnerToken(atB, st, 'openid 3gpp:mc:ptt_group_management_service 3gpp:mc:ptt_service');
    assert.equal(r.token_type.toLowerCase(), 'bearer');
    assert.equal(typeof r.expires_in, 'number');
    const at = decodeJwt(r.access_token);
    assert.equal(at.iss, B);
    assert.equal(at.aud, GMS_B);
    assert.equal(at['scope'], '3gpp:mc:ptt_group_management_service 3gpp:mc:ptt_service');
    assert.equal(at['client_id'], CLIENT_ID);
    assert.equal(at['mcptt_id'], ALICE.mcptt, 'B.2.2.3 in the partner token');
    const gmsB = new AccessTokenVerifier({ issuer: B, audience: GMS_B, jwks: { url: `${B}/jwks`, caPem: b.caPem } });
    assert.equal((await gmsB.verify(r.access_token)).mcServiceIds.mcptt_id, ALICE.mcptt);
    await assert.rejects(gmsB.verify(aliceAccess), { code: 'ERR_UNAUTHORIZED' }, "A's own token is no token of B");
  });

  test('refused at the primary: not a partner, wrong token type, not an access token, another client, tampered, expired', async () => {
    assert.equal(await oauthError(exchange(atA, aliceAccess, 'https://idms.unknown.example.org')), 'invalid_target');
    assert.equal(await oauthError(exchange(atA, aliceAccess, B, 'urn:ietf:params:oauth:token-type:access_token')), 'invalid_request');
    assert.equal(await oauthError(exchange(atA, aliceId, B)), 'invalid_grant', 'an ID token is no subject token');
    assert.equal(await oauthError(exchange(atA2, aliceAccess, B)), 'invalid_grant', "another client's access token");
    assert.equal(await oauthError(exchange(atA, `${aliceAccess.slice(0, -4)}AAAA`, B)), 'invalid_grant');
    const cAccess = (await login(atC, c)).access_token;
    assert.equal(await oauthError(exchange(atA, cAccess, B)), 'invalid_grant', "another IdMS's access token");
    shift.a = 3 * 3600_000;
    try {
      assert.equal(await oauthError(exchange(atA, aliceAccess, B)), 'invalid_grant', 'B.11: expired');
    } finally {
      shift.a = 0;
    }
  });

  test('refused at the partner: replay, another audience, another client, untrusted issuer, expiry, B.7.4 scopes', async () => {
    const st = (await exchange(atA, aliceAccess, B)).access_token;
    assert.equal(await oauthError(partnerToken(atB2, st)), 'invalid_grant', 'presented by another client (B.8 aud)');
    assert.equal((await partnerToken(atB, st)).token_type.toLowerCase(), 'bearer');
    assert.equal(await oauthError(partnerToken(atB, st)), 'invalid_grant', 'RFC 7523 §3: used once');
    assert.equal(await oauthError(partnerToken(atB, (await exchange(atA, aliceAccess, C)).access_token)), 'invalid_grant', 'for partner C');
    const cAccess = (await login(atC, c)).access_token;
    assert.equal(await oauthError(partnerToken(atB, (await exchange(atC, cAccess, B)).access_token)), 'invalid_grant', 'C is not trusted by B');
    assert.equal(await oauthError(partnerToken(atB, aliceAccess)), 'invalid_grant', "A's access token is no security token");
    assert.equal(await oauthError(partnerToken(atB, (await exchange(atA, aliceAccess, B)).access_token, 'openid 3gpp:mc:recording_admin_service')), 'invalid_scope');
    assert.equal(await oauthError(partnerToken(atB, (await exchange(atA, aliceAccess, B)).access_token, 'openid 3gpp:mc:ptt_key_management_service')), 'invalid_scope', 'not given to A users here');
    assert.equal(await oauthError(oidc.genericGrantRequest(atB, JWT_BEARER, { assertion: 'x.y.z' })), 'invalid_request', 'B.7.4: scope is required');
    const late = (await exchange(atA, aliceAccess, B)).access_token;
    shift.b = 121_000 + 31_000;
    try {
      assert.equal(await oauthError(partnerToken(atB, late)), 'invalid_grant', 'B.11: the security token expired');
    } finally {
      shift.b = 0;
    }
    assert.equal((await partnerToken(atB, late)).token_type.toLowerCase(), 'bearer', 'the expiry check was the only refusal');
  });
});
