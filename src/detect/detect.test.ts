import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { detectDirectory, detectEnvironment } from './detect.js';
import { corpusRepoFiles, memoryRepoFiles } from './repo-files.js';

describe('detectEnvironment', () => {
  it('runs every detector: a Rails app with a JS bundle and a flake needs Ruby, Node and Postgres', async () => {
    const { spec } = await detectEnvironment(
      memoryRepoFiles({
        Gemfile: 'gem "rails"\ngem "pg"\n',
        '.ruby-version': '4.0.3',
        'package.json': '{"name":"x"}',
        'package-lock.json': '{}',
        '.nvmrc': 'lts/krypton',
        'flake.nix': '{ outputs = { self }: { }; }',
      }),
    );
    assert.deepEqual(
      spec.toolchains.map((t) => `${t.name}@${t.version}`),
      ['node@24', 'ruby@4.0.3'],
    );
    assert.deepEqual(
      spec.services.map((s) => s.name),
      ['postgres'],
    );
    assert.deepEqual(spec.flake, { present: true, file: 'flake.nix' });
    assert.deepEqual(
      spec.setup.map((s) => s.command),
      ['npm ci', 'bundle install'],
    );
  });

  it('returns an empty spec and no crash for a repository with nothing to detect', async () => {
    const { spec, diagnostics } = await detectEnvironment(memoryRepoFiles({ 'README.md': '# hi' }));
    assert.equal(spec.toolchains.length, 0);
    assert.deepEqual(diagnostics, []);
  });

  it('survives garbage in every manifest, reporting each one', async () => {
    const { diagnostics } = await detectEnvironment(
      memoryRepoFiles({
        'package.json': '{{{',
        'pyproject.toml': '[[[',
        'Cargo.toml': '= =',
        'docker-compose.yml': 'services: [',
        'app.json': 'nope',
        Gemfile: 'ruby "banana"\n',
        'go.mod': 'go banana\n',
      }),
    );
    const files = new Set(diagnostics.filter((d) => d.code === 'malformed-manifest').map((d) => d.file));
    assert.deepEqual([...files].sort(), [
      'Cargo.toml',
      'app.json',
      'docker-compose.yml',
      'package.json',
      'pyproject.toml',
    ]);
    assert.ok(!diagnostics.some((d) => d.code === 'detector-failed'));
  });

  it('knows from a corpus listing that a flake and a Makefile exist without their content', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nixspace-detect-'));
    try {
      await writeFile(join(dir, 'Cargo.toml'), '[package]\nname = "x"\n');
      const listing =
        '## root entries (all, whether or not saved)\nfile  Cargo.toml\nfile  Makefile\nfile  flake.nix\ndir   src/\n\n## saved in full\nCargo.toml\n';
      await writeFile(join(dir, 'ROOT_LISTING.txt'), listing);
      const direct = await detectEnvironment(corpusRepoFiles(dir, listing));
      const opened = await detectDirectory(dir);
      for (const { spec } of [direct, opened]) {
        assert.deepEqual(spec.flake, { present: true, file: 'flake.nix' });
        assert.deepEqual(
          spec.jobs.map((j) => j.command),
          ['make'],
        );
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('finds a second toolchain that lives only in a subdirectory of a checkout', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nixspace-detect-'));
    try {
      const { mkdir } = await import('node:fs/promises');
      await writeFile(join(dir, 'pyproject.toml'), '[project]\nname = "x"\n');
      await mkdir(join(dir, 'src-ui'));
      await writeFile(join(dir, 'src-ui', 'package.json'), '{"packageManager":"pnpm@10.0.0"}');
      await writeFile(join(dir, 'src-ui', 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\n");
      await mkdir(join(dir, 'docs'));
      await writeFile(join(dir, 'docs', 'Gemfile'), 'gem "jekyll"\n');
      const { spec } = await detectDirectory(dir);
      assert.deepEqual(
        spec.toolchains.map((t) => `${t.name}:${t.source.file}`),
        ['node:src-ui/package.json', 'python:pyproject.toml'],
      );
      assert.ok(spec.setup.some((s) => s.command === 'cd src-ui && pnpm install --frozen-lockfile'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('puts no subdirectory whose name is shell syntax into a setup command (issue 11)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nixspace-detect-'));
    try {
      const { mkdir } = await import('node:fs/promises');
      await writeFile(join(dir, 'pyproject.toml'), '[project]\nname = "x"\n');
      const odd = 'ui;touch planted';
      await mkdir(join(dir, odd));
      await writeFile(join(dir, odd, 'package.json'), '{"packageManager":"pnpm@10.0.0"}');
      const { spec } = await detectDirectory(dir);
      for (const setup of spec.setup) assert.ok(!setup.command.includes('touch'), setup.command);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
