// The IdMS login page in a real browser (TS 33.180 §5.1.2.3.2 steps 3a/3b, Annex C.1): headless
// Chromium (Debian's, driven by playwright-core) opens the authentication request an MC client built
// with openid-client, gets the HTML form, is refused with a wrong password, signs in, and is sent to
// the client's loopback redirect URI (RFC 8252 §7.3, any port) with code and state; the client then
// redeems the code with its PKCE verifier. Cancel sends access_denied. The browser trusts the IdMS's
// self-signed certificate by its public key hash only (no blanket certificate bypass).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { chromium, type BrowserContext } from 'playwright-core';
import { httpsFetch } from '../../src/transport/http/https-fetch.js';
import { ALICE, CLIENT_ID, REDIRECT, provisionAlice, startTestIdms, type TestIdms } from '../helpers/idms.js';

const CHROMIUM = '/usr/bin/chromium';

describe('IdMS login page in headless Chromium', () => {
  let t: TestIdms;
  let browser: BrowserContext;
  let config: oidc.Configuration;
  let app: Server;
  let appPort = 0;
  const profile = mkdtempSync(join(tmpdir(), 'mcsec-chromium-'));

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is required (Debian package chromium; .ci/run installs it)`);
    t = await startTestIdms();
    await provisionAlice(t.store);
    config = await oidc.discovery(new URL(t.idms.issuer), CLIENT_ID, undefined, oidc.None(), { [oidc.customFetch]: httpsFetch({ caPem: t.caPem }) });
    // The native app's loopback redirect listener.
    app = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('signed in; you can close this window'));
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    const a = app.address();
    appPort = typeof a === 'object' && a !== null ? a.port : 0;
    const spki = createHash('sha256').update(new X509Certificate(t.caPem).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
    // A persistent context on a new, empty profile: playwright wants the --user-data-dir this way.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--ignore-certificate-errors-spki-list=${spki}`,
      ],
    });
  });
  after(async () => {
    await browser?.close();
    await new Promise((r) => app?.close(r));
    await t?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  async function authorization() {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `http://127.0.0.1:${appPort}/cb`,
      scope: 'openid 3gpp:mc:ptt_service 3gpp:mc:ptt_key_management_service',
      state,
      acr_values: '3gpp:acr:password',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    return { url, verifier, state };
  }

  test('§5.1.2.3.2: the HTML form, a refused password, then sign-in to the loopback redirect URI and the code redeemed', async () => {
    const { url, verifier, state } = await authorization();
    await browser.clearCookies();
    const page = await browser.newPage();
    const first = await page.goto(url.href);
    assert.ok(first !== null);
    assert.match(page.url(), /\/interaction\/[\w-]+$/);
    assert.equal(first.status(), 200);
    assert.match(first.headers()['content-security-policy'] ?? '', /default-src 'none'/);
    assert.equal(first.headers()['cache-control'], 'no-store');
    assert.equal(await page.title(), 'MC sign-in');
    assert.match(await page.textContent('body') ?? '', /mcptt-client/);

    await page.fill('#username', ALICE.username);
    await page.fill('#password', 'not the password');
    await page.click('#mcsec-login button[type=submit]');
    await page.waitForSelector('#login-error');
    assert.match(await page.textContent('#login-error') ?? '', /not correct/);
    assert.equal(await page.inputValue('#username'), ALICE.username, 'the MC ID is kept');
    assert.equal(await page.inputValue('#password'), '', 'the password is not');

    await page.fill('#password', ALICE.password);
    await Promise.all([page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/cb\?/), page.click('#mcsec-login button[type=submit]')]);
    const callback = new URL(page.url());
    assert.equal(callback.port, String(appPort));
    assert.equal(callback.searchParams.get('state'), state);
    assert.equal(callback.searchParams.get('iss'), t.idms.issuer);
    assert.match(await page.textContent('body') ?? '', /signed in/);
    await page.close();

    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    assert.equal(tokens.claims()?.['mcptt_id'], ALICE.mcptt);
    assert.equal(REDIRECT.startsWith('http://127.0.0.1/'), true, 'registered without a port');
  });

  test('Cancel sends access_denied to the client', async () => {
    const { url } = await authorization();
    await browser.clearCookies();
    const page = await browser.newPage();
    await page.goto(url.href);
    await Promise.all([page.waitForURL(/\/cb\?/), page.click('text=Cancel')]);
    assert.equal(new URL(page.url()).searchParams.get('error'), 'access_denied');
    await page.close();
  });
});
