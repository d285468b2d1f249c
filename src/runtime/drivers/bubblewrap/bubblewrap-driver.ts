// Namespaces + cgroups with bubblewrap: one long-lived sandbox per workspace, a read-only host
// root, the workspace writable at its own path, a private /tmp, pid/ipc/uts (and optionally net)
// namespaces. Runs as root (needs no setuid bwrap) and needs util-linux's nsenter, setpriv, setsid,
// unshare and script.
import { execFile, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { NixSpaceError } from '../../../errors.js';
import { type CgroupHost, detectCgroupHost } from '../../cgroups/cgroup-host.js';
import type { SandboxCgroup } from '../../cgroups/sandbox-cgroup.js';
import { findExecutable } from '../../host/find-executable.js';
import { shellQuote as q } from '../../host/shell-quote.js';
import type { DriverCapabilities, Sandbox, SandboxDriver, SandboxExit, SandboxSpec } from '../../sandbox.js';
import { sandboxEnv } from '../../sandbox-env.js';
import { assertSandboxId } from '../../sandbox-id.js';
import { resolveWorkspaceDir } from '../../workspace-dir.js';
import { bubblewrapArgs, infoFd, seccompFd } from './bubblewrap-args.js';
import { BubblewrapSandbox, type BubblewrapTools } from './bubblewrap-sandbox.js';

const notInstalled =
  "bubblewrap is not installed: install the Debian package 'bubblewrap' (apt-get install bubblewrap), " +
  'or start NixSpace with --unsafe-no-sandbox';

export interface BubblewrapDriverOptions {
  /** Defaults to the host's detected cgroups. */
  cgroups?: CgroupHost;
  /** Defaults to `bwrap` on PATH (or the system directories); null behaves as not installed. */
  bwrapPath?: string | null;
  /** A compiled seccomp filter (writeSeccompFilter) bwrap installs on the sandbox's init. */
  seccompFile?: string;
}

export class BubblewrapDriver implements SandboxDriver {
  readonly name = 'bubblewrap';
  readonly #cgroups: CgroupHost;
  readonly #bwrap: string | undefined;
  readonly #nsenter = findExecutable('nsenter');
  readonly #setpriv = findExecutable('setpriv');
  readonly #setsid = findExecutable('setsid');
  readonly #unshare = findExecutable('unshare');
  readonly #script = findExecutable('script');
  readonly #sleep = findExecutable('sleep') ?? '/bin/sleep';
  readonly #seccompFile: string | undefined;

  constructor(options: BubblewrapDriverOptions = {}) {
    this.#cgroups = options.cgroups ?? detectCgroupHost();
    this.#bwrap =
      options.bwrapPath === undefined ? findExecutable('bwrap') : (options.bwrapPath ?? undefined);
    this.#seccompFile = options.seccompFile;
  }

  get capabilities(): DriverCapabilities {
    return { isolation: true, limits: this.#cgroups.limits, networkPolicies: ['none', 'host'] };
  }

  async probe(): Promise<void> {
    const { bwrap } = this.#tools();
    // The same namespaces a workspace gets, so a kernel that forbids any of them fails here.
    const args = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-pid'];
    args.push('--unshare-ipc', '--unshare-uts', '--unshare-net', '--die-with-parent', '--', 'true');
    try {
      await promisify(execFile)(bwrap, args, { timeout: 10_000, env: { PATH: process.env.PATH ?? '' } });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr?.trim();
      throw new NixSpaceError('SANDBOX_UNAVAILABLE', 'bubblewrap cannot start a sandbox on this host', {
        detail: stderr || String(error),
        cause: error,
      });
    }
  }

  async start(spec: SandboxSpec, options: { signal?: AbortSignal } = {}): Promise<Sandbox> {
    const { bwrap, ...tools } = this.#tools();
    assertSandboxId(spec.id);
    if (!this.capabilities.networkPolicies.includes(spec.network)) {
      throw new NixSpaceError('BAD_REQUEST', `unknown network policy ${spec.network}`);
    }
    const workspaceDir = await resolveWorkspaceDir(spec.workspaceDir);
    options.signal?.throwIfAborted();
    const cgroup = this.#cgroups.available ? this.#cgroups.group(spec.id) : undefined;
    await cgroup?.create(spec.limits);

    // The shell joins the cgroups and then becomes bwrap (exec keeps the pid), so the sandbox is
    // inside its limits from its first instruction.
    // The shell also opens the seccomp filter on the descriptor bwrap reads it from.
    const seccomp = this.#seccompFile === undefined ? '' : ` ${seccompFd}<${q(this.#seccompFile)}`;
    const script = [...(cgroup?.joinScript() ?? []), `exec ${q(bwrap)} "$@"${seccomp}`].join(' && ');
    // bwrap reports the init's pid before it has finished mounting; the init's first line says
    // the sandbox is complete, and only then may nsenter join it.
    const init = ['/bin/sh', '-c', `echo ready && exec ${q(this.#sleep)} infinity`];
    const args = bubblewrapArgs(spec, workspaceDir, init, { seccomp: this.#seccompFile !== undefined });
    const child = spawn('/bin/sh', ['-c', script, 'nixspace-sandbox', ...args], {
      cwd: '/',
      env: sandboxEnv(spec),
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    const exited = new Promise<SandboxExit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: null, signal: null }));
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 8192) stderr += chunk;
    });

    try {
      const [info, ready] = await Promise.all([
        readInfo(child.stdio[infoFd] as Readable, exited, options.signal),
        readReady(child.stdout!, exited, options.signal),
      ]);
      if (info === undefined || !ready) {
        const exit = await exited;
        throw new NixSpaceError('SANDBOX_FAILED', `sandbox ${spec.id} did not start`, {
          detail: stderr.trim() || `bwrap exited with ${exit.code ?? exit.signal}`,
        });
      }
      return new BubblewrapSandbox({
        spec: { ...spec, workspaceDir },
        pid: info.pid,
        pidNamespace: info.pidNamespace,
        child,
        exited,
        cgroup,
        tools,
      });
    } catch (error) {
      child.kill('SIGKILL');
      await exited;
      await discard(cgroup);
      throw error;
    }
  }

  #tools(): { bwrap: string } & BubblewrapTools {
    const [bwrap, nsenter, setpriv, setsid, unshare, script] = [
      this.#bwrap,
      this.#nsenter,
      this.#setpriv,
      this.#setsid,
      this.#unshare,
      this.#script,
    ];
    if (bwrap === undefined) throw new NixSpaceError('SANDBOX_UNAVAILABLE', notInstalled);
    if (!nsenter || !setpriv || !setsid || !unshare || !script) {
      throw new NixSpaceError(
        'SANDBOX_UNAVAILABLE',
        "nsenter, setpriv, setsid, unshare and script are missing: install the Debian packages 'util-linux' and 'bsdutils'",
      );
    }
    return { bwrap, nsenter, setpriv, setsid, unshare, script };
  }

  async cleanup(id: string): Promise<void> {
    assertSandboxId(id);
    // A crashed server's sandboxes already died with it (--die-with-parent); what can remain are
    // nsenter wrappers and the cgroups.
    if (this.#cgroups.available) await discard(this.#cgroups.group(id));
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

/** Resolves true once the init printed "ready", or false if bwrap exits first. */
function readReady(
  stream: Readable,
  exited: Promise<SandboxExit>,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onAbort = () => reject(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (ready: boolean) => {
      signal?.removeEventListener('abort', onAbort);
      // Nothing else is ever written; closing our end lets the pipe go with the init.
      stream.destroy();
      resolve(ready);
    };
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('ready\n')) settle(true);
    });
    void exited.then(() => settle(false));
  });
}
