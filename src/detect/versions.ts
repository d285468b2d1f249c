// Version parsing, comparison and range matching for the three constraint dialects repos write:
// npm semver ranges (engines.node), PEP 440 specifiers (requires-python) and RubyGems
// requirements (Gemfile `ruby`). Only what picking a toolchain line needs, nothing more.

export type VersionTuple = number[];
export type RangeDialect = 'npm' | 'pep440' | 'gem';

/** `v24`, `24.13.0`, `go1.26.6`, `ruby-3.4.1`, `python-3.11.4`, `3.12.0p0` → numeric parts. */
export function parseVersion(raw: string): VersionTuple | null {
  // Only known prefixes: `nightly-2026-07-19` must not read as version 2026.
  const m = /^(?:go|ruby-|python-|node-|v)?(\d+(?:\.\d+)*)/i.exec(raw.trim());
  if (!m?.[1]) return null;
  return m[1].split('.').map(Number);
}

export function compareVersions(a: VersionTuple, b: VersionTuple): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** `24` and `24.13.0` agree (one refines the other); `24.12` and `24.13` do not. */
export function versionsAgree(a: string, b: string): boolean {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (!x || !y) return a === b;
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return false;
  return true;
}

interface Comparator {
  op: '>=' | '>' | '<' | '<=' | '=' | '!=';
  version: VersionTuple;
  /** `=` against a partial version (`3.11`, `3.11.*`, `24.x`) matches the whole line. */
  prefix?: boolean;
}

function bump(v: VersionTuple, index: number): VersionTuple {
  const out = v.slice(0, index + 1);
  while (out.length <= index) out.push(0);
  out[index] = (out[index] ?? 0) + 1;
  return out;
}

function partial(raw: string): { version: VersionTuple; wildcardAt: number | null } | null {
  const parts = raw.replace(/^v/, '').split('.');
  const version: VersionTuple = [];
  for (const part of parts) {
    if (part === '*' || part === 'x' || part === 'X' || part === '') {
      return { version, wildcardAt: version.length };
    }
    const n = Number.parseInt(part, 10);
    if (Number.isNaN(n)) return null;
    version.push(n);
  }
  return { version, wildcardAt: null };
}

function npmComparators(term: string): Comparator[] | null {
  const t = term.trim();
  if (t === '' || t === '*' || t === 'x') return [];
  const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(t);
  if (hyphen?.[1] && hyphen[2]) {
    const lo = partial(hyphen[1]);
    const hi = partial(hyphen[2]);
    if (!lo || !hi) return null;
    return [
      { op: '>=', version: lo.version },
      hi.version.length < 3 && hi.version.length > 0
        ? { op: '<', version: bump(hi.version, hi.version.length - 1) }
        : { op: '<=', version: hi.version },
    ];
  }
  const out: Comparator[] = [];
  for (const token of t.replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1').split(/\s+/)) {
    const m = /^(>=|<=|>|<|=|\^|~)?(.+)$/.exec(token);
    if (!m?.[2]) return null;
    const p = partial(m[2]);
    if (!p) return null;
    const v = p.version;
    switch (m[1]) {
      case '^': {
        const first = v.findIndex((n) => n !== 0);
        const at = first === -1 ? Math.max(0, v.length - 1) : first;
        out.push({ op: '>=', version: v }, { op: '<', version: bump(v, at) });
        break;
      }
      case '~':
        out.push({ op: '>=', version: v }, { op: '<', version: bump(v, v.length > 1 ? 1 : 0) });
        break;
      case undefined:
      case '=':
        if (v.length === 0) break;
        if (v.length < 3) out.push({ op: '>=', version: v }, { op: '<', version: bump(v, v.length - 1) });
        else out.push({ op: '=', version: v });
        break;
      default:
        if (v.length === 0) break;
        out.push({ op: m[1] as Comparator['op'], version: v });
    }
  }
  return out;
}

