// The IdMS over real HTTPS (TS 33.180 §5.1.2, Annex B), driven by openid-client (an independent
// OpenID Connect client): discovery with PKCE S256, the JWKS, code + PKCE with the login form
// filled in, the ID token and JWT access token claims of B.2, refresh (B.5), the scope policy, and
// the refusals: wrong password, wrong or missing PKCE verifier, expired token, wrong audience,
// unknown resource, disabled user, no dynamic registration. No token or password in any log line,
// and none in the store.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { sql } from 'kysely';
import { completeLoginForm } from '../../src/client/idm/index.js';
import { AccessTokenVerifier, authoriseKeyManagement } from '../../src/functions/authz/index.js';
import { MCX_SCOPES, addUser } from '../../src/functions/idms/index.js';
import { McsecError } from '../../src/errors/index.js';
import { httpsFetch } from '../../src/transport/http/https-fetch.js';
import { ALICE, CLIENT_ID, REDIRECT, TEST_SCRYPT, provisionAlice, startTestIdms, type TestIdms } from '../helpers/idms.js';

const KMS = 'https://kms.example.org';
const MCPTT = 'https://mcptt.example.org';

const code = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof McsecError) return e.code;
    if (e instanceof oidc.ResponseBodyError || e instanceof oidc.AuthorizationResponseError) return e.error;
    throw e;
  }
  return 'no error';
};

