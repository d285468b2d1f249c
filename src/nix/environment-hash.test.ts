import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type EnvSpec, emptySpec } from '../detect/env-spec.js';
import { environmentHash } from './environment-hash.js';
import { generateFlake } from './generate-flake.js';

function nodeSpec(major: string, line = 1): EnvSpec {
  return {
    ...emptySpec(),
    toolchains: [{ name: 'node', version: major, resolution: 'exact', source: { file: '.nvmrc', line } }],
    packageManagers: [
      { name: 'pnpm', toolchain: 'node', version: '10.1.0', source: { file: 'package.json', line } },
    ],
    services: [{ name: 'postgres', version: '16', source: { file: 'compose.yml', line: line + 4 } }],
    env: [
      { name: 'PORT', value: '3000', secret: false, source: { file: '.env.example', line } },
      { name: 'TOKEN', value: null, secret: true, source: { file: '.env.example', line: line + 1 } },
    ],
  };
}

function nixHash(spec: EnvSpec): string {
  const { content, lock } = generateFlake(spec);
  return environmentHash({ spec, provider: 'nix', flake: { content, lock } });
}

describe('environmentHash', () => {
  it('is the same for the same build inputs', () => {
    assert.equal(nixHash(nodeSpec('24')), nixHash(nodeSpec('24')));
    assert.match(nixHash(nodeSpec('24')), /^[0-9a-f]{64}$/);
  });

  it('does not change when a fact merely moves to another line or file', () => {
    const moved = nodeSpec('24', 7);
    const first = moved.toolchains[0];
    if (first) moved.toolchains[0] = { ...first, source: { file: '.node-version' } };
    assert.equal(nixHash(moved), nixHash(nodeSpec('24')));
  });

  it('does not depend on the order detectors listed things in', () => {
    const a = nodeSpec('24');
    const b = { ...a, services: [...a.services, { name: 'redis', version: null, source: { file: 'x' } }] };
    const c = { ...b, services: [...b.services].reverse() };
    assert.equal(nixHash(b), nixHash(c));
  });

  it('changes with a different Node major, package manager version or service version', () => {
    const base = nixHash(nodeSpec('24'));
    assert.notEqual(nixHash(nodeSpec('22')), base);
    const pm = nodeSpec('24');
    pm.packageManagers = pm.packageManagers.map((p) => ({ ...p, version: '9.0.0' }));
    assert.notEqual(nixHash(pm), base);
    const svc = nodeSpec('24');
    svc.services = svc.services.map((s) => ({ ...s, version: '17' }));
    assert.notEqual(nixHash(svc), base);
  });

  it("changes when a repository's own flake.lock changes, and between providers", () => {
    const spec = { ...emptySpec(), flake: { present: true as const, file: 'flake.nix' as const } };
    const flake = { content: '{ outputs = _: {}; }', lock: '{"version":7}' };
    const h = environmentHash({ spec, provider: 'nix', flake });
    assert.notEqual(
      environmentHash({ spec, provider: 'nix', flake: { ...flake, lock: '{"version":7} ' } }),
      h,
    );
    assert.notEqual(environmentHash({ spec, provider: 'host', flake }), h);
  });

  it('leaves secret variables out: adding one does not change the hash', () => {
    const a = nodeSpec('24');
    const b = nodeSpec('24');
    b.env = [...b.env, { name: 'DB_PASSWORD', value: null, secret: true, source: { file: '.env.example' } }];
    assert.equal(nixHash(a), nixHash(b));
  });
});