function pepComparators(spec: string): Comparator[] | null {
  const out: Comparator[] = [];
  for (const raw of spec.split(',')) {
    const t = raw.trim();
    if (!t) continue;
    const m = /^(~=|===|==|!=|>=|<=|>|<)\s*(.+)$/.exec(t);
    if (!m?.[1] || !m[2]) return null;
    const p = partial(m[2]);
    if (!p || p.version.length === 0) return null;
    const v = p.version;
    switch (m[1]) {
      case '~=':
        out.push({ op: '>=', version: v }, { op: '<', version: bump(v, Math.max(0, v.length - 2)) });
        break;
      case '==':
      case '===':
        out.push({ op: '=', version: v, prefix: true });
        break;
      case '!=':
        out.push({ op: '!=', version: v, prefix: true });
        break;
      default:
        out.push({ op: m[1] as Comparator['op'], version: v });
    }
  }
  return out;
}

function gemComparators(spec: string): Comparator[] | null {
  const out: Comparator[] = [];
  for (const raw of spec.split(',')) {
    const t = raw.trim().replace(/^['"]|['"]$/g, '');
    if (!t) continue;
    const m = /^(~>|>=|<=|>|<|=|!=)?\s*(\d[\w.]*)$/.exec(t);
    if (!m?.[2]) return null;
    const v = parseVersion(m[2]);
    if (!v) return null;
    if (m[1] === '~>') {
      out.push({ op: '>=', version: v }, { op: '<', version: bump(v, Math.max(0, v.length - 2)) });
    } else if (!m[1] || m[1] === '=') {
      out.push({ op: '=', version: v, prefix: true });
    } else {
      out.push({ op: m[1] as Comparator['op'], version: v });
    }
  }
  return out;
}

function matches(c: Comparator, v: VersionTuple): boolean {
  if (c.op === '=' || c.op === '!=') {
    const equal = c.prefix
      ? c.version.every((n, i) => (v[i] ?? 0) === n)
      : compareVersions(v, c.version) === 0;
    return c.op === '=' ? equal : !equal;
  }
  const d = compareVersions(v, c.version);
  switch (c.op) {
    case '>=':
      return d >= 0;
    case '>':
      return d > 0;
    case '<':
      return d < 0;
    default:
      return d <= 0;
  }
}

/** A parsed range: alternatives (npm `||`) of comparator sets that must all hold. */
export interface VersionRange {
  alternatives: Comparator[][];
}

export function parseRange(spec: string, dialect: RangeDialect): VersionRange | null {
  const alternatives: Comparator[][] = [];
  const terms = dialect === 'npm' ? spec.split('||') : [spec];
  for (const term of terms) {
    const set =
      dialect === 'npm'
        ? npmComparators(term)
        : dialect === 'pep440'
          ? pepComparators(term)
          : gemComparators(term);
    if (!set) return null;
    alternatives.push(set);
  }
  return { alternatives };
}

export function satisfies(range: VersionRange, version: VersionTuple): boolean {
  return range.alternatives.some((set) => set.every((c) => matches(c, version)));
}

/**
 * Whether some release of a line (`24`, `3.11`, or a full `4.0.3`) satisfies the range. The
 * candidates are the line's lowest and highest releases plus the range's own bounds inside the
 * line, so `24 <24.17.0` still admits line 24.
 */
export function lineSatisfies(range: VersionRange, line: string): boolean {
  const v = parseVersion(line);
  if (!v) return false;
  if (v.length >= 3) return satisfies(range, v);
  const pad = (fill: number) => {
    const out = [...v];
    while (out.length < 3) out.push(fill);
    return out;
  };
  const candidates: VersionTuple[] = [pad(9999), pad(0)];
  for (const set of range.alternatives) {
    for (const c of set) {
      if (!v.every((n, i) => c.version[i] === n)) continue;
      candidates.push(c.version);
      const below = [...c.version];
      for (let i = below.length - 1; i >= 0; i--) {
        if ((below[i] ?? 0) > 0) {
          below[i] = (below[i] ?? 0) - 1;
          break;
        }
      }
      candidates.push(below);
    }
  }
  // A bound's predecessor can fall out of the line (`<3.14` gives 3.13 for line 3.14): drop those.
  return candidates.filter((c) => v.every((n, i) => (c[i] ?? 0) === n)).some((c) => satisfies(range, c));
}

/** True when the spec names one exact version rather than a range (`3.11`, `24.13.0`, `= 4.0.3`). */
export function isExactSpec(spec: string): boolean {
  return /^\s*(?:==?\s*)?v?\d+(?:\.\d+)*\s*$/.test(spec);
}
