// The account page (/tai-khoan) in a real browser, run by tests/it/account_browser.rs (which starts the provider
// and signs dungnv in to three city apps in one session, plus once more from a phone). Takes the README's picture
// (account.png), then switches the page to English with its language link.
// Debian's chromium, driven by playwright-core; exits non-zero at the first failed step, naming it.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { env, inChromium, step } from './chromium.mjs';

const ISSUER = env('ISSUER');
const ARTIFACTS = env('ARTIFACTS');
const SESSION_COOKIE = env('SESSION_COOKIE');

await inChromium('account', {
  // An English-language Windows: the page must still be Vietnamese.
  locale: 'en-US',
  viewport: { width: 1100, height: 900 },
}, async (page, context) => {
  await context.addCookies([{ name: 'danang_sso', value: SESSION_COOKIE, url: ISSUER }]);

  step('the account page of the session, in Vietnamese for an English-language browser');
  await page.goto(`${ISSUER}/tai-khoan`);
  assert.equal(await page.locator('html').getAttribute('lang'), 'vi');
  assert.equal(await page.locator('h1').innerText(), 'Tài khoản của tôi');
  assert.equal((await page.locator('#mailbox').innerText()).trim(), 'dungnv@danang.gov.vn');

  step('the apps signed into in this session, by name');
  const apps = await page.locator('#apps').innerText();
  for (const name of ['Cổng thông tin điện tử', 'Quản lý văn bản điều hành', 'Tiếp dân trực tuyến']) {
    assert.ok(apps.includes(name), `${name} in ${apps}`);
  }

  step('both sessions are listed, this browser first');
  const rows = await page.locator('#sessions tbody tr').count();
  assert.equal(rows, 2);
  assert.match(await page.locator('#sessions tbody tr').first().innerText(), /trình duyệt này/);
  assert.match(await page.locator('#help-contact').innerText(), /admin@danang\.gov\.vn/);
  await page.screenshot({ path: join(ARTIFACTS, 'account.png'), fullPage: true });

  step('the language link switches to English and comes back to the page');
  await Promise.all([page.waitForURL(`${ISSUER}/tai-khoan`), page.click('#language-link')]);
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  assert.equal(await page.locator('h1').innerText(), 'My account');
  console.log('ok');
});
