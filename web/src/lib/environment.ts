// What an environment's parts mean for the UI: wording and status shapes for the reproducibility
// badge, the provision report, detection diagnostics, backing services and dependency installs.
import type {
  Environment,
  EnvironmentDiagnostic,
  EnvironmentInstall,
  EnvironmentReportEntry,
  EnvironmentService,
  Workspace,
} from '../api/types';
import type { StatusShape } from '../components/status-icon';

export interface Presented {
  shape: StatusShape;
  label: string;
}

const providerNames: Record<string, string> = {
  nix: 'Nix',
  host: 'host tools',
  registry: 'host tools and a pinned toolchain (npm registry)',
};

export function providerName(provider: string): string {
  return providerNames[provider] ?? provider;
}

/** "Reproducible (Nix)", "Pinned toolchain (npm registry)" or "Not reproducible — host tools". */
export function reproducibility(env: Environment): Presented {
  switch (env.reproducibility) {
    case 'reproducible':
      return { shape: 'done', label: `Reproducible (${providerName(env.provider)})` };
    case 'pinned':
      return { shape: 'info', label: 'Pinned toolchain (npm registry)' };
    default:
      return { shape: 'warning', label: `Not reproducible — ${providerName(env.provider)}` };
  }
}

/** What was asked for: "≥ 18 (host 20.20.2 satisfies)" for a range the host meets, else the version. */
export function describeWanted(entry: EnvironmentReportEntry): string {
  const asked = (entry.requested ?? entry.wanted)?.replace(/>=\s*/g, '≥ ').replace(/<=\s*/g, '≤ ') ?? 'any';
  if (entry.status !== 'ok' || !entry.provided || entry.requested === undefined) return asked;
  const who = entry.origin === 'registry' ? 'npm registry' : 'host';
  return `${asked} (${who} ${entry.provided} satisfies)`;
}

/** "22.23.3 (npm registry)" for a release fetched for the workspace, else what runs. */
export function describeProvided(entry: EnvironmentReportEntry): string {
  if (!entry.provided) return 'none';
  return entry.origin === 'registry' ? `${entry.provided} (npm registry)` : entry.provided;
}

/**
 * What a workspace card says needs attention: steps that failed while the workspace runs on,
 * tools nobody supplied (with how to get them), and why Nix was not used when that matters.
 */
export function workspaceNotes(ws: Workspace): string[] {
  const notes: string[] = [];
  const missing = (ws.environment?.report ?? []).filter((entry) => entry.status !== 'ok');
  const fallback = ws.environment?.fallback;
  if (fallback && fallback.cause !== 'configured' && missing.length > 0) notes.push(fallback.message);
  // Go is both a toolchain and its own package manager: one line per tool.
  const named = new Set<string>();
  for (const entry of missing) {
    if (named.has(entry.name)) continue;
    named.add(entry.name);
    notes.push(entry.hint ?? entry.message);
  }
  for (const step of ws.steps) {
    if (step.status !== 'failed') continue;
    const { detail } = step;
    const known = detail !== null && notes.some((note) => detail.includes(note));
    notes.push(`${step.label} failed${known ? ', for the reason above' : detail ? `: ${detail}` : ''}`);
  }
  return notes;
}

export function shortHash(hash: string): string {
  return hash.length > 12 ? hash.slice(0, 12) : hash;
}

export const reportKindLabel: Record<EnvironmentReportEntry['kind'], string> = {
  toolchain: 'Toolchain',
  service: 'Service',
  'package-manager': 'Package manager',
};

export function presentReportStatus(status: EnvironmentReportEntry['status']): Presented {
  switch (status) {
    case 'ok':
      return { shape: 'done', label: 'OK' };
    case 'mismatch':
      return { shape: 'warning', label: 'Version mismatch' };
    case 'missing':
      return { shape: 'failed', label: 'Missing' };
  }
}

export function presentSeverity(severity: EnvironmentDiagnostic['severity']): Presented {
  switch (severity) {
    case 'error':
      return { shape: 'failed', label: 'Error' };
    case 'warning':
      return { shape: 'warning', label: 'Warning' };
    case 'info':
      return { shape: 'info', label: 'Info' };
  }
}

/** `package.json:12`, `flake.nix`, or null when the diagnostic is not tied to a file. */
export function diagnosticLocation(diagnostic: EnvironmentDiagnostic): string | null {
  if (!diagnostic.file) return null;
  return diagnostic.line === undefined ? diagnostic.file : `${diagnostic.file}:${diagnostic.line}`;
}

export function presentServiceStatus(status: EnvironmentService['status']): Presented {
  switch (status) {
    case 'running':
      return { shape: 'running', label: 'Running' };
    case 'failed':
      return { shape: 'failed', label: 'Failed' };
    case 'missing':
      return { shape: 'failed', label: 'Not available' };
    case 'restarting':
      return { shape: 'progress', label: 'Restarting' };
    case 'stopped':
      return { shape: 'stopped', label: 'Stopped' };
    default:
      return { shape: 'waiting', label: status.charAt(0).toUpperCase() + status.slice(1) };
  }
}

/** "15.5 (wanted 16)" when it runs another version, "16.2", "wanted 16" or null. */
export function describeServiceVersion(service: EnvironmentService): string | null {
  if (service.version && service.wantedVersion && service.versionMismatch) {
    return `${service.version} (wanted ${service.wantedVersion})`;
  }
  if (service.version) return service.version;
  if (service.wantedVersion) return `wanted ${service.wantedVersion}`;
  return null;
}

export function presentInstallResult(result: EnvironmentInstall['result']): Presented {
  switch (result) {
    case 'installed':
      return { shape: 'done', label: 'Installed' };
    case 'cached':
      return { shape: 'done', label: 'Reused from cache' };
    case 'unchanged':
      return { shape: 'done', label: 'Already installed' };
    case 'uncacheable':
      return { shape: 'info', label: 'Installed, not cacheable (nothing to key or restore)' };
  }
}

/**
 * What needs attention, for the Environment button: tools missing or at another version, and
 * detection errors and warnings. Services are left out: their problems show as a failed step.
 */
export function environmentIssueCount(env: Environment | null): number {
  if (!env) return 0;
  return (
    env.report.filter((entry) => entry.status !== 'ok').length +
    env.diagnostics.filter((diagnostic) => diagnostic.severity !== 'info').length
  );
}
