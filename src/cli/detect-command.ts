// `nixspace detect <dir> [--json]`: what a repository needs, each fact with the file it came from.

import { realpath, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type DetectionResult, detectDirectory } from '../detect/detect.js';
import { type Source, specHash } from '../detect/env-spec.js';

const usage = `Usage: nixspace detect [DIR] [--json]

Detects toolchains, package managers, services, env vars, setup commands and jobs of the
repository in DIR (default: the current directory) and prints them with their source files.

Options:
  --json   Print {spec, diagnostics} as JSON
`;

function where(source: Source): string {
  return source.line ? `${source.file}:${source.line}` : source.file;
}

function table(title: string, rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const body = rows.map((r) =>
    `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd(),
  );
  return `${title}\n${body.join('\n')}\n\n`;
}

/** Human output. Secret values are never in the spec, and their names are marked, not shown with values. */
export function formatDetection(result: DetectionResult): string {
  const { spec, diagnostics } = result;
  let out = '';
  out += table(
    'Toolchains',
    spec.toolchains.map((t) => [
      t.name,
      t.version,
      t.requested ? `${t.resolution} (${t.requested})` : t.resolution,
      where(t.source),
    ]),
  );
  out += table(
    'Package managers',
    spec.packageManagers.map((p) => [
      p.name,
      [p.version, p.variant].filter(Boolean).join(' ') || '-',
      p.lockfile ?? '(no lock file)',
      where(p.source),
    ]),
  );
  out += table(
    'Services',
    spec.services.map((s) => [s.name, s.version ?? 'any', where(s.source)]),
  );
  out += table(
    'System packages',
    spec.systemPackages.map((p) => [p.name, p.reason ?? '', where(p.source)]),
  );
  out += table(
    'Environment variables',
    spec.env.map((e) => [
      e.name,
      e.secret ? '(secret, not shown)' : JSON.stringify(e.value),
      where(e.source),
    ]),
  );
  out += table(
    'Setup',
    spec.setup.map((c) => [c.toolchain, c.command, where(c.source)]),
  );
  out += table(
    'Ports',
    spec.ports.map((p) => [String(p.port), p.label ?? '', where(p.source)]),
  );
  out += table(
    'Jobs',
    spec.jobs.map((j) => [
      j.kind,
      j.name,
      j.command.length > 60 ? `${j.command.slice(0, 57)}...` : j.command,
      where(j.source),
    ]),
  );
  out += spec.flake ? `Flake\n  the repository's own ${spec.flake.file} is used as-is\n\n` : '';
  out += table(
    'Diagnostics',
    diagnostics.map((d) => [d.severity, d.code, d.message]),
  );
  if (out === '') out = 'Nothing detected.\n\n';
  return `${out}spec hash ${specHash(spec)}\n`;
}

export async function runDetect(args: string[]): Promise<number> {
  let values: { json?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (positionals.length > 1) {
    process.stderr.write(`expected one directory, got ${positionals.length}\n\n${usage}`);
    return 2;
  }
  const dir = resolve(positionals[0] ?? '.');
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) {
    process.stderr.write(`not a directory: ${dir}\n`);
    return 1;
  }
  // The directory named is the user's own; what is inside it is read without following symlinks.
  const result = await detectDirectory(await realpath(dir));
  process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : formatDetection(result));
  return 0;
}
