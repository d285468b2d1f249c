// The reproducible provider: builds the plan's flake with Nix and takes the devShell's
// environment (`nix print-dev-env`) as the activation environment of every shell, job and
// service. One build per hash: the result is kept in the environment's work directory, guarded
// from garbage collection by a profile link, and reused while its store paths exist.

import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EnvSpec } from '../detect/env-spec.js';
import { versionsAgree } from '../detect/versions.js';
import { NixSpaceError } from '../errors.js';
import { activationFromDevEnv } from './activation-env.js';
import type {
  EnvironmentPlan,
  EnvironmentProvider,
  PreparedEnvironment,
  PrepareOptions,
  ReportEntry,
} from './environment-provider.js';
import type { SuppliedFact } from './generate-flake.js';
import { NixCli, type NixCliOptions } from './nix-cli.js';
import { planNixEnvironment } from './plan-environment.js';
import { probeSpec } from './version-probe.js';

export interface NixProviderOptions extends NixCliOptions {
  /** PATH entries after the environment's own (host basics such as /usr/bin/env). */
  basePath?: string;
}

export const defaultBasePath = '/usr/local/bin:/usr/bin:/bin';

/** Lines of Nix's log kept in an error's detail. */
const logTailLines = 40;

interface CachedActivation {
  hash: string;
  env: Record<string, string>;
  shellHook: string | null;
  report: ReportEntry[];
}

/** What every Nix environment is: reproducible, with nothing outside the store to show. */
const nixPrepared = {
  provider: 'nix',
  reproducible: true,
  reproducibility: 'reproducible',
  fallback: null,
  readOnlyPaths: [],
} as const satisfies Partial<PreparedEnvironment>;

export class NixEnvironmentProvider implements EnvironmentProvider {
  readonly name = 'nix' as const;
  readonly reproducible = true;
  readonly cli: NixCli;
  private readonly basePath: string;
  /** One build per work directory at a time; concurrent prepares of one hash share it. */
  private readonly inflight = new Map<string, Promise<PreparedEnvironment>>();

  constructor(options: NixProviderOptions = {}) {
    this.cli = new NixCli(options);
    this.basePath = options.basePath ?? defaultBasePath;
  }

  plan(spec: EnvSpec, repoDir: string): Promise<EnvironmentPlan> {
    return planNixEnvironment(spec, repoDir);
  }

  prepare(plan: EnvironmentPlan, options: PrepareOptions): Promise<PreparedEnvironment> {
    const running = this.inflight.get(options.workDir);
    if (running !== undefined) return running;
    const job = this.build(plan, options).finally(() => this.inflight.delete(options.workDir));
    this.inflight.set(options.workDir, job);
    return job;
  }

  private async build(plan: EnvironmentPlan, options: PrepareOptions): Promise<PreparedEnvironment> {
    if (plan.flake === null) throw new NixSpaceError('BAD_REQUEST', 'a Nix environment needs a flake');
    const log: string[] = [];
    const say = (line: string): void => {
      log.push(line);
      options.onLog?.(line);
    };
    await mkdir(options.workDir, { recursive: true });
    const resultFile = join(options.workDir, 'activation.json');

    const cached = await this.readCached(resultFile, plan.hash);
    if (cached !== null) {
      say(`environment ${plan.hash.slice(0, 12)} is already built; reusing it`);
      const { env, shellHook, report } = cached;
      return {
        ...nixPrepared,
        hash: plan.hash,
        env,
        shellHook,
        report,
        cached: true,
        log,
      };
    }

    let flakeRef: string;
    if (plan.flake.generated) {
      const dir = join(options.workDir, 'flake');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'flake.nix'), plan.flake.content);
      if (plan.flake.lock !== null) await writeFile(join(dir, 'flake.lock'), plan.flake.lock);
      flakeRef = `path:${dir}`;
    } else {
      flakeRef = `path:${plan.repoDir}`;
    }
    say(`building environment ${plan.hash.slice(0, 12)} from ${flakeRef}`);

    const result = await this.cli.run(
      [
        'print-dev-env',
        '--json',
        '--print-build-logs',
        '--no-write-lock-file',
        // The profile link is a GC root: `nix-collect-garbage` keeps the environment while it exists.
        '--profile',
        join(options.workDir, 'dev-profile'),
        flakeRef,
      ],
      { onStderrLine: say, ...(options.signal ? { signal: options.signal } : {}) },
    );
    if (result.code !== 0) {
      throw new NixSpaceError(
        'ENVIRONMENT_BUILD_FAILED',
        `nix could not build environment ${plan.hash.slice(0, 12)}`,
        {
          detail: result.stderrTail.slice(-logTailLines).join('\n'),
        },
      );
    }
    const activation = activationFromDevEnv(result.stdout, this.basePath);
    const report = plan.flake.generated
      ? reportFromPlan(plan.supplied)
      : await probeSpec(plan.spec, {
          path: activation.env.PATH ?? this.basePath,
          env: activation.env,
          provider: "the repository's flake",
          ...(options.signal ? { signal: options.signal } : {}),
        });
    const entry: CachedActivation = { hash: plan.hash, ...activation, report };
    // Written whole, then renamed: a reader never sees half a result.
    await writeFile(`${resultFile}.tmp`, JSON.stringify(entry));
    await rename(`${resultFile}.tmp`, resultFile);
    say(`environment ${plan.hash.slice(0, 12)} is ready`);
    return {
      ...nixPrepared,
      hash: plan.hash,
      ...activation,
      report,
      cached: false,
      log,
    };
  }

  private async readCached(file: string, hash: string): Promise<CachedActivation | null> {
    let entry: CachedActivation;
    try {
      entry = JSON.parse(await readFile(file, 'utf8')) as CachedActivation;
    } catch {
      return null;
    }
    if (entry.hash !== hash) return null;
    // A garbage-collected store path means the build has to run again. (A chroot store keeps its
    // paths under its own root, where this check cannot see them.)
    if (this.cli.config.store === undefined) {
      const storePaths = (entry.env.PATH ?? '').split(':').filter((p) => p.startsWith('/nix/store/'));
      if (!storePaths.every((p) => existsSync(p))) return null;
    }
    return entry;
  }
}

/** A generated flake supplies exactly what the plan resolved: no need to ask the programs. */
export function reportFromPlan(supplied: readonly SuppliedFact[]): ReportEntry[] {
  const out: ReportEntry[] = [];
  for (const f of supplied) {
    if (f.kind === 'system-package') continue;
    const base = { kind: f.kind, name: f.name, wanted: f.wanted, provided: f.provided, source: f.source };
    if (!f.included) {
      out.push({
        ...base,
        status: 'missing',
        message: `${f.name} is not in the environment (nixpkgs has no package for it)`,
      });
      continue;
    }
    const agrees =
      f.wanted === null ||
      f.provided === null ||
      versionsAgree(f.wanted, f.provided) ||
      f.wanted === 'stable';
    const what = f.provided === null ? f.name : `${f.name} ${f.provided}`;
    out.push({
      ...base,
      status: agrees ? 'ok' : 'mismatch',
      message: agrees
        ? `${what} from nixpkgs`
        : `${f.name} ${f.wanted} wanted (from ${f.source}), the environment has ${f.provided}${f.note ? `: ${f.note}` : ''}`,
    });
  }
  return out;
}
