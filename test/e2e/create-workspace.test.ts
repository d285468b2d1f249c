// A person's first minutes with NixSpace, in headless Chromium: open the sign-in link, paste a
// Git URL served over loopback HTTP, watch the steps reach ready, run `git log` in the terminal,
// reload and find the same shell.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { type MadeRepo, makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { startTestServer, type TestServer } from '../support/nixspace-server.js';

const webDist = fileURLToPath(new URL('../../web/dist/index.html', import.meta.url));

async function terminalText(page: Page): Promise<string> {
  return (await page.locator('[data-testid="terminal"] .xterm-rows').textContent()) ?? '';
}

describe('creating a workspace in the browser', () => {
  let gitServer: GitHttpServer;
  let repo: MadeRepo;
  let server: TestServer;
  let browser: TestBrowser;

  before(async () => {
    assert.ok(existsSync(webDist), 'the UI is built (npm run build:web)');
    gitServer = await startGitHttpServer();
    repo = await makeRepo(gitServer.root, 'hello.git', { commits: 3, files: { 'README.md': '# hello\n' } });
    server = await startTestServer();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await gitServer?.close();
  });

  it('goes from a pasted URL to `git log` in the terminal, and back after a reload', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(await server.nixspace.ownerLoginLink());
    await page.waitForURL(`${server.url}/`);

    await page.getByTestId('repo-url').fill(gitServer.url('hello.git'));
    await page.getByTestId('create').click();
    await page.waitForURL(/\/w\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').at(-1)!;

    // The progress view shows each step; by the time the workspace runs they are all finished.
    await page
      .getByTestId('workspace-status')
      .and(page.locator('[data-status="running"]'))
      .waitFor({ timeout: 30_000 });
    const view = await server.api<{ steps: { name: string; status: string; durationMs: number | null }[] }>(
      `/api/workspaces/${id}`,
    );
    assert.ok(view.body.steps.every((s) => s.durationMs !== null));
    // The test server uses the host's tools: the workspace says it is not reproducible.
    const badge = page.getByTestId('reproducible-badge');
    await badge.waitFor();
    assert.equal(await badge.getAttribute('data-reproducible'), 'false');
    assert.match((await badge.textContent()) ?? '', /Not reproducible/);

    const terminal = page.getByTestId('terminal');
    await terminal.locator('.xterm-rows').waitFor();
    await page.waitForFunction(() =>
      // The workspace user's prompt (never root's `#`).
      document.querySelector('[data-testid="terminal"] .xterm-rows')?.textContent?.includes('$'),
    );
    await terminal.click();
    await page.keyboard.type('git log -1 --format=%H');
    await page.keyboard.press('Enter');
    const head = repo.commits.at(-1)!;
    await page.waitForFunction(
      (commit) =>
        document.querySelector('[data-testid="terminal"] .xterm-rows')?.textContent?.includes(commit),
      head,
      { timeout: 15_000 },
    );
    await page.screenshot({
      path: `${process.env.NIXSPACE_SCREENSHOTS ?? '/tmp'}/nixspace-e2e-terminal.png`,
    });

    await page.reload();
    await terminal.locator('.xterm-rows').waitFor();
    await page.waitForFunction(
      (commit) =>
        document.querySelector('[data-testid="terminal"] .xterm-rows')?.textContent?.includes(commit),
      head,
      { timeout: 15_000 },
    );
    await terminal.click();
    await page.keyboard.type('cat README.md');
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      () => document.querySelector('[data-testid="terminal"] .xterm-rows')?.textContent?.includes('# hello'),
      undefined,
      { timeout: 15_000 },
    );
    assert.match(await terminalText(page), new RegExp(head));

    // What is typed while the shell reconnects is sent once it answers, not lost: the terminal
    // socket reaches the server only a while after the page typed.
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.routeWebSocket(/\/terminal\?/, async (socket) => {
      await released;
      socket.connectToServer();
    });
    await page.reload();
    await terminal.locator('.xterm-helper-textarea').focus();
    await page.keyboard.type('echo typed-ahead-$((40+2))');
    assert.notEqual(await terminal.getAttribute('data-state'), 'connected', 'typed before it connected');
    release();
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      () =>
        document
          .querySelector('[data-testid="terminal"] .xterm-rows')
          ?.textContent?.includes('typed-ahead-42'),
      undefined,
      { timeout: 15_000 },
    );
    await context.close();
  });
});
