import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type EnvSpec, emptySpec } from '../../detect/env-spec.js';
import { diffSpecs } from './spec-diff.js';

const source = { file: '.nvmrc', line: 1 };

function spec(parts: Partial<EnvSpec>): EnvSpec {
  return { ...emptySpec(), ...parts };
}

describe('diffSpecs', () => {
  const parent = spec({
    toolchains: [{ name: 'node', version: '20', resolution: 'exact', source }],
    services: [{ name: 'postgres', version: '14', source: { file: 'compose.yml' } }],
    env: [{ name: 'API_KEY', value: null, secret: true, source: { file: '.env.example' } }],
  });

  it('names each changed, added and removed fact with its versions', () => {
    const child = spec({
      toolchains: [{ name: 'node', version: '22', resolution: 'exact', source: { file: 'package.json' } }],
      services: [{ name: 'redis', version: '7', source: { file: 'compose.yml' } }],
      env: parent.env,
    });
    const diff = diffSpecs(parent, child);
    assert.deepEqual(diff.changes, [
      { kind: 'toolchain', name: 'node', change: 'changed', from: '20', to: '22' },
      { kind: 'service', name: 'postgres', change: 'removed', from: '14', to: null },
      { kind: 'service', name: 'redis', change: 'added', from: null, to: '7' },
    ]);
    assert.equal(diff.summary, 'node 20 → 22, -postgres 14, +redis 7');
  });

  it('sees no change when only where a fact came from differs', () => {
    const moved = spec({
      ...parent,
      toolchains: [{ name: 'node', version: '20', resolution: 'exact', source: { file: '.tool-versions' } }],
    });
    assert.deepEqual(diffSpecs(parent, moved), { changes: [], summary: 'no changes' });
  });

  it('treats a missing parent as everything added, and never carries a variable value', () => {
    const diff = diffSpecs(null, parent);
    assert.equal(diff.changes.length, 3);
    assert.ok(diff.changes.every((c) => c.change === 'added'));
    assert.equal(diffSpecs(null, spec({})).summary, 'empty environment');
    assert.deepEqual(
      diff.changes.find((c) => c.kind === 'variable'),
      { kind: 'variable', name: 'API_KEY', change: 'added', from: null, to: 'secret' },
    );
  });
});
