import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Toolchain } from '../detect/env-spec.js';
import { resolveService, resolveToolchain } from './nixpkgs-attributes.js';

function t(
  name: Toolchain['name'],
  version: string,
  resolution: Toolchain['resolution'],
  requested?: string,
): Toolchain {
  return { name, version, resolution, source: { file: 'x' }, ...(requested ? { requested } : {}) };
}

function pick(toolchain: Toolchain): string {
  const r = resolveToolchain(toolchain);
  return r.ok ? r.packages.join(' ') : `unsupported: ${r.reason}`;
}

describe('nixpkgs attribute table', () => {
  it('maps exact pins to their own line and refuses lines the pin lacks', () => {
    assert.equal(pick(t('node', '22', 'exact')), 'pkgs.nodejs_22');
    assert.equal(pick(t('python', '3.13.1', 'exact')), 'pkgs.python313');
    assert.equal(pick(t('ruby', '3.3.6', 'exact')), 'pkgs.ruby_3_3');
    assert.match(pick(t('node', '18', 'exact')), /unsupported: node 18 is end-of-life/);
    assert.match(pick(t('python', '3.9', 'exact')), /unsupported: python 3\.9 is end-of-life/);
    assert.match(pick(t('ruby', '4.0.3', 'exact')), /unsupported: nixpkgs nixos-25\.11 stops at 3\.4/);
  });

  it("takes the newest supplied line inside a repo's range", () => {
    assert.equal(pick(t('python', '3.15', 'range', '>=3.10')), 'pkgs.python314');
    assert.equal(pick(t('node', '26', 'range', '^20.19.0 || >=22.12.0')), 'pkgs.nodejs_25');
    assert.match(pick(t('python', '3.15', 'range', '>=3.15')), /unsupported: no line/);
  });

  it('falls back to the newest line when the repo pins nothing, and meets minimums', () => {
    assert.equal(pick(t('ruby', '4.0', 'default')), 'pkgs.ruby_3_4');
    assert.equal(pick(t('python', '3.9', 'minimum')), 'pkgs.python310');
    assert.equal(pick(t('go', '1.15', 'minimum')), 'pkgs.go_1_24');
    assert.match(pick(t('go', '1.26.0', 'minimum')), /unsupported/);
  });

  it('supplies stable Rust for stable, minimums and older pins, not for nightly or newer', () => {
    assert.equal(pick(t('rust', 'stable', 'default')), 'pkgs.rustc pkgs.cargo pkgs.rustfmt pkgs.clippy');
    assert.equal(pick(t('rust', '1.80', 'minimum')), 'pkgs.rustc pkgs.cargo pkgs.rustfmt pkgs.clippy');
    assert.match(pick(t('rust', '1.96', 'minimum')), /unsupported/);
    assert.match(pick(t('rust', 'nightly-2026-01-01', 'exact')), /unsupported: .*rust-overlay/);
  });

  it('maps service versions by major.minor, then major', () => {
    const svc = (name: string, version: string | null) => {
      const r = resolveService({ name, version, source: { file: 'compose.yml' } });
      return r === null ? null : r.ok ? r.packages.join(' ') : 'unsupported';
    };
    assert.equal(svc('postgres', '15.4'), 'pkgs.postgresql_15');
    assert.equal(svc('postgres', null), 'pkgs.postgresql_17');
    assert.equal(svc('postgres', '13'), 'unsupported');
    assert.equal(svc('mysql', '8.0.36'), 'pkgs.mysql80');
    assert.equal(svc('mariadb', '10.11'), 'pkgs.mariadb_1011');
    assert.equal(svc('redis', '7.2'), 'pkgs.redis');
    assert.equal(svc('localstack', null), null);
  });
});
