// The browser journey on every isolation a server can run workspaces in, in headless Chromium:
// create from a pasted URL, the header names the driver, the terminal runs a command as the
// workspace user, and VS Code (real code-server, inside the same box) opens a file from its
// explorer. bubblewrap, the default, runs it in the other end-to-end suites.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findExecutable } from '../../src/runtime/host/find-executable.js';
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

const drivers = [
  {
    name: 'gvisor',
    skip:
      findExecutable('runsc') === undefined
        ? 'runsc (gVisor) is not installed: apt-get install runsc'
        : process.getuid?.() !== 0
          ? 'gVisor boxes need root'
          : false,
  },
] as const;

for (const driver of drivers) {
  describe(`the browser journey on ${driver.name}`, { skip: driver.skip }, () => {
    let e2e: E2eSetup;

    before(async () => {
      e2e = await startE2e(
        (git) => makeRepo(git.root, 'notes.git', { files: { 'notes.txt': `written for ${driver.name}\n` } }),
        { ide: true, config: { sandbox: driver.name } },
      );
    });

    after(async () => {
      await e2e?.close();
    });

    it('creates a workspace, runs a command in its terminal and opens a file in VS Code', async () => {
      const { context, page } = await signedInPage(e2e.browser, e2e.server);
      try {
        await createInBrowser(page, e2e.gitServer.url('notes.git'));
        assert.equal(await page.locator('.summary-sandbox').first().textContent(), driver.name);

        await focusTerminal(page);
        await page.keyboard.type('echo "$(id -un) in $(basename "$PWD"): $((6*7))"\n');
        await terminalShows(page, 'dev in repo: 42', 60_000);

        const ide = await workbench(page);
        await ide.getByRole('treeitem', { name: 'notes.txt' }).click({ timeout: 60_000 });
        await ide
          .locator('.view-line', { hasText: `written for ${driver.name}` })
          .first()
          .waitFor({ timeout: 60_000 });
      } finally {
        await context.close();
      }
    });
  });
}
