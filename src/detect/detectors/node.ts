// Node.js: package manager from the `packageManager` field and lock files, version from
// .nvmrc > .node-version > .tool-versions > volta > engines.node.

import type { DetectContext, Detector, Fragment } from '../detector.js';
import type { Diagnostic } from '../diagnostics.js';
import type { PackageManager, PackageManagerName, Source } from '../env-spec.js';
import { lineOf, stringAt } from '../manifest-parse.js';
import { choosePin, firstValue, type Pin, parseToolVersions } from '../pins.js';
import { nodeCodenames, nodeCurrentLts, nodeNewest, nodeSupportedMajors } from '../version-table.js';
import { lineSatisfies, parseRange, parseVersion } from '../versions.js';

type NodeManager = Extract<PackageManagerName, 'npm' | 'yarn' | 'pnpm' | 'bun'>;

const lockfiles: readonly (readonly [string, NodeManager])[] = [
  ['pnpm-lock.yaml', 'pnpm'],
  ['yarn.lock', 'yarn'],
  ['bun.lock', 'bun'],
  ['bun.lockb', 'bun'],
  ['package-lock.json', 'npm'],
  ['npm-shrinkwrap.json', 'npm'],
];

export type NodeSpecResolution =
  | { kind: 'pin'; version: string; resolution: 'exact' | 'alias' }
  | { kind: 'range'; version: string }
  | { kind: 'unknown'; reason: string };

/**
 * What a Node version string in a pin file means: `v24` → 24, `lts/*` → the current LTS,
 * `lts/krypton` → 24, `node` → the newest major, `>=20` → a major inside the range.
 */
