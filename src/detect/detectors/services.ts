// Backing services (postgres 15, redis 7, …). Signals, strongest first: compose files, Rails
// database config, Heroku app.json add-ons, service URLs in .env files, Procfile processes, and
// last the client libraries a project depends on.

import { isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import { collectDependencies, type Dependency } from '../dependencies.js';
import type { DetectContext, Detector, Fragment } from '../detector.js';
import type { Port, Service, Source, SystemPackage } from '../env-spec.js';
import { isRecord, lineOf } from '../manifest-parse.js';
import {
  type ServiceEntry,
  serviceByName,
  serviceCatalog,
  serviceForAdapter,
  serviceForBinary,
  serviceForClient,
  serviceForImage,
  serviceForScheme,
  systemPackagesForClients,
} from '../service-catalog.js';
import { envFileCandidates, parseEnvFile } from './env-files.js';

interface Signal {
  entry: ServiceEntry;
  version: string | null;
  source: Source;
}

export const composeFilePattern = /^(?:docker-)?compose(?:\.[\w-]+)*\.ya?ml$/i;

/** `14.8-alpine` → `14.8`; `latest`, `alpine` → null; `${PG_VERSION:-15}` → `15`. */
export function versionFromTag(tag: string): string | null {
  const interpolated = /^\$\{[A-Z0-9_]+:?-([^}]+)\}/i.exec(tag);
  const t = interpolated?.[1] ?? tag;
  const m = /^v?(\d+(?:\.\d+)*)/.exec(t);
  return m?.[1] ?? null;
}

/** Version of an image reference, falling back to a trailing `# 14.15` comment for digest pins. */
export function imageVersion(image: string, comment: string | undefined): string | null {
  const [ref = '', digest] = image.split('@');
  const slash = ref.lastIndexOf('/');
  const colon = ref.indexOf(':', slash + 1);
  const tag = colon === -1 ? '' : ref.slice(colon + 1);
  const fromTag = tag ? versionFromTag(tag) : null;
  if (fromTag) return fromTag;
  if (digest || !tag) {
    const m = comment ? /(?:^|\s)v?(\d+(?:\.\d+)+|\d+)(?:[-\w.]*)?\s*$/.exec(comment.trim()) : null;
    if (m?.[1]) return m[1];
  }
  return null;
}

function scalarString(node: unknown): string | undefined {
  return isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number')
    ? String(node.value)
    : undefined;
}

async function composeSignals(ctx: DetectContext, ports: Port[]): Promise<Signal[]> {
  const out: Signal[] = [];
  const files = [...ctx.root.keys()]
    .filter((n) => composeFilePattern.test(n) && !/prod/i.test(n))
    .sort((a, b) => a.length - b.length || a.localeCompare(b));
  for (const file of files) {
    const parsed = await ctx.yaml(file);
    const text = await ctx.read(file);
    if (!parsed || text === null) continue;
    const services = parsed.doc.get('services', true);
    if (!isMap(services)) continue;
    for (const pair of (services as YAMLMap).items) {
      const key = scalarString(pair.key) ?? '';
      const svc = pair.value;
      if (!isMap(svc)) continue;
      const imageNode = svc.get('image', true) as Node | undefined;
      const image = scalarString(imageNode);
      const lineAt = (node: Node | undefined) => {
        const offset = node?.range?.[0];
        return offset === undefined ? undefined : parsed.lines.linePos(offset).line;
      };
      if (image) {
        const entry = serviceForImage(image);
        if (!entry) continue;
        const line = lineAt(imageNode);
        const rawLine = line ? text.split('\n')[line - 1] : undefined;
        const comment = (isScalar(imageNode) ? imageNode.comment : undefined) ?? rawLine?.split(' #')[1];
        out.push({
          entry,
          version: imageVersion(image, comment),
          source: { file, ...(line ? { line } : {}) },
        });
        continue;
      }
      const build = svc.get('build', true);
      const buildPath =
        scalarString(build) ??
        (isMap(build)
          ? [scalarString(build.get('context', true)), scalarString(build.get('dockerfile', true))]
              .filter(Boolean)
              .join('/')
          : '');
      // A service built from the repo itself is the app: its ports are the app's ports.
      const named = serviceCatalog.find((s) =>
        [key, ...buildPath.split(/[/\\]/)].some(
          (part) =>
            part.toLowerCase() === s.name || (s.name === 'postgres' && part.toLowerCase() === 'postgresql'),
        ),
      );
      const line = lineAt(pair.key as Node);
      if (named) {
        out.push({ entry: named, version: null, source: { file, ...(line ? { line } : {}) } });
        continue;
      }
      const portList = svc.get('ports', true);
      if (isSeq(portList)) {
        for (const item of portList.items) {
          const spec = scalarString(item);
          const m = spec ? /(?:^|:)(\d+)(?:\/\w+)?$/.exec(spec) : null;
          const port = m?.[1] ? Number(m[1]) : Number.NaN;
          if (port >= 1 && port <= 65535)
            ports.push({
              port,
              label: key,
              source: { file, ...(lineAt(item as Node) ? { line: lineAt(item as Node)! } : {}) },
            });
        }
      }
    }
  }
  return out;
}

