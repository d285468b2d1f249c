// The browser journey on every isolation a server can run workspaces in, in headless Chromium:
// paste a URL, pick the isolation in the create form (the server defaults to bubblewrap), and the
// header names the driver, the terminal runs a command as the workspace user, and VS Code (real
// code-server, inside the same box) opens a file from its explorer. bubblewrap, the default, runs
// it in the other end-to-end suites.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { skipReason as gvisorSkipReason } from '../../src/runtime/drivers/gvisor/gvisor-test-kit.js';
import { microvmSkipReason } from '../../src/runtime/drivers/microvm/microvm-test-kit.js';
import {
  type E2eSetup,
  focusTerminal,
  runningBadge,
  signedInPage,
  startE2e,
  terminalShows,
  workbench,
} from '../support/e2e-flows.js';
import { makeRepo } from '../support/git-fixtures.js';

/**
 * `waitMs` is how long each step may take: a microVM boots its kernel under TCG and loads Node,
 * then code-server and VS Code's server, file by file over 9p.
 */
const drivers = [
  {
    name: 'gvisor',
    skip: gvisorSkipReason,
    waitMs: 60_000,
  },
  {
    name: 'microvm',
    skip: await microvmSkipReason(),
    waitMs: 360_000,
  },
] as const;

for (const driver of drivers) {
  describe(`the browser journey on ${driver.name}`, { skip: driver.skip }, () => {
    let e2e: E2eSetup;

    before(async () => {
      e2e = await startE2e(
        (git) => makeRepo(git.root, 'notes.git', { files: { 'notes.txt': `written for ${driver.name}\n` } }),
        { ide: true },
      );
    });

    after(async () => {
      await e2e?.close();
    });

    it('creates a workspace, runs a command in its terminal and opens a file in VS Code', async (t) => {
      const { waitMs } = driver;
      const { context, page } = await signedInPage(e2e.browser, e2e.server);
      try {
        await page.getByTestId('repo-url').fill(e2e.gitServer.url('notes.git'));
        await page.getByTestId('sandbox').selectOption(driver.name);
        assert.match(
          (await page.getByTestId('sandbox-description').textContent()) ?? '',
          new RegExp(`^${driver.name}: `),
        );
        const created = Date.now();
        await page.getByTestId('create').click();
        await page.waitForURL(/\/w\/[0-9a-f-]{36}$/);
        await runningBadge(page).waitFor({ timeout: Math.max(120_000, waitMs) });
        const running = Date.now();
        t.diagnostic(`${driver.name}: create to running ${running - created} ms`);
        assert.equal(await page.locator('.summary-sandbox').first().textContent(), driver.name);

        await focusTerminal(page);
        await page.keyboard.type('echo "$(id -un) in $(basename "$PWD"): $((6*7))"\n');
        await terminalShows(page, 'dev in repo: 42', waitMs);

        const ide = await workbench(page, waitMs);
        t.diagnostic(`${driver.name}: running to VS Code's workbench ${Date.now() - running} ms`);
        await ide.getByRole('treeitem', { name: 'notes.txt' }).click({ timeout: waitMs });
        await ide
          .locator('.view-line', { hasText: `written for ${driver.name}` })
          .first()
          .waitFor({ timeout: waitMs });
        t.diagnostic(`${driver.name}: running to the file open in VS Code ${Date.now() - running} ms`);
      } finally {
        await context.close();
      }
    });
  });
}
