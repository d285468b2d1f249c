// The fallback provider: the toolchains already installed on the server. It builds nothing, so it
// cannot be reproducible; instead it says exactly which wanted versions the host lacks
// ("node 24 wanted (from .nvmrc), host has 20.20.2") and lets the workspace start anyway.

import type { EnvSpec } from '../detect/env-spec.js';
import { joinPath, withPathFirst } from './activation-env.js';
import type {
  EnvironmentPlan,
  EnvironmentProvider,
  PreparedEnvironment,
  PrepareOptions,
} from './environment-provider.js';
import { reservedVariables } from './generate-flake.js';
import { planHostEnvironment } from './plan-environment.js';
import { probeSpec } from './version-probe.js';

export interface HostProviderOptions {
  /** The PATH workspace processes get and versions are probed on; default the server's PATH. */
  path?: string;
}

export class HostEnvironmentProvider implements EnvironmentProvider {
  readonly name = 'host' as const;
  readonly reproducible = false;
  private readonly path: string;

  constructor(options: HostProviderOptions = {}) {
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
    say('using the host toolchains: this environment is not reproducible');
    const report = await probeSpec(plan.spec, {
      path: this.path,
      provider: 'host',
      ...(options.signal ? { signal: options.signal } : {}),
    });
    for (const entry of report) if (entry.status !== 'ok') say(entry.message);
    const env: Record<string, string> = {};
    for (const v of plan.spec.env) {
      if (!v.secret && v.value !== null && !reservedVariables.test(v.name)) env[v.name] = v.value;
    }
    return {
      provider: 'host',
      hash: plan.hash,
      reproducible: false,
      env: withPathFirst({ ...env, PATH: this.path }),
      shellHook: null,
      report,
      cached: false,
      log,
    };
  }
}
