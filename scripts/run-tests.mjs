#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with Node's test runner (through tsx).
// Arguments narrow the run to files whose path contains one of them.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.name.endsWith('.test.ts')) yield relative(root, path);
  }
}

const files = ['src', 'test']
  .flatMap((dir) => [...walk(join(root, dir))])
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();

if (files.length === 0) {
  console.error(`no test files match ${filters.join(', ')}`);
  process.exit(1);
}

// The store suite runs against PGlite and a real PostgreSQL. Use the cluster named by
// NIXSPACE_TEST_DATABASE_URL, or start a throwaway one for this run.
const env = { TZ: 'America/Sao_Paulo', ...process.env };
let cluster;
if (!env.NIXSPACE_TEST_DATABASE_URL) {
  const started = spawnSync(join(root, 'scripts/test-postgres.sh'), ['start'], { encoding: 'utf8' });
  if (started.status === 0) {
    const [dir, url] = started.stdout.trim().split(' ');
    cluster = dir;
    env.NIXSPACE_TEST_DATABASE_URL = url;
    console.log(`test PostgreSQL: ${url}`);
  } else {
    console.error(`could not start a test PostgreSQL: ${started.stderr.trim()}`);
  }
}

// Ten minutes a file (the runner's limit holds for a whole file as for one test): a microVM suite
// boots a guest kernel under TCG for each case, 30–50 s apiece on a busy machine.
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-timeout=600000', ...files],
  { cwd: root, stdio: 'inherit', env },
);
if (cluster) spawnSync(join(root, 'scripts/test-postgres.sh'), ['stop', cluster], { stdio: 'inherit' });
process.exit(result.status ?? 1);
