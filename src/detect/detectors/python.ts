// Python: the workflow tool comes from lock files and tool sections, never from the build backend
// (hatchling, pdm-backend, flit build wheels for pip just as well). Version from .python-version >
// .tool-versions > runtime.txt > requires-python > Poetry's `python` dependency > Pipfile.

import { requirementFiles, requirementsScope } from '../dependencies.js';
import type { DetectContext, Detector, Fragment } from '../detector.js';
import type { Diagnostic } from '../diagnostics.js';
import type { PackageManager, PackageManagerName, SetupCommand, Source, Toolchain } from '../env-spec.js';
import { isRecord, lineOf, recordAt, stringAt } from '../manifest-parse.js';
import { choosePin, firstValue, type Pin, parseToolVersions } from '../pins.js';
import { pythonNewest, pythonOldestSupportedMinor, pythonStableMinors } from '../version-table.js';
import { lineSatisfies, parseRange, parseVersion, type RangeDialect } from '../versions.js';

type PythonManager = Extract<PackageManagerName, 'pip' | 'poetry' | 'uv' | 'pdm' | 'hatch' | 'pipenv'>;

const lockfiles: readonly (readonly [string, PythonManager])[] = [
  ['uv.lock', 'uv'],
  ['poetry.lock', 'poetry'],
  ['pdm.lock', 'pdm'],
  ['Pipfile.lock', 'pipenv'],
];

const markers = ['pyproject.toml', 'setup.py', 'setup.cfg', 'Pipfile', ...lockfiles.map(([f]) => f)];

/** Newest stable minor inside a constraint, e.g. `>=3.10` → 3.14, `>=3.13,<3.14` → 3.13. */
export function pythonForRange(spec: string, dialect: RangeDialect = 'pep440'): string | null {
  const range = parseRange(spec, dialect);
  if (!range) return null;
  const pick = [...pythonStableMinors].reverse().find((m) => lineSatisfies(range, `3.${m}`));
  return pick === undefined ? null : `3.${pick}`;
}

function exactPin(raw: string, source: Source, ctx: DetectContext): Pin | null {
  const value = raw.trim().replace(/^python-/, '');
  if (/^\d+\.\d+(\.\d+)?$/.test(value))
    return {
      version: value,
      resolution: 'exact',
      source,
      ...(value !== raw.trim() ? { requested: raw.trim() } : {}),
    };
  ctx.report({
    severity: 'warning',
    code: /^(pypy|graalpy|jython|system)/i.test(value) ? 'unsupported-version' : 'unknown-version',
    message: `${source.file}: "${raw.trim()}" is not a CPython version NixSpace can install; ignored`,
    file: source.file,
    ...(source.line ? { line: source.line } : {}),
  });
  return null;
}

function rangePin(spec: string, source: Source, dialect: RangeDialect, ctx: DetectContext): Pin | null {
  const version = pythonForRange(spec, dialect);
  const range = parseRange(spec, dialect);
  if (version && range) return { version, requested: spec, resolution: 'range', source, range };
  ctx.report({
    severity: 'warning',
    code: 'unknown-version',
    message: `${source.file}: no stable Python release satisfies "${spec}"`,
    file: source.file,
    ...(source.line ? { line: source.line } : {}),
  });
  return null;
}

