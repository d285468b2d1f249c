// The `nixspace` command line: `serve` runs the platform, `login-link` prints a sign-in link,
// `list` and `switch` act on the owner's workspaces, `detect` describes a repository.

import { parseArgs } from 'node:util';
import { requestLoginLink } from '../admin-socket.js';
import { type ConfigInput, configFromEnv, mergeConfig, parseConfig } from '../config.js';
import { NixSpaceError } from '../errors.js';

const usage = `Usage: nixspace <command> [options]

Commands:
  serve          Run NixSpace (API, UI, workspaces) on one HTTP server
  login-link     Print a new one-time sign-in link for the owner
  list           The owner's workspaces (asks the running server)
  switch WS REF  Move a running workspace to another branch, tag or commit in place, printing
                 each step; --stash or --carry for uncommitted changes
  install-ide    Install code-server (and the Node 24 it runs on) once for this machine
  detect DIR     Print what a repository needs (toolchains, services, ...) and where each fact
                 comes from; --json for the EnvSpec and diagnostics
  help           Show this help

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
  --max-repo-size SIZE     Largest repository to fetch, e.g. 2G (env NIXSPACE_MAX_REPO_SIZE)
  --git-timeout-ms MS      Give up on a git server that does not answer (default 30000)
  --job-retention-days N   Prune job output older than N days (default 30; env NIXSPACE_JOB_RETENTION_DAYS)
  --job-max-output SIZE    Output kept per job, head and tail halves (default 64M; env NIXSPACE_JOB_MAX_OUTPUT)
  --max-workspace-users N  People at once in one workspace, owner and share links (default 3;
                           env NIXSPACE_MAX_WORKSPACE_USERS)
  --log-level LEVEL        fatal, error, warn, info (default), debug, trace, silent
  --unsafe-no-sandbox      Run workspaces without bubblewrap isolation (only on a machine you trust)
  --toolchains-dir DIR     Where Node, pnpm and yarn releases from the npm registry are kept,
                           once per machine (default ~/.cache/nixspace/toolchains;
                           env NIXSPACE_TOOLCHAINS_DIR)
  --no-toolchain-fetch     Use only the host's Node, pnpm and yarn when Nix is not used
                           (env NIXSPACE_TOOLCHAINS_FETCH=false)
  --ide-dir DIR            Where code-server is installed, once per machine
                           (default ~/.cache/nixspace/ide; env NIXSPACE_IDE_DIR)
  --no-ide                 Run workspaces without VS Code (env NIXSPACE_IDE=false)
`;

const options = {
  host: { type: 'string' },
  port: { type: 'string' },
  'data-dir': { type: 'string' },
  'database-url': { type: 'string' },
  'public-url': { type: 'string' },
  'owner-email': { type: 'string' },
  'sandbox-network': { type: 'string' },
  'install-network': { type: 'string' },
  'environment-provider': { type: 'string' },
  'nix-offline': { type: 'boolean' },
  'memory-limit': { type: 'string' },
  'cpu-limit': { type: 'string' },
  'pids-limit': { type: 'string' },
  'max-repo-size': { type: 'string' },
  'git-timeout-ms': { type: 'string' },
  'job-retention-days': { type: 'string' },
  'job-max-output': { type: 'string' },
  'max-workspace-users': { type: 'string' },
  'log-level': { type: 'string' },
  'unsafe-no-sandbox': { type: 'boolean' },
  'toolchains-dir': { type: 'string' },
  'no-toolchain-fetch': { type: 'boolean' },
  'ide-dir': { type: 'string' },
  'no-ide': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function configFromArgs(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const { values } = parseArgs({ args, options, allowPositionals: false, strict: true });
  const flags: ConfigInput = {
    host: values.host,
    port: values.port,
    dataDir: values['data-dir'],
    databaseUrl: values['database-url'],
    publicUrl: values['public-url'],
    ownerEmail: values['owner-email'],
    sandboxNetwork: values['sandbox-network'] as ConfigInput['sandboxNetwork'],
    installNetwork: values['install-network'] as ConfigInput['installNetwork'],
    environmentProvider: values['environment-provider'] as ConfigInput['environmentProvider'],
    nixOffline: values['nix-offline'],
    unsafeNoSandbox: values['unsafe-no-sandbox'],
    logLevel: values['log-level'] as ConfigInput['logLevel'],
    maxWorkspaceUsers: values['max-workspace-users'],
    limits: { memory: values['memory-limit'], cpus: values['cpu-limit'], pids: values['pids-limit'] },
    git: { maxRepoBytes: values['max-repo-size'], timeoutMs: values['git-timeout-ms'] },
    ide: { dir: values['ide-dir'], enabled: values['no-ide'] ? false : undefined },
    toolchains: {
      dir: values['toolchains-dir'],
      fetch: values['no-toolchain-fetch'] ? false : undefined,
    },
    jobs: { retentionDays: values['job-retention-days'], maxOutputBytes: values['job-max-output'] },
  } as ConfigInput;
  return { config: parseConfig(mergeConfig(configFromEnv(env), flags)), help: values.help === true };
}

export async function main(argv: string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve(rest);
      case 'login-link':
        return await loginLink(rest);
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
    process.stderr.write(`nixspace: ${message}\n`);
    return 1;
  }
}

async function serve(args: string[]): Promise<number> {
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
      `${nixspace.workspaces.sandboxDriver.capabilities.isolation ? '' : ' (NOT isolated)'}\n\n` +
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

async function loginLink(args: string[]): Promise<number> {
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
