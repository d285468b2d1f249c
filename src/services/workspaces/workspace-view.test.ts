import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkspaceRow } from '../../store/schema.js';
import { pendingSteps, toWorkspaceView } from './workspace-view.js';

describe('toWorkspaceView', () => {
  it('never shows credentials of a repository URL stored before they were refused', () => {
    const row = {
      id: 'w1',
      owner_id: 'u1',
      name: 'r',
      repo_url: 'https://user:s3cr3t@example.test/o/r.git',
      ref: null,
      commit_id: null,
      branch: null,
      status: 'pending',
      error: null,
      steps: pendingSteps(),
      sandbox: null,
      environment_id: null,
      environment: null,
      parent_id: null,
      environment_changes: null,
      created_at: new Date(),
      updated_at: new Date(),
    } as unknown as WorkspaceRow;
    const view = toWorkspaceView(row);
    assert.equal(view.repoUrl, 'https://example.test/o/r.git');
    assert.ok(!JSON.stringify(view).includes('s3cr3t'));
  });
});
