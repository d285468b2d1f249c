// What a workspace runs with: the detected environment built (or reused) for its hash, its
// dependencies installed once per lockfile, its services started inside the sandbox, and every
// problem shown on its step while the workspace stays usable.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Workspace as WireWorkspace } from '../../src/wire/workspaces.js';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { writeHelloFlake } from '../support/nix-fixtures.js';
import {
  createAndWaitRunning,
  openTerminal,
  startTestServer,
  type TestServer,
  waitForStatus,
} from '../support/nixspace-server.js';

type Workspace = WireWorkspace<{
  hash: string;
  provider: string;
  reproducible: boolean;
  cached: boolean;
  report: { name: string; status: string; message: string }[];
  diagnostics: { severity: string; message: string; file?: string; line?: number }[];
  installs: { label: string; result: string }[];
  services: { name: string; status: string; version: string | null }[];
}>;

const hostNodeMajor = process.versions.node.split('.')[0]!;

/** A Node project whose one dependency is a local package, so `npm ci` needs no registry. */
function nodeProject(nvmrc: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    '.nvmrc': `${nvmrc}\n`,
    'package.json': JSON.stringify({
      name: 'app',
      version: '1.0.0',
      dependencies: { 'local-lib': 'file:lib' },
    }),
    'package-lock.json': JSON.stringify({
      name: 'app',
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': { name: 'app', version: '1.0.0', dependencies: { 'local-lib': 'file:lib' } },
        lib: { name: 'local-lib', version: '1.0.0' },
        'node_modules/local-lib': { resolved: 'lib', link: true },
      },
    }),
    'lib/package.json': JSON.stringify({ name: 'local-lib', version: '1.0.0', main: 'index.js' }),
    'lib/index.js': "module.exports = 'local-lib works';\n",
    ...extra,
  };
}

describe('workspace environments', () => {
  let git: GitHttpServer;
  let server: TestServer;

  before(async () => {
    git = await startGitHttpServer();
    await makeRepo(git.root, 'node-app.git', { files: nodeProject(hostNodeMajor) });
    await makeRepo(git.root, 'broken-install.git', {
      files: {
        'package.json': JSON.stringify({
          name: 'broken',
          version: '1.0.0',
          dependencies: { gone: 'file:missing' },
        }),
        'package-lock.json': JSON.stringify({
          name: 'broken',
          lockfileVersion: 3,
          requires: true,
          packages: {
            '': { name: 'broken', dependencies: { gone: 'file:missing' } },
            'node_modules/gone': { resolved: 'missing', link: true },
          },
        }),
      },
    });
    await makeRepo(git.root, 'malformed.git', {
      files: { 'package.json': '{\n  "name": "x",\n  "version": 1,,\n}\n' },
    });
    await makeRepo(git.root, 'with-services.git', {
      files: {
        'docker-compose.yml': 'services:\n  db:\n    image: postgres:15\n  cache:\n    image: redis:7\n',
      },
    });
    server = await startTestServer();
  });

  after(async () => {
    await server?.close();
    await git?.close();
  });

  const createAndWait = (name: string) => createAndWaitRunning<Workspace>(server, git.url(name));

  const step = (ws: Workspace, name: string) => ws.steps.find((s) => s.name === name)!;

  it('installs dependencies once per lockfile and restores them for the next workspace', async () => {
    const first = await createAndWait('node-app.git');
    assert.match(step(first, 'detect').detail ?? '', new RegExp(`node ${hostNodeMajor} \\(npm\\)`));
    assert.equal(first.environment?.provider, 'host');
    assert.equal(first.environment?.reproducible, false, 'host toolchains are not reproducible');
    assert.deepEqual(
      first.environment?.installs.map((i) => [i.label, i.result]),
      [['npm ci', 'installed']],
    );
    const terminal = await openTerminal(server, first.id);
    terminal.type(`node -p "require('local-lib') + ' on ' + process.version"\r`);
    await terminal.waitFor((t) => t.output.includes(`local-lib works on v${hostNodeMajor}`));
    terminal.close();

    const second = await createAndWait('node-app.git');
    assert.equal(second.environment?.hash, first.environment?.hash, 'same spec, same environment');
    assert.deepEqual(
      second.environment?.installs.map((i) => [i.label, i.result]),
      [['npm ci', 'cached']],
    );
    assert.match(step(second, 'install').detail ?? '', /cached/);
    const again = await openTerminal(server, second.id);
    again.type(`node -p "require('local-lib')"\r`);
    await again.waitFor((t) => t.output.includes('local-lib works\r'));
    again.close();
  });

  it('keeps the workspace usable when the dependency install fails, with the log on the step', async () => {
    const ws = await createAndWait('broken-install.git');
    const install = step(ws, 'install');
    assert.equal(install.status, 'failed');
    assert.match(install.detail ?? '', /npm ci.*failed/);
    assert.ok(
      (install.log ?? []).some((line) => /missing|ENOENT|npm (ERR|error)/i.test(line)),
      JSON.stringify(install.log),
    );
    const terminal = await openTerminal(server, ws.id);
    terminal.type('echo usable-$((1+1))\r');
    await terminal.waitFor((t) => t.output.includes('usable-2'));
    terminal.close();
  });

  it('names the file and line of a malformed manifest and still starts the workspace', async () => {
    const ws = await createAndWait('malformed.git');
    const problem = ws.environment?.diagnostics.find((d) => d.file === 'package.json');
    assert.ok(problem, JSON.stringify(ws.environment?.diagnostics));
    assert.equal(problem.line, 3);
    assert.match(step(ws, 'detect').detail ?? '', /problem/);
  });

  it('starts the services a repository needs inside its sandbox and exports their settings', async () => {
    const ws = await createAndWait('with-services.git');
    const services = Object.fromEntries((ws.environment?.services ?? []).map((s) => [s.name, s]));
    assert.equal(services.postgres?.status, 'running', JSON.stringify(ws.environment?.services));
    assert.equal(services.redis?.status, 'running', JSON.stringify(ws.environment?.services));
    const terminal = await openTerminal(server, ws.id);
    terminal.type(
      `psql "$DATABASE_URL" -Atc "select 40+2 || ':' || current_database()" && redis-cli -u "$REDIS_URL" ping\r`,
    );
    // The database is named after the repository (with-services.git → with_services).
    await terminal.waitFor(
      (t) => /(^|[^0-9])42:with_services\r\n/.test(t.output) && t.output.includes('PONG'),
      20_000,
    );
    terminal.close();
    // Their data lives under the workspace.
    const dataDir = join(server.dataDir, 'workspaces', ws.id, '.nixspace', 'services');
    assert.ok(
      (await readFile(join(dataDir, 'postgres-15', 'data', 'PG_VERSION'), 'utf8').catch(() => '')).startsWith(
        '15',
      ),
    );
  });
});

