// How the workspace list arranges its rows: repeated failed attempts at the same repository and
// ref collapse into one group, and workspaces that share a name carry a short id to tell them apart.

interface Listed {
  id: string;
  name: string;
  repoUrl: string;
  ref: string | null;
  status: string;
}

/** Failed attempts at one repository and ref, in list order (newest first). */
export interface FailedAttempts<W extends Listed> {
  key: string;
  attempts: W[];
}

/** A row of the list: a workspace itself (so a reconciled store keeps its row), or a group. */
export type ListEntry<W extends Listed> = W | FailedAttempts<W>;

export function isFailedAttempts<W extends Listed>(entry: ListEntry<W>): entry is FailedAttempts<W> {
  return 'attempts' in entry;
}

const attemptKey = (ws: Listed) => `${ws.repoUrl}\0${ws.ref ?? ''}`;

/** The list's rows: a group where two or more failed attempts share a repository and ref, placed where the first of them was. */
export function groupWorkspaces<W extends Listed>(workspaces: readonly W[]): ListEntry<W>[] {
  const failed = new Map<string, W[]>();
  for (const ws of workspaces) {
    if (ws.status !== 'failed') continue;
    const key = attemptKey(ws);
    failed.set(key, [...(failed.get(key) ?? []), ws]);
  }
  const entries: ListEntry<W>[] = [];
  const placed = new Set<string>();
  for (const ws of workspaces) {
    const key = attemptKey(ws);
    const attempts = ws.status === 'failed' ? failed.get(key) : undefined;
    if (!attempts || attempts.length < 2) entries.push(ws);
    else if (!placed.has(key)) {
      placed.add(key);
      entries.push({ key, attempts });
    }
  }
  return entries;
}

/** Names that more than one listed workspace has. */
export function sharedNames(workspaces: readonly Listed[]): Set<string> {
  const seen = new Set<string>();
  const shared = new Set<string>();
  for (const ws of workspaces) {
    if (seen.has(ws.name)) shared.add(ws.name);
    seen.add(ws.name);
  }
  return shared;
}

/** The id's first 8 characters: enough to tell a user's workspaces apart. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}
