// VS Code's workbench in the workspace view, in headless Chromium against real code-server: its
// own services over the IDE proxy (the built-in git extension runs, Source Control lists a change
// made in the terminal, and the connection holds: VS Code's frames can pass 1 MiB and nothing may
// cut them), and a layout that leaves the editor room.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { WebSocket as PageSocket } from 'playwright-core';
import { defaultIdeDir } from '../../src/config.js';
import { CodeServerInstaller } from '../../src/services/ide/code-server-install.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { createInBrowser, signedInPage } from '../support/e2e-flows.js';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { startTestServer, type TestServer } from '../support/nixspace-server.js';

const webDist = fileURLToPath(new URL('../../web/dist/index.html', import.meta.url));
const screenshots = process.env.NIXSPACE_SCREENSHOTS ?? '/tmp';
const quietSeconds = Number(process.env.NIXSPACE_IDE_QUIET_SECONDS ?? 60);

describe('the VS Code workbench', () => {
  let gitServer: GitHttpServer;
  let server: TestServer;
  let browser: TestBrowser;

  before(async () => {
    assert.ok(existsSync(webDist), 'the UI is built (npm run build:web)');
    await new CodeServerInstaller({ dir: defaultIdeDir() }).ensure();
    gitServer = await startGitHttpServer();
    await makeRepo(gitServer.root, 'tracked.git', {
      files: { 'index.js': 'console.log("one");\n', 'package.json': '{ "name": "tracked" }\n' },
    });
    server = await startTestServer({ config: { ide: { enabled: true } } });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await gitServer?.close();
  });

  it('lists an uncommitted change in Source Control, runs the git extension, and never reconnects', async () => {
    const { context, page } = await signedInPage(browser, server);
    const ideSockets: { socket: PageSocket; closed: boolean }[] = [];
    page.on('websocket', (socket) => {
      if (!socket.url().includes('/ide/')) return;
      const entry = { socket, closed: false };
      ideSockets.push(entry);
      socket.on('close', () => {
        entry.closed = true;
      });
    });
    await createInBrowser(page, gitServer.url('tracked.git'));
    const ide = page.frameLocator('[data-testid="ide-frame"]');
    await ide.locator('.monaco-workbench').waitFor({ timeout: 60_000 });

    // A change made in the workspace's shell.
    await page.getByTestId('terminal').and(page.locator('[data-state="connected"]')).waitFor();
    await page.getByTestId('terminal').click();
    await page.keyboard.type('echo \'console.log("two");\' >> index.js && echo CHANGED-OK');
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="terminal"] .xterm-rows')?.textContent?.includes('CHANGED-OK'),
      undefined,
      { timeout: 20_000 },
    );

    // Source Control shows it (the git extension found the repository).
    await ide.locator('.monaco-workbench').click({ position: { x: 400, y: 300 } });
    await page.keyboard.press('Control+Shift+G');
    const change = ide.locator('.scm-view .monaco-list-row', { hasText: 'index.js' });
    await change
      .first()
      .waitFor({ timeout: 60_000 })
      .catch(async (error) => {
        await page.screenshot({ path: `${screenshots}/nixspace-e2e-scm.png` });
        throw error;
      });
    assert.equal(await ide.getByText('Scanning folder for Git repositories').count(), 0);

    // The built-in git extension is among the running ones.
    await page.keyboard.press('F1');
    await ide.locator('.quick-input-widget input').fill('>Developer: Show Running Extensions');
    await ide
      .locator('.quick-input-list .monaco-list-row', { hasText: 'Show Running Extensions' })
      .first()
      .waitFor();
    await page.keyboard.press('Enter');
    const gitRow = ide.locator('.runtime-extensions-editor .extension', { hasText: /^Git/ });
    await gitRow.first().waitFor({ timeout: 30_000 });

    // The connection holds: no IDE socket closes and none opens anew.
    const opened = ideSockets.length;
    assert.ok(opened > 0, 'the workbench connected through the proxy');
    await new Promise((resolve) => setTimeout(resolve, quietSeconds * 1000));
    const closed = ideSockets.filter((s) => s.closed).map((s) => s.socket.url());
    assert.deepEqual(closed, [], 'no IDE socket closed');
    assert.equal(ideSockets.length, opened, 'no IDE socket was opened again');
    await context.close();
  });

  it('gives the editor most of the width, and a usable width with Jobs and Environment open', async () => {
    const { context, page } = await signedInPage(browser, server);
    await createInBrowser(page, gitServer.url('tracked.git'));
    const ide = page.frameLocator('[data-testid="ide-frame"]');
    await ide.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    const width = async (testId: string) => (await page.getByTestId(testId).boundingBox())?.width ?? 0;
    assert.ok(
      (await width('split-start')) > 2 * (await width('split-end')),
      `VS Code ${await width('split-start')} px, terminal ${await width('split-end')} px`,
    );
    // VS Code's secondary side bar stays closed on a first start: it would only stand empty.
    await ide.locator('.part.editor').waitFor();
    assert.equal(await ide.locator('.part.auxiliarybar').isVisible(), false);

    await page.getByTestId('jobs-toggle').click();
    await page.getByTestId('environment-toggle').click();
    await page.getByTestId('environment-close').waitFor();
    const squeezed = await width('split-start');
    assert.ok(squeezed >= 440, `VS Code keeps a usable width beside Jobs and Environment: ${squeezed} px`);
    const viewport = page.viewportSize()!.width;
    const panes = (await page.locator('.workspace-panes').boundingBox())!;
    assert.ok(panes.x + panes.width <= viewport + 1, 'nothing runs off the right edge');
    await page.screenshot({ path: `${screenshots}/nixspace-e2e-layout.png` });
    await context.close();
  });
});
