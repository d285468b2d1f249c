// Environments for workspaces: detect what a checkout needs, then build (or reuse) the
// environment for its hash. A reproducible provider's build is stored once per hash and reused
// by every workspace that needs the same; the host provider is re-checked each time, because the
// host can change under it.

import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { DetectionResult } from '../../detect/detect.js';
import { detectDirectory } from '../../detect/detect.js';
import type { EnvSpec } from '../../detect/env-spec.js';
import type {
  EnvironmentProvider,
  ProviderFallback,
  ReportEntry,
  Reproducibility,
} from '../../nix/environment-provider.js';
import {
  findEnvironmentByHash,
  insertEnvironment,
  touchEnvironment,
} from '../../store/environment-queries.js';
import type { EnvironmentRow } from '../../store/schema.js';
import type { Store } from '../../store/store.js';

export interface Activation {
  env: Record<string, string>;
  shellHook: string | null;
  report: ReportEntry[];
  /** Host directories every sandbox of the workspace sees read-only (fetched toolchains). */
  readOnlyPaths?: string[];
}

export interface BuiltEnvironment {
  row: EnvironmentRow;
  activation: Activation;
  /** True when an earlier build of the same hash was reused. */
  cached: boolean;
  provider: string;
  reproducible: boolean;
  reproducibility: Reproducibility;
  /** Why Nix was not used (host and registry environments). */
  fallback: ProviderFallback | null;
}

export class EnvironmentService {
  constructor(
    private readonly options: { store: Store; provider: EnvironmentProvider; environmentsDir: string },
  ) {}

  get provider(): EnvironmentProvider {
    return this.options.provider;
  }

  detect(repoDir: string): Promise<DetectionResult> {
    return detectDirectory(repoDir);
  }

  async build(
    spec: EnvSpec,
    repoDir: string,
    options: { signal?: AbortSignal | undefined; onLog?(line: string): void; parentId?: string | null } = {},
  ): Promise<BuiltEnvironment> {
    const { store, provider } = this.options;
    const plan = await provider.plan(spec, repoDir);
    for (const note of plan.notes) if (note.severity === 'warning') options.onLog?.(note.message);
    const existing = await findEnvironmentByHash(store.db, plan.hash);
    // Only a reproducible build is reused by hash; host toolchains are checked again each time.
    if (existing?.reproducible && plan.provider === 'nix') {
      await touchEnvironment(store.db, existing.id);
      return {
        row: existing,
        activation: existing.activation as Activation,
        cached: true,
        provider: existing.provider,
        reproducible: existing.reproducible,
        reproducibility: 'reproducible',
        fallback: null,
      };
    }
    const prepared = await provider.prepare(plan, {
      workDir: join(this.options.environmentsDir, plan.hash),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onLog ? { onLog: options.onLog } : {}),
    });
    const activation: Activation = {
      env: prepared.env,
      shellHook: prepared.shellHook,
      report: prepared.report,
      ...(prepared.readOnlyPaths.length > 0 ? { readOnlyPaths: prepared.readOnlyPaths } : {}),
    };
    const row = await insertEnvironment(store.db, {
      id: randomUUID(),
      hash: plan.hash,
      parentId: options.parentId ?? null,
      provider: prepared.provider,
      reproducible: prepared.reproducible,
      flakeContent: plan.flake?.content ?? null,
      spec,
      activation,
    });
    return {
      row,
      activation,
      cached: prepared.cached,
      provider: prepared.provider,
      reproducible: prepared.reproducible,
      reproducibility: prepared.reproducibility,
      fallback: prepared.fallback,
    };
  }

  /** A built environment's activation and spec, for restarting a workspace that has one. */
  async stored(hash: string): Promise<{ activation: Activation; spec: EnvSpec } | undefined> {
    const row = await findEnvironmentByHash(this.options.store.db, hash);
    return row ? { activation: row.activation as Activation, spec: row.spec as EnvSpec } : undefined;
  }
}
