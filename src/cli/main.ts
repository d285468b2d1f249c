// The `nixspace` command line: `serve` runs the platform, `login-link` prints a sign-in link, the
// workspace commands (up, list, open, start, stop, delete, logs, shell, switch) talk to a running
// server, `detect` describes a repository.

import { requestLoginLink, requestRotateKeys } from '../admin-socket.js';
import { NixSpaceError } from '../errors.js';

const usage = `Usage: nixspace <command> [options]

Commands:
  serve          Run NixSpace (API, UI, workspaces) on one HTTP server
  login-link     Print a new one-time sign-in link for the owner
  rotate-keys    Rotate the keys workspace tokens are signed with: every token signed before is
                 refused at once (the UI gets new ones; open IDEs and terminals reconnect)
  login [LINK]   Sign in to a server reached with --server URL (keeps the session)
  logout         Forget the session kept for --server URL
  up URL         Create a workspace from a Git URL (--ref REF), print its steps and its URL once
                 it runs; --open opens it in a browser
  list           The owner's workspaces
  open WS        Open a workspace's page in a browser
  start WS       Start a stopped workspace
  stop WS        Stop a running workspace (its files stay)
  delete WS      Delete a workspace and its files
  logs WS        How a workspace was made (steps, timings, errors) and its latest jobs;
                 --job JOB prints a job's output
  shell WS       A shell in a running workspace, in this terminal
  switch WS REF  Move a running workspace to another branch, tag or commit in place, printing
                 each step; --stash or --carry for uncommitted changes
  install-ide    Install code-server (and the Node 24 it runs on) once for this machine
  detect DIR     Print what a repository needs (toolchains, services, ...) and where each fact
                 comes from; --json for the EnvSpec and diagnostics
  help           Show this help (\`nixspace COMMAND --help\` for one command)

WS is a workspace id, a unique id prefix or a name. The workspace commands ask the server running
with the data directory (--data-dir DIR or NIXSPACE_DATA_DIR, default ~/.local/share/nixspace),
or the server at --server URL (or NIXSPACE_SERVER) once \`nixspace login\` signed in to it.

Options for serve:
  --host HOST              Address to listen on (default 127.0.0.1; env NIXSPACE_HOST)
  --port PORT              Port (default 7777; env NIXSPACE_PORT)
  --data-dir DIR           Data directory (default ~/.local/share/nixspace; env NIXSPACE_DATA_DIR)
  --database-url URL       PostgreSQL instead of embedded PGlite (env DATABASE_URL)
  --public-url URL         The URL people open, if not http://HOST:PORT (env NIXSPACE_PUBLIC_URL)
  --owner-email EMAIL      Email of the owner created on first start (env NIXSPACE_OWNER_EMAIL)
  --sandbox-network MODE   none (default) or host: network access of workspaces
  --install-network MODE   host (default) or none: network access of dependency installs
  --environment-provider P auto (default: nix when it works here, else host), nix or host
  --nix-offline            Build with Nix without asking binary caches (env NIXSPACE_NIX_OFFLINE)
  --memory-limit SIZE      Memory per workspace, e.g. 4G (env NIXSPACE_MEMORY_LIMIT)
  --cpu-limit N            CPU cores per workspace (env NIXSPACE_CPU_LIMIT)
  --pids-limit N           Processes per workspace (env NIXSPACE_PIDS_LIMIT)
  --disk-limit SIZE        Disk per workspace, e.g. 10G (default; env NIXSPACE_DISK_LIMIT)
  --max-repo-size SIZE     Largest repository to fetch, e.g. 2G (env NIXSPACE_MAX_REPO_SIZE)
  --git-timeout-ms MS      Give up on a git server that does not answer (default 30000)
  --job-retention-days N   Prune job output older than N days (default 30; env NIXSPACE_JOB_RETENTION_DAYS)
  --job-max-output SIZE    Output kept per job, head and tail halves (default 64M; env NIXSPACE_JOB_MAX_OUTPUT)
  --max-workspace-users N  People at once in one workspace, owner and share links (default 3;
                           env NIXSPACE_MAX_WORKSPACE_USERS)
  --key-rotation-hours N   Rotate the workspace-token signing key every N hours (default 24; 0 only
                           by \`nixspace rotate-keys\`; env NIXSPACE_KEY_ROTATION_HOURS)
  --workspace-lifetime D   Delete a workspace this long after it was made unless its owner keeps
                           it, e.g. 24h (default), 7d; 0 never (env NIXSPACE_WORKSPACE_LIFETIME)
  --hibernate-after D      Hibernate a running workspace with no terminal, IDE or job open this
                           long, e.g. 1h (default), 30m; 0 never (env NIXSPACE_HIBERNATE_AFTER)
  --agent-timeout D        Restart a running workspace whose agent answers nothing this long, e.g.
                           60s (default); 0 never (env NIXSPACE_AGENT_TIMEOUT)
  --log-level LEVEL        fatal, error, warn, info (default), debug, trace, silent
  --sandbox DRIVER         The isolation workspaces run in: bubblewrap (default) or gvisor (runsc's
                           user-space kernel: stronger, slower on file metadata; env NIXSPACE_SANDBOX)
  --unsafe-no-sandbox      Run workspaces without isolation (only on a machine you trust)
  --allow-local-sources    Accept local paths and file:// URLs as repositories, outside the data
                           directory (env NIXSPACE_ALLOW_LOCAL_SOURCES)
  --unsafe-no-disk-quota   Run workspaces without a disk quota each: they share the host disk
                           (for hosts without root or loop devices; env NIXSPACE_UNSAFE_NO_DISK_QUOTA)
  --unsafe-no-limits       Run workspaces without CPU, memory and pids limits (for hosts whose
                           cgroups are not writable; env NIXSPACE_UNSAFE_NO_LIMITS)
  --toolchains-dir DIR     Where Node, pnpm and yarn releases from the npm registry are kept,
                           once per machine (default ~/.cache/nixspace/toolchains;
                           env NIXSPACE_TOOLCHAINS_DIR)
  --no-toolchain-fetch     Use only the host's Node, pnpm and yarn when Nix is not used
                           (env NIXSPACE_TOOLCHAINS_FETCH=false)
  --ide-dir DIR            Where code-server is installed, once per machine
                           (default ~/.cache/nixspace/ide; env NIXSPACE_IDE_DIR)
  --no-ide                 Run workspaces without VS Code (env NIXSPACE_IDE=false)
`;

