// Namespaces + cgroups with bubblewrap: one long-lived sandbox per workspace, a minimal read-only
// root, the workspace writable at its own path, a private /tmp, pid/ipc/uts (and optionally net)
// namespaces, every process an unprivileged host user (the workspace user inside, through a user
// namespace). The workspace agent is its first program, and outlives the server. Runs as root
// (needs no setuid bwrap), on a kernel that lets unprivileged users make user namespaces, and needs
// util-linux's setpriv and unshare, and perl (Debian's perl-base) to put the seccomp filter on the
// agent (every program it starts inherits it).
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { NixSpaceError } from '../../../errors.js';
import { AGENT_CGROUPS_ENV, AGENT_TRANSPORT_ENV } from '../../../wire/agent.js';
import { AgentLink } from '../../agent/agent-link.js';
import { AGENT_DIR_INSIDE, AGENT_SOCKET_NAME, agentProgram } from '../../agent/agent-program.js';
import { type CgroupHost, detectCgroupHost } from '../../cgroups/cgroup-host.js';
import type { SandboxCgroup } from '../../cgroups/sandbox-cgroup.js';
import { boxAlive, watchBoxExit } from '../../host/box-exit.js';
import { findExecutable } from '../../host/find-executable.js';
import { killQuietly, killUntilGone } from '../../host/host-processes.js';
import { shellQuote as q } from '../../host/shell-quote.js';
import type { DriverCapabilities, Sandbox, SandboxDriver, SandboxExit, SandboxSpec } from '../../sandbox.js';
import { sandboxEnv } from '../../sandbox-env.js';
import { assertSandboxId } from '../../sandbox-id.js';
import { writeSeccompFilter } from '../../seccomp/seccomp-filter.js';
import { resolveWorkspaceDir } from '../../workspace-dir.js';
import { readBoxRecord, removeBoxRecord, writeBoxRecord } from './box-record.js';
import {
  AGENT_CGROUPS_INSIDE,
  type BubblewrapInit,
  bubblewrapArgs,
  infoFd,
  initSeccompFd,
} from './bubblewrap-args.js';
import { BubblewrapSandbox } from './bubblewrap-sandbox.js';
import { writeSandboxEtc } from './sandbox-etc.js';
import { assertSandboxUser, asWorkspaceUser, dropToUser } from './workspace-user.js';

const notInstalled =
  "bubblewrap is not installed: install the Debian package 'bubblewrap' (apt-get install bubblewrap), " +
  'or start NixSpace with --unsafe-no-sandbox';

export interface BubblewrapDriverOptions {
  /** Defaults to the host's detected cgroups. */
  cgroups?: CgroupHost;
  /** Defaults to `bwrap` on PATH (or the system directories); null behaves as not installed. */
  bwrapPath?: string | null;
  /**
   * The compiled seccomp filter (BPF) every program of every sandbox runs under; by default the
   * workspace filter (seccomp-policy.ts), written once into a directory of the driver's own.
   */
  seccompFile?: string;
}

const agentTransportInside = `unix:${AGENT_DIR_INSIDE}/${AGENT_SOCKET_NAME}`;
/** A Node program's start on a busy machine; past this the agent is taken for broken. */
const agentConnectMs = 30_000;
/**
 * A running agent dials again within a second, but on a busy host its event loop may lag far
 * behind: its box is alive, and giving up on it would end the workspace's processes, so it gets
 * this long (an agent that truly hangs is the watchdog's, once the workspace is back).
 */
const agentReconnectMs = 30_000;

/** The uid the probe tries an unprivileged user namespace with (Debian's nobody). */
const probeUser = { uid: 65534, gid: 65534 };

export class BubblewrapDriver implements SandboxDriver {
  readonly name = 'bubblewrap';
  readonly #cgroups: CgroupHost;
  readonly #bwrap: string | undefined;
  readonly #setpriv = findExecutable('setpriv');
  readonly #unshare = findExecutable('unshare');
  #seccompFile: Promise<string> | undefined;

  constructor(options: BubblewrapDriverOptions = {}) {
    this.#cgroups = options.cgroups ?? detectCgroupHost();
    this.#bwrap =
      options.bwrapPath === undefined ? findExecutable('bwrap') : (options.bwrapPath ?? undefined);
    if (options.seccompFile !== undefined) this.#seccompFile = Promise.resolve(options.seccompFile);
  }

