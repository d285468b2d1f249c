// A running bubblewrap sandbox. Later processes do not get their own bwrap: they join the
// namespaces of the sandbox init with nsenter, so terminals, jobs and servers of one workspace see
// each other (same pids, same loopback) and share one set of limits.
import type { ChildProcess } from 'node:child_process';
import { isAbsolute } from 'node:path';
import { NixSpaceError } from '../../../errors.js';
import type { SandboxCgroup } from '../../cgroups/sandbox-cgroup.js';
import {
  delay,
  killQuietly,
  killUntilGone,
  pidNamespaceOf,
  pidsInNamespace,
} from '../../host/host-processes.js';
import { shellQuote as q } from '../../host/shell-quote.js';
import { userNamespacePrefix } from '../../host/user-namespace.js';
import type { CommandOptions, Sandbox, SandboxExit, SandboxSpec, SpawnCommand } from '../../sandbox.js';
import { sandboxEnv } from '../../sandbox-env.js';

export interface BubblewrapTools {
  nsenter: string;
  setpriv: string;
  setsid: string;
  unshare: string;
}

export interface BubblewrapSandboxInit {
  spec: SandboxSpec;
  /** Host pid of the sandbox's pid 1 (bwrap's reaper). */
  pid: number;
  /** Inode of the sandbox's pid namespace: tells the init apart from a later process reusing its pid. */
  pidNamespace: number;
  child: ChildProcess;
  exited: Promise<SandboxExit>;
  cgroup: SandboxCgroup | undefined;
  tools: BubblewrapTools;
}

export class BubblewrapSandbox implements Sandbox {
  readonly id: string;
  readonly pid: number;
  readonly exited: Promise<SandboxExit>;
  readonly #init: BubblewrapSandboxInit;
  #stopping: Promise<void> | undefined;

  constructor(init: BubblewrapSandboxInit) {
    this.id = init.spec.id;
    this.pid = init.pid;
    this.exited = init.exited;
    this.#init = init;
  }

  /**
   * `/bin/sh -c <wrapper> nixspace-sandbox ...argv`: the wrapper joins the cgroups, checks that the
   * init is still this sandbox's, then execs nsenter into its namespaces and root, and setpriv
   * drops every capability so root inside cannot remount the read-only host. argv travels as
   * positional parameters, never through the shell parser.
   *
   * The spawned host process is nsenter, which does not forward signals: the program gets SIGKILL
   * when nsenter dies (pdeathsig), and a graceful signal must go to the process group (spawn
   * detached and `process.kill(-pid, 'SIGTERM')`; node-pty's child already leads its own group).
   */
  command(argv: readonly string[], options: CommandOptions = {}): SpawnCommand {
    const { spec, pid, pidNamespace, cgroup, tools } = this.#init;
    if (argv.length === 0) throw new NixSpaceError('BAD_REQUEST', 'command needs a program');
    const cwd = options.cwd ?? spec.workspaceDir;
    if (!isAbsolute(cwd)) throw new NixSpaceError('BAD_REQUEST', `cwd must be absolute: ${cwd}`);
    const gone = `{ echo ${q(`nixspace: sandbox ${this.id} is not running`)} >&2; exit 125; }`;
    const script = [
      ...(cgroup?.joinScript().map((line) => `{ ${line}; } 2>/dev/null || ${gone}`) ?? []),
      `[ "$(readlink /proc/${pid}/ns/pid)" = ${q(`pid:[${pidNamespace}]`)} ] || ${gone}`,
      // The shell exported its own cwd as PWD; the sandboxed program computes its own.
      'unset PWD OLDPWD',
      `set -- ${q(tools.setpriv)} --bounding-set=-all --inh-caps=-all --no-new-privs --pdeathsig KILL -- "$@"`,
      // Mapping the sandbox's uid 0 into a user namespace needs CAP_SETFCAP, so unshare runs before
      // setpriv. The program then holds no capability anywhere: it is a non-root user in a
      // namespace that owns no other namespace.
      ...(options.user === undefined
        ? []
        : [`set -- ${userNamespacePrefix(tools.unshare, options.user)} "$@"`]),
      // On a terminal, the program must lead its own session inside the namespace: the session
      // node-pty made is led by nsenter, whose pid the sandbox cannot see, so job control (and a
      // shell's exit, which restores the foreground group) would fail with ESRCH. Taking the
      // terminal over needs CAP_SYS_ADMIN, hence before setpriv.
      `if [ -t 0 ]; then set -- ${q(tools.setsid)} --ctty "$@"; fi`,
      `exec ${q(tools.nsenter)} --target ${pid} --mount --uts --ipc --net --pid --root --wd=${q(cwd)} -- "$@"`,
    ].join('\n');
    return {
      file: '/bin/sh',
      args: ['-c', script, 'nixspace-sandbox', ...argv],
      env: sandboxEnv(spec, options.env),
      // The cwd is applied inside by nsenter; on the host any existing directory will do.
      cwd: '/',
    };
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const { pid, pidNamespace, child, cgroup } = this.#init;
    // Killing pid 1 of the namespace makes the kernel kill everything else in it. bwrap, its
    // parent, reaps it and exits: killing bwrap first would leave the reaping to the host's init.
    if ((await pidNamespaceOf(pid)) === pidNamespace) {
      killQuietly(pid);
      await Promise.race([this.exited, delay(1000)]);
    }
    // Then whatever is left, inside or outside the namespace (the nsenter wrappers).
    await cgroup?.killAll();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await this.exited;
    try {
      await killUntilGone(() => pidsInNamespace(pidNamespace), { what: `sandbox ${this.id}` });
    } catch (error) {
      throw new NixSpaceError('SANDBOX_FAILED', `cannot kill the processes of sandbox ${this.id}`, {
        detail: String(error),
        cause: error,
      });
    }
    await cgroup?.remove();
  }
}
