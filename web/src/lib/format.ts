// Presentation helpers: durations, times and commit hashes as people read them.

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes} min ${String(seconds).padStart(2, '0')} s`;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatRelativeTime(iso: string, now: number = Date.now()): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const seconds = Math.round((then - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return 'just now';
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), 'hour');
  if (abs < 7 * 86_400) return relative.format(Math.round(seconds / 86_400), 'day');
  return absolute.format(then);
}

export function formatAbsoluteTime(iso: string): string {
  const then = Date.parse(iso);
  return Number.isNaN(then) ? iso : absolute.format(then);
}

export function shortCommit(commit: string | null): string | null {
  return commit ? commit.slice(0, 7) : null;
}

/** "main @ 1a2b3c4", "v1.2 @ 1a2b3c4", or whichever part is known. */
export function describeRevision(ws: { ref: string | null; branch: string | null; commit: string | null }) {
  const name = ws.branch ?? ws.ref;
  const commit = shortCommit(ws.commit);
  if (name && commit && !ws.commit?.startsWith(name)) return `${name} @ ${commit}`;
  return commit ?? name ?? 'default branch';
}

/** Repository URLs without the scheme noise, for compact display. */
export function displayRepo(repoUrl: string): string {
  return repoUrl.replace(/^https?:\/\//, '').replace(/\.git$/, '');
}