describe('a repository that brings its own flake', () => {
  let git: GitHttpServer;
  let server: TestServer;
  let flakeDir: string;

  before(async () => {
    git = await startGitHttpServer();
    flakeDir = await mkdtemp(join(tmpdir(), 'nixspace-own-flake-'));
    await writeHelloFlake(flakeDir, 'hello-from-the-repos-flake');
    const flake = await readFile(join(flakeDir, 'flake.nix'), 'utf8');
    await makeRepo(git.root, 'flake-app.git', { files: { 'flake.nix': flake } });
    await makeRepo(git.root, 'broken-flake.git', {
      files: { 'flake.nix': '{\n  outputs = { self }: {\n    devShells = ;\n  };\n}\n' },
    });
    await makeRepo(git.root, 'old-node.git', {
      files: { '.nvmrc': '16\n', 'package.json': '{"name":"old","version":"1.0.0"}' },
    });
    // Nix builds the repo's flake for real; offline, because this machine has no binary cache.
    server = await startTestServer({ config: { environmentProvider: 'nix', nixOffline: true } });
  });

  after(async () => {
    await server?.close();
    await git?.close();
    await rm(flakeDir, { recursive: true, force: true });
  });

  it('builds it with Nix, activates it in the terminal, and reuses the build for the next workspace', async () => {
    const create = async () => {
      const created = await server.api<Workspace>('/api/workspaces', {
        method: 'POST',
        body: { repoUrl: git.url('flake-app.git') },
      });
      return (await waitForStatus(
        server,
        created.body.id,
        ['running', 'failed'],
        120_000,
      )) as unknown as Workspace;
    };
    const first = await create();
    assert.equal(first.status, 'running', JSON.stringify(first.steps));
    assert.equal(first.environment?.provider, 'nix');
    assert.equal(first.environment?.reproducible, true);
    const terminal = await openTerminal(server, first.id);
    terminal.type('hello\r');
    await terminal.waitFor((t) => t.output.includes('hello-from-the-repos-flake\r'));
    terminal.close();

    const second = await create();
    assert.equal(second.environment?.hash, first.environment?.hash);
    assert.equal(second.environment?.cached, true, 'the second workspace reuses the build');
    assert.match(step(second, 'build').detail ?? '', /reused/);
  });

  it("shows a flake that fails to evaluate on the build step, with Nix's log, and keeps the workspace usable", async () => {
    const created = await server.api<Workspace>('/api/workspaces', {
      method: 'POST',
      body: { repoUrl: git.url('broken-flake.git') },
    });
    const ws = (await waitForStatus(
      server,
      created.body.id,
      ['running', 'failed'],
      120_000,
    )) as unknown as Workspace;
    assert.equal(ws.status, 'running');
    const build = step(ws, 'build');
    assert.equal(build.status, 'failed');
    assert.ok(
      (build.log ?? []).some((line) => /flake\.nix|syntax error|unexpected/i.test(line)),
      JSON.stringify(build),
    );
    const terminal = await openTerminal(server, ws.id);
    terminal.type('cat flake.nix | wc -l\r');
    await terminal.waitFor((t) => /(^|\s)5\r\n/.test(t.output));
    terminal.close();
  });

  it('names a toolchain version nixpkgs cannot supply, with the file that asked for it', async () => {
    const created = await server.api<Workspace>('/api/workspaces', {
      method: 'POST',
      body: { repoUrl: git.url('old-node.git') },
    });
    const ws = (await waitForStatus(
      server,
      created.body.id,
      ['running', 'failed'],
      120_000,
    )) as unknown as Workspace;
    assert.equal(ws.status, 'running');
    const build = step(ws, 'build');
    assert.equal(build.status, 'failed');
    assert.match(build.detail ?? '', /node 16/i);
    assert.match(build.detail ?? '', /\.nvmrc/);
  });

  const step = (ws: Workspace, name: string) => ws.steps.find((s) => s.name === name)!;
});
