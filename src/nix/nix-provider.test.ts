// The nix provider against the real Nix of this machine. Nixpkgs cannot be fetched here, so the
// builds that succeed use self-contained flakes (test/support/nix-fixtures.ts); a generated flake
// is driven as far as Nix gets offline, which pins the failure path: its error carries Nix's log.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ownFlakeSpec, writeHelloFlake } from '../../test/support/nix-fixtures.js';
import { emptySpec } from '../detect/env-spec.js';
import { NixSpaceError } from '../errors.js';
import { measureEnvironment } from './measure-environment.js';
import { NixCli } from './nix-cli.js';
import { NixEnvironmentProvider } from './nix-provider.js';
import { selectEnvironmentProvider } from './select-provider.js';

// Offline: no binary cache to ask (it costs ~4 s of retries per build on this machine).
const nixOptions = { offline: true } as const;
let nixProblem: string | null = 'not probed yet';

before(async () => {
  nixProblem = await new NixCli(nixOptions).probe();
});

async function run(program: string, env: Record<string, string>): Promise<string> {
  const child = spawn(program, [], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  await once(child, 'close');
  return out;
}

describe('NixEnvironmentProvider', () => {
  it("builds a repo's own flake and its activation env runs the built program", async (t) => {
    if (nixProblem !== null) return t.skip(`nix cannot build here: ${nixProblem}`);
    const repo = await mkdtemp(join(tmpdir(), 'nixspace-repo-'));
    await writeHelloFlake(repo);
    const provider = new NixEnvironmentProvider(nixOptions);
    const plan = await provider.plan(ownFlakeSpec(), repo);
    assert.equal(plan.flake?.generated, false);
    const lines: string[] = [];
    const workDir = await mkdtemp(join(tmpdir(), 'nixspace-env-'));
    const prepared = await provider.prepare(plan, { workDir, onLog: (l) => lines.push(l) });

    assert.equal(prepared.provider, 'nix');
    assert.equal(prepared.reproducible, true);
    assert.equal(prepared.cached, false);
    const path = prepared.env.PATH ?? '';
    assert.match(path, /^\/nix\/store\/[a-z0-9]{32}-nixspace-test-hello\/bin:/);
    assert.equal(Object.keys(prepared.env)[0], 'PATH');
    assert.equal(prepared.env.GREETING, 'hello-from-nix');
    // Build-sandbox leftovers are not part of the workspace's environment.
    assert.equal(prepared.env.HOME, undefined);
    assert.equal(prepared.env.TMPDIR, undefined);
    assert.equal((await run('hello', prepared.env)).trim(), 'hello-from-nix');
    assert.ok(lines.some((l) => l.includes('is ready')));
  });

  it('reuses the build of the same hash instead of building again', async (t) => {
    if (nixProblem !== null) return t.skip(`nix cannot build here: ${nixProblem}`);
    const repo = await mkdtemp(join(tmpdir(), 'nixspace-repo-'));
    await writeHelloFlake(repo, 'hello-again');
    const provider = new NixEnvironmentProvider(nixOptions);
    const workDir = await mkdtemp(join(tmpdir(), 'nixspace-env-'));
    const plan = await provider.plan(ownFlakeSpec(), repo);
    const [a, b] = await Promise.all([
      provider.prepare(plan, { workDir }),
      provider.prepare(plan, { workDir }),
    ]);
    assert.equal(a, b, 'concurrent prepares of one environment share one build');
    // A new provider (a restarted server) finds the result on disk.
    const again = await new NixEnvironmentProvider(nixOptions).prepare(plan, { workDir });
    assert.equal(again.cached, true);
    assert.deepEqual(again.env, a.env);
    assert.equal((await run('hello', again.env)).trim(), 'hello-again');
  });

  it("reports a failing build with Nix's log tail in the error detail", async (t) => {
    if (nixProblem !== null) return t.skip(`nix cannot build here: ${nixProblem}`);
    // A generated flake needs nixpkgs, which this machine cannot download: a real failure.
    const spec = {
      ...emptySpec(),
      toolchains: [
        { name: 'node' as const, version: '22', resolution: 'exact' as const, source: { file: '.nvmrc' } },
      ],
    };
    const provider = new NixEnvironmentProvider(nixOptions);
    const repo = await mkdtemp(join(tmpdir(), 'nixspace-repo-'));
    const plan = await provider.plan(spec, repo);
    assert.equal(plan.flake?.generated, true);
    await assert.rejects(
      provider.prepare(plan, { workDir: await mkdtemp(join(tmpdir(), 'nixspace-env-')) }),
      (error: unknown) => {
        assert.ok(error instanceof NixSpaceError);
        assert.equal(error.code, 'ENVIRONMENT_BUILD_FAILED');
        assert.match(error.message, new RegExp(`environment ${plan.hash.slice(0, 12)}`));
        assert.match(error.detail ?? '', /nixpkgs|github/i);
        return true;
      },
    );
  });

  it('stops a running build when its signal aborts', async (t) => {
    if (nixProblem !== null) return t.skip(`nix cannot build here: ${nixProblem}`);
    const repo = await mkdtemp(join(tmpdir(), 'nixspace-repo-'));
    // Unique content, so the store has no earlier result; the build sleeps for a minute.
    await writeHelloFlake(repo, `abort-${process.pid}-${Date.now()}`, { buildSeconds: 60 });
    const provider = new NixEnvironmentProvider(nixOptions);
    const plan = await provider.plan(ownFlakeSpec(), repo);
    const controller = new AbortController();
    const reason = new Error('stopped by the test');
    const started = Date.now();
    const lines: string[] = [];
    const prepared = provider.prepare(plan, {
      workDir: await mkdtemp(join(tmpdir(), 'nixspace-env-')),
      signal: controller.signal,
      onLog: (line) => {
        lines.push(line);
        // Abort once Nix says it is building the derivation.
        if (line.startsWith("building '/nix/store/")) controller.abort(reason);
      },
    });
    await assert.rejects(prepared, (error: unknown) => error === reason);
    assert.ok(Date.now() - started < 15_000, 'the sleeping build was killed, not waited for');
    assert.ok(lines.some((l) => l.includes('nixspace-test-hello')));
  });

  it('is selected when nix with flakes works here, and measureEnvironment times plan and build', async (t) => {
    if (nixProblem !== null) return t.skip(`nix cannot build here: ${nixProblem}`);
    const provider = await selectEnvironmentProvider({ nix: nixOptions });
    assert.equal(provider.name, 'nix');
    assert.equal(provider.reproducible, true);
    const repo = await mkdtemp(join(tmpdir(), 'nixspace-repo-'));
    await writeHelloFlake(repo);
    const m = await measureEnvironment(provider, ownFlakeSpec(), repo, {
      workDir: await mkdtemp(join(tmpdir(), 'nixspace-env-')),
    });
    assert.ok(m.planMs >= 0 && m.prepareMs > 0);
    assert.equal(m.prepared.hash, m.plan.hash);
  });
});