describe('IdMS: code + PKCE, refresh, tokens (openid-client)', () => {
  let t: TestIdms;
  let config: oidc.Configuration;
  let fetch: ReturnType<typeof httpsFetch>;
  const secrets: string[] = [ALICE.password];

  before(async () => {
    t = await startTestIdms({
      config: {
        resources: [{ uri: KMS, scopes: ['3gpp:mc:ptt_key_management_service', '3gpp:mc:video_key_management_service'] }, { uri: MCPTT }],
        ttl: { accessToken: 600 },
        clockToleranceSec: 20,
      },
    });
    await provisionAlice(t.store);
    fetch = httpsFetch({ caPem: t.caPem });
    config = await oidc.discovery(new URL(t.idms.issuer), CLIENT_ID, undefined, oidc.None(), { [oidc.customFetch]: fetch });
  });
  after(async () => {
    for (const s of secrets) for (const line of t.lines) assert.ok(!line.includes(s), 'no token or password in the logs');
    await t.close();
  });

  /** One authorization code flow as a native client; returns the token response. */
  async function login(o: { scope: string; resource?: string; password?: string; verifier?: string; username?: string } = { scope: 'openid' }) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: o.scope,
      state,
      acr_values: '3gpp:acr:password',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...(o.resource === undefined ? {} : { resource: o.resource }),
    });
    const callback = await completeLoginForm(fetch, { authorizationUrl: url, redirectUri: REDIRECT, username: o.username ?? ALICE.username, password: o.password ?? ALICE.password });
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: o.verifier ?? verifier, expectedState: state });
    secrets.push(tokens.access_token, ...(tokens.refresh_token === undefined ? [] : [tokens.refresh_token]));
    return tokens;
  }

  test('discovery (B.4.2.2): S256 only, every MCX scope, password ACR, code only, no registration endpoint', () => {
    const m = config.serverMetadata();
    assert.equal(m.issuer, t.idms.issuer);
    assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
    for (const s of ['openid', ...MCX_SCOPES]) assert.ok(m.scopes_supported?.includes(s), s);
    assert.equal(MCX_SCOPES.length, 15, 'B.4.2.2 lists 15 scopes');
    assert.deepEqual(m.acr_values_supported, ['3gpp:acr:password']);
    assert.deepEqual(m.response_types_supported, ['code']);
    assert.deepEqual(m.id_token_signing_alg_values_supported, ['ES256']);
    for (const g of ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:token-exchange', 'urn:ietf:params:oauth:grant-type:jwt-bearer']) {
      assert.ok(m.grant_types_supported?.includes(g), g);
    }
    assert.equal(m.registration_endpoint, undefined, 'B.3 NOTE: dynamic registration disabled');
    assert.equal(m.userinfo_endpoint, undefined);
  });

  test('JWKS: the ES256 public key only; registration endpoint absent', async () => {
    const jwks: unknown = await (await fetch(`${t.idms.issuer}/jwks`)).json();
    const keys = Reflect.get(jwks as object, 'keys') as Record<string, unknown>[];
    assert.equal(keys.length, 1);
    assert.equal(keys[0]?.['kty'], 'EC');
    assert.equal(keys[0]?.['crv'], 'P-256');
    assert.equal(keys[0]?.['d'], undefined, 'no private part');
    const reg = await fetch(`${t.idms.issuer}/reg`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT] }) });
    assert.equal(reg.status, 404);
  });

  test('B.4.2: code + PKCE; ID token (B.2.1) and JWT access token (B.2.2) claims; the KMS verifier accepts it', async () => {
    const tokens = await login({ scope: 'openid 3gpp:mc:ptt_service 3gpp:mc:ptt_key_management_service', resource: KMS });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(typeof tokens.expires_in, 'number');
    assert.ok(tokens.refresh_token !== undefined, 'B.4.2.3: a refresh token too');
    const id = tokens.claims();
    assert.ok(id !== undefined);
    assert.equal(id.iss, t.idms.issuer);
    assert.equal(id.aud, CLIENT_ID, 'B.2.1.2: aud is the client_id');
    assert.equal(typeof id.exp, 'number');
    assert.equal(typeof id.iat, 'number');
    assert.match(id.sub, /^[0-9a-f-]{36}$/);
    assert.equal(id['mcptt_id'], ALICE.mcptt, 'B.2.1.3');
    assert.equal(id['acr'], '3gpp:acr:password');
    assert.equal(decodeProtectedHeader(tokens.access_token).typ, 'at+jwt');
    const at = decodeJwt(tokens.access_token);
    assert.equal(at.aud, KMS, 'the access token is for the requested resource');
    assert.equal(at['scope'], '3gpp:mc:ptt_key_management_service', 'the scopes the resource serves');
    assert.equal(at['client_id'], CLIENT_ID);
    assert.equal(at['mcptt_id'], ALICE.mcptt);
    assert.equal((at.exp ?? 0) - (at.iat ?? 0), 600, 'ttl.accessToken');
    const verifier = new AccessTokenVerifier({ issuer: t.idms.issuer, audience: KMS, jwks: { url: `${t.idms.issuer}/jwks`, caPem: t.caPem } });
    const claims = await verifier.verify(tokens.access_token);
    assert.equal(claims.mcServiceIds.mcptt_id, ALICE.mcptt);
    authoriseKeyManagement(claims, ALICE.mcptt);
  });

  test('B.5: refresh gives a new access token; the rotated refresh token is refused afterwards', async () => {
    const first = await login({ scope: 'openid 3gpp:mc:ptt_service', resource: MCPTT });
    const refreshed = await oidc.refreshTokenGrant(config, first.refresh_token ?? '');
    secrets.push(refreshed.access_token, refreshed.refresh_token ?? '');
    assert.notEqual(refreshed.access_token, first.access_token);
    assert.equal(decodeJwt(refreshed.access_token).aud, MCPTT);
    assert.equal(decodeJwt(refreshed.access_token)['mcptt_id'], ALICE.mcptt);
    assert.equal(await code(oidc.refreshTokenGrant(config, first.refresh_token ?? '')), 'invalid_grant');
  });

  test('scope policy (§5.1.2.1): scopes without the MC service ID are not granted, nor their claims', async () => {
    const tokens = await login({ scope: 'openid 3gpp:mc:ptt_service 3gpp:mc:video_service 3gpp:mc:recording_admin_service', resource: MCPTT });
    const at = decodeJwt(tokens.access_token);
    assert.equal(at['scope'], '3gpp:mc:ptt_service');
    assert.equal(at['mcvideo_id'], undefined);
    assert.equal(tokens.claims()?.['mcrec_id'], undefined);
  });

  test('refused: wrong password (no code), wrong PKCE verifier, missing or plain code_challenge', async () => {
    assert.equal(await code(login({ scope: 'openid', password: 'wrong password' })), 'ERR_UNAUTHORIZED');
    assert.equal(await code(login({ scope: 'openid', username: 'mallory' })), 'ERR_UNAUTHORIZED');
    assert.equal(await code(login({ scope: 'openid', verifier: oidc.randomPKCECodeVerifier() })), 'invalid_grant');
    const noPkce = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', state: 'abc' });
    const r1 = await fetch(noPkce);
    assert.equal(r1.status, 303);
    assert.match(r1.headers.get('location') ?? '', /error=invalid_request/, 'B.4.2.2: the IdMS rejects a request without code_challenge');
    const plain = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', state: 'abc', code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' });
    assert.match((await fetch(plain)).headers.get('location') ?? '', /error=invalid_request/);
    assert.ok(t.lines.some((l) => l.includes('"op":"login"') && l.includes('ERR_UNAUTHORIZED')));
  });

  test('refused: a reused authorization code (invalid_grant), and an oversized token request', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid', state, acr_values: '3gpp:acr:password',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const callback = await completeLoginForm(fetch, { authorizationUrl: url, redirectUri: REDIRECT, username: ALICE.username, password: ALICE.password });
    const first = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    secrets.push(first.access_token, ...(first.refresh_token === undefined ? [] : [first.refresh_token]));
    assert.equal(await code(oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state })), 'invalid_grant', 'RFC 6749 §4.1.2: a code is used once');
    const tokenEndpoint = config.serverMetadata().token_endpoint ?? '';
    const huge = await fetch(tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=authorization_code&client_id=${CLIENT_ID}&code=${'x'.repeat(2 * 1024 * 1024)}`,
    });
    assert.ok(huge.status === 413 || huge.status === 400, `oversized token request answered ${huge.status}`);
  });

  test('refused: expired token (beyond the clock skew) and a foreign audience, at the resource server', async () => {
    const tokens = await login({ scope: 'openid 3gpp:mc:ptt_key_management_service', resource: KMS });
    const exp = decodeJwt(tokens.access_token).exp ?? 0;
    const at = (s: number, audience = KMS) =>
      new AccessTokenVerifier({ issuer: t.idms.issuer, audience, jwks: { url: `${t.idms.issuer}/jwks`, caPem: t.caPem }, clockToleranceSec: 20, now: () => new Date(s * 1000) });
    assert.equal((await at(exp + 10).verify(tokens.access_token)).subject, tokens.claims()?.sub, 'within the skew');
    assert.equal(await code(at(exp + 21).verify(tokens.access_token)), 'ERR_UNAUTHORIZED', 'B.11: expired');
    assert.equal(await code(at(exp - 60, MCPTT).verify(tokens.access_token)), 'ERR_UNAUTHORIZED', 'another audience');
    assert.equal(await code(at(exp - 60).verify(`${tokens.access_token.slice(0, -4)}AAAA`)), 'ERR_UNAUTHORIZED', 'tampered');
  });

  test('refused: an unknown resource (invalid_target), an unknown client, a disabled user at refresh (B.5.2)', async () => {
    const other = await oidc.discovery(new URL(t.idms.issuer), 'no-such-client', undefined, oidc.None(), { [oidc.customFetch]: fetch });
    const url = oidc.buildAuthorizationUrl(other, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' });
    const page = await fetch(url);
    assert.equal(page.status, 400, 'no redirect for an unknown client');
    assert.match(await page.text(), /invalid_client/);
    assert.equal(await code(login({ scope: 'openid', resource: 'https://nowhere.example.org' })), 'invalid_target', 'RFC 8707: no code for an unknown resource');
    const tokens = await login({ scope: 'openid 3gpp:mc:ptt_service', resource: MCPTT });
    await addUser(t.store, { username: ALICE.username, password: ALICE.password, mcServiceIds: { mcptt_id: ALICE.mcptt }, disabled: true, replace: true, scrypt: TEST_SCRYPT });
    assert.equal(await code(oidc.refreshTokenGrant(config, tokens.refresh_token ?? '')), 'invalid_grant');
    assert.equal(await code(login({ scope: 'openid' })), 'ERR_UNAUTHORIZED', 'a disabled user cannot log in');
    await addUser(t.store, { username: ALICE.username, password: ALICE.password, mcServiceIds: { mcptt_id: ALICE.mcptt }, replace: true, scrypt: TEST_SCRYPT });
  });

  test('at rest: no code, refresh token or claim in the clear in the store', async () => {
    const tokens = await login({ scope: 'openid 3gpp:mc:ptt_service', resource: MCPTT });
    const rows = await sql<Record<string, unknown>>`select * from idms_oidc`.execute(t.database.db);
    const raw = JSON.stringify(rows.rows);
    assert.ok(rows.rows.length > 0);
    assert.ok(!raw.includes(tokens.refresh_token ?? 'x'));
    assert.ok(!raw.includes(ALICE.mcptt));
    assert.ok(!raw.includes(tokens.claims()?.sub ?? 'x'));
  });
});
