// The one failure and cancel path of the pipelines, over a real store: a failed step marks the
// workspace as the pipeline's policy says with the reason and the step, a cancel stops it at the
// next step with the cancel's reason, and a failure that cannot even be recorded is logged.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startTestWorkspaces, type TestWorkspaces } from '../../../test/support/workspace-service.js';
import { NixSpaceError } from '../../errors.js';
import type { StepRecord } from '../../store/schema.js';
import { findWorkspace, insertWorkspace } from '../../store/workspace-queries.js';
import { creationFailure } from './create-pipeline.js';
import type { FailurePolicy } from './step-runner.js';
import { switchFailure } from './switch-pipeline.js';
import { WorkspaceContext } from './workspace-context.js';
import { pendingSteps } from './workspace-view.js';

describe('StepRunner', () => {
  let t: TestWorkspaces;
  let ctx: WorkspaceContext;
  let id: string;

  before(async () => {
    t = await startTestWorkspaces();
    ctx = new WorkspaceContext(t.options);
  });

  after(async () => {
    await t?.close();
  });

  beforeEach(async () => {
    t.logs.length = 0;
    const row = await insertWorkspace(t.store.db, {
      id: crypto.randomUUID(),
      ownerId: t.owner.id,
      name: 'owner/app',
      repoUrl: 'https://example.test/owner/app.git',
      ref: null,
      steps: pendingSteps(),
      createdAt: new Date(),
      expiresAt: null,
    });
    id = row.id;
  });

  const stored = async () => (await findWorkspace(t.store.db, id))!;
  const step = (steps: unknown, name: string) => (steps as StepRecord[]).find((s) => s.name === name)!;
  const done = async () => ({ value: undefined, detail: 'done' });

  it('marks the workspace as the policy says, with the reason and the step that failed', async () => {
    const runner = ctx.runner(id, pendingSteps(), new AbortController().signal);
    let cleaned = 0;
    const policy: FailurePolicy = { what: 'creation', status: 'failed', cleanup: async () => void cleaned++ };
    const seen: string[] = [];
    const unsubscribe = ctx.events.listen(id, (event) => {
      if (event.type === 'workspace') seen.push(event.workspace.status);
    });
    await runner.pipeline(async () => {
      await runner.run('resolve', 'fetching', done);
      await runner.run('fetch', 'fetching', async () => {
        throw new NixSpaceError('GIT_FAILED', 'The mirror of owner/app is gone');
      });
      await runner.run('checkout', 'fetching', done);
    }, policy);
    unsubscribe();

    const row = await stored();
    assert.equal(row.status, 'failed');
    assert.deepEqual(row.error, {
      code: 'GIT_FAILED',
      message: 'The mirror of owner/app is gone',
      step: 'fetch',
    });
    assert.equal(step(row.steps, 'resolve').status, 'done');
    assert.equal(step(row.steps, 'fetch').status, 'failed');
    assert.notEqual(step(row.steps, 'fetch').finishedAt, null);
    assert.equal(step(row.steps, 'checkout').status, 'pending');
    assert.equal(cleaned, 1);
    // Subscribers saw it fail.
    assert.equal(seen.at(-1), 'failed');
    // An expected failure (a NixSpaceError) is the workspace's, not the server's: nothing is logged.
    assert.equal(t.logs.filter((l) => l.level >= 50).length, 0);
  });

  it('logs an unexpected error and records it without its internals', async () => {
    const runner = ctx.runner(id, pendingSteps(), new AbortController().signal);
    await runner.pipeline(
      async () => {
        await runner.run('resolve', 'fetching', async () => {
          throw new TypeError('cannot read properties of undefined');
        });
      },
      creationFailure(ctx, id),
    );

    const row = await stored();
    assert.equal(row.status, 'failed');
    assert.equal((row.error as { code: string }).code, 'INTERNAL');
    assert.equal((row.error as { step: string }).step, 'resolve');
    const logged = t.logs.find((l) => l.msg === 'workspace creation failed');
    assert.equal(logged?.workspace, id);
    assert.equal(logged?.err?.message, 'cannot read properties of undefined');
  });

  it('stops a cancelled pipeline at its next step, recording why it was cancelled', async () => {
    const abort = new AbortController();
    const runner = ctx.runner(id, pendingSteps(), abort.signal);
    let fetched = false;
    await runner.pipeline(
      async () => {
        await runner.run('resolve', 'fetching', async () => {
          abort.abort(new NixSpaceError('INTERRUPTED', 'The workspace was deleted while being created'));
          return { value: undefined, detail: 'main → 0123456789ab' };
        });
        await runner.run('fetch', 'fetching', async () => {
          fetched = true;
          return { value: undefined, detail: 'fetched' };
        });
      },
      creationFailure(ctx, id),
    );

    assert.equal(fetched, false);
    const row = await stored();
    assert.equal(row.status, 'failed');
    assert.deepEqual(row.error, {
      code: 'INTERRUPTED',
      message: 'The workspace was deleted while being created',
    });
    assert.equal(step(row.steps, 'resolve').status, 'done');
    assert.equal(step(row.steps, 'fetch').status, 'pending');
  });

  it('records the cancel, not what the cancelled work threw, as the reason', async () => {
    const abort = new AbortController();
    const runner = ctx.runner(id, pendingSteps(), abort.signal);
    await runner.pipeline(
      async () => {
        await runner.run('build', 'building', async () => {
          abort.abort(new NixSpaceError('INTERRUPTED', 'NixSpace is shutting down'));
          throw new Error('the build process was killed');
        });
      },
      switchFailure(ctx, id),
    );

    const row = await stored();
    // A switch keeps its files: it ends stopped, with the reason, to start again.
    assert.equal(row.status, 'stopped');
    assert.deepEqual(row.error, { code: 'INTERRUPTED', message: 'NixSpace is shutting down', step: 'build' });
    assert.equal(step(row.steps, 'build').status, 'failed');
    assert.equal(t.logs.filter((l) => l.level >= 50).length, 0);
  });

  it('logs a failed switch whose failure cannot be recorded, with the reason', async () => {
    const runner = ctx.runner(id, pendingSteps(), new AbortController().signal);
    await runner.pipeline(
      async () => {
        await runner.run('detect', 'switching', async () => {
          // The row goes while the switch runs: the failure has nowhere to be written.
          await t.store.db.deleteFrom('workspaces').where('id', '=', id).execute();
          throw new NixSpaceError('ENVIRONMENT_BUILD_FAILED', 'nixspace.toml does not parse');
        });
      },
      switchFailure(ctx, id),
    );

    const logged = t.logs.find((l) => l.msg === 'could not record the failed switch');
    assert.ok(logged, `logged: ${JSON.stringify(t.logs.map((l) => l.msg))}`);
    assert.equal(logged.level, 50);
    assert.equal(logged.workspace, id);
    assert.deepEqual(logged.failure, {
      code: 'ENVIRONMENT_BUILD_FAILED',
      message: 'nixspace.toml does not parse',
      step: 'detect',
    });
  });
});