export async function main(argv: string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve(rest);
      case 'login-link':
        return await loginLink(rest);
      case 'rotate-keys':
        return await rotateKeys(rest);
      case 'login': {
        const { runLogin } = await import('./login-command.js');
        return await runLogin(rest);
      }
      case 'logout': {
        const { runLogout } = await import('./login-command.js');
        return await runLogout(rest);
      }
      case 'up': {
        const { runUp } = await import('./up-command.js');
        return await runUp(rest);
      }
      case 'open':
      case 'start':
      case 'stop':
      case 'delete': {
        const { runLifecycle } = await import('./lifecycle-commands.js');
        return await runLifecycle(command, rest);
      }
      case 'logs': {
        const { runLogs } = await import('./logs-command.js');
        return await runLogs(rest);
      }
      case 'shell': {
        const { runShell } = await import('./shell-command.js');
        return await runShell(rest);
      }
      case 'list': {
        const { runList } = await import('./workspace-commands.js');
        return await runList(rest);
      }
      case 'switch': {
        const { runSwitch } = await import('./workspace-commands.js');
        return await runSwitch(rest);
      }
      case 'install-ide':
        return await installIde(rest);
      case 'detect': {
        const { runDetect } = await import('./detect-command.js');
        return await runDetect(rest);
      }
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(usage);
        return 0;
      default:
        process.stderr.write(`nixspace: unknown command '${command}'\n\n${usage}`);
        return 2;
    }
  } catch (error) {
    const message =
      error instanceof NixSpaceError || (error instanceof TypeError && 'code' in error)
        ? error.message
        : error instanceof Error
          ? error.message
          : String(error);
    const detail =
      error instanceof NixSpaceError && error.detail ? `  ${error.detail.replaceAll('\n', '\n  ')}\n` : '';
    process.stderr.write(`nixspace: ${message}\n${detail}`);
    return 1;
  }
}

