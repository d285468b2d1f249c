import assert from 'node:assert/strict';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { type EnvSpec, emptySpec } from '../detect/env-spec.js';
import { NixSpaceError } from '../errors.js';
import type { ReportEntry } from './environment-provider.js';
import { HostEnvironmentProvider } from './host-provider.js';
import { RegistryToolchains } from './registry-toolchains.js';
import { selectEnvironmentProvider } from './select-provider.js';

// The host's PATH narrowed to the directory of the node running the tests: node is there for
// sure, ruby for sure is not.
const path = `${dirname(process.execPath)}:/nonexistent-dir`;
const hostNode = process.versions.node;
const hostMajor = hostNode.split('.')[0] ?? '';

function specWith(nodeVersion: string): EnvSpec {
  return {
    ...emptySpec(),
    toolchains: [
      { name: 'node', version: nodeVersion, resolution: 'exact', source: { file: '.nvmrc', line: 1 } },
      { name: 'ruby', version: '3.4', resolution: 'exact', source: { file: '.ruby-version', line: 1 } },
    ],
    env: [
      { name: 'PORT', value: '3000', secret: false, source: { file: '.env.example', line: 1 } },
      { name: 'SECRET_KEY', value: null, secret: true, source: { file: '.env.example', line: 2 } },
    ],
  };
}

async function prepare(spec: EnvSpec) {
  const provider = new HostEnvironmentProvider({ path });
  const plan = await provider.plan(spec, '/nonexistent-repo');
  return provider.prepare(plan, { workDir: await mkdtemp(join(tmpdir(), 'nixspace-host-')) });
}

describe('HostEnvironmentProvider', () => {
  it("reports node as ok when the host's major is the one wanted", async () => {
    const prepared = await prepare(specWith(hostMajor));
    const node = prepared.report.find((r) => r.name === 'node');
    assert.deepEqual(
      { status: node?.status, wanted: node?.wanted, provided: node?.provided, source: node?.source },
      { status: 'ok', wanted: hostMajor, provided: hostNode, source: '.nvmrc:1' },
    );
  });

  it('reports a wanted version the host does not have, and marks the result not reproducible', async () => {
    const wanted = String(Number(hostMajor) + 4);
    const prepared = await prepare(specWith(wanted));
    assert.equal(prepared.provider, 'host');
    assert.equal(prepared.reproducible, false);
    const node = prepared.report.find((r) => r.name === 'node');
    assert.equal(node?.status, 'mismatch');
    assert.equal(node?.message, `node ${wanted} wanted (from .nvmrc), host has ${hostNode}`);
    assert.ok(prepared.log.includes(node.message));
  });

  it('reports a toolchain the host lacks entirely as missing', async () => {
    const prepared = await prepare(specWith(hostMajor));
    const ruby = prepared.report.find((r) => r.name === 'ruby');
    assert.deepEqual(
      { status: ruby?.status, provided: ruby?.provided, message: ruby?.message },
      { status: 'missing', provided: null, message: 'ruby 3.4 wanted (from .ruby-version), host has none' },
    );
  });

  it("gives processes the host PATH and the spec's non-secret variables", async () => {
    const prepared = await prepare(specWith(hostMajor));
    assert.deepEqual(prepared.env, { PATH: path, PORT: '3000' });
  });

  it('judges a range by the range, not by the line detection picked', async () => {
    const spec: EnvSpec = {
      ...emptySpec(),
      toolchains: [
        {
          name: 'node',
          version: '24',
          requested: `>=${hostMajor}`,
          resolution: 'range',
          source: { file: 'package.json' },
        },
      ],
    };
    const prepared = await prepare(spec);
    assert.equal(prepared.report[0]?.status, 'ok');
  });

  it('fetches nothing when the host satisfies the range, and says so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nixspace-toolchains-'));
    const provider = new HostEnvironmentProvider({ path, toolchains: new RegistryToolchains({ dir }) });
    const spec: EnvSpec = {
      ...emptySpec(),
      toolchains: [
        {
          name: 'node',
          version: '24',
          requested: '>= 18',
          resolution: 'range',
          source: { file: 'package.json' },
        },
      ],
    };
    const plan = await provider.plan(spec, '/nonexistent-repo');
    const prepared = await provider.prepare(plan, { workDir: dir });
    assert.deepEqual(pick(prepared.report[0]), {
      status: 'ok',
      wanted: '24',
      requested: '>= 18',
      provided: hostNode,
      origin: 'host',
    });
    assert.equal(prepared.provider, 'host');
    assert.equal(prepared.reproducibility, 'none');
    assert.deepEqual(prepared.readOnlyPaths, []);
    assert.deepEqual(await readdir(dir), [], 'nothing was downloaded');
  });

  it('says why Nix was not used and how to get each missing tool', async () => {
    const provider = new HostEnvironmentProvider({
      path,
      fallback: { cause: 'nixpkgs', detail: 'no route to github.com', message: 'Nix was not used: no route' },
    });
    const spec: EnvSpec = {
      ...emptySpec(),
      toolchains: [
        { name: 'go', version: '1.23', resolution: 'minimum', source: { file: 'go.mod', line: 3 } },
      ],
    };
    const prepared = await provider.prepare(await provider.plan(spec, '/nonexistent-repo'), {
      workDir: await mkdtemp(join(tmpdir(), 'nixspace-host-')),
    });
    assert.equal(prepared.fallback?.detail, 'no route to github.com');
    assert.equal(
      prepared.report[0]?.hint,
      'Go 1.23 is not on this machine and Nix cannot fetch nixpkgs: install golang-go, or let this server reach nixpkgs',
    );
    assert.ok(prepared.log.includes('Nix was not used: no route'));
    assert.ok(prepared.log.includes(prepared.report[0]!.hint!));
  });
});

function pick(entry: ReportEntry | undefined) {
  return {
    status: entry?.status,
    wanted: entry?.wanted,
    requested: entry?.requested,
    provided: entry?.provided,
    origin: entry?.origin,
  };
}

describe('selectEnvironmentProvider', () => {
  it('falls back to the host when nix cannot run, and refuses when nix is forced', async () => {
    const nix = { nix: '/nonexistent/nix' };
    const logs: string[] = [];
    const provider = await selectEnvironmentProvider({ nix, onLog: (l) => logs.push(l) });
    assert.equal(provider.name, 'host');
    assert.equal(provider.reproducible, false);
    assert.match(logs[0] ?? '', /host toolchains, not reproducible \(\/nonexistent\/nix is not installed\)/);
    await assert.rejects(selectEnvironmentProvider({ nix, force: 'nix' }), (error: unknown) => {
      assert.ok(error instanceof NixSpaceError);
      assert.equal(error.code, 'ENVIRONMENT_BUILD_FAILED');
      return true;
    });
  });

  it('uses the host when told to, without probing nix', async () => {
    const provider = await selectEnvironmentProvider({ force: 'host', nix: { nix: '/nonexistent/nix' } });
    assert.equal(provider.name, 'host');
  });
});
