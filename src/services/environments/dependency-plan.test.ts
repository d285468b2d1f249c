// What an install without a lockfile may take out of the checkout afterwards: the lockfile it
// wrote, unless the manager's tools need it there (Yarn Berry finds its project by it, Go builds
// need go.sum).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type EnvSpec, emptySpec } from '../../detect/env-spec.js';
import { installPlans } from './dependency-plan.js';

function spec(manager: EnvSpec['packageManagers'][number], command: string): EnvSpec {
  return {
    ...emptySpec(),
    packageManagers: [manager],
    setup: [{ command, toolchain: manager.toolchain, source: { file: 'package.json' } }],
  };
}

describe('install plans', () => {
  it('moves a written pnpm, bundler or cargo lockfile out of the checkout, in a subdirectory too', () => {
    const [pnpm] = installPlans(
      spec(
        { name: 'pnpm', toolchain: 'node', source: { file: 'web/package.json' } },
        'cd web && pnpm install',
      ),
    );
    assert.deepEqual(pnpm?.writtenLockfiles, ['web/pnpm-lock.yaml']);
    assert.deepEqual(pnpm?.manifests, [
      'web/package.json',
      'web/.npmrc',
      'web/pnpm-workspace.yaml',
      'web/.pnpmfile.cjs',
    ]);
    const [bundler] = installPlans(
      spec({ name: 'bundler', toolchain: 'ruby', source: { file: 'Gemfile' } }, 'bundle install'),
    );
    assert.deepEqual(bundler?.writtenLockfiles, ['Gemfile.lock']);
    const [cargo] = installPlans(
      spec({ name: 'cargo', toolchain: 'rust', source: { file: 'Cargo.toml' } }, 'cargo fetch'),
    );
    assert.deepEqual(cargo?.writtenLockfiles, ['Cargo.lock']);
  });

  it('leaves what yarn, go and pip write where their tools look for it', () => {
    for (const [manager, toolchain, command] of [
      ['yarn', 'node', 'yarn install'],
      ['go', 'go', 'go mod download'],
      ['pip', 'python', 'pip install -r requirements.txt'],
    ] as const) {
      const [plan] = installPlans(spec({ name: manager, toolchain, source: { file: 'x' } }, command));
      assert.deepEqual(plan?.writtenLockfiles, [], manager);
    }
  });
});
