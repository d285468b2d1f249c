// One-line summaries of a workspace's environment for step details, and how a step that failed
// without stopping the workspace (a build, an install) is recorded.

import type { DetectionResult } from '../../detect/detect.js';
import { NixSpaceError } from '../../errors.js';
import type { ReportEntry } from '../../nix/environment-provider.js';
import type { InstallPlan } from '../environments/dependency-plan.js';
import type { BuiltEnvironment } from '../environments/environment-service.js';

export function describeDetection(detection: DetectionResult): string {
  const { spec, diagnostics } = detection;
  const parts = spec.toolchains.map((t) => {
    const managers = spec.packageManagers.filter((pm) => pm.toolchain === t.name).map((pm) => pm.name);
    // A range says what was asked for (`node >=18`): the build picks a release inside it.
    const version = t.requested && t.resolution === 'range' ? t.requested : t.version;
    return `${t.name} ${version}${managers.length ? ` (${managers.join(', ')})` : ''}`;
  });
  for (const service of spec.services)
    parts.push(`${service.name}${service.version ? ` ${service.version}` : ''}`);
  if (spec.flake) parts.push('own flake.nix');
  const problems = diagnostics.filter((d) => d.severity === 'error' || d.severity === 'warning').length;
  const summary = parts.length ? parts.join(', ') : 'no toolchain detected';
  return problems ? `${summary}; ${problems} problem${problems === 1 ? '' : 's'} found` : summary;
}

const levels: Record<BuiltEnvironment['reproducibility'], string> = {
  reproducible: '',
  pinned: ', pinned toolchain (npm registry)',
  none: ', not reproducible',
};

export function describeReport(built: BuiltEnvironment): string {
  const off = built.activation.report.filter((entry) => entry.status !== 'ok');
  const level = levels[built.reproducibility];
  return off.length ? `${level}: ${off.map((entry) => entry.hint ?? entry.message).join('; ')}` : level;
}

/**
 * The installs whose package manager (or toolchain) the environment has, and for the others a
 * line saying why they did not run and how to get what they need, instead of a bare
 * `go: command not found`.
 */
export function runnableInstalls(
  plans: readonly InstallPlan[],
  report: readonly ReportEntry[],
): { plans: InstallPlan[]; blocked: string[] } {
  const missing = (name: string | undefined) =>
    report.find((entry) => entry.status === 'missing' && entry.name === name);
  const runnable: InstallPlan[] = [];
  const blocked: string[] = [];
  for (const plan of plans) {
    const absent = missing(plan.manager) ?? missing(plan.toolchain);
    if (absent) blocked.push(`${plan.label} not run: ${absent.hint ?? absent.message}`);
    else runnable.push(plan);
  }
  return { plans: runnable, blocked };
}

/** A step that failed but leaves the workspace running, so its owner can fix the cause. */
export function softFailure(error: unknown): { status: 'failed'; detail: string; log?: string[] } {
  if (!(error instanceof NixSpaceError)) throw error;
  const log = error.detail?.split('\n').slice(-40);
  return { status: 'failed', detail: error.message, ...(log?.length ? { log } : {}) };
}
