// Toolchains without Nix: a repository that pins a Node (and a pnpm) the host does not have gets
// that exact release from the npm registry, first on PATH inside its sandbox and marked pinned;
// a range the host satisfies fetches nothing; a tool nobody can supply says why Nix was not used
// and how to get it. The releases land in the per-machine cache (NIXSPACE_TOOLCHAINS_DIR, default
// ~/.cache/nixspace/toolchains), so the suite fetches each one once per machine.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findOnPath } from '../../src/nix/version-probe.js';
import { makeRepo } from '../support/git-fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import {
  createAndWaitRunning,
  openTerminal,
  startTestServer,
  type TestServer,
  waitForStatus,
} from '../support/nixspace-server.js';

interface ReportEntry {
  name: string;
  status: string;
  wanted: string | null;
  requested?: string;
  provided: string | null;
  origin?: string;
  message: string;
  hint?: string;
}
interface Workspace {
  id: string;
  status: string;
  steps: { name: string; status: string; detail: string | null }[];
  environment: {
    provider: string;
    reproducible: boolean;
    reproducibility: string;
    fallback: { cause: string; detail: string; message: string } | null;
    report: ReportEntry[];
  } | null;
}

const hostNodeMajor = Number(process.versions.node.split('.')[0]);
/** A Node major the host does not have (22 on this machine's Node 20). */
const pinnedMajor = hostNodeMajor === 22 ? 24 : 22;

const createAndWait = (server: TestServer, repoUrl: string) =>
  createAndWaitRunning<Workspace>(server, repoUrl, 240_000);

const entry = (ws: Workspace, name: string) => ws.environment?.report.find((e) => e.name === name);

describe('toolchains from the npm registry, without Nix', () => {
  let git: GitHttpServer;
  let server: TestServer;

  before(async () => {
    git = await startGitHttpServer();
    await makeRepo(git.root, 'pinned-node.git', {
      files: {
        '.nvmrc': `${pinnedMajor}\n`,
        'package.json': JSON.stringify({ name: 'pinned', version: '1.0.0', packageManager: 'pnpm@9.15.0' }),
      },
    });
    await makeRepo(git.root, 'node-range.git', {
      files: {
        'package.json': JSON.stringify({
          name: 'ranged',
          version: '1.0.0',
          engines: { node: `>= ${hostNodeMajor - 2}` },
        }),
      },
    });
    server = await startTestServer();
  });

  after(async () => {
    await server?.close();
    await git?.close();
  });

  it('runs the pinned Node and pnpm in the shell, from a read-only cache, and marks the environment pinned', async () => {
    const ws = await createAndWait(server, git.url('pinned-node.git'));
    assert.equal(ws.environment?.provider, 'registry');
    assert.equal(ws.environment?.reproducibility, 'pinned');
    assert.equal(ws.environment?.reproducible, false);
    const node = entry(ws, 'node');
    assert.equal(node?.status, 'ok', JSON.stringify(ws.environment?.report));
    assert.equal(node?.origin, 'registry');
    assert.match(node?.provided ?? '', new RegExp(`^${pinnedMajor}\\.\\d+\\.\\d+$`));
    assert.equal(entry(ws, 'pnpm')?.provided, '9.15.0');
    assert.match(
      ws.steps.find((s) => s.name === 'build')?.detail ?? '',
      /registry, pinned toolchain \(npm registry\)/,
    );

    const terminal = await openTerminal(server, ws.id);
    terminal.type('echo "node=$(node --version) pnpm=$(pnpm --version)"\r');
    await terminal.waitFor((t) => t.output.includes(`node=v${node?.provided} pnpm=9.15.0`), 30_000);
    // The cache is shown to the sandbox read-only: a workspace cannot change another's Node.
    terminal.type('touch "$(dirname "$(command -v node)")/x" 2>/dev/null || echo cache-read-only\r');
    await terminal.waitFor((t) => t.output.includes('cache-read-only\r'));
    terminal.close();

    // Started again, it runs with the same pinned release.
    await server.api(`/api/workspaces/${ws.id}/stop`, { method: 'POST' });
    await waitForStatus(server, ws.id, ['stopped']);
    await server.api(`/api/workspaces/${ws.id}/start`, { method: 'POST' });
    await waitForStatus(server, ws.id, ['running']);
    const again = await openTerminal(server, ws.id);
    again.type('echo "again=$(node --version)"\r');
    await again.waitFor((t) => t.output.includes(`again=v${node?.provided}`), 30_000);
    again.close();
  });

  it('uses the host Node when it satisfies the range, and shows the range', async () => {
    const ws = await createAndWait(server, git.url('node-range.git'));
    assert.equal(ws.environment?.provider, 'host');
    assert.equal(ws.environment?.reproducibility, 'none');
    const node = entry(ws, 'node');
    assert.deepEqual(
      { status: node?.status, requested: node?.requested, provided: node?.provided, origin: node?.origin },
      { status: 'ok', requested: `>= ${hostNodeMajor - 2}`, provided: process.versions.node, origin: 'host' },
    );
  });
});

describe('a tool nobody here can supply', () => {
  let git: GitHttpServer;
  let server: TestServer;

  before(async () => {
    git = await startGitHttpServer();
    await makeRepo(git.root, 'go-app.git', {
      files: {
        'go.mod': 'module example.com/app\n\ngo 1.23\n',
        'main.go': 'package main\n\nfunc main() {}\n',
      },
    });
    // The real choice of this machine: Nix is installed, nixpkgs cannot be fetched.
    server = await startTestServer({ config: { environmentProvider: 'auto' } });
  });

  after(async () => {
    await server?.close();
    await git?.close();
  });

  it('says why Nix was not used and how to get the missing tool, in REST and GraphQL', async (t) => {
    const ws = await createAndWait(server, git.url('go-app.git'));
    if (ws.environment?.provider === 'nix') return t.skip('this machine can fetch nixpkgs: Nix supplies Go');
    if (findOnPath('go', process.env.PATH ?? '')) return t.skip('this machine has Go installed');
    assert.equal(ws.environment?.fallback?.cause, 'nixpkgs', JSON.stringify(ws.environment));
    assert.ok(ws.environment?.fallback?.detail, 'the actual error of Nix');
    assert.match(ws.environment?.fallback?.message ?? '', /^Nix was not used: nixpkgs .* cannot be obtained/);
    const go = entry(ws, 'go');
    assert.equal(go?.status, 'missing');
    assert.equal(
      go?.hint,
      'Go 1.23 is not on this machine and Nix cannot fetch nixpkgs: install golang-go, or let this server reach nixpkgs',
    );
    assert.match(ws.steps.find((s) => s.name === 'build')?.detail ?? '', /Go 1\.23 is not on this machine/);

    const answer = await server.graphql<{
      getEnvironment: {
        environment: {
          reproducibility: string;
          fallbackReason: string;
          tools: { name: string; hint: string | null }[];
        };
      };
    }>(
      'query($id: ID!) { getEnvironment(id: $id) { environment { reproducibility fallbackReason tools { name hint } } } }',
      { id: ws.id },
    );
    assert.equal(answer.errors, undefined, JSON.stringify(answer.errors));
    const environment = answer.data?.getEnvironment.environment;
    assert.equal(environment?.reproducibility, 'none');
    assert.equal(environment?.fallbackReason, ws.environment?.fallback?.message);
    assert.equal(environment?.tools.find((tool) => tool.name === 'go')?.hint, go.hint);
  });
});