export function resolveNodeSpec(raw: string): NodeSpecResolution {
  const spec = raw.trim().toLowerCase();
  if (spec === 'lts/*' || spec === 'lts' || spec === 'lts/latest') {
    return { kind: 'pin', version: String(nodeCurrentLts), resolution: 'alias' };
  }
  const back = /^lts\/-(\d+)$/.exec(spec);
  if (back?.[1])
    return { kind: 'pin', version: String(nodeCurrentLts - 2 * Number(back[1])), resolution: 'alias' };
  const codename = spec.replace(/^lts\//, '');
  const major = nodeCodenames[codename];
  if (major !== undefined) return { kind: 'pin', version: String(major), resolution: 'alias' };
  if (spec.startsWith('lts/')) return { kind: 'unknown', reason: `unknown LTS codename "${raw.trim()}"` };
  if (['node', 'latest', 'current', 'stable'].includes(spec)) {
    return { kind: 'pin', version: String(nodeNewest), resolution: 'alias' };
  }
  const exact = /^v?(\d+(?:\.\d+){0,2})$/.exec(spec);
  if (exact?.[1]) return { kind: 'pin', version: exact[1], resolution: 'exact' };
  const range = parseRange(spec, 'npm');
  if (range) {
    const known = Array.from({ length: nodeNewest - 3 }, (_, i) => String(nodeNewest - i));
    const supported = [...nodeSupportedMajors].reverse().map(String);
    const pick =
      (lineSatisfies(range, String(nodeCurrentLts)) ? String(nodeCurrentLts) : undefined) ??
      supported.find((m) => lineSatisfies(range, m)) ??
      known.find((m) => lineSatisfies(range, m));
    if (pick) return { kind: 'range', version: pick };
    return { kind: 'unknown', reason: `no Node.js release satisfies "${raw.trim()}"` };
  }
  return { kind: 'unknown', reason: `"${raw.trim()}" is not a Node.js version` };
}

function toPin(raw: string, source: Source, ctx: DetectContext): Pin | null {
  const r = resolveNodeSpec(raw);
  if (r.kind === 'unknown') {
    ctx.report({
      severity: 'warning',
      code: 'unknown-version',
      message: `${source.file}: ${r.reason}; ignored`,
      file: source.file,
      ...(source.line ? { line: source.line } : {}),
    });
    return null;
  }
  const requested = raw.trim();
  const base = { version: r.version, source, ...(requested !== r.version ? { requested } : {}) };
  if (r.kind === 'range') {
    const range = parseRange(requested, 'npm');
    return { ...base, resolution: 'range', ...(range ? { range } : {}) };
  }
  return { ...base, resolution: r.resolution };
}

async function versionPins(ctx: DetectContext, pkg: unknown, pkgText: string | null): Promise<Pin[]> {
  const pins: Pin[] = [];
  for (const file of ['.nvmrc', '.node-version']) {
    const text = ctx.has(file) ? await ctx.read(file) : null;
    const v = text === null ? null : firstValue(text);
    if (v) {
      const pin = toPin(v.value, { file, line: v.line }, ctx);
      if (pin) pins.push(pin);
    }
  }
  const tv = ctx.has('.tool-versions') ? await ctx.read('.tool-versions') : null;
  if (tv !== null) {
    const tools = parseToolVersions(tv);
    const entry = tools.get('nodejs') ?? tools.get('node');
    if (entry) {
      const pin = toPin(entry.version, { file: '.tool-versions', line: entry.line }, ctx);
      if (pin) pins.push(pin);
    }
  }
  const volta = stringAt(pkg, 'volta', 'node');
  if (volta) {
    const pin = toPin(volta, sourceIn(pkgText, '"volta"'), ctx);
    if (pin) pins.push(pin);
  }
  const engines = stringAt(pkg, 'engines', 'node');
  if (engines) {
    const pin = toPin(engines, sourceIn(pkgText, '"engines"'), ctx);
    // engines.node states what works, not what to use: an exact-looking `24` is still a range.
    if (pin) pins.push(pin.resolution === 'exact' ? { ...pin, resolution: 'range' } : pin);
  }
  return pins;
}

function sourceIn(text: string | null, needle: string): Source {
  const line = text === null ? undefined : lineOf(text, needle);
  return { file: 'package.json', ...(line ? { line } : {}) };
}

function checkSupported(version: string, source: Source): Diagnostic | null {
  const major = parseVersion(version)?.[0];
  if (major === undefined) return null;
  if (major > nodeNewest) {
    return {
      severity: 'warning',
      code: 'unknown-version',
      message: `Node.js ${version} (${source.file}) is newer than any release NixSpace knows (newest: ${nodeNewest})`,
      file: source.file,
      ...(source.line ? { line: source.line } : {}),
    };
  }
  if (!nodeSupportedMajors.includes(major)) {
    return {
      severity: 'warning',
      code: 'unsupported-version',
      message: `Node.js ${version} (${source.file}) is end-of-life; NixSpace builds ${nodeSupportedMajors.join(', ')}`,
      file: source.file,
      ...(source.line ? { line: source.line } : {}),
    };
  }
  return null;
}

async function yarnVariant(ctx: DetectContext, version: string | undefined): Promise<'classic' | 'berry'> {
  if (version) return version.startsWith('1.') || version === '1' ? 'classic' : 'berry';
  if (ctx.has('.yarnrc.yml')) return 'berry';
  const lock = ctx.has('yarn.lock') ? await ctx.readHead('yarn.lock') : null;
  if (lock?.includes('__metadata:')) return 'berry';
  return 'classic';
}

// Without a lockfile the install must not write one into the checkout: it would be an
// uncommitted change that nobody made, and it would stop the workspace from switching refs.
function installCommand(pm: PackageManager): string {
  const locked = pm.lockfile !== undefined;
  switch (pm.name) {
    case 'npm':
      if (pm.lockfile === 'npm-shrinkwrap.json') return 'npm install';
      return locked ? 'npm ci' : 'npm install --no-package-lock';
    case 'yarn':
      if (!locked) return pm.variant === 'berry' ? 'yarn install' : 'yarn install --no-lockfile';
      return pm.variant === 'berry' ? 'yarn install --immutable' : 'yarn install --frozen-lockfile';
    case 'pnpm':
      return locked ? 'pnpm install --frozen-lockfile' : 'pnpm install';
    default:
      return locked ? 'bun install --frozen-lockfile' : 'bun install';
  }
}

async function packageManager(
  ctx: DetectContext,
  pkg: unknown,
  pkgText: string | null,
): Promise<PackageManager> {
  const present = lockfiles.filter(([file]) => ctx.has(file));
  const lockKinds = [...new Set(present.map(([, pm]) => pm))];
  const lockfileFor = (pm: NodeManager) => present.find(([, p]) => p === pm)?.[0];

  let name: NodeManager | undefined;
  let version: string | undefined;
  let source: Source | undefined;
  const field = stringAt(pkg, 'packageManager');
  if (field) {
    const m = /^(npm|yarn|pnpm|bun)@([^+\s]+)/.exec(field.trim());
    const fieldSource = sourceIn(pkgText, '"packageManager"');
    if (m?.[1] && m[2]) {
      name = m[1] as NodeManager;
      version = m[2];
      source = fieldSource;
      const others = lockKinds.filter((k) => k !== name);
      if (others.length > 0) {
        ctx.report({
          severity: 'warning',
          code: 'conflicting-package-managers',
          message: `package.json packageManager says ${name}, but ${others
            .map((k) => lockfileFor(k))
            .join(', ')} belong to ${others.join(', ')}; using ${name} (packageManager)`,
          file: 'package.json',
          ...(fieldSource.line ? { line: fieldSource.line } : {}),
        });
      }
    } else {
      ctx.report({
        severity: 'warning',
        code: 'unknown-version',
        message: `package.json packageManager "${field}" is not <npm|yarn|pnpm|bun>@<version>; ignored`,
        file: 'package.json',
        ...(fieldSource.line ? { line: fieldSource.line } : {}),
      });
    }
  }
  if (!name && lockKinds.length > 0) {
    // Lock files are listed most specific first: a stray package-lock.json beside a
    // pnpm-lock.yaml is usually an accident of someone running `npm install`.
    name = lockKinds[0]!;
    source = { file: lockfileFor(name)! };
    if (lockKinds.length > 1) {
      ctx.report({
        severity: 'warning',
        code: 'conflicting-package-managers',
        message: `several lock files: ${present.map(([f]) => f).join(', ')}; using ${name} (${source.file})`,
        file: source.file,
      });
    }
  }
  if (!name && ctx.has('.yarnrc.yml')) {
    name = 'yarn';
    source = { file: '.yarnrc.yml' };
  }
  if (!name && ctx.has('pnpm-workspace.yaml')) {
    name = 'pnpm';
    source = { file: 'pnpm-workspace.yaml' };
  }
  if (!name) {
    name = 'npm';
    source = { file: 'package.json' };
  }
  if (name === 'yarn' && !version && ctx.has('.yarnrc.yml')) {
    const rc = await ctx.read('.yarnrc.yml');
    const m = rc ? /yarnPath:.*yarn-(\d[\w.-]*?)\.c?js/.exec(rc) : null;
    if (m?.[1]) version = m[1];
  }
  const lockfile = lockfileFor(name);
  return {
    name,
    toolchain: 'node',
    source: source!,
    ...(version ? { version } : {}),
    ...(name === 'yarn' ? { variant: await yarnVariant(ctx, version) } : {}),
    ...(lockfile ? { lockfile } : {}),
  };
}

export const nodeDetector: Detector = {
  name: 'node',
  async detect(ctx): Promise<Fragment> {
    const hasLock = lockfiles.some(([file]) => ctx.has(file));
    if (!ctx.has('package.json') && !hasLock) return {};
    const pkgText = ctx.has('package.json') ? await ctx.read('package.json') : null;
    const pkg = ctx.has('package.json') ? await ctx.json('package.json') : undefined;

    const pins = await versionPins(ctx, pkg, pkgText);
    const chosen = choosePin('node', pins);
    for (const d of chosen.diagnostics) ctx.report(d);
    const presence: Source = {
      file: ctx.has('package.json') ? 'package.json' : lockfiles.find(([f]) => ctx.has(f))![0],
    };
    const toolchain = chosen.toolchain ?? {
      name: 'node' as const,
      version: String(nodeCurrentLts),
      resolution: 'default' as const,
      source: presence,
    };
    const unsupported = checkSupported(toolchain.version, toolchain.source);
    if (unsupported) ctx.report(unsupported);

    const pm = await packageManager(ctx, pkg, pkgText);
    return {
      toolchains: [toolchain],
      packageManagers: [pm],
      setup: [
        {
          command: installCommand(pm),
          toolchain: 'node',
          source: pm.lockfile ? { file: pm.lockfile } : presence,
        },
      ],
    };
  },
};
