// Presentation helpers: durations, times and commit hashes as people read them.

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes} min ${String(seconds).padStart(2, '0')} s`;
}

// Always numbers ("in 1 day", never "tomorrow"), so times a moment apart read alike.
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'always' });
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** Each unit is used while its rounded count stays below the next unit's size. */
const RELATIVE_UNITS = [
  { unit: 'minute', seconds: 60, below: 60 },
  { unit: 'hour', seconds: 3600, below: 24 },
  { unit: 'day', seconds: 86_400, below: 30 },
] as const;

/**
 * "in 5 minutes", "3 hours ago", "in 1 day"; "just now" under a minute; a date past 30 days. A
 * count is rounded before its unit is chosen, so 23 h 59 min reads "in 1 day" like 24 h does.
 */
export function formatRelativeTime(iso: string, now: number = Date.now()): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const seconds = (then - now) / 1000;
  if (Math.abs(seconds) < 45) return 'just now';
  for (const { unit, seconds: size, below } of RELATIVE_UNITS) {
    const count = Math.sign(seconds) * Math.round(Math.abs(seconds) / size);
    if (Math.abs(count) < below) return relative.format(count, unit);
  }
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
