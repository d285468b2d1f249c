import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PackageManager, Toolchain } from '../detect/env-spec.js';
import { newestRelease, nodeWant, packageManagerWant } from './registry-releases.js';

const releases = [
  '18.20.8',
  '20.11.0',
  '20.20.2',
  '22.0.0',
  '22.12.0',
  '22.23.3',
  '24.0.0-rc.1',
  '24.1.0',
  '24.21.0',
  '26.10.0',
];

function node(version: string, resolution: Toolchain['resolution'], requested?: string): Toolchain {
  return {
    name: 'node',
    version,
    resolution,
    ...(requested ? { requested } : {}),
    source: { file: '.nvmrc' },
  };
}

function pm(
  name: PackageManager['name'],
  version?: string,
  variant?: PackageManager['variant'],
): PackageManager {
  return {
    name,
    toolchain: 'node',
    ...(version ? { version } : {}),
    ...(variant ? { variant } : {}),
    source: { file: 'package.json' },
  };
}

describe('choosing a release from the npm registry', () => {
  it('takes the newest release of the major an .nvmrc names', () => {
    assert.equal(newestRelease(releases, nodeWant(node('22', 'exact')).accepts), '22.23.3');
  });

  it('takes an exact pin as it is', () => {
    assert.equal(newestRelease(releases, nodeWant(node('20.11.0', 'exact')).accepts), '20.11.0');
  });

  it('keeps an engines range inside the line detection chose, never a prerelease', () => {
    // engines ">=22" resolved to line 24: the newest 24.x, not 26.x (what Nix would build too).
    const want = nodeWant(node('24', 'range', '>=22'));
    assert.equal(newestRelease(releases, want.accepts), '24.21.0');
    assert.equal(want.asked, '>=22');
    assert.equal(newestRelease(['24.0.0-rc.1'], want.accepts), undefined);
  });

  it('honours an upper bound of the range inside the line', () => {
    assert.equal(newestRelease(releases, nodeWant(node('22', 'range', '>=20 <22.20')).accepts), '22.12.0');
  });

  it('finds nothing when no release matches', () => {
    assert.equal(newestRelease(releases, nodeWant(node('19', 'exact')).accepts), undefined);
  });

  it('fetches pnpm and yarn from the packages that carry them, unpinned only yarn classic', () => {
    assert.deepEqual(
      [
        pm('pnpm', '9.15.0'),
        pm('yarn', '1.22.22'),
        pm('yarn', '4.5.0'),
        pm('yarn', undefined, 'berry'),
        pm('yarn'),
      ].map((p) => packageManagerWant(p)?.npmName),
      ['pnpm', 'yarn', '@yarnpkg/cli-dist', undefined, 'yarn'],
    );
    assert.equal(packageManagerWant(pm('npm', '10.0.0')), undefined, 'npm comes with Node');
    assert.equal(packageManagerWant(pm('pnpm')), undefined, 'the newest pnpm may not run on this Node');
    assert.equal(
      newestRelease(['9.15.0', '9.15.1', '10.0.0'], packageManagerWant(pm('pnpm', '9.15.0'))!.accepts),
      '9.15.0',
    );
    assert.equal(
      newestRelease(['1.22.19', '1.22.22', '4.5.0'], packageManagerWant(pm('yarn'))!.accepts),
      '1.22.22',
    );
  });
});
