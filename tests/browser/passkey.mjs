// A passkey in a real browser, run by tests/it/mfa/passkey_browser.rs (which starts the provider under
// http://localhost:<port>, hands over an authorization URL of `mot-cua`, the demo app that requires two
// factors, and afterwards exchanges the code and checks `amr`). Debian's chromium, driven by playwright-core,
// with a CDP virtual authenticator (WebAuthn.addVirtualAuthenticator): huongtt adds a passkey on /tai-khoan,
// signs out everywhere, signs in to mot-cua with her password and proves the second factor with the passkey.
// Exits non-zero at the first failed step, naming it.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { env, inChromium, step } from './chromium.mjs';

const ISSUER = env('ISSUER');
const AUTH_URL = env('AUTH_URL');
const CALLBACK = env('CALLBACK');
const ARTIFACTS = env('ARTIFACTS');
const PASSWORD = 'Danang@2026';
const PASSKEY_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'";

await inChromium('passkey', {
  locale: 'vi-VN',
  viewport: { width: 1000, height: 800 },
}, async (page, context) => {
  const problems = [];
  // Script errors on our pages (the browser's own favicon request and the app's absent callback aside).
  page.on('console', (m) => {
    const from = m.location().url ?? '';
    if (m.type() === 'error' && !from.endsWith('/favicon.ico') && !from.startsWith(CALLBACK)) {
      problems.push(`${m.text()} (${from})`);
    }
  });
  page.on('pageerror', (e) => problems.push(String(e)));

  step('a virtual authenticator (CTAP2, internal, resident keys, user verification) is attached');
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  step('huongtt signs in to her account page with the password');
  await page.goto(`${ISSUER}/tai-khoan`);
  await page.fill('#username', 'huongtt');
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL(`${ISSUER}/tai-khoan`), page.press('#password', 'Enter')]);
  const plain = await page.request.get(`${ISSUER}/tai-khoan`);
  const plainCsp = plain.headers()['content-security-policy'];
  assert.ok(plainCsp && !plainCsp.includes('script-src'), `the account page runs no script: ${plainCsp}`);

  step('she adds a passkey: the page runs exactly our script and nothing else');
  const [response] = await Promise.all([page.waitForResponse(/\/tai-khoan\/passkey$/), page.click('#enrol-passkey')]);
  assert.equal(response.headers()['content-security-policy'], PASSKEY_CSP);
  assert.equal(await page.locator('script').count(), 1);
  assert.equal(await page.locator('script').getAttribute('src'), '/static/passkey.js');
  await page.waitForSelector('#create-passkey', { state: 'visible' });
  await page.fill('#passkey-name', 'Laptop ở cơ quan');
  await page.screenshot({ path: join(ARTIFACTS, 'passkey-enrol.png'), fullPage: true });
  await Promise.all([page.waitForSelector('#recovery-codes'), page.click('#create-passkey')]);
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1, 'the authenticator holds one credential');
  await Promise.all([page.waitForURL(`${ISSUER}/tai-khoan`), page.click('#continue')]);
  assert.match(await page.locator('#factors').innerText(), /Laptop ở cơ quan/);
  await page.screenshot({ path: join(ARTIFACTS, 'passkey-account.png'), fullPage: true });

  step('she signs out everywhere');
  await Promise.all([page.waitForURL(/\/tai-khoan\/dang-nhap/), page.click('#sign-out-everywhere')]);

  step('mot-cua needs two factors: after the password the second-factor page offers the passkey');
  await page.goto(AUTH_URL);
  await page.fill('#username', 'huongtt');
  await page.fill('#password', PASSWORD);
  const [second] = await Promise.all([page.waitForResponse(/\/mfa\?continue=/), page.press('#password', 'Enter')]);
  assert.equal(second.headers()['content-security-policy'], PASSKEY_CSP);
  await page.waitForSelector('#use-passkey', { state: 'visible' });
  assert.equal(await page.locator('input[name="otp"]').count(), 1, 'the code form stays');
  await page.screenshot({ path: join(ARTIFACTS, 'passkey-mfa.png'), fullPage: true });

  step('the passkey proves the second factor and the browser lands on the app with a code');
  // Nothing need listen at the app's address: the request the browser is redirected to carries the code.
  const [request] = await Promise.all([
    page.waitForRequest((r) => r.url().startsWith(CALLBACK)),
    page.click('#use-passkey'),
  ]);
  const callback = request.url();
  assert.ok(new URL(callback).searchParams.get('code'), `a code: ${callback}`);
  writeFileSync(join(ARTIFACTS, 'passkey-callback.txt'), callback);
  const after = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.ok(after.credentials[0].signCount >= 1, 'the authenticator signed');
  assert.deepEqual(problems, [], 'no script errors');
  console.log('ok');
});