  /** The filter's file, written on first use (an architecture without a syscall table fails here). */
  #filter(): Promise<string> {
    this.#seccompFile ??= (async () => {
      try {
        return await writeSeccompFilter(await mkdtemp(join(tmpdir(), 'nixspace-seccomp-')));
      } catch (error) {
        this.#seccompFile = undefined;
        throw error;
      }
    })();
    return this.#seccompFile;
  }

  get capabilities(): DriverCapabilities {
    return {
      isolation: true,
      unprivileged: true,
      limits: this.#cgroups.limits,
      networkPolicies: ['none', 'host'],
    };
  }

  async probe(): Promise<void> {
    const tools = this.#tools();
    await this.#filter();
    // The same namespaces a workspace gets, and a program made unprivileged the same way, so a
    // kernel that forbids any of them (unprivileged user namespaces above all) fails here.
    const args = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-pid'];
    args.push('--unshare-ipc', '--unshare-uts', '--unshare-net', '--die-with-parent', '--');
    args.push(...dropToUser(tools.setpriv, probeUser), ...asWorkspaceUser(tools.unshare, '/'), 'true');
    try {
      await promisify(execFile)(tools.bwrap, args, {
        timeout: 10_000,
        env: { PATH: process.env.PATH ?? '' },
      });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr?.trim() ?? '';
      const userns = /user namespace|Operation not permitted|No space left/i.test(stderr)
        ? ': the kernel does not let an unprivileged user create a user namespace (see `sysctl user.max_user_namespaces` and kernel.unprivileged_userns_clone), which workspaces need to run as a non-root user'
        : '';
      throw new NixSpaceError(
        'SANDBOX_UNAVAILABLE',
        `bubblewrap cannot start a sandbox on this host${userns}`,
        {
          detail: stderr || String(error),
          cause: error,
        },
      );
    }
  }

  async start(spec: SandboxSpec, options: { signal?: AbortSignal } = {}): Promise<Sandbox> {
    const tools = this.#tools();
    const { bwrap } = tools;
    assertSandboxId(spec.id);
    assertSandboxUser(spec.user);
    if (!this.capabilities.networkPolicies.includes(spec.network)) {
      throw new NixSpaceError('BAD_REQUEST', `unknown network policy ${spec.network}`);
    }
    const workspaceDir = await resolveWorkspaceDir(spec.workspaceDir);
    options.signal?.throwIfAborted();
    const seccompFile = await this.#filter();
    const stateDir = await mkdtemp(join(tmpdir(), `nixspace-sandbox-${spec.id}-`));
    const etc = await writeSandboxEtc(stateDir, sandboxEnv(spec).HOME ?? workspaceDir);
    const cgroup = this.#cgroups.available ? this.#cgroups.group(spec.id) : undefined;
    await cgroup?.create(spec.limits).catch(async (error: unknown) => {
      await rm(stateDir, { recursive: true, force: true });
      throw error;
    });

    // The shell joins the cgroups and then becomes bwrap (exec keeps the pid), so the sandbox is
    // inside its limits from its first instruction. It also opens the seccomp filter, which the
    // agent's installer puts on the agent once it has made its user namespace (the filter forbids
    // making one).
    const seccomp = `${initSeccompFd}<${q(seccompFile)}`;
    const script = [...(cgroup?.joinScript() ?? []), `exec ${q(bwrap)} "$@" ${seccomp}`].join(' && ');
    const program = agentProgram();
    const init: BubblewrapInit = {
      argv: [
        ...dropToUser(tools.setpriv, spec.user),
        ...asWorkspaceUser(tools.unshare, '/', initSeccompFd),
        ...program.argv,
      ],
      programPaths: program.readOnlyPaths,
      cgroupDirs: cgroup?.dirs ?? [],
    };
    await cgroup?.delegate(spec.user);
    const link = await AgentLink.listen(join(spec.agentDir, AGENT_SOCKET_NAME), spec.user);
    const args = bubblewrapArgs(spec, workspaceDir, etc, init);
    // The sandbox outlives the server: a session of its own, and its messages in a file.
    const logFile = join(stateDir, 'box.log');
    const log = openSync(logFile, 'a', 0o600);
    const child = spawn('/bin/sh', ['-c', script, 'nixspace-sandbox', ...args], {
      cwd: '/',
      env: {
        ...sandboxEnv(spec),
        [AGENT_TRANSPORT_ENV]: agentTransportInside,
        [AGENT_CGROUPS_ENV]: init.cgroupDirs.map((_, n) => `${AGENT_CGROUPS_INSIDE}/${n}`).join(':'),
      },
      stdio: ['ignore', 'ignore', log, 'pipe'],
      detached: true,
    });
    closeSync(log);
    // Nor does it keep the server's process alive: a server told to stop exits, the sandbox stays.
    child.unref();
    const exited = new Promise<SandboxExit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: null, signal: null }));
    });

    try {
      const [info, ready] = await Promise.all([
        readInfo(child.stdio[infoFd] as Readable, exited, options.signal),
        agentReady(link, exited, options.signal),
      ]);
      if (info === undefined || !ready) {
        const exit = await exited;
        const messages = (await readFile(logFile, 'utf8').catch(() => '')).slice(-8192).trim();
        throw new NixSpaceError('SANDBOX_FAILED', `sandbox ${spec.id} did not start`, {
          detail: messages || `bwrap exited with ${exit.code ?? exit.signal}`,
        });
      }
      await writeBoxRecord(spec.agentDir, { pid: info.pid, pidNamespace: info.pidNamespace, stateDir });
      return new BubblewrapSandbox({
        spec: { ...spec, workspaceDir },
        pid: info.pid,
        pidNamespace: info.pidNamespace,
        child,
        exited,
        cgroup,
        stateDir,
        agent: link,
      });
    } catch (error) {
      child.kill('SIGKILL');
      await exited;
      await link.close();
      await discard(cgroup);
      await rm(stateDir, { recursive: true, force: true });
      throw error;
    }
  }

  #tools(): { bwrap: string; setpriv: string; unshare: string } {
    const [bwrap, setpriv, unshare] = [this.#bwrap, this.#setpriv, this.#unshare];
    if (bwrap === undefined) throw new NixSpaceError('SANDBOX_UNAVAILABLE', notInstalled);
    if (!setpriv || !unshare) {
      throw new NixSpaceError(
        'SANDBOX_UNAVAILABLE',
        "setpriv and unshare are missing: install the Debian package 'util-linux'",
      );
    }
    return { bwrap, setpriv, unshare };
  }

  /**
   * The agent sandbox a previous server process started for this spec, if it still runs and its
   * agent dials in again; undefined otherwise (then `cleanup` clears what is left).
   */
  async attach(spec: SandboxSpec): Promise<Sandbox | undefined> {
    assertSandboxId(spec.id);
    assertSandboxUser(spec.user);
    const record = await readBoxRecord(spec.agentDir);
    if (record === undefined || !(await boxAlive(record))) return undefined;
    const workspaceDir = await resolveWorkspaceDir(spec.workspaceDir);
    const link = await AgentLink.listen(join(spec.agentDir, AGENT_SOCKET_NAME), spec.user);
    const watch = watchBoxExit(record);
    try {
      await link.connected({ timeoutMs: agentReconnectMs });
    } catch {
      await link.close();
      return undefined;
    }
    link.onConnected(() => watch.check());
    return new BubblewrapSandbox({
      spec: { ...spec, workspaceDir },
      pid: record.pid,
      pidNamespace: record.pidNamespace,
      child: undefined,
      exited: watch.exited,
      cgroup: this.#cgroups.available ? this.#cgroups.group(spec.id) : undefined,
      stateDir: record.stateDir,
      agent: link,
    });
  }

  async cleanup(id: string, options: { agentDir?: string } = {}): Promise<void> {
    assertSandboxId(id);
    // A sandbox outlives the server that started it: end the one recorded, whose init takes every
    // process of its namespace along; then what is left in its cgroups.
    const record = options.agentDir === undefined ? undefined : await readBoxRecord(options.agentDir);
    if (record !== undefined && (await boxAlive(record))) {
      killQuietly(record.pid);
      await killUntilGone(async () => ((await boxAlive(record)) ? [record.pid] : []), {
        what: `sandbox ${id}`,
      });
    }
    if (this.#cgroups.available) await discard(this.#cgroups.group(id));
    if (record !== undefined) await rm(record.stateDir, { recursive: true, force: true });
    if (options.agentDir !== undefined) await removeBoxRecord(options.agentDir);
  }
}