async function versionPins(
  ctx: DetectContext,
  py: Record<string, unknown> | undefined,
  pyText: string | null,
): Promise<Pin[]> {
  const pins: Pin[] = [];
  const add = (p: Pin | null) => {
    if (p) pins.push(p);
  };
  const pv = ctx.has('.python-version') ? await ctx.read('.python-version') : null;
  const first = pv === null ? null : firstValue(pv);
  if (first) add(exactPin(first.value, { file: '.python-version', line: first.line }, ctx));
  const tv = ctx.has('.tool-versions') ? await ctx.read('.tool-versions') : null;
  const entry = tv === null ? undefined : parseToolVersions(tv).get('python');
  if (entry) add(exactPin(entry.version, { file: '.tool-versions', line: entry.line }, ctx));
  const rt = ctx.has('runtime.txt') ? await ctx.read('runtime.txt') : null;
  const rtv = rt === null ? null : firstValue(rt);
  if (rtv) add(exactPin(rtv.value, { file: 'runtime.txt', line: rtv.line }, ctx));
  const requires = stringAt(py, 'project', 'requires-python');
  if (requires) {
    const line = pyText === null ? undefined : lineOf(pyText, 'requires-python');
    add(rangePin(requires, { file: 'pyproject.toml', ...(line ? { line } : {}) }, 'pep440', ctx));
  }
  const poetryPython = stringAt(py, 'tool', 'poetry', 'dependencies', 'python');
  if (poetryPython) {
    const line = pyText === null ? undefined : lineOf(pyText, /^\s*python\s*=/);
    // Poetry constraints use npm-style carets and tildes.
    add(
      rangePin(
        poetryPython.replace(/,/g, ' '),
        { file: 'pyproject.toml', ...(line ? { line } : {}) },
        'npm',
        ctx,
      ),
    );
  }
  if (ctx.has('Pipfile')) {
    const pipfile = await ctx.toml('Pipfile');
    const want =
      stringAt(pipfile, 'requires', 'python_full_version') ?? stringAt(pipfile, 'requires', 'python_version');
    if (want) add(exactPin(want, { file: 'Pipfile' }, ctx));
  }
  return pins;
}

function hasKeys(value: unknown, keys: string[]): boolean {
  return isRecord(value) && keys.some((k) => k in value);
}

async function packageManager(
  ctx: DetectContext,
  py: Record<string, unknown> | undefined,
): Promise<PackageManager> {
  const locks = lockfiles.filter(([f]) => ctx.has(f));
  if (locks.length > 0) {
    const [file, name] = locks[0]!;
    if (locks.length > 1) {
      ctx.report({
        severity: 'warning',
        code: 'conflicting-package-managers',
        message: `several Python lock files: ${locks.map(([f]) => f).join(', ')}; using ${name} (${file})`,
        file,
      });
    }
    return { name, toolchain: 'python', lockfile: file, source: { file } };
  }
  const tool = recordAt(py, 'tool');
  const pyproject: Source = { file: 'pyproject.toml' };
  // Sections that configure a workflow, as opposed to a build backend's own build settings.
  if (hasKeys(recordAt(tool, 'poetry'), ['dependencies', 'group', 'dev-dependencies']))
    return { name: 'poetry', toolchain: 'python', source: pyproject };
  if (hasKeys(tool, ['uv'])) return { name: 'uv', toolchain: 'python', source: pyproject };
  if (hasKeys(recordAt(tool, 'pdm'), ['dev-dependencies', 'scripts', 'resolution', 'source']))
    return { name: 'pdm', toolchain: 'python', source: pyproject };
  if (ctx.has('hatch.toml')) return { name: 'hatch', toolchain: 'python', source: { file: 'hatch.toml' } };
  if (hasKeys(recordAt(tool, 'hatch'), ['envs']))
    return { name: 'hatch', toolchain: 'python', source: pyproject };
  if (ctx.has('Pipfile')) return { name: 'pipenv', toolchain: 'python', source: { file: 'Pipfile' } };
  const reqs = requirementFiles(ctx);
  if (reqs.length > 0)
    return {
      name: 'pip',
      toolchain: 'python',
      source: { file: reqs.includes('requirements.txt') ? 'requirements.txt' : reqs[0]! },
    };
  const marker = markers.find((m) => ctx.has(m)) ?? 'pyproject.toml';
  return { name: 'pip', toolchain: 'python', source: { file: marker } };
}

