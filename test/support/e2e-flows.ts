// What several end-to-end tests do first, as a person would: sign in through the owner's link,
// paste a Git URL, press Create, and wait until the workspace runs.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, FrameLocator, Page } from 'playwright-core';
import { type ConfigInput, defaultIdeDir } from '../../src/config.js';
import { CodeServerInstaller } from '../../src/services/ide/code-server-install.js';
import { launchBrowser, type TestBrowser } from './browser.js';
import { type GitHttpServer, startGitHttpServer } from './git-http-server.js';
import { startTestServer, type TestServer } from './nixspace-server.js';

const webDist = fileURLToPath(new URL('../../web/dist/index.html', import.meta.url));

/** What an end-to-end suite runs against: a git server, a NixSpace server and Chromium. */
export interface E2eSetup {
  gitServer: GitHttpServer;
  server: TestServer;
  browser: TestBrowser;
  /** Ends all three, whatever was started. */
  close(): Promise<void>;
}

/**
 * Starts the three, with the repositories `repos` makes on the git server; refuses an unbuilt UI.
 * With `ide`, workspaces get VS Code (code-server, installed first if this machine lacks it);
 * `config` sets the server's other settings.
 */
export async function startE2e(
  repos: (gitServer: GitHttpServer) => Promise<unknown>,
  options: { ide?: boolean; config?: Partial<ConfigInput> } = {},
): Promise<E2eSetup> {
  if (!existsSync(webDist)) throw new Error('the UI is not built: run `npm run build:web` first');
  if (options.ide) await new CodeServerInstaller({ dir: defaultIdeDir() }).ensure();
  const started: Partial<E2eSetup> = {};
  const close = async () => {
    await started.browser?.close();
    await started.server?.close();
    await started.gitServer?.close();
  };
  try {
    started.gitServer = await startGitHttpServer();
    await repos(started.gitServer);
    started.server = await startTestServer({
      config: { ...options.config, ...(options.ide ? { ide: { enabled: true } } : {}) },
    });
    started.browser = await launchBrowser();
  } catch (error) {
    await close();
    throw error;
  }
  return { ...(started as Omit<E2eSetup, 'close'>), close };
}

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

/** VS Code's workbench in the workspace view, once it has loaded. */
export async function workbench(page: Page, timeout = 60_000): Promise<FrameLocator> {
  const frame = page.frameLocator('[data-testid="ide-frame"]');
  await frame.locator('.monaco-workbench').waitFor({ timeout });
  return frame;
}

/** Waits until the workspace view's terminal shows `text`. */
export async function terminalShows(page: Page, text: string, timeout = 30_000): Promise<void> {
  await page.waitForFunction(
    (wanted) => document.querySelector('[data-testid="terminal"] .xterm-rows')?.textContent?.includes(wanted),
    text,
    { timeout },
  );
}

/** Waits until the terminal is connected, then gives it the keyboard. */
export async function focusTerminal(page: Page): Promise<void> {
  await page
    .getByTestId('terminal')
    .and(page.locator('[data-state="connected"]'))
    .waitFor({ timeout: 30_000 });
  await page.getByTestId('terminal').click();
  await page.waitForFunction(() => document.activeElement?.classList.contains('xterm-helper-textarea'));
}
