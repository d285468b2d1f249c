import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson, type EnvSpec, emptySpec, specHash } from './env-spec.js';

function spec(order: 'a' | 'b'): EnvSpec {
  const s = emptySpec();
  const node = {
    name: 'node',
    version: '24',
    resolution: 'alias',
    requested: 'lts/*',
    source: { file: '.nvmrc', line: 1 },
  } as const;
  const ruby = {
    resolution: 'exact',
    source: { file: '.ruby-version' },
    version: '4.0.3',
    name: 'ruby',
  } as const;
  s.toolchains = order === 'a' ? [node, ruby] : [ruby, node];
  const pg = { name: 'postgres', version: '15', source: { file: 'compose.yaml', line: 3 } };
  const redis = { name: 'redis', version: null, source: { file: 'Gemfile', line: 9 } };
  s.services = order === 'a' ? [pg, redis] : [redis, pg];
  return s;
}

describe('EnvSpec', () => {
  it('serialises equal specs to the same canonical JSON and hash, whatever the order of keys and sets', () => {
    assert.equal(canonicalJson(spec('a')), canonicalJson(spec('b')));
    assert.equal(specHash(spec('a')), specHash(spec('b')));
    assert.match(specHash(spec('a')), /^[0-9a-f]{64}$/);
  });

  it('sorts keys and writes schemaVersion 1', () => {
    const json = canonicalJson(emptySpec());
    assert.equal(
      json,
      '{"apps":[],"env":[],"flake":null,"jobs":[],"packageManagers":[],"ports":[],"schemaVersion":1,"services":[],"setup":[],"systemPackages":[],"toolchains":[]}',
    );
  });

  it('keeps setup commands in run order', () => {
    const s = emptySpec();
    s.setup = [
      { command: 'npm ci', toolchain: 'node', source: { file: 'package-lock.json' } },
      { command: 'bundle install', toolchain: 'ruby', source: { file: 'Gemfile' } },
    ];
    const t = { ...s, setup: [...s.setup].reverse() };
    assert.notEqual(specHash(s), specHash(t));
  });

  it('rejects a spec that is not valid', () => {
    assert.throws(() => canonicalJson({ ...emptySpec(), schemaVersion: 2 } as unknown as EnvSpec));
  });
});
