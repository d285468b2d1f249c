// The seccomp section of the conformance suite, in a plain bubblewrap sandbox with the workspace
// filter on fd 9: installed by bwrap --seccomp, and by the perl wrapper for commands bwrap does not
// start. The control runs the same sandbox without the filter.
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { collectRun } from '../host/collect-run.js';
import { findExecutable } from '../host/find-executable.js';
import { runSeccompConformance, type SeccompRunResult } from './seccomp-conformance.js';
import { seccompExecArgv } from './seccomp-exec.js';
import { writeSeccompFilter } from './seccomp-filter.js';

const bwrap = findExecutable('bwrap');
const dir = await mkdtemp(join(tmpdir(), 'nixspace-seccomp-'));
const filterPath = await writeSeccompFilter(dir);
after(() => rm(dir, { recursive: true, force: true }));

const seccompFd = 9;

/** Who installs the filter: bwrap (--seccomp), the perl wrapper inside the sandbox, or no one. */
type Installer = 'bwrap' | 'perl' | 'none';

function runBwrap(bwrap: string, argv: readonly string[], installer: Installer): Promise<SeccompRunResult> {
  const asRoot = process.getuid?.() === 0;
  const args = [
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    '--unshare-pid',
    '--die-with-parent',
  ];
  // Host root where the tests run as root: the kernel then grants every probe, so whatever is
  // refused under the filter is refused by the filter alone. Otherwise a user namespace's root.
  if (!asRoot) args.push('--unshare-user');
  const fd = installer === 'none' ? undefined : openSync(filterPath, 'r');
  if (installer === 'bwrap') args.push('--seccomp', String(seccompFd));
  const command = installer === 'perl' ? [...seccompExecArgv({ fd: seccompFd }), ...argv] : argv;
  const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'pipe', 'pipe'];
  if (fd !== undefined) {
    while (stdio.length < seccompFd) stdio.push('ignore');
    stdio.push(fd);
  }
  const running = collectRun(bwrap, [...args, '--', ...command], { stdio });
  if (fd !== undefined) closeSync(fd);
  return running;
}

if (bwrap === undefined) {
  it('seccomp filter conformance', { skip: 'bwrap is not installed' }, () => {});
} else {
  // Without host root the kernel refuses some probes (swapon, acct, syslog) by itself.
  const runUnfiltered =
    process.getuid?.() === 0 ? (argv: readonly string[]) => runBwrap(bwrap, argv, 'none') : undefined;
  runSeccompConformance({
    name: 'bwrap --seccomp',
    run: (argv) => runBwrap(bwrap, argv, 'bwrap'),
    runUnfiltered,
  });
  runSeccompConformance({
    name: 'the perl installer (seccompExecArgv)',
    run: (argv) => runBwrap(bwrap, argv, 'perl'),
    runUnfiltered,
  });
}
