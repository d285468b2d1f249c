// The switching contract: what `GET /api/workspaces/:id/refs` lists and what a switch does with
// uncommitted work, in the words the dialog, the CLI and the server's errors all use.

export type UncommittedPolicy = 'refuse' | 'stash' | 'carry';

/** Each choice for uncommitted work as people read it: one name everywhere it is offered or suggested. */
export const UNCOMMITTED_CHOICES: Record<UncommittedPolicy, { label: string; hint: string }> = {
  refuse: { label: 'Keep them here', hint: 'Do not switch while there are uncommitted changes.' },
  stash: {
    label: 'Stash them',
    hint: 'Save them in a named git stash; restore them later with git stash pop.',
  },
  carry: { label: 'Carry them over', hint: 'Only when they apply cleanly to the new commit.' },
};

export interface RefEntry {
  name: string;
  commit: string;
  /** ISO date of the ref's commit (of the tag, for an annotated tag). */
  date: string;
  subject: string;
}

/** What a workspace can switch to, most recently committed first. */
export interface RefListing {
  branches: RefEntry[];
  tags: RefEntry[];
  commits: Omit<RefEntry, 'name'>[];
}
