// What several end-to-end tests do first, as a person would: sign in through the owner's link,
// paste a Git URL, press Create, and wait until the workspace runs.

import type { BrowserContext, Page } from 'playwright-core';
import type { TestBrowser } from './browser.js';
import type { TestServer } from './nixspace-server.js';

/** A signed-in owner's page in a fresh browser context. */
export async function signedInPage(
  browser: TestBrowser,
  server: TestServer,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(await server.nixspace.ownerLoginLink());
  await page.waitForURL(`${server.url}/`);
  return { context, page };
}

/** Creates a workspace from the home page and waits on its page until it runs; returns its id. */
export async function createInBrowser(page: Page, repoUrl: string): Promise<string> {
  await page.getByTestId('repo-url').fill(repoUrl);
  await page.getByTestId('create').click();
  await page.waitForURL(/\/w\/[0-9a-f-]{36}$/);
  const id = page.url().split('/').at(-1)!;
  await runningBadge(page).waitFor({ timeout: 30_000 });
  return id;
}

export function runningBadge(page: Page) {
  return page.getByTestId('workspace-status').and(page.locator('[data-status="running"]'));
}
