// One incident handled through the IT centre's console in a real browser, run by tests/it/console/browser.rs
// (which starts the provider, signs dungnv in to an app, and checks afterwards that his session is gone).
// Debian's chromium, driven by playwright-core; exits non-zero at the first failed step, naming it.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { env, inChromium, step } from './chromium.mjs';

const ISSUER = env('ISSUER');
const ARTIFACTS = env('ARTIFACTS');
const PASSWORD = 'Danang@2026';
const REASON = 'Tài khoản bị chiếm đoạt (phiếu hỗ trợ #4711)';

// RFC 6238 (SHA-1, 6 digits, 30-second steps) over a base32 secret, as an authenticator app computes it.
const totp = (secret, now = Date.now()) => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '').toUpperCase()) {
    const value = alphabet.indexOf(c);
    if (value < 0) throw new Error(`not base32: ${c}`);
    bits += value.toString(2).padStart(5, '0');
  }
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, '0');
};

await inChromium('console', {
  locale: 'vi-VN',
  viewport: { width: 1200, height: 900 },
}, async (page) => {
  step('the console asks for a sign-in first');
  await page.goto(`${ISSUER}/quan-tri`);
  assert.equal(await page.locator('html').getAttribute('lang'), 'vi');
  await page.fill('#username', 'haltt');
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL(/\/tai-khoan\/totp\?continue=%2Fquan-tri$/), page.press('#password', 'Enter')]);

  step('the console needs two factors: haltt enrols an authenticator app (code computed here)');
  const secret = (await page.locator('#totp-secret').innerText()).trim();
  await page.fill('#otp', totp(secret));
  await Promise.all([page.waitForSelector('#recovery-codes'), page.press('#otp', 'Enter')]);
  await Promise.all([page.waitForURL(`${ISSUER}/quan-tri`), page.click('#continue')]);
  assert.equal(await page.locator('h1').innerText(), 'Tổng quan');

  step('the account is found by name without diacritics');
  await page.click('nav >> text=Tài khoản');
  await page.fill('#q', 'nguyen van dung');
  await Promise.all([page.waitForURL(/q=nguyen/), page.click('form.search button')]);
  await Promise.all([page.waitForURL(/mail=dungnv%40/), page.click('#found >> text=dungnv@danang.gov.vn')]);
  assert.match(await page.locator('#sessions').innerText(), /Kết thúc phiên này/);
  await page.screenshot({ path: join(ARTIFACTS, 'console.png'), fullPage: true });

  step('ending every session asks for confirmation and a reason');
  await Promise.all([page.waitForURL(/thao-tac/), page.click('#end-all')]);
  await page.fill('#reason', REASON);
  await page.screenshot({ path: join(ARTIFACTS, 'console-confirm.png'), fullPage: true });
  await Promise.all([page.waitForURL(/done=/), page.click('#confirm')]);
  assert.match(await page.locator('.notice').innerText(), /Đã kết thúc 1 phiên/);
  assert.match(await page.locator('#sessions').innerText(), /Không có phiên nào/);

  step('the audit search shows the action under haltt with the reason');
  await page.goto(`${ISSUER}/quan-tri/nhat-ky?account=dungnv%40danang.gov.vn&event=operator_action`);
  const audit = await page.locator('#audit').innerText();
  assert.ok(audit.includes(REASON) && audit.includes('haltt@danang.gov.vn'), audit);
  await page.screenshot({ path: join(ARTIFACTS, 'console-audit.png'), fullPage: true });
  console.log('ok');
});
