// VS Code's workbench in the workspace view, in headless Chromium against real code-server: its
// own services over the IDE proxy (the built-in git extension runs, Source Control lists a change
// made in the terminal, and the connection holds: VS Code's frames can pass 1 MiB and nothing may
// cut them), and a layout that leaves the editor room.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WebSocket as PageSocket } from 'playwright-core';
import {
  createInBrowser,
  type E2eSetup,
  focusTerminal,
  signedInPage,
  startE2e,
  terminalShows,
  workbench,
} from '../support/e2e-flows.js';
import { makeRepo } from '../support/git-fixtures.js';

const screenshots = process.env.NIXSPACE_SCREENSHOTS ?? '/tmp';
const quietSeconds = Number(process.env.NIXSPACE_IDE_QUIET_SECONDS ?? 60);

describe('the VS Code workbench', () => {
  let e2e: E2eSetup;

  before(async () => {
    e2e = await startE2e(
      (git) =>
        makeRepo(git.root, 'tracked.git', {
          files: { 'index.js': 'console.log("one");\n', 'package.json': '{ "name": "tracked" }\n' },
        }),
      { ide: true },
    );
  });

  after(async () => {
    await e2e?.close();
  });

  it('lists an uncommitted change in Source Control, runs the git extension, and never reconnects', async () => {
    const { context, page } = await signedInPage(e2e.browser, e2e.server);
    const ideSockets: { socket: PageSocket; closed: boolean }[] = [];
    page.on('websocket', (socket) => {
      if (!socket.url().includes('/ide/')) return;
      const entry = { socket, closed: false };
      ideSockets.push(entry);
      socket.on('close', () => {
        entry.closed = true;
      });
    });
    await createInBrowser(page, e2e.gitServer.url('tracked.git'));
    const ide = await workbench(page);

    // A change made in the workspace's shell.
    await focusTerminal(page);
    await page.keyboard.type('echo \'console.log("two");\' >> index.js && echo CHANGED-OK');
    await page.keyboard.press('Enter');
    await terminalShows(page, 'CHANGED-OK');

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
    const { context, page } = await signedInPage(e2e.browser, e2e.server);
    await createInBrowser(page, e2e.gitServer.url('tracked.git'));
    const ide = await workbench(page);
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
