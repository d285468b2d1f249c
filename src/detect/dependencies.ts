// Declared dependencies of every ecosystem, with their scope, so the services and system-package
// detectors can read signals (a `pg` gem, a `psycopg` requirement) without each re-parsing manifests.

import type { DetectContext } from './detector.js';
import type { Source } from './env-spec.js';
import { isRecord, lineOf, recordAt } from './manifest-parse.js';

export type Ecosystem = 'node' | 'python' | 'ruby' | 'go';

/**
 * `main`: needed to run the project. `dev`: tooling and tests. `optional`: extras, conditional
 * gems, alternatives the user chooses between — never enough on their own to start a service.
 */
export type DependencyScope = 'main' | 'dev' | 'optional';

export interface Dependency {
  ecosystem: Ecosystem;
  /** Lower-cased; Python names normalised per PEP 503 (`_` and `.` → `-`). */
  name: string;
  extras: string[];
  scope: DependencyScope;
  source: Source;
}

function at(file: string, text: string | null, needle: string | RegExp): Source {
  const line = text === null ? undefined : lineOf(text, needle);
  return { file, ...(line ? { line } : {}) };
}

async function nodeDependencies(ctx: DetectContext): Promise<Dependency[]> {
  if (!ctx.has('package.json')) return [];
  const pkg = await ctx.json('package.json');
  const text = await ctx.read('package.json');
  const out: Dependency[] = [];
  const sections: [string, DependencyScope][] = [
    ['dependencies', 'main'],
    ['devDependencies', 'dev'],
    ['optionalDependencies', 'optional'],
    ['peerDependencies', 'optional'],
  ];
  for (const [key, scope] of sections) {
    for (const name of Object.keys(recordAt(pkg, key) ?? {})) {
      out.push({
        ecosystem: 'node',
        name: name.toLowerCase(),
        extras: [],
        scope,
        source: at('package.json', text, `"${name}"`),
      });
    }
  }
  return out;
}

/** `celery[redis]~=5.6 ; python_version>"3"` → name and extras. */
export function parseRequirement(raw: string): { name: string; extras: string[] } | null {
  const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?/.exec(raw);
  if (!m?.[1]) return null;
  return {
    name: m[1].toLowerCase().replace(/[_.]+/g, '-'),
    extras: (m[2] ?? '')
      .split(',')
      .map((e) => e.trim().toLowerCase())
      .filter(Boolean),
  };
}

/** requirements.txt is what runs; requirements-dev.txt, test-requirements.txt and friends are tooling. */
export function requirementsScope(file: string): DependencyScope {
  return /dev|test|lint|doc|ci|type/i.test(file.replace(/^requirements/, '')) ? 'dev' : 'main';
}

export function requirementFiles(ctx: DetectContext): string[] {
  return [...ctx.root.keys()]
    .filter(
      (n) =>
        /^(?:[\w-]*[-_])?requirements(?:[-_.][\w.-]*)?\.txt$/i.test(n) && ctx.root.get(n)?.kind !== 'dir',
    )
    .sort();
}

