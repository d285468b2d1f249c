// Headless Debian Chromium driven by playwright-core, launched the way this machine needs
// (playwright gives every launch a fresh, empty profile directory of its own).

import { type Browser, chromium } from 'playwright-core';

export const chromiumPath = process.env.NIXSPACE_CHROMIUM ?? '/usr/bin/chromium';

export interface TestBrowser extends AsyncDisposable {
  browser: Browser;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const close = () => browser.close();
  return { browser, close, [Symbol.asyncDispose]: close };
}
