// Where a person sees how the environment was provided when Nix was not used (this machine: Nix
// installed, nixpkgs unreachable): a pinned Node from the npm registry is badged as such, and a
// Go repository's card and Environment panel say why Nix was not used and how to get Go.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findOnPath } from '../../src/nix/version-probe.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { startTestServer, type TestServer, waitForStatus } from '../support/nixspace-server.js';

const webDist = fileURLToPath(new URL('../../web/dist/index.html', import.meta.url));
const pinnedMajor = process.versions.node.startsWith('22.') ? 24 : 22;
const hostMajor = Number(process.versions.node.split('.')[0]);

describe('how a workspace without Nix shows its toolchains', () => {
  let git: GitHttpServer;
  let server: TestServer;
  let browser: TestBrowser;

  before(async () => {
    assert.ok(existsSync(webDist), 'the UI is built (npm run build:web)');
    git = await startGitHttpServer();
    await makeRepo(git.root, 'pinned.git', {
      files: { '.nvmrc': `${pinnedMajor}\n`, 'package.json': '{"name":"pinned","version":"1.0.0"}' },
    });
    await makeRepo(git.root, 'go-app.git', { files: { 'go.mod': 'module example.com/app\n\ngo 1.23\n' } });
    await makeRepo(git.root, 'ranged.git', {
      files: { 'package.json': JSON.stringify({ name: 'ranged', engines: { node: `>=${hostMajor - 2}` } }) },
    });
    server = await startTestServer({ config: { environmentProvider: 'auto' } });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await git?.close();
  });

  async function create(repo: string): Promise<{ id: string; environment: { provider: string } | null }> {
    const created = await server.api<{ id: string }>('/api/workspaces', {
      method: 'POST',
      body: { repoUrl: git.url(repo) },
    });
    return (await waitForStatus(server, created.body.id, ['running', 'failed'], 240_000)) as never;
  }

  it('badges a pinned Node, and shows on the card and in the panel why Nix was not used and how to get Go', async (t) => {
    const pinned = await create('pinned.git');
    const go = await create('go-app.git');
    if (go.environment?.provider === 'nix') return t.skip('this machine can fetch nixpkgs: Nix supplies Go');
    if (findOnPath('go', process.env.PATH ?? '')) return t.skip('this machine has Go installed');

    const context = await browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(await server.nixspace.ownerLoginLink());
    await page.waitForURL(`${server.url}/`);

    const goRow = page.locator(`[data-testid="workspace-row"][data-id="${go.id}"]`);
    const note = goRow.getByTestId('workspace-note').filter({ hasText: 'Go 1.23 is not on this machine' });
    await note.waitFor();
    assert.match((await note.textContent()) ?? '', /install golang-go, or let this server reach nixpkgs/);
    assert.match(
      (await goRow.getByTestId('workspace-notes').textContent()) ?? '',
      /Nix was not used: nixpkgs/,
    );
    const pinnedRow = page.locator(`[data-testid="workspace-row"][data-id="${pinned.id}"]`);
    assert.equal(
      await pinnedRow.getByTestId('not-reproducible-marker').getAttribute('data-reproducibility'),
      'pinned',
    );

    await page.screenshot({
      path: `${process.env.NIXSPACE_SCREENSHOTS ?? '/tmp'}/nixspace-e2e-toolchains-list.png`,
    });

    await page.goto(`${server.url}/w/${pinned.id}`);
    const badge = page.getByTestId('reproducible-badge');
    await badge.waitFor();
    assert.equal(await badge.getAttribute('data-reproducibility'), 'pinned');
    assert.match((await badge.textContent()) ?? '', /Pinned toolchain \(npm registry\)/);

    await page.goto(`${server.url}/w/${go.id}`);
    await page.getByTestId('environment-toggle').click();
    const fallback = page.getByTestId('environment-fallback');
    await fallback.waitFor();
    assert.equal(await fallback.getAttribute('data-cause'), 'nixpkgs');
    assert.match((await fallback.textContent()) ?? '', /cannot be obtained on this server \(.+\)/);
    const hint = page.getByTestId('report-hint').filter({ hasText: 'Go 1.23' });
    assert.match((await hint.textContent()) ?? '', /install golang-go/);
    await page.screenshot({
      path: `${process.env.NIXSPACE_SCREENSHOTS ?? '/tmp'}/nixspace-e2e-toolchains.png`,
    });
    await context.close();
  });

  it('shows a range the host satisfies as the range, not the line detection picked', async () => {
    const ranged = await create('ranged.git');
    const context = await browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(await server.nixspace.ownerLoginLink());
    await page.goto(`${server.url}/w/${ranged.id}`);
    await page.getByTestId('environment-toggle').click();
    const row = page.getByTestId('report-row').filter({ hasText: 'Toolchain' });
    await row.waitFor();
    assert.equal(await row.getAttribute('data-status'), 'ok');
    const wanted = `≥ ${hostMajor - 2} (host ${process.versions.node} satisfies)`;
    const text = (await row.textContent()) ?? '';
    assert.ok(text.includes(wanted), text);
    await context.close();
  });
});