const databaseYmlFiles = [
  'config/database.yml',
  'config/database.yml.sample',
  'config/database.yml.example',
  'config/database.yml.dist',
  'config/example.database.yml',
  'config/database.example.yml',
];

/** Rails database config: adapters, including ERB defaults like `ENV[...] || "mysql2"`. */
async function databaseYmlSignals(ctx: DetectContext): Promise<{ signals: Signal[]; found: boolean }> {
  if (!ctx.has('config')) return { signals: [], found: false };
  for (const file of databaseYmlFiles) {
    const text = await ctx.read(file);
    if (text === null) continue;
    const signals: Signal[] = [];
    text.split('\n').forEach((raw, i) => {
      const m = /^\s*adapter:\s*(.+)$/.exec(raw);
      if (!m?.[1]) return;
      const names = m[1].includes('<%')
        ? [...m[1].matchAll(/["']([a-z0-9_]+)["']/gi)].map((x) => x[1] ?? '')
        : [m[1].trim()];
      for (const name of names) {
        const entry = serviceForAdapter(name.replace(/["']/g, ''));
        if (entry && entry !== 'none') signals.push({ entry, version: null, source: { file, line: i + 1 } });
      }
    });
    return { signals, found: true };
  }
  return { signals: [], found: false };
}

async function appJsonSignals(ctx: DetectContext): Promise<Signal[]> {
  if (!ctx.has('app.json')) return [];
  const app = await ctx.json('app.json');
  const text = await ctx.read('app.json');
  const addons = isRecord(app) && Array.isArray(app.addons) ? app.addons : [];
  const out: Signal[] = [];
  for (const addon of addons) {
    const plan =
      typeof addon === 'string' ? addon : isRecord(addon) && typeof addon.plan === 'string' ? addon.plan : '';
    const name = plan.split(':')[0] ?? '';
    const entry = serviceCatalog.find((s) => s.herokuAddons?.includes(name));
    const line = text === null ? undefined : lineOf(text, name);
    if (entry) out.push({ entry, version: null, source: { file: 'app.json', ...(line ? { line } : {}) } });
  }
  return out;
}

async function envSignals(ctx: DetectContext): Promise<Signal[]> {
  const out: Signal[] = [];
  for (const file of envFileCandidates(ctx)) {
    const text = await ctx.read(file);
    if (text === null) continue;
    for (const v of parseEnvFile(text)) {
      const scheme = /^([a-z][a-z0-9+]*):\/\//i.exec(v.value)?.[1];
      const entry = scheme
        ? serviceForScheme(scheme)
        : /^DATABASE_ADAPTER$/i.test(v.name)
          ? serviceForAdapter(v.value)
          : undefined;
      if (entry && entry !== 'none') out.push({ entry, version: null, source: { file, line: v.line } });
    }
  }
  return out;
}

async function procfileSignals(ctx: DetectContext): Promise<Signal[]> {
  const out: Signal[] = [];
  for (const file of [...ctx.root.keys()].filter((n) => /^Procfile(\.[\w-]+)?$/.test(n)).sort()) {
    const text = await ctx.read(file);
    if (text === null) continue;
    text.split('\n').forEach((raw, i) => {
      const m = /^[\w-]+:\s*(.+)$/.exec(raw.trim());
      if (!m?.[1] || raw.trim().startsWith('#')) return;
      // `bundle exec sidekiq`, `redis-server --port 6380`: the program after any runner prefix.
      const words = m[1]
        .split(/\s+/)
        .filter((w) => !/^(bundle|exec|npx|pnpm|yarn|poetry|uv|run|env|\w+=\S*)$/.test(w));
      const program = (words[0] ?? '').split('/').pop() ?? '';
      const entry = serviceForBinary(program);
      if (entry) out.push({ entry, version: null, source: { file, line: i + 1 } });
    });
  }
  return out;
}

/**
 * Client libraries. Drivers for several SQL databases mean the database is selectable (Django,
 * SQLAlchemy, Rails apps that support both): none is assumed, and a config file must decide.
 */
function dependencySignals(
  ctx: DetectContext,
  deps: Dependency[],
  sqlDecided: boolean,
  known: Set<string>,
): Signal[] {
  const hits = deps
    .map((d) => ({ d, entry: serviceForClient(d.ecosystem, d.name) }))
    .filter((h): h is { d: Dependency; entry: ServiceEntry } => h.entry !== undefined);
  // `celery[redis]`: the extra names the broker.
  for (const d of deps) {
    for (const extra of d.extras) {
      const entry = serviceByName(extra) ?? serviceForClient(d.ecosystem, extra);
      if (entry) hits.push({ d, entry });
    }
  }
  const sqlEngines = new Set(hits.filter((h) => h.entry.sql).map((h) => h.entry.name));
  const out: Signal[] = [];
  // Services a stronger signal already found need no second opinion (or note) from a library.
  const seen = new Set<string>(known);
  for (const { d, entry } of hits) {
    if (seen.has(entry.name)) continue;
    const where = d.source.line ? `${d.source.file}:${d.source.line}` : d.source.file;
    if (entry.sql && (sqlDecided || sqlEngines.size > 1)) {
      if (!sqlDecided) {
        for (const name of sqlEngines) seen.add(name);
        ctx.report({
          severity: 'info',
          code: 'ambiguous-service',
          message: `drivers for several databases (${[...sqlEngines].join(', ')}): the database is selectable, none assumed (${where})`,
          file: d.source.file,
          ...(d.source.line ? { line: d.source.line } : {}),
        });
      }
      continue;
    }
    if (d.scope !== 'main') continue;
    if (entry.optionalByNature) {
      seen.add(entry.name);
      ctx.report({
        severity: 'info',
        code: 'ambiguous-service',
        message: `${d.name} is a ${entry.name} client, but a cache is optional until configured; not started (${where})`,
        file: d.source.file,
        ...(d.source.line ? { line: d.source.line } : {}),
      });
      continue;
    }
    seen.add(entry.name);
    out.push({ entry, version: null, source: d.source });
  }
  return out;
}

function systemPackages(deps: Dependency[]): SystemPackage[] {
  const out: SystemPackage[] = [];
  for (const d of deps) {
    if (d.scope === 'dev') continue;
    for (const name of systemPackagesForClients[d.ecosystem]?.[d.name] ?? []) {
      out.push({ name, reason: `${d.name} builds against it`, source: d.source });
    }
  }
  return out;
}

export const servicesDetector: Detector = {
  name: 'services',
  async detect(ctx): Promise<Fragment> {
    const ports: Port[] = [];
    const deps = await collectDependencies(ctx);
    const compose = await composeSignals(ctx, ports);
    const dbYml = await databaseYmlSignals(ctx);
    const strong = [
      ...compose,
      ...dbYml.signals,
      ...(await appJsonSignals(ctx)),
      ...(await envSignals(ctx)),
      ...(await procfileSignals(ctx)),
    ];
    // A Rails database.yml (even one naming only SQLite) or an explicit SQL service settles the
    // database question; client gems then add nothing.
    const sqlDecided = dbYml.found || strong.some((s) => s.entry.sql);
    const known = new Set(strong.map((s) => s.entry.name));
    const signals = [...strong, ...dependencySignals(ctx, deps, sqlDecided, known)];

    const services = new Map<string, Service>();
    for (const s of signals) {
      const existing = services.get(s.entry.name);
      if (!existing) services.set(s.entry.name, { name: s.entry.name, version: s.version, source: s.source });
      else if (existing.version === null && s.version !== null) {
        services.set(s.entry.name, { name: s.entry.name, version: s.version, source: s.source });
      }
    }
    return { services: [...services.values()], ports, systemPackages: systemPackages(deps) };
  },
};
