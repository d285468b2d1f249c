// The create, switch and branch pipelines end to end without an HTTP server: a real store, a
// local repository, the host's isolating sandboxes. And the cancel path: a server that stops cuts
// a creation off, which fails with the reason and leaves no files, and a switch, which stops with
// the reason and keeps them.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type MadeRepo, makeRepo } from '../../../test/support/git-fixtures.js';
import { startTestWorkspaces, type TestWorkspaces } from '../../../test/support/workspace-service.js';
import type { WorkspaceView } from './workspace-view.js';

/** The pipeline ended: failed (or, for a switch, stopped), or running with its last step done. */
const settled = (view: WorkspaceView) =>
  view.status === 'failed' ||
  view.status === 'stopped' ||
  (view.status === 'running' && view.steps.find((s) => s.name === 'ready')?.status === 'done');

describe('workspace pipelines', () => {
  let t: TestWorkspaces;
  let reposDir: string;
  let repo: MadeRepo;
  let workspace: WorkspaceView;

  before(async () => {
    t = await startTestWorkspaces();
    reposDir = await mkdtemp(join(tmpdir(), 'nixspace-pipeline-repos-'));
    repo = await makeRepo(reposDir, 'app.git', { commits: 2, branches: ['feature'] });
  });

  after(async () => {
    await t?.close();
    await rm(reposDir, { recursive: true, force: true });
  });

  it('creates a workspace: every step recorded, running at the tip of its default branch', async () => {
    const created = await t.service.create(t.owner, { repoUrl: repo.dir });
    workspace = await t.waitFor(created.id, settled);
    assert.equal(workspace.status, 'running', JSON.stringify(workspace.error));
    assert.equal(workspace.commit, repo.commits.at(-1));
    assert.equal(workspace.branch, 'main');
    for (const step of workspace.steps) assert.notEqual(step.status, 'pending', step.name);
    assert.equal(workspace.steps.find((s) => s.name === 'ready')?.status, 'done');
    assert.ok(workspace.sandbox);
  });

  it('switches the running workspace to another branch in place', async () => {
    const { switched } = await t.service.switchRef(t.owner, workspace.id, { ref: 'feature' });
    assert.equal(switched.branch, 'feature');
    const view = await t.waitFor(workspace.id, settled);
    assert.equal(view.status, 'running', JSON.stringify(view.error));
    assert.equal(view.commit, repo.branches.feature);
    assert.equal(view.branch, 'feature');
    const repoDir = join(t.service.workspaceDir(workspace.id), 'repo');
    assert.equal(await readFile(join(repoDir, 'feature.txt'), 'utf8'), 'on feature\n');
  });

  it('branches the workspace from its files, as its child', async () => {
    const started = await t.service.branch(t.owner, workspace.id, { ref: 'main' });
    const branch = await t.waitFor(started.id, settled);
    assert.equal(branch.status, 'running', JSON.stringify(branch.error));
    assert.equal(branch.parentId, workspace.id);
    assert.equal(branch.commit, repo.commits.at(-1));
    assert.match(
      branch.steps.find((s) => s.name === 'checkout')?.detail ?? '',
      /files of .* (cloned|copied)/,
    );
    const { children } = await t.service.lineage(t.owner, workspace.id);
    assert.deepEqual(
      children.map((c) => c.id),
      [branch.id],
    );
  });

  it('fails what the server cut off by stopping, with the reason: a creation leaves no files, a switch keeps them', async () => {
    const created = await t.service.create(t.owner, { repoUrl: repo.dir });
    await t.service.switchRef(t.owner, workspace.id, { ref: 'main' });
    await t.service.shutdown();

    const creation = await t.service.get(t.owner, created.id);
    assert.equal(creation.status, 'failed');
    assert.deepEqual(
      { code: creation.error?.code, message: creation.error?.message },
      { code: 'INTERRUPTED', message: 'NixSpace is shutting down' },
    );
    assert.equal(existsSync(t.service.workspaceDir(created.id)), false);

    // The checkout moved before the switch answered; its environment half was cut off.
    const switched = await t.service.get(t.owner, workspace.id);
    assert.equal(switched.status, 'stopped');
    assert.deepEqual(
      { code: switched.error?.code, message: switched.error?.message },
      { code: 'INTERRUPTED', message: 'NixSpace is shutting down' },
    );
    assert.equal(switched.commit, repo.commits.at(-1));
    assert.equal(existsSync(join(t.service.workspaceDir(workspace.id), 'repo', 'README.md')), true);
  });
});