async function discard(cgroup: SandboxCgroup | undefined): Promise<void> {
  if (cgroup === undefined || !cgroup.exists()) return;
  await cgroup.killAll();
  await cgroup.remove();
}

interface BubblewrapInfo {
  pid: number;
  pidNamespace: number;
}

/** Resolves bwrap's info once it is written, or undefined if bwrap exits first. */
function readInfo(
  stream: Readable,
  exited: Promise<SandboxExit>,
  signal: AbortSignal | undefined,
): Promise<BubblewrapInfo | undefined> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onAbort = () => reject(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = () => {
      signal?.removeEventListener('abort', onAbort);
      stream.destroy();
    };
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      text += chunk;
      // bwrap writes one JSON object; parse as soon as it is complete rather than waiting for EOF.
      try {
        const info = JSON.parse(text) as { 'child-pid'?: unknown; 'pid-namespace'?: unknown };
        if (typeof info['child-pid'] === 'number' && typeof info['pid-namespace'] === 'number') {
          settle();
          resolve({ pid: info['child-pid'], pidNamespace: info['pid-namespace'] });
        }
      } catch {
        // incomplete yet
      }
    });
    void exited.then(() => {
      settle();
      resolve(undefined);
    });
  });
}

/** Resolves true once the agent has dialled in and greeted, or false if bwrap exits first. */
async function agentReady(
  link: AgentLink,
  exited: Promise<SandboxExit>,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const gone = new AbortController();
  const abort = () => gone.abort(signal?.reason);
  signal?.addEventListener('abort', abort, { once: true });
  void exited.then(() => gone.abort(new Error('exited')));
  try {
    await link.connected({ signal: gone.signal, timeoutMs: agentConnectMs });
    return true;
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (gone.signal.aborted) return false;
    throw error;
  } finally {
    signal?.removeEventListener('abort', abort);
  }
}
