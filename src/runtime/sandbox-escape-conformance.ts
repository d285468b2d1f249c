// The escape section of the sandbox conformance suite: each case is an attack that took the host
// from inside a workspace before the sandbox ran its programs unprivileged, and asserts on the
// host that it did nothing. Run for every driver that claims isolation.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import type { Sandbox } from './sandbox.js';
import type { ExecOptions } from './sandbox-exec.js';

interface EscapeContext {
  startSandbox(overrides?: { workspaceDir?: string }): Promise<Sandbox>;
  newWorkspace(): Promise<string>;
  /** Runs argv to its end in the sandbox, through its agent (execInSandbox). */
  run(
    sandbox: Sandbox,
    argv: readonly string[],
    options?: ExecOptions,
  ): Promise<{ code: number | null; stdout: string; stderr: string }>;
  skip: string | undefined;
}

const corePattern = '/proc/sys/kernel/core_pattern';

export function escapeCases({ startSandbox, newWorkspace, run, skip }: EscapeContext): void {
  const inside = async (script: string, args: string[] = [], workspaceDir?: string) => {
    const sandbox = await startSandbox(workspaceDir === undefined ? {} : { workspaceDir });
    return run(sandbox, ['sh', '-c', script, 'sh', ...args]);
  };

  it('escape: no program is root or holds a capability, and none can gain one (setuid, no_new_privs)', {
    skip,
  }, async () => {
    const result = await inside(
      [
        'id -u; id -g',
        'grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):" /proc/self/status',
        // A setuid-root program would make its caller root on an ordinary host.
        'if su -c "id -u" root </dev/null 2>/dev/null; then echo GAINED; fi',
        'if mount -t tmpfs none /tmp 2>/dev/null; then echo MOUNTED; fi',
      ].join('\n'),
    );
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.notEqual(lines[0], '0', 'the uid inside is not root');
    // (The bounding set is the kernel's full one of the program's own user namespace, where it
    // holds nothing: no capability, no_new_privs, and no uid 0 to become.)
    for (const cap of ['CapInh', 'CapPrm', 'CapEff']) {
      assert.ok(lines.includes(`${cap}:\t0000000000000000`), `${cap} is empty: ${result.stdout}`);
    }
    // Linux reports both; gVisor's kernel (Debian's runsc) reports neither, and the box's process
    // has no_new_privs from its OCI config. Where reported, they must say so.
    const reported = (field: string) => lines.some((line) => line.startsWith(`${field}:`));
    if (reported('CapAmb')) assert.ok(lines.includes('CapAmb:\t0000000000000000'), result.stdout);
    if (reported('NoNewPrivs')) assert.ok(lines.includes('NoNewPrivs:\t1'), result.stdout);
    assert.ok(!lines.includes('GAINED') && !lines.includes('MOUNTED'), result.stdout);
  });

  it('escape: cannot set kernel.core_pattern (a crash would run a workspace script as host root)', {
    skip,
  }, async () => {
    const before = await readFile(corePattern, 'utf8');
    const dir = await newWorkspace();
    const marker = join(dir, 'ran-as-host-root');
    const result = await inside(
      [
        `printf '%s\\n' '#!/bin/sh' "touch $1" > "$2/hook" && chmod +x "$2/hook"`,
        `if echo "|$2/hook" > ${corePattern}; then echo WROTE; fi`,
        `if echo 1 > /proc/sys/kernel/sysrq; then echo WROTE-SYSRQ; fi`,
        `if echo h > /proc/sysrq-trigger; then echo WROTE-TRIGGER; fi`,
        // The crash that would run the hook.
        "sh -c 'kill -SEGV $$'",
        'true',
      ].join('\n'),
      [marker, dir],
      dir,
    );
    try {
      assert.ok(!result.stdout.includes('WROTE'), result.stdout);
      assert.equal(await readFile(corePattern, 'utf8'), before);
      assert.equal(existsSync(marker), false);
    } finally {
      // Should the write have happened, the host must not keep a pipe into a deleted workspace.
      if ((await readFile(corePattern, 'utf8')) !== before) await writeFile(corePattern, before);
      await rm(marker, { force: true });
    }
  });

  it("escape: sees none of the host's secrets, homes or state: /etc/shadow, SSH host keys, /root, /home, /var/lib", {
    skip,
  }, async () => {
    const result = await inside(
      [
        'for f in /etc/shadow /etc/gshadow /etc/ssh/ssh_host_rsa_key /etc/ssh/ssh_host_ed25519_key; do',
        '  if [ -s "$f" ] && cat "$f" >/dev/null 2>&1; then echo "READ $f"; fi',
        'done',
        'for d in /root /home /var/lib /var/log /srv /opt /mnt; do if [ -e "$d" ]; then echo "SEES $d"; fi; done',
        // The account database names the workspace user and no host account.
        'cut -d: -f1 /etc/passwd | tr "\\n" " "',
      ].join('\n'),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stdout, /READ|SEES/);
    assert.match(result.stdout, /^root dev nobody $/m);
  });

  it("escape: a program's working directory is the sandbox's: `..` from the workspace reaches no host directory", {
    skip,
  }, async () => {
    const dir = await newWorkspace();
    // A file beside the workspace on the host, which the sandbox does not mount.
    const neighbour = `${dir}-neighbour`;
    await writeFile(neighbour, 'secret\n');
    try {
      const sandbox = await startSandbox({ workspaceDir: dir });
      const result = await run(
        sandbox,
        ['sh', '-c', 'ls -a ..; cat ../*-neighbour 2>/dev/null; pwd; cd ../.. && ls -a'],
        { cwd: dir },
      );
      assert.doesNotMatch(result.stdout, /neighbour|secret/, result.stdout);
      assert.match(result.stdout, new RegExp(`^${dir}$`, 'm'));
    } finally {
      await rm(neighbour, { force: true });
    }
  });

  it('escape: what the workspace user writes belongs on the host to the sandbox user, not root', {
    skip,
  }, async () => {
    const dir = await newWorkspace();
    const result = await inside('echo x > "$1/mine"', [dir], dir);
    assert.equal(result.code, 0, result.stderr);
    const written = await stat(join(dir, 'mine'));
    const workspace = await stat(dir);
    assert.notEqual(written.uid, 0);
    assert.deepEqual([written.uid, written.gid], [workspace.uid, workspace.gid]);
  });
}
