// A running bubblewrap sandbox. Later processes do not get their own bwrap: they join the
// namespaces of the sandbox init with nsenter, so terminals, jobs and servers of one workspace see
// each other (same pids, same loopback) and share one set of limits.
import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { NixSpaceError } from '../../../errors.js';
import type { AgentLink } from '../../agent/agent-link.js';
import type { SandboxCgroup } from '../../cgroups/sandbox-cgroup.js';
import {
  delay,
  killQuietly,
  killUntilGone,
  pidNamespaceOf,
  pidsInNamespace,
} from '../../host/host-processes.js';
import { shellQuote as q } from '../../host/shell-quote.js';
import type {
  CommandGroup,
  CommandOptions,
  Sandbox,
  SandboxExit,
  SandboxSpec,
  SpawnCommand,
} from '../../sandbox.js';
import { sandboxEnv } from '../../sandbox-env.js';
import { removeBoxRecord } from './box-record.js';
import { asWorkspaceUser, dropToUser } from './workspace-user.js';

export interface BubblewrapTools {
  bwrap: string;
  nsenter: string;
  /** Makes each program the workspace user in a user namespace of its own. */
  unshare: string;
  setpriv: string;
  setsid: string;
  /** util-linux `script`: gives a program on a terminal a pty of the sandbox's own. */
  script: string;
}

export interface BubblewrapSandboxInit {
  spec: SandboxSpec;
  /** Host pid of the sandbox's pid 1 (bwrap's reaper). */
  pid: number;
  /** Inode of the sandbox's pid namespace: tells the init apart from a later process reusing its pid. */
  pidNamespace: number;
  /** The host process that became bwrap; undefined for a sandbox an earlier server started. */
  child: ChildProcess | undefined;
  exited: Promise<SandboxExit>;
  cgroup: SandboxCgroup | undefined;
  tools: BubblewrapTools;
  /** The compiled seccomp filter every program runs under. */
  seccompFile: string;
  /** Host directory of the sandbox's own files (its /etc/passwd), removed after stop. */
  stateDir?: string;
  /** The link its agent dialled in on, when it runs one. */
  agent?: AgentLink | undefined;
}

/** The descriptor the seccomp filter is opened on for its installer in each command. */
const seccompFd = 9;

export class BubblewrapSandbox implements Sandbox {
  readonly id: string;
  readonly unprivileged = true;
  readonly pid: number;
  readonly exited: Promise<SandboxExit>;
  readonly agent: AgentLink | undefined;
  readonly #init: BubblewrapSandboxInit;
  #stopping: Promise<void> | undefined;

  constructor(init: BubblewrapSandboxInit) {
    this.id = init.spec.id;
    this.pid = init.pid;
    this.exited = init.exited;
    this.agent = init.agent;
    this.#init = init;
  }

  /**
   * `/bin/sh -c <wrapper> nixspace-sandbox ...argv`: the wrapper joins the cgroups, checks that the
   * init is still this sandbox's, then execs nsenter into its namespaces and root, where setpriv
   * makes it the sandbox's unprivileged user and unshare the workspace user.
   *
   * The spawned host process is nsenter, which does not forward signals: the program gets SIGKILL
   * when nsenter dies (pdeathsig), and a graceful signal must go to the process group (spawn
   * detached and `process.kill(-pid, 'SIGTERM')`; node-pty's child already leads its own group).
   */
  command(argv: readonly string[], options: CommandOptions = {}): SpawnCommand {
    const { spec, pid, pidNamespace, cgroup, tools, seccompFile } = this.#init;
    if (argv.length === 0) throw new NixSpaceError('BAD_REQUEST', 'command needs a program');
    const cwd = options.cwd ?? spec.workspaceDir;
    if (!isAbsolute(cwd)) throw new NixSpaceError('BAD_REQUEST', `cwd must be absolute: ${cwd}`);
    const env = sandboxEnv(spec, options.env);
    const gone = `{ echo ${q(`nixspace: sandbox ${this.id} is not running`)} >&2; exit 125; }`;
    // Root only until setpriv: it joins the namespaces and, on a terminal, takes the terminal over.
    // Every program is then the sandbox's user on the host, with no capability anywhere.
    const drop = dropToUser(tools.setpriv, spec.user).map(q).join(' ');
    const asUser = asWorkspaceUser(tools.unshare, cwd, seccompFd).map(q).join(' ');
    // `--wd` alone: the init's working directory (the sandbox's /). nsenter opens a path given to
    // --wd before it enters the root, which would leave the program a directory of the host's, from
    // where `..` walks the host's tree; unshare changes to cwd inside.
    const enter = `${q(tools.nsenter)} --target ${pid} --mount --uts --ipc --net --pid --root --wd --`;
    // On a terminal, the program gets a pty of the sandbox's own devpts (a real /dev/pts/N there:
    // `tty` works, and nothing of the host's ptys shows). util-linux script makes it and relays it
    // to the host's, passing window sizes on; it must lead its own session inside the namespace
    // (the session node-pty made is led by nsenter, whose pid the sandbox cannot see), and taking
    // the terminal over needs CAP_SYS_ADMIN, hence setsid before setpriv. script runs the program
    // with `$SHELL -c`, so its words are quoted here, and SHELL is the program's again inside.
    const restoreShell = env.SHELL === undefined ? 'unset SHELL;' : `SHELL=${q(env.SHELL)};`;
    const onTerminal = `${restoreShell} exec ${asUser} ${argv.map(q).join(' ')}`;
    const script = [
      ...(cgroup?.joinScript(options.group).map((line) => `{ ${line}; } 2>/dev/null || ${gone}`) ?? []),
      `[ "$(readlink /proc/${pid}/ns/pid)" = ${q(`pid:[${pidNamespace}]`)} ] || ${gone}`,
      // The filter is opened here, by root, so the unprivileged user needs no access to it.
      `exec ${seccompFd}< ${q(seccompFile)} || ${gone}`,
      // The shell exported its own cwd as PWD; the sandboxed program computes its own.
      'unset PWD OLDPWD',
      `if [ -t 0 ]; then SHELL=/bin/sh exec ${enter} ${q(tools.setsid)} --ctty ${drop} ${q(tools.script)} --quiet --flush --return --command ${q(onTerminal)} /dev/null; fi`,
      // Elsewhere argv travels as positional parameters, never through a shell parser.
      `exec ${enter} ${drop} ${asUser} "$@"`,
    ].join('\n');
    return {
      file: '/bin/sh',
      args: ['-c', script, 'nixspace-sandbox', ...argv],
      env,
      // The cwd is applied inside by nsenter; on the host any existing directory will do.
      cwd: '/',
    };
  }

  commandGroup(name: string): CommandGroup | undefined {
    return this.#init.cgroup?.commandGroup(name);
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
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
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
    await this.agent?.close();
    if (this.#init.spec.agentDir !== undefined) await removeBoxRecord(this.#init.spec.agentDir);
    if (this.#init.stateDir !== undefined) await rm(this.#init.stateDir, { recursive: true, force: true });
  }
}
