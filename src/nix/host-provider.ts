// The fallback provider: the toolchains already installed on the server. It builds nothing, so it
// cannot be reproducible; it says exactly which wanted versions the host lacks and how to get
// them, and lets the workspace start anyway. Node, pnpm and yarn are the exception: what the host
// does not satisfy is fetched as an exact release from the npm registry (RegistryToolchains),
// which makes the environment `pinned` rather than `none`.

import type { EnvSpec } from '../detect/env-spec.js';
import { joinPath, withPathFirst } from './activation-env.js';
import type {
  EnvironmentPlan,
  EnvironmentProvider,
  PreparedEnvironment,
  PrepareOptions,
  ProviderFallback,
  ReportEntry,
} from './environment-provider.js';
import { reservedVariables } from './generate-flake.js';
import { displayName, missingToolHint } from './missing-tools.js';
import { planHostEnvironment } from './plan-environment.js';
import { nodeWant, packageManagerWant, type RegistryWant } from './registry-releases.js';
import type { FetchedTool, RegistryToolchains } from './registry-toolchains.js';
import { probeSpec } from './version-probe.js';

export interface HostProviderOptions {
  /** The PATH workspace processes get and versions are probed on; default the server's PATH. */
  path?: string;
  /** Fetches the Node, pnpm and yarn releases the host lacks; without it, the host's only. */
  toolchains?: RegistryToolchains;
  /** Why this server uses the host's toolchains (default: it was configured to). */
  fallback?: ProviderFallback;
}

export const configuredFallback: ProviderFallback = {
  cause: 'configured',
  detail: 'environment provider: host',
  message:
    'Nix was not used: this server is configured to use the host toolchains (--environment-provider host)',
};

export class HostEnvironmentProvider implements EnvironmentProvider {
  readonly name = 'host' as const;
  readonly reproducible = false;
  private readonly path: string;

  constructor(private readonly options: HostProviderOptions = {}) {
    this.path = options.path ?? joinPath([], process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin');
  }

  async plan(spec: EnvSpec, repoDir: string): Promise<EnvironmentPlan> {
    return planHostEnvironment(spec, repoDir);
  }

  async prepare(plan: EnvironmentPlan, options: PrepareOptions): Promise<PreparedEnvironment> {
    const log: string[] = [];
    const say = (line: string): void => {
      log.push(line);
      options.onLog?.(line);
    };
    const fallback = plan.fallback ?? this.options.fallback ?? configuredFallback;
    say(fallback.message);
    const signal = options.signal ? { signal: options.signal } : {};
    const probe = (path: string) => probeSpec(plan.spec, { path, provider: 'host', ...signal });
    let report = await probe(this.path);
    const { fetched, problems } = await this.fetchFromRegistry(plan.spec, report, say, options.signal);
    const path = joinPath(
      fetched.map((tool) => tool.binDir),
      this.path,
    );
    if (fetched.length > 0) report = await probe(path);
    report = report.map((entry) => describe(entry, fetched, problems, fallback));
    say(
      fetched.length > 0
        ? 'pinned toolchain (npm registry) over the host toolchains: not reproducible beyond the pinned releases'
        : 'using the host toolchains: this environment is not reproducible',
    );
    for (const entry of report.filter((e) => e.status !== 'ok')) {
      say(entry.message);
      if (entry.hint) say(entry.hint);
    }
    const env: Record<string, string> = {};
    for (const v of plan.spec.env) {
      if (!v.secret && v.value !== null && !reservedVariables.test(v.name)) env[v.name] = v.value;
    }
    return {
      provider: fetched.length > 0 ? 'registry' : 'host',
      hash: plan.hash,
      reproducible: false,
      reproducibility: fetched.length > 0 ? 'pinned' : 'none',
      fallback,
      readOnlyPaths: fetched.map((tool) => tool.root),
      env: withPathFirst({ ...env, PATH: path }),
      shellHook: null,
      report,
      cached: false,
      log,
    };
  }

  /** Fetches (or finds in the cache) a release for every Node, pnpm and yarn the host falls short on. */
  private async fetchFromRegistry(
    spec: EnvSpec,
    report: readonly ReportEntry[],
    say: (line: string) => void,
    signal: AbortSignal | undefined,
  ): Promise<{ fetched: FetchedTool[]; problems: Map<string, string> }> {
    const fetched: FetchedTool[] = [];
    const problems = new Map<string, string>();
    const toolchains = this.options.toolchains;
    if (!toolchains) return { fetched, problems };
    const short = (name: string) => report.find((e) => e.name === name && e.status !== 'ok') !== undefined;
    const wants: RegistryWant[] = [];
    for (const t of spec.toolchains) if (t.name === 'node' && short('node')) wants.push(nodeWant(t));
    for (const pm of spec.packageManagers) {
      const want = packageManagerWant(pm);
      if (want && short(pm.name)) wants.push(want);
    }
    for (const want of wants) {
      const label = `${displayName(want.tool)} ${want.asked}`;
      try {
        const version = await toolchains.resolve(want, signal);
        if (version === undefined) {
          problems.set(want.tool, `it has no release matching ${want.asked}`);
          continue;
        }
        say(`${label}: ${want.npmName}@${version} from the npm registry`);
        const tool = await toolchains.ensure(want, version, { onLog: say, signal });
        say(
          tool.fetched
            ? `${displayName(want.tool)} ${version} fetched in ${(tool.durationMs / 1000).toFixed(1)} s (${tool.root})`
            : `${displayName(want.tool)} ${version} is already in the toolchain cache (${tool.root})`,
        );
        fetched.push(tool);
      } catch (error) {
        if (signal?.aborted) throw error;
        const message = error instanceof Error ? error.message : String(error);
        problems.set(want.tool, message);
        say(`${label} could not be fetched from the npm registry: ${message}`);
      }
    }
    return { fetched, problems };
  }
}

/** Marks who supplies each entry, and says for what is still missing how to get it. */
function describe(
  entry: ReportEntry,
  fetched: readonly FetchedTool[],
  problems: ReadonlyMap<string, string>,
  fallback: ProviderFallback,
): ReportEntry {
  const pinned = fetched.find((tool) => tool.tool === entry.name);
  if (pinned && entry.status === 'ok') {
    const asked = entry.requested ?? entry.wanted ?? 'any version';
    return {
      ...entry,
      origin: 'registry',
      message: `${entry.name} ${pinned.version} from the npm registry (${asked} wanted, from ${entry.source?.replace(/:\d+$/, '') ?? 'the repository'})`,
    };
  }
  if (entry.status === 'ok') return { ...entry, origin: 'host' };
  return { ...entry, origin: 'host', hint: missingToolHint(entry, fallback, problems.get(entry.name)) };
}
