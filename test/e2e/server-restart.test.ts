// A server restart as the open pages live through it, in headless Chromium against real
// code-server: the owner's page and a viewer's share page say that the server restarted and
// reconnect by themselves, with no reload of the page. The workspace ran on meanwhile: the
// terminal answers again, and VS Code reconnects to the same code-server and sees what changes in
// the workspace.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createInBrowser,
  type E2eSetup,
  signedInPage,
  startE2e,
  terminalShows,
  workbench,
} from '../support/e2e-flows.js';
import { makeRepo } from '../support/git-fixtures.js';

describe('a server restart under open pages', () => {
  let e2e: E2eSetup;

  before(async () => {
    e2e = await startE2e((git) => makeRepo(git.root, 'app.git', { files: { 'notes.txt': 'hello\n' } }), {
      ide: true,
    });
  });

  after(async () => {
    await e2e?.close();
  });

  it('tells the owner and a viewer, and reconnects the terminal and VS Code without a reload', async () => {
    const { server, browser } = e2e;
    const { context, page } = await signedInPage(browser, server);
    const id = await createInBrowser(page, e2e.gitServer.url('app.git'));
    const frame = page.getByTestId('ide-frame');
    await workbench(page);
    const firstStart = await frame.getAttribute('data-started');
    await page.getByTestId('terminal').and(page.locator('[data-state="connected"]')).waitFor();

    const link = await server.api<{ url: string }>(`/api/workspaces/${id}/shares`, {
      method: 'POST',
      body: { role: 'viewer', anonymous: true },
    });
    const viewerContext = await browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const viewer = await viewerContext.newPage();
    await viewer.goto(link.body.url);
    await viewer
      .getByTestId('terminal')
      .and(viewer.locator('[data-state="connected"]'))
      .waitFor({ timeout: 30_000 });

    // Pages know they were loaded once: reloading would reset this.
    for (const p of [page, viewer]) await p.evaluate(() => Object.assign(window, { loadedOnce: true }));

    await server.restart();

    for (const p of [page, viewer]) {
      await p
        .getByTestId('server-notice')
        .and(p.locator('[data-kind="restarted"]'))
        .waitFor({ timeout: 60_000 })
        .catch(async (error: unknown) => {
          await p.screenshot({
            path: `${process.env.NIXSPACE_SCREENSHOTS ?? '/tmp'}/nixspace-e2e-restart.png`,
          });
          throw error;
        });
      assert.match((await p.getByTestId('server-notice').textContent()) ?? '', /server restarted/);
    }
    // The owner's terminal answers again, in the workspace's new shell.
    await page
      .getByTestId('terminal')
      .and(page.locator('[data-state="connected"]'))
      .waitFor({ timeout: 30_000 });
    await page.getByTestId('terminal').click();
    await page.keyboard.type('echo BACK-$((40+2))\n');
    await terminalShows(page, 'BACK-42');
    // VS Code reconnects by itself to the same code-server, which ran on (its extensions, its
    // terminals): the frame stays that start's, and a file made in the workspace now shows in its
    // explorer. (VS Code may reload its own window: a web extension host that fetched a module
    // while the server was away restarts that way.)
    assert.equal(await frame.getAttribute('data-started'), firstStart, 'the same start of code-server');
    await page.keyboard.type('echo made > after-restart.txt\n');
    const ide = await workbench(page);
    await ide.getByRole('treeitem', { name: 'after-restart.txt' }).waitFor({ timeout: 60_000 });
    // The viewer follows the owner's terminal again.
    await terminalShows(viewer, 'BACK-42');
    for (const p of [page, viewer]) {
      assert.equal(
        await p.evaluate(() => (window as { loadedOnce?: boolean }).loadedOnce),
        true,
        'no reload',
      );
    }
    await viewerContext.close();
    await context.close();
  });
});
