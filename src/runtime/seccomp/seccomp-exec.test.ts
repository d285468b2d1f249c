// The perl installer fails closed: without a whole filter on its descriptor the command never runs.
// That it installs the filter is in the conformance run of seccomp-bwrap.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { NixSpaceError } from '../../errors.js';
import { seccompExecArgv } from './seccomp-exec.js';

/** Runs `echo ran` through the installer, with fd 3 set up by the shell redirection. */
function runEcho(redirect: string, input = '') {
  const [perl, ...args] = seccompExecArgv({ fd: 3 });
  return spawnSync('/bin/sh', ['-c', `"$0" "$@" ${redirect}`, perl!, ...args, 'echo', 'ran'], {
    input,
    encoding: 'utf8',
  });
}

describe('seccomp installer (perl)', () => {
  it('does not run the command when no filter is open on its descriptor', () => {
    const result = runEcho('3<&-');
    assert.notEqual(result.status, 0);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /nixspace seccomp: cannot read the filter on fd 3/);
  });

  it('does not run the command when the filter is empty or cut short', () => {
    for (const input of ['', 'abc']) {
      const result = runEcho('3<&0', input);
      assert.notEqual(result.status, 0, result.stderr);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, /not whole instructions/);
    }
  });

  it('refuses an architecture without a syscall table', () => {
    assert.throws(
      () => seccompExecArgv({ arch: 'riscv64' }),
      (error) => error instanceof NixSpaceError && error.code === 'SANDBOX_UNAVAILABLE',
    );
  });
});
