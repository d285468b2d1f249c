// What an environment's parts mean for the UI: wording and status shapes for the reproducibility
// badge, the provision report, detection diagnostics, backing services and dependency installs.
import type {
  Environment,
  EnvironmentDiagnostic,
  EnvironmentInstall,
  EnvironmentReportEntry,
  EnvironmentService,
} from '../api/types';
import type { StatusShape } from '../components/status-icon';

export interface Presented {
  shape: StatusShape;
  label: string;
}

const providerNames: Record<string, string> = { nix: 'Nix', host: 'host tools' };

export function providerName(provider: string): string {
  return providerNames[provider] ?? provider;
}

/** "Reproducible (Nix)" or "Not reproducible — host tools". */
export function reproducibility(env: Environment): Presented {
  return env.reproducible
    ? { shape: 'done', label: `Reproducible (${providerName(env.provider)})` }
    : { shape: 'warning', label: `Not reproducible — ${providerName(env.provider)}` };
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