async function pythonDependencies(ctx: DetectContext): Promise<Dependency[]> {
  const out: Dependency[] = [];
  const push = (list: unknown, scope: DependencyScope, file: string, text: string | null) => {
    if (!Array.isArray(list)) return;
    for (const item of list) {
      if (typeof item !== 'string') continue;
      const r = parseRequirement(item);
      if (r) out.push({ ecosystem: 'python', ...r, scope, source: at(file, text, item) });
    }
  };
  if (ctx.has('pyproject.toml')) {
    const py = await ctx.toml('pyproject.toml');
    const text = await ctx.read('pyproject.toml');
    push(recordAt(py, 'project')?.dependencies, 'main', 'pyproject.toml', text);
    for (const list of Object.values(recordAt(py, 'project', 'optional-dependencies') ?? {})) {
      push(list, 'optional', 'pyproject.toml', text);
    }
    for (const list of Object.values(recordAt(py, 'dependency-groups') ?? {}))
      push(list, 'dev', 'pyproject.toml', text);
    const poetry = recordAt(py, 'tool', 'poetry');
    const poetryDeps = (deps: unknown, scope: DependencyScope) => {
      if (!isRecord(deps)) return;
      for (const [name, spec] of Object.entries(deps)) {
        if (name === 'python') continue;
        const optional = isRecord(spec) && spec.optional === true;
        out.push({
          ecosystem: 'python',
          name: name.toLowerCase().replace(/[_.]+/g, '-'),
          extras: isRecord(spec) && Array.isArray(spec.extras) ? spec.extras.map(String) : [],
          scope: optional ? 'optional' : scope,
          source: at(
            'pyproject.toml',
            text,
            new RegExp(`^\\s*"?${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"?\\s*=`),
          ),
        });
      }
    };
    poetryDeps(poetry?.dependencies, 'main');
    poetryDeps(poetry?.['dev-dependencies'], 'dev');
    for (const group of Object.values(recordAt(poetry, 'group') ?? {})) {
      poetryDeps(recordAt(group, 'dependencies'), 'dev');
    }
  }
  for (const file of requirementFiles(ctx)) {
    const text = await ctx.read(file);
    if (text === null) continue;
    const scope = requirementsScope(file);
    text.split('\n').forEach((raw, i) => {
      const line = raw.replace(/\s#.*$/, '').trim();
      if (!line || line.startsWith('#') || line.startsWith('-')) return;
      const r = parseRequirement(line);
      if (r) out.push({ ecosystem: 'python', ...r, scope, source: { file, line: i + 1 } });
    });
  }
  if (ctx.has('Pipfile')) {
    const pip = await ctx.toml('Pipfile');
    const text = await ctx.read('Pipfile');
    for (const [key, scope] of [
      ['packages', 'main'],
      ['dev-packages', 'dev'],
    ] as const) {
      for (const name of Object.keys(recordAt(pip, key) ?? {})) {
        out.push({
          ecosystem: 'python',
          name: name.toLowerCase().replace(/[_.]+/g, '-'),
          extras: [],
          scope,
          source: at('Pipfile', text, name),
        });
      }
    }
  }
  return out;
}

/**
 * Gemfile is Ruby, not data: track `group ... do`, conditionals and `end` by indentation-free
 * block counting, which is enough for the shapes Gemfiles take in practice.
 */
export function parseGemfile(text: string, file = 'Gemfile'): Dependency[] {
  const out: Dependency[] = [];
  const stack: DependencyScope[] = [];
  const current = () => stack[stack.length - 1] ?? 'main';
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const gem = /^gem\s+['"]([^'"]+)['"](.*)$/.exec(line);
    if (gem?.[1]) {
      let scope = current();
      const rest = gem[2] ?? '';
      if (
        /\bgroups?:\s*(\[?\s*:(development|test)\b[^\]]*\]?)/.test(rest) &&
        !/:production|:default/.test(rest)
      ) {
        scope = scope === 'main' ? 'dev' : scope;
      }
      if (/\b(require:\s*false\s*,\s*)?(if|unless|install_if):/.test(rest)) scope = 'optional';
      out.push({
        ecosystem: 'ruby',
        name: gem[1].toLowerCase(),
        extras: [],
        scope,
        source: { file, line: i + 1 },
      });
      return;
    }
    if (/\bdo(\s*\|[^|]*\|)?$/.test(line)) {
      if (/^group\b/.test(line)) {
        const dev = /:(development|test)\b/.test(line) && !/:(production|default)\b/.test(line);
        stack.push(current() === 'main' && dev ? 'dev' : current());
      } else if (/^(platforms?|source|git|path|github)\b/.test(line)) {
        stack.push(current());
      } else {
        // if_true(...) do, install_if -> { } do, custom helpers: the gem is conditional.
        stack.push('optional');
      }
      return;
    }
    if (/^(if|unless)\b/.test(line) && !/\bthen\b.*\bend$/.test(line)) {
      stack.push('optional');
      return;
    }
    if (line === 'end' || line.startsWith('end ') || line === '}') stack.pop();
  });
  return out;
}

async function rubyDependencies(ctx: DetectContext): Promise<Dependency[]> {
  const file = ctx.has('Gemfile') ? 'Gemfile' : ctx.has('gems.rb') ? 'gems.rb' : null;
  if (!file) return [];
  const text = await ctx.read(file);
  return text === null ? [] : parseGemfile(text, file);
}

async function goDependencies(ctx: DetectContext): Promise<Dependency[]> {
  if (!ctx.has('go.mod')) return [];
  const text = await ctx.read('go.mod');
  if (text === null) return [];
  const out: Dependency[] = [];
  let inBlock = false;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (/^require\s*\($/.test(line)) {
      inBlock = true;
      return;
    }
    if (inBlock && line === ')') {
      inBlock = false;
      return;
    }
    const m = inBlock ? /^(\S+)\s+\S+(.*)$/.exec(line) : /^require\s+(\S+)\s+\S+(.*)$/.exec(line);
    // Indirect requirements are a dependency's business, not this module's.
    if (m?.[1] && !m[2]?.includes('// indirect')) {
      out.push({
        ecosystem: 'go',
        name: m[1].toLowerCase(),
        extras: [],
        scope: 'main',
        source: { file: 'go.mod', line: i + 1 },
      });
    }
  });
  return out;
}

export async function collectDependencies(ctx: DetectContext): Promise<Dependency[]> {
  const all = await Promise.all([
    nodeDependencies(ctx),
    pythonDependencies(ctx),
    rubyDependencies(ctx),
    goDependencies(ctx),
  ]);
  return all.flat();
}
