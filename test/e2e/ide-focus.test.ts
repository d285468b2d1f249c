// Typing lands where the person put the keyboard: a switch restarts VS Code with the new
// environment, and its reloaded workbench (which focuses its editor) must not take the keys meant
// for the terminal. In headless Chromium against real code-server.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createInBrowser,
  type E2eSetup,
  focusTerminal,
  signedInPage,
  startE2e,
  workbench,
} from '../support/e2e-flows.js';
import { commitFiles, git as gitIn, makeRepo } from '../support/git-fixtures.js';
import { workspaceGit } from '../support/workspace-git.js';

const screenshots = process.env.NIXSPACE_SCREENSHOTS ?? '/tmp';
const typingSeconds = Number(process.env.NIXSPACE_FOCUS_TYPING_SECONDS ?? 30);

describe('keyboard focus through a switch', () => {
  let e2e: E2eSetup;

  before(async () => {
    e2e = await startE2e(
      async (git) => {
        await makeRepo(git.root, 'app.git', { files: { 'index.js': 'console.log("main");\n' } });
        const gitDir = join(git.root, 'app.git');
        const main = await gitIn(['--git-dir', gitDir, 'rev-parse', 'refs/heads/main']);
        // The feature branch needs Redis too: its environment differs, so the switch restarts the
        // sandbox and VS Code with it.
        const feature = await commitFiles(gitDir, {
          parent: main,
          files: {
            'index.js': 'console.log("feature");\n',
            'docker-compose.yml': 'services:\n  cache:\n    image: redis:7\n',
          },
          message: 'Feature work',
        });
        await gitIn(['--git-dir', gitDir, 'update-ref', 'refs/heads/feature', feature]);
      },
      { ide: true },
    );
  });

  after(async () => {
    await e2e?.close();
  });

  it('keeps typing in the terminal while VS Code restarts and reloads, and no file changes', async () => {
    const { server } = e2e;
    const { context, page } = await signedInPage(e2e.browser, server);
    const id = await createInBrowser(page, e2e.gitServer.url('app.git'));
    const ide = await workbench(page);
    // An open editor, which VS Code focuses again when it reloads.
    await ide.getByRole('treeitem', { name: 'index.js' }).click({ timeout: 30_000 });
    await ide.locator('.view-line', { hasText: 'console.log' }).first().waitFor();
    const firstStart = await page.getByTestId('ide-frame').getAttribute('data-started');

    await focusTerminal(page);

    const switched = server.api(`/api/workspaces/${id}/switch`, { method: 'POST', body: { ref: 'feature' } });
    const until = Date.now() + typingSeconds * 1000;
    let ticks = 0;
    let reloaded = false;
    while (Date.now() < until || !reloaded) {
      assert.ok(Date.now() < until + 90_000, 'VS Code came back after the switch');
      await page.keyboard.type(`: tick${ticks++}\n`, { delay: 20 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const started = await page
        .getByTestId('ide-frame')
        .getAttribute('data-started', { timeout: 1000 })
        .catch(() => null);
      reloaded ||= started !== null && started !== firstStart;
    }
    assert.equal((await switched).status, 200);
    // A few more keys once the new workbench has loaded and settled.
    // The new workbench shows the feature branch's tree. Whether it reopens the editor depends on
    // whether the old one saved its state before it was stopped, so the test does not wait for that.
    await workbench(page);
    await ide.getByRole('treeitem', { name: 'docker-compose.yml' }).waitFor({ timeout: 60_000 });
    await page.keyboard.type('echo LAST-$((40+2))\n', { delay: 20 });
    await page
      .waitForFunction(
        () =>
          document.querySelector('[data-testid="terminal"] .xterm-rows')?.textContent?.includes('LAST-42'),
        undefined,
        { timeout: 20_000 },
      )
      .catch(async (error) => {
        await page.screenshot({ path: `${screenshots}/nixspace-e2e-focus.png` });
        throw error;
      });

    const repo = join(server.nixspace.workspaces.workspaceDir(id), 'repo');
    const stdout = await workspaceGit(repo, ['status', '--porcelain']);
    const diff = await workspaceGit(repo, ['diff']);
    assert.equal(stdout, '', `nothing typed for the shell reached a file:\n${diff}`);
    await context.close();
  });
});
