// How the switch dialog offers a repository's refs: branches newest commit first with bots'
// branches after people's, and tags searched rather than listed in full.

import type { RefEntry } from '@wire/switching';

/** Branches that dependency bots open: offered after everyone else's. */
const BOT_BRANCH = /^(dependabot|renovate|greenkeeper|snyk-[^/]*|pre-commit-ci[^/]*|imgbot)([/-]|$)/i;

export function isBotBranch(name: string): boolean {
  return BOT_BRANCH.test(name);
}

const newestFirst = (a: RefEntry, b: RefEntry) =>
  (Date.parse(b.date) || 0) - (Date.parse(a.date) || 0) || a.name.localeCompare(b.name);

/** People's branches by their latest commit, newest first, then bots' branches the same way. */
export function orderBranches(branches: readonly RefEntry[]): RefEntry[] {
  const people = branches.filter((b) => !isBotBranch(b.name)).sort(newestFirst);
  const bots = branches.filter((b) => isBotBranch(b.name)).sort(newestFirst);
  return [...people, ...bots];
}

export const TAGS_SHOWN = 12;

/** The newest tags whose name contains the query (any case), at most `limit`, and how many matched. */
export function searchTags(
  tags: readonly RefEntry[],
  query: string,
  limit = TAGS_SHOWN,
): { shown: RefEntry[]; matched: number } {
  const needle = query.trim().toLowerCase();
  const matching = tags
    .filter((t) => needle === '' || t.name.toLowerCase().includes(needle))
    .sort(newestFirst);
  return { shown: matching.slice(0, limit), matched: matching.length };
}
