// Jobs a repo offers: Makefile targets, package.json scripts, Procfile processes. The jobs
// feature lists them as one-click commands.

import { shellWord } from '../../runtime/host/shell-quote.js';
import type { Detector, Fragment } from '../detector.js';
import type { Job } from '../env-spec.js';
import { lineOf, recordAt } from '../manifest-parse.js';

const makefiles = ['GNUmakefile', 'makefile', 'Makefile'];

/** Explicit targets: not special (.PHONY), not pattern rules (%.o), not variable assignments. */
export function makeTargets(text: string): { name: string; line: number }[] {
  const out: { name: string; line: number }[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const m = /^([A-Za-z0-9][\w./-]*(?:\s+[A-Za-z0-9][\w./-]*)*)\s*:(?![:=])/.exec(raw);
    if (!m?.[1]) return;
    for (const name of m[1].split(/\s+/)) {
      if (name.includes('%') || name.includes('/') || seen.has(name)) continue;
      seen.add(name);
      out.push({ name, line: i + 1 });
    }
  });
  return out;
}

export const jobsDetector: Detector = {
  name: 'jobs',
  async detect(ctx): Promise<Fragment> {
    const jobs: Job[] = [];
    const makefile = makefiles.find((f) => ctx.has(f));
    if (makefile) {
      const text = await ctx.read(makefile);
      if (text === null) {
        // Known to exist but not readable here (a corpus snapshot): the default target still runs.
        jobs.push({ name: 'make', command: 'make', kind: 'make', source: { file: makefile } });
      } else {
        for (const t of makeTargets(text)) {
          jobs.push({
            name: t.name,
            command: `make ${shellWord(t.name)}`,
            kind: 'make',
            source: { file: makefile, line: t.line },
          });
        }
      }
    }
    if (ctx.has('package.json')) {
      const pkg = await ctx.json('package.json');
      const text = await ctx.read('package.json');
      for (const [name, script] of Object.entries(recordAt(pkg, 'scripts') ?? {})) {
        // A name the package manager would read as one of its options (--script-shell=...) is
        // no script a person could run by name.
        if (typeof script !== 'string' || name.startsWith('-')) continue;
        const line = text === null ? undefined : lineOf(text, `"${name}"`);
        // The runner is settled after merging, once the Node package manager is known.
        jobs.push({
          name,
          command: `npm run ${shellWord(name)}`,
          kind: 'npm-script',
          source: { file: 'package.json', ...(line ? { line } : {}) },
        });
      }
    }
    for (const file of [...ctx.root.keys()].filter((n) => /^Procfile(\.[\w-]+)?$/.test(n)).sort()) {
      const text = await ctx.read(file);
      if (text === null) continue;
      text.split('\n').forEach((raw, i) => {
        const m = /^([\w-]+):\s*(.+)$/.exec(raw.trim());
        if (!m?.[1] || !m[2] || raw.trim().startsWith('#')) return;
        const name = file === 'Procfile' ? m[1] : `${m[1]} (${file})`;
        jobs.push({ name, command: m[2].trim(), kind: 'procfile', source: { file, line: i + 1 } });
      });
    }
    return { jobs };
  },
};
