// Typing lands where the person put the keyboard: a switch restarts VS Code with the new
// environment, and its reloaded workbench (which focuses its editor) must not take the keys meant
// for the terminal. In headless Chromium against real code-server.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { defaultIdeDir } from '../../src/config.js';
import { CodeServerInstaller } from '../../src/services/ide/code-server-install.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { createInBrowser, signedInPage } from '../support/e2e-flows.js';
import { commitFiles, git as gitIn, makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { startTestServer, type TestServer } from '../support/nixspace-server.js';

const exec = promisify(execFile);
const webDist = fileURLToPath(new URL('../../web/dist/index.html', import.meta.url));
const screenshots = process.env.NIXSPACE_SCREENSHOTS ?? '/tmp';
const typingSeconds = Number(process.env.NIXSPACE_FOCUS_TYPING_SECONDS ?? 30);

describe('keyboard focus through a switch', () => {
  let gitServer: GitHttpServer;
  let server: TestServer;
  let browser: TestBrowser;

  before(async () => {
    assert.ok(existsSync(webDist), 'the UI is built (npm run build:web)');
    await new CodeServerInstaller({ dir: defaultIdeDir() }).ensure();
    gitServer = await startGitHttpServer();
    await makeRepo(gitServer.root, 'app.git', { files: { 'index.js': 'console.log("main");\n' } });
    const gitDir = join(gitServer.root, 'app.git');
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
    server = await startTestServer({ config: { ide: { enabled: true } } });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await gitServer?.close();
  });

  it('keeps typing in the terminal while VS Code restarts and reloads, and no file changes', async () => {
    const { context, page } = await signedInPage(browser, server);
    const id = await createInBrowser(page, gitServer.url('app.git'));
    const ide = page.frameLocator('[data-testid="ide-frame"]');
    await ide.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    // An open editor, which VS Code focuses again when it reloads.
    await ide.getByRole('treeitem', { name: 'index.js' }).click({ timeout: 30_000 });
    await ide.locator('.view-line', { hasText: 'console.log' }).first().waitFor();
    const firstStart = await page.getByTestId('ide-frame').getAttribute('data-started');

    await page.getByTestId('terminal').and(page.locator('[data-state="connected"]')).waitFor();
    await page.getByTestId('terminal').click();
    await page.waitForFunction(() => document.activeElement?.classList.contains('xterm-helper-textarea'));

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
    await ide.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await ide.locator('.view-line', { hasText: 'feature' }).first().waitFor({ timeout: 30_000 });
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
    const { stdout } = await exec('git', ['-C', repo, 'status', '--porcelain']);
    const { stdout: diff } = await exec('git', ['-C', repo, 'diff']);
    assert.equal(stdout, '', `nothing typed for the shell reached a file:\n${diff}`);
    await context.close();
  });
});