async function serve(args: string[]): Promise<number> {
  const { configFromArgs } = await import('./serve-config.js');
  const { config, help } = configFromArgs(args);
  if (help) {
    process.stdout.write(usage);
    return 0;
  }
  const { startNixSpace } = await import('../nixspace.js');
  const nixspace = await startNixSpace(config);
  const link = await nixspace.ownerLoginLink();
  process.stdout.write(
    `\nNixSpace is running on ${nixspace.url}\n` +
      `  data: ${config.dataDir} (${nixspace.store.backend})\n` +
      `  sandbox: ${nixspace.workspaces.sandboxDriver.name}` +
      `${nixspace.workspaces.sandboxDriver.capabilities.isolation ? '' : ' (NOT isolated)'}\n` +
      `  disk: ${nixspace.volumes.quota ? `${formatSize(config.limits.disk)} per workspace` : 'NO quota (workspaces share the host disk)'}\n\n` +
      `Sign in as ${config.ownerEmail} with this one-time link:\n  ${link}\n\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      nixspace.logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await nixspace.close();
  return 0;
}

async function installIde(args: string[]): Promise<number> {
  const { configFromArgs } = await import('./serve-config.js');
  const { config } = configFromArgs(args);
  const { CodeServerInstaller } = await import('../services/ide/code-server-install.js');
  const installer = new CodeServerInstaller({ dir: config.ide.dir });
  const started = performance.now();
  const existing = await installer.installed();
  if (existing) {
    process.stdout.write(`code-server ${existing.version} is installed in ${existing.dir}\n`);
    return 0;
  }
  const installed = await installer.ensure({ onLog: (line) => process.stdout.write(`${line}\n`) });
  const seconds = Math.round((performance.now() - started) / 1000);
  process.stdout.write(`code-server ${installed.version} installed in ${installed.dir} (${seconds} s)\n`);
  return 0;
}

async function rotateKeys(args: string[]): Promise<number> {
  const { configFromArgs } = await import('./serve-config.js');
  const { config } = configFromArgs(args);
  if (await requestRotateKeys(config.dataDir)) {
    process.stdout.write('Rotated the workspace-token keys: every token signed before is refused.\n');
    return 0;
  }
  // No server is running: rotate the keys it will load.
  const { TokenKeys } = await import('../services/access/token-keys.js');
  const { join } = await import('node:path');
  const keys = await TokenKeys.open(join(config.dataDir, 'secrets', 'workspace-token.key'));
  await keys.rotate({ overlapMs: 0 });
  process.stdout.write('Rotated the workspace-token keys (no server was running).\n');
  return 0;
}

async function loginLink(args: string[]): Promise<number> {
  const { configFromArgs } = await import('./serve-config.js');
  const { config } = configFromArgs(args);
  const fromServer = await requestLoginLink(config.dataDir);
  if (fromServer) {
    process.stdout.write(`${fromServer}\n`);
    return 0;
  }
  // No server is running: mint the link in the store directly.
  const { Store } = await import('../store/store.js');
  const { AccessService } = await import('../services/access/access-service.js');
  const { publicOrigin } = await import('../config.js');
  const { join } = await import('node:path');
  const store = await Store.open({ databaseUrl: config.databaseUrl, pgliteDir: join(config.dataDir, 'db') });
  try {
    const access = new AccessService(store);
    const { user } = await access.ensureOwner(config.ownerEmail);
    const { token } = await access.createLoginLink(user.id);
    process.stdout.write(`${publicOrigin(config)}/auth/link?token=${token}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

function formatSize(bytes: number): string {
  const GiB = 1024 ** 3;
  return bytes >= GiB ? `${Math.round((bytes / GiB) * 10) / 10} GiB` : `${Math.round(bytes / 1024 ** 2)} MiB`;
}
