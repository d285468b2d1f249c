// Ruby with Bundler. Version from .ruby-version > .tool-versions > the Gemfile `ruby` line >
// Gemfile.lock `RUBY VERSION`; Bundler's own version from `BUNDLED WITH`.

import type { DetectContext, Detector, Fragment } from '../detector.js';
import type { PackageManager, Source, Toolchain } from '../env-spec.js';
import { choosePin, firstValue, type Pin, parseToolVersions } from '../pins.js';
import { rubyLines, rubyNewest, rubyOldestSupported } from '../version-table.js';
import { compareVersions, isExactSpec, lineSatisfies, parseRange, parseVersion } from '../versions.js';

function exactPin(raw: string, source: Source, ctx: DetectContext): Pin | null {
  const value = raw.trim().replace(/^ruby-/, '');
  const m = /^(\d+\.\d+(?:\.\d+)?)(?:p\d+)?$/.exec(value);
  if (m?.[1])
    return {
      version: m[1],
      resolution: 'exact',
      source,
      ...(m[1] !== raw.trim() ? { requested: raw.trim() } : {}),
    };
  ctx.report({
    severity: 'warning',
    code: /^(jruby|truffleruby|mruby)/i.test(value) ? 'unsupported-version' : 'unknown-version',
    message: `${source.file}: "${raw.trim()}" is not a CRuby version NixSpace can install; ignored`,
    file: source.file,
    ...(source.line ? { line: source.line } : {}),
  });
  return null;
}

/** The Gemfile `ruby` directive: `ruby "3.4.1"`, `ruby ">= 3.4.0"`, `ruby file: ".ruby-version"`. */
function gemfilePin(text: string, file: string, ctx: DetectContext): Pin | null {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').replace(/#.*$/, '').trim();
    const m = /^ruby\s*\(?\s*(.+?)\)?$/.exec(line);
    if (!m?.[1] || /^(file|engine):/.test(m[1]) || m[1].startsWith('File.')) continue;
    const args = [...m[1].matchAll(/["']([^"']+)["']/g)].map((x) => x[1] ?? '');
    if (args.length === 0) continue;
    const source = { file, line: i + 1 };
    const spec = args.join(', ');
    if (args.length === 1 && isExactSpec(spec.replace(/^=\s*/, '')))
      return exactPin(spec.replace(/^=\s*/, ''), source, ctx);
    const range = parseRange(spec, 'gem');
    const pick = range ? [...rubyLines].reverse().find((l) => lineSatisfies(range, l)) : undefined;
    if (range && pick) return { version: pick, requested: spec, resolution: 'range', source, range };
    ctx.report({
      severity: 'warning',
      code: 'unknown-version',
      message: `${file}:${i + 1}: no Ruby release satisfies "${spec}"`,
      file,
      line: i + 1,
    });
    return null;
  }
  return null;
}

/** `RUBY VERSION\n   ruby 4.0.6p0` and `BUNDLED WITH\n   4.0.8` sections of Gemfile.lock. */
export function parseGemfileLock(text: string): {
  ruby?: { version: string; line: number };
  bundler?: string;
} {
  const lines = text.split('\n');
  const out: { ruby?: { version: string; line: number }; bundler?: string } = {};
  for (let i = 0; i < lines.length; i++) {
    const next = (lines[i + 1] ?? '').trim();
    if (lines[i] === 'RUBY VERSION') {
      const m = /^ruby\s+(\S+)/.exec(next);
      if (m?.[1]) out.ruby = { version: m[1], line: i + 2 };
    }
    if (lines[i] === 'BUNDLED WITH' && next) out.bundler = next;
  }
  return out;
}

export const rubyDetector: Detector = {
  name: 'ruby',
  async detect(ctx): Promise<Fragment> {
    const gemfile = ctx.has('Gemfile') ? 'Gemfile' : ctx.has('gems.rb') ? 'gems.rb' : undefined;
    const lockName = gemfile === 'gems.rb' ? 'gems.locked' : 'Gemfile.lock';
    const gemspec = [...ctx.root.keys()].find((n) => n.endsWith('.gemspec'));
    const marker = gemfile ?? (ctx.has(lockName) ? lockName : gemspec);
    if (!marker) return {};

    const pins: Pin[] = [];
    const add = (p: Pin | null) => {
      if (p) pins.push(p);
    };
    const rv = ctx.has('.ruby-version') ? await ctx.read('.ruby-version') : null;
    const first = rv === null ? null : firstValue(rv);
    if (first) add(exactPin(first.value, { file: '.ruby-version', line: first.line }, ctx));
    const tv = ctx.has('.tool-versions') ? await ctx.read('.tool-versions') : null;
    const entry = tv === null ? undefined : parseToolVersions(tv).get('ruby');
    if (entry) add(exactPin(entry.version, { file: '.tool-versions', line: entry.line }, ctx));
    const gemText = gemfile ? await ctx.read(gemfile) : null;
    if (gemfile && gemText !== null) add(gemfilePin(gemText, gemfile, ctx));
    // RUBY VERSION and BUNDLED WITH sit at the end of the lock file: read it whole.
    const lockText = ctx.has(lockName) ? await ctx.read(lockName) : null;
    const lock = lockText === null ? {} : parseGemfileLock(lockText);
    if (lock.ruby) add(exactPin(lock.ruby.version, { file: lockName, line: lock.ruby.line }, ctx));

    const chosen = choosePin('ruby', pins);
    for (const d of chosen.diagnostics) ctx.report(d);
    const toolchain: Toolchain = chosen.toolchain ?? {
      name: 'ruby',
      version: rubyNewest,
      resolution: 'default',
      source: { file: marker },
    };
    const v = parseVersion(toolchain.version);
    const oldest = parseVersion(rubyOldestSupported)!;
    const newest = parseVersion(rubyNewest)!;
    const at = {
      file: toolchain.source.file,
      ...(toolchain.source.line ? { line: toolchain.source.line } : {}),
    };
    if (v && compareVersions(v.slice(0, 2), newest) > 0) {
      ctx.report({
        severity: 'warning',
        code: 'unknown-version',
        message: `Ruby ${toolchain.version} (${toolchain.source.file}) is newer than any release NixSpace knows (newest: ${rubyNewest})`,
        ...at,
      });
    } else if (v && compareVersions(v.slice(0, 2), oldest) < 0) {
      ctx.report({
        severity: 'warning',
        code: 'unsupported-version',
        message: `Ruby ${toolchain.version} (${toolchain.source.file}) is end-of-life; NixSpace builds ${rubyOldestSupported} and newer`,
        ...at,
      });
    }

    const pm: PackageManager = {
      name: 'bundler',
      toolchain: 'ruby',
      source: { file: gemfile ?? marker },
      ...(lock.bundler ? { version: lock.bundler } : {}),
      ...(ctx.has(lockName) ? { lockfile: lockName } : {}),
    };
    return {
      toolchains: [toolchain],
      packageManagers: [pm],
      setup: [{ command: 'bundle install', toolchain: 'ruby', source: pm.source }],
    };
  },
};