function installCommand(pm: PackageManager, ctx: DetectContext): string {
  switch (pm.name) {
    case 'uv':
      return pm.lockfile ? 'uv sync --frozen' : 'uv sync';
    case 'poetry':
      return 'poetry install';
    case 'pdm':
      return 'pdm install';
    case 'hatch':
      return 'hatch env create';
    case 'pipenv':
      return 'pipenv install --dev';
    default: {
      const reqs = requirementFiles(ctx);
      if (reqs.length === 0) return 'pip install -e .';
      const main = reqs.filter((f) => requirementsScope(f) === 'main');
      const dev = reqs.filter((f) => requirementsScope(f) === 'dev');
      return `pip install ${[...main, ...dev].map((f) => `-r ${f}`).join(' ')}`;
    }
  }
}

function checkSupported(t: Toolchain): Diagnostic | null {
  const v = parseVersion(t.version);
  const minor = v?.[1];
  if (!v || minor === undefined) return null;
  const newest = parseVersion(pythonNewest)?.[1] ?? 0;
  const at = { file: t.source.file, ...(t.source.line ? { line: t.source.line } : {}) };
  if (v[0] !== 3 || minor > newest) {
    return {
      severity: 'warning',
      code: 'unknown-version',
      message: `Python ${t.version} (${t.source.file}) is not a stable release NixSpace knows (newest: ${pythonNewest})`,
      ...at,
    };
  }
  if (minor < pythonOldestSupportedMinor) {
    return {
      severity: 'warning',
      code: 'unsupported-version',
      message: `Python ${t.version} (${t.source.file}) is end-of-life; NixSpace builds 3.${pythonOldestSupportedMinor} and newer`,
      ...at,
    };
  }
  return null;
}

export const pythonDetector: Detector = {
  name: 'python',
  async detect(ctx): Promise<Fragment> {
    const reqs = requirementFiles(ctx);
    const marker =
      markers.find((m) => ctx.has(m)) ?? (reqs.includes('requirements.txt') ? 'requirements.txt' : reqs[0]);
    if (!marker) return {};
    const py = ctx.has('pyproject.toml') ? await ctx.toml('pyproject.toml') : undefined;
    const pyText = ctx.has('pyproject.toml') ? await ctx.read('pyproject.toml') : null;

    const chosen = choosePin('python', await versionPins(ctx, py, pyText));
    for (const d of chosen.diagnostics) ctx.report(d);
    const toolchain: Toolchain = chosen.toolchain ?? {
      name: 'python',
      version: pythonNewest,
      resolution: 'default',
      source: { file: marker },
    };
    const unsupported = checkSupported(toolchain);
    if (unsupported) ctx.report(unsupported);

    const pm = await packageManager(ctx, py);
    const setup: SetupCommand[] = [
      { command: installCommand(pm, ctx), toolchain: 'python', source: pm.source },
    ];
    const fragment: Fragment = { toolchains: [toolchain], packageManagers: [pm], setup };

    // A Rust extension built by maturin, or a uv workspace member that is a Rust crate, needs cargo.
    const backend = stringAt(py, 'build-system', 'build-backend') ?? '';
    const members = recordAt(py, 'tool', 'uv', 'workspace')?.members;
    let rustSource: Source | undefined;
    if (backend.startsWith('maturin'))
      rustSource = {
        file: 'pyproject.toml',
        ...(pyText && lineOf(pyText, 'build-backend') ? { line: lineOf(pyText, 'build-backend')! } : {}),
      };
    else if (Array.isArray(members)) {
      for (const m of members) {
        if (typeof m === 'string' && !m.includes('*') && (await ctx.exists(`${m}/Cargo.toml`))) {
          rustSource = { file: `${m}/Cargo.toml` };
          break;
        }
      }
    }
    if (rustSource) {
      fragment.toolchains!.push({
        name: 'rust',
        version: 'stable',
        resolution: 'default',
        source: rustSource,
      });
      fragment.packageManagers!.push({ name: 'cargo', toolchain: 'rust', source: rustSource });
    }
    return fragment;
  },
};
