// Plan + prepare with timings, for the benchmark: how long hashing/generation and the build take.

import type { EnvSpec } from '../detect/env-spec.js';
import type {
  EnvironmentPlan,
  EnvironmentProvider,
  PreparedEnvironment,
  PrepareOptions,
} from './environment-provider.js';

export interface MeasuredEnvironment {
  plan: EnvironmentPlan;
  prepared: PreparedEnvironment;
  planMs: number;
  prepareMs: number;
}

export async function measureEnvironment(
  provider: EnvironmentProvider,
  spec: EnvSpec,
  repoDir: string,
  options: PrepareOptions,
): Promise<MeasuredEnvironment> {
  const t0 = performance.now();
  const plan = await provider.plan(spec, repoDir);
  const t1 = performance.now();
  const prepared = await provider.prepare(plan, options);
  const t2 = performance.now();
  return { plan, prepared, planMs: t1 - t0, prepareMs: t2 - t1 };
}
