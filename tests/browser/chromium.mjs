// What every real-browser script shares: its environment, named steps, and one Debian chromium in a fresh profile
// (no cookies or cache from an earlier run), driven by playwright-core and always closed; a failure names the step
// it happened in and makes node exit non-zero, which fails the Rust test that ran the script.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/** A variable the Rust test sets (tests/it/browser_e2e.rs `run_browser_script`). */
export const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this script through its test in \`cargo test --test it\``);
  return value;
};

let current = 'starting chromium';

/** Names the step that follows, for the log and for the failure message. */
export const step = (name) => {
  current = name;
  console.log(`- ${name}`);
};

// As the machine's own checks start it: without the background-networking flags its connections are refused by
// the closed network, many at a time.
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-quic', '--disable-component-update', '--disable-sync'];

/** Runs `body(page, context)` in chromium with `options` (locale, viewport) in a profile named after `name`. */
export async function inChromium(name, options, body) {
  const profile = mkdtempSync(join(tmpdir(), `danang-sso-${name}-`));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: env('CHROMIUM'),
      headless: true,
      args: ARGS,
      timeout: 60_000,
      ...options,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
    await body(page, context);
  } catch (error) {
    console.error(`FAILED at: ${current}\n${error.stack ?? error}`);
    process.exitCode = 1;
  } finally {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
