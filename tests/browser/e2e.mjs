// The real-browser walk through the three demo city apps, run by tests/it/browser_e2e.rs (which starts the
// provider and the apps and passes their URLs in the environment). Debian's chromium, driven by playwright-core;
// exits non-zero at the first failed step, naming it.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { env, inChromium, step } from './chromium.mjs';

const ISSUER = env('ISSUER');
const PORTAL = env('PORTAL_URL');
const VANBAN = env('VANBAN_URL');
const TIEPDAN = env('TIEPDAN_URL');
const ARTIFACTS = env('ARTIFACTS');

const PERSON = 'Nguyễn Văn Dũng';
const PASSWORD = 'Danang@2026';

await inChromium('e2e', {
  locale: 'vi-VN',
  viewport: { width: 960, height: 540 },
}, async (page) => {
  const heading = () => page.locator('h1').innerText();
  const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);

  step('opening the portal leads to the sign-in page');
  await page.goto(`${PORTAL}/`);
  assert.ok(page.url().startsWith(`${ISSUER}/`), `expected the provider's page, got ${page.url()}`);
  assert.equal(await page.locator('html').getAttribute('lang'), 'vi');
  assert.equal(await heading(), 'Đăng nhập để vào Cổng thông tin điện tử');

  step('the fields have labels, and the mailbox field has the focus');
  await page.getByLabel('Hộp thư công vụ').waitFor();
  assert.equal(await page.getByLabel('Hộp thư công vụ').getAttribute('id'), 'username');
  assert.equal(await page.getByLabel('Mật khẩu').getAttribute('id'), 'password');
  assert.equal(await focused(), 'username');
  await page.screenshot({ path: join(ARTIFACTS, 'login.png') });

  step('keyboard alone: Tab goes from the mailbox to the password, then to the button');
  await page.keyboard.type('dungnv');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'password');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'BUTTON');
  assert.equal(await page.evaluate(() => document.activeElement.type), 'submit');

  step('a wrong password shows the error and keeps the typed mailbox');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.type('sai-mat-khau');
  await page.keyboard.press('Enter');
  await page.getByRole('alert').waitFor();
  assert.equal((await page.getByRole('alert').innerText()).trim(), 'Hộp thư hoặc mật khẩu không đúng.');
  assert.equal(await page.getByLabel('Hộp thư công vụ').inputValue(), 'dungnv');
  assert.equal(await focused(), 'password', 'the password field has the focus for the next try');

  step('Enter signs in, and the portal shows the person');
  await page.keyboard.type(PASSWORD);
  await Promise.all([page.waitForURL(`${PORTAL}/`), page.keyboard.press('Enter')]);
  assert.equal(await heading(), `Xin chào, ${PERSON}`);
  assert.match(await page.locator('main').innerText(), /dungnv@danang\.gov\.vn/);
  assert.match(await page.locator('main').innerText(), /Văn phòng UBND thành phố/);
  await page.screenshot({ path: join(ARTIFACTS, 'portal.png') });

  step('document management: signed in without the form');
  await page.getByRole('link', { name: 'Quản lý văn bản điều hành' }).click();
  await page.waitForURL(`${VANBAN}/`);
  assert.equal(await heading(), `Xin chào, ${PERSON}`);
  assert.equal(await page.locator('input[type=password]').count(), 0);

  step('citizen reception: signed in, then "Đăng xuất"');
  await page.getByRole('link', { name: 'Tiếp dân trực tuyến' }).click();
  await page.waitForURL(`${TIEPDAN}/`);
  assert.equal(await heading(), `Xin chào, ${PERSON}`);
  await page.getByRole('button', { name: 'Đăng xuất' }).click();
  await page.getByRole('heading', { name: 'Bạn đã đăng xuất' }).waitFor();
  assert.equal(page.url(), `${TIEPDAN}/`);

  // The provider tells the other apps in the background (back-channel logout): a few reloads may be needed.
  for (const [name, url] of [['the portal', PORTAL], ['document management', VANBAN]]) {
    step(`${name} shows the person signed out`);
    let seen = '';
    for (let attempt = 0; attempt < 50 && seen !== 'Bạn đã đăng xuất'; attempt++) {
      if (attempt > 0) await page.waitForTimeout(200);
      await page.goto(`${url}/`);
      seen = await heading();
    }
    assert.equal(seen, 'Bạn đã đăng xuất', `${name} still shows "${seen}"`);
  }

  step('signing in to the portal again asks for the password');
  await page.goto(`${PORTAL}/`);
  await page.getByRole('link', { name: 'Đăng nhập', exact: true }).click();
  await page.waitForURL(`${ISSUER}/**`);
  assert.equal(await heading(), 'Đăng nhập để vào Cổng thông tin điện tử');
  await page.getByLabel('Mật khẩu').waitFor();

  console.log('ok: three city apps, one sign-in');
});
