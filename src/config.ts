// Server configuration: flags win over environment variables, which win over the defaults.
// Everything is validated once at start, with errors that name the setting.

import { resolve } from 'node:path';
import { z } from 'zod';
import { defaultCacheDir, defaultDataDir, defaultIdeDir } from './default-dirs.js';
import { NixSpaceError } from './errors.js';

export { defaultCacheDir, defaultDataDir, defaultIdeDir } from './default-dirs.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

const byteSize = z.union([
  z.number().int().positive(),
  z
    .string()
    .regex(/^\d+(\.\d+)?\s*([kmgt]i?b?)?$/i, 'expected a size such as 512M, 4G or 1073741824')
    .transform(parseByteSize),
]);

/** A duration in ms, or text such as 24h, 90m, 30s, 500ms or 2d; 0 is zero. */
const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = typeof value === 'number' ? value : parseDuration(value);
  if (Number.isInteger(ms) && ms >= 0) return ms;
  ctx.addIssue({ code: 'custom', message: `expected a duration such as 24h, 30m, 45s or 0, not '${value}'` });
  return z.NEVER;
});

export const configSchema = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(7777),
  dataDir: z
    .string()
    .min(1)
    .transform((dir) => resolve(dir)),
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// or postgresql:// URL')
    .optional(),
  /** The URL people open, used in sign-in links and as the only allowed CORS origin. */
  publicUrl: z.url().optional(),
  ownerEmail: z.email().default('owner@localhost'),
  unsafeNoSandbox: z.boolean().default(false),
  /**
   * The isolation workspaces run in: `bubblewrap` (namespaces, the default) or `gvisor` (runsc's
   * user-space kernel between the workspace and the host: stronger, slower on file metadata).
   */
  sandbox: z.enum(['bubblewrap', 'gvisor']).default('bubblewrap'),
  /** Accept local paths and file:// URLs as repositories (never inside the data directory). */
  allowLocalSources: z.boolean().default(false),
  /** Workspaces share the host disk, with no quota each (for hosts without root or loop devices). */
  unsafeNoDiskQuota: z.boolean().default(false),
  /** Workspaces run without the CPU, memory and pids limits (for hosts whose cgroups are not writable). */
  unsafeNoLimits: z.boolean().default(false),
  sandboxNetwork: z.enum(['none', 'host']).default('none'),
  /** Dependency installs must reach package registries even when workspaces have no network. */
  installNetwork: z.enum(['none', 'host']).default('host'),
  /** `auto`: Nix when it can build here, else the host's toolchains (marked not reproducible). */
  environmentProvider: z.enum(['auto', 'nix', 'host']).default('auto'),
  /** Build with Nix without asking binary caches (machines with no route to them). */
  nixOffline: z.boolean().default(false),
  toolchains: z
    .object({
      /** Fetch the Node, pnpm and yarn releases the host lacks from the npm registry. */
      fetch: z.boolean().default(true),
      /** Machine-wide cache of those releases, shared by every data directory. */
      dir: z
        .string()
        .min(1)
        .default(() => defaultCacheDir('toolchains'))
        .transform((dir) => resolve(dir)),
    })
    .prefault({}),
  limits: z
    .object({
      memory: byteSize.default(4 * GiB),
      cpus: z.coerce.number().positive().max(256).default(2),
      pids: z.coerce.number().int().positive().default(4096),
      /** Disk per workspace: its files live on a volume of this size. */
      disk: byteSize
        .refine((bytes) => bytes >= 16 * MiB, 'a workspace disk must be at least 16M')
        .default(10 * GiB),
    })
    .prefault({}),
  git: z
    .object({
      timeoutMs: z.coerce.number().int().positive().default(30_000),
      maxRepoBytes: byteSize.default(2 * GiB),
    })
    .prefault({}),
  ide: z
    .object({
      /** Run code-server in every running workspace. */
      enabled: z.boolean().default(true),
      /** Machine-wide install location of code-server (and the Node 24 it runs on). */
      dir: z
        .string()
        .min(1)
        .default(() => defaultIdeDir())
        .transform((dir) => resolve(dir)),
      /** Install code-server on first use when it is missing (else `nixspace install-ide` does). */
      installOnDemand: z.boolean().default(true),
      /** The read-only IDE of share-link viewers stops this long after its last viewer left. */
      viewerIdleSeconds: z.coerce.number().min(0).default(60),
    })
    .prefault({}),
  jobs: z
    .object({
      /** Job output older than this many days is pruned. */
      retentionDays: z.coerce.number().positive().default(30),
      /** Output kept per job: the first and the last half of this; the middle is cut. */
      maxOutputBytes: byteSize.default(64 * 1024 * 1024),
      /** How long a cancelled job has between SIGTERM and SIGKILL. */
      cancelGraceMs: z.coerce.number().int().min(0).max(600_000).default(5000),
      /** Connect and handshake timeout of SSH jobs. */
      sshTimeoutMs: z.coerce.number().int().positive().default(10_000),
    })
    .prefault({}),
  terminals: z
    .object({
      /** Shells open at once in one workspace; at the cap the longest-detached one makes room. */
      max: z.coerce.number().int().min(1).max(1000).default(32),
      /** A shell no tab is attached to is closed after this long. */
      detachedIdleSeconds: z.coerce
        .number()
        .positive()
        .default(15 * 60),
    })
    .prefault({}),
  tokens: z
    .object({
      /** The workspace-token signing key rotates this often (0: only by `nixspace rotate-keys`). */
      keyRotationHours: z.coerce.number().min(0).default(24),
    })
    .prefault({}),
  workspaces: z
    .object({
      /** A workspace is deleted this long after it was made unless its owner keeps it (0: never). */
      lifetimeMs: duration.default(24 * 3600_000),
      /** Its owner is warned this long before. */
      expiryWarningMs: duration.default(3600_000),
      /** A running workspace with no terminal, IDE or job open this long hibernates (0: never). */
      hibernateAfterMs: duration.default(3600_000),
      /** A running workspace whose agent answers nothing this long is restarted (0: never). */
      agentTimeoutMs: duration.default(60_000),
    })
    .prefault({}),
  /** People at once in one workspace (its owner and share-link holders); the brief says 3. */
  maxWorkspaceUsers: z.coerce.number().int().min(1).max(1000).default(3),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Settings read from NIXSPACE_* variables (and DATABASE_URL), for merging under the flags. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ConfigInput {
  const pick = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const flag = (name: string) => {
    const value = pick(name);
    return value === undefined ? undefined : /^(1|true|yes)$/i.test(value);
  };
  return prune({
    host: pick('NIXSPACE_HOST'),
    port: pick('NIXSPACE_PORT'),
    dataDir: pick('NIXSPACE_DATA_DIR') ?? defaultDataDir(env),
    databaseUrl: pick('DATABASE_URL'),
    publicUrl: pick('NIXSPACE_PUBLIC_URL'),
    ownerEmail: pick('NIXSPACE_OWNER_EMAIL'),
    unsafeNoSandbox: flag('NIXSPACE_UNSAFE_NO_SANDBOX'),
    sandbox: pick('NIXSPACE_SANDBOX'),
    allowLocalSources: flag('NIXSPACE_ALLOW_LOCAL_SOURCES'),
    unsafeNoDiskQuota: flag('NIXSPACE_UNSAFE_NO_DISK_QUOTA'),
    unsafeNoLimits: flag('NIXSPACE_UNSAFE_NO_LIMITS'),
    sandboxNetwork: pick('NIXSPACE_SANDBOX_NETWORK'),
    installNetwork: pick('NIXSPACE_INSTALL_NETWORK'),
    environmentProvider: pick('NIXSPACE_ENVIRONMENT_PROVIDER'),
    nixOffline: flag('NIXSPACE_NIX_OFFLINE'),
    toolchains: prune({
      fetch: flag('NIXSPACE_TOOLCHAINS_FETCH'),
      dir: pick('NIXSPACE_TOOLCHAINS_DIR'),
    }),
    limits: prune({
      memory: pick('NIXSPACE_MEMORY_LIMIT'),
      cpus: pick('NIXSPACE_CPU_LIMIT'),
      pids: pick('NIXSPACE_PIDS_LIMIT'),
      disk: pick('NIXSPACE_DISK_LIMIT'),
    }),
    git: prune({
      timeoutMs: pick('NIXSPACE_GIT_TIMEOUT_MS'),
      maxRepoBytes: pick('NIXSPACE_MAX_REPO_SIZE'),
    }),
    ide: prune({
      enabled: flag('NIXSPACE_IDE'),
      dir: pick('NIXSPACE_IDE_DIR'),
      installOnDemand: flag('NIXSPACE_IDE_INSTALL_ON_DEMAND'),
      viewerIdleSeconds: pick('NIXSPACE_IDE_VIEWER_IDLE_SECONDS'),
    }),
    jobs: prune({
      retentionDays: pick('NIXSPACE_JOB_RETENTION_DAYS'),
      maxOutputBytes: pick('NIXSPACE_JOB_MAX_OUTPUT'),
      cancelGraceMs: pick('NIXSPACE_JOB_CANCEL_GRACE_MS'),
      sshTimeoutMs: pick('NIXSPACE_SSH_TIMEOUT_MS'),
    }),
    terminals: prune({
      max: pick('NIXSPACE_MAX_TERMINALS'),
      detachedIdleSeconds: pick('NIXSPACE_TERMINAL_IDLE_SECONDS'),
    }),
    tokens: prune({ keyRotationHours: pick('NIXSPACE_KEY_ROTATION_HOURS') }),
    workspaces: prune({
      lifetimeMs: pick('NIXSPACE_WORKSPACE_LIFETIME'),
      expiryWarningMs: pick('NIXSPACE_EXPIRY_WARNING'),
      hibernateAfterMs: pick('NIXSPACE_HIBERNATE_AFTER'),
      agentTimeoutMs: pick('NIXSPACE_AGENT_TIMEOUT'),
    }),
    maxWorkspaceUsers: pick('NIXSPACE_MAX_WORKSPACE_USERS'),
    logLevel: pick('NIXSPACE_LOG_LEVEL'),
  }) as ConfigInput;
}

export function parseConfig(input: ConfigInput): Config {
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || 'config'}: ${issue.message}`,
    );
    throw new NixSpaceError('BAD_REQUEST', `Invalid configuration: ${problems.join('; ')}`);
  }
  return result.data;
}

/** Deep-merges setting objects left to right, ignoring undefined values. */
export function mergeConfig(...layers: ConfigInput[]): ConfigInput {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      const prev = out[key];
      out[key] =
        isPlainObject(prev) && isPlainObject(value)
          ? { ...prev, ...prune(value as Record<string, unknown>) }
          : value;
    }
  }
  return out as ConfigInput;
}

export function publicOrigin(config: Config): string {
  if (config.publicUrl) return new URL(config.publicUrl).origin;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

function parseByteSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)/i.exec(text.trim());
  const value = Number(match?.[1] ?? Number.NaN);
  const unit = (match?.[2] ?? '').toLowerCase();
  const power = { '': 0, k: 1, m: 2, g: 3, t: 4 }[unit] ?? 0;
  return Math.round(value * 1024 ** power);
}

/** `24h` → 86400000; a bare number is milliseconds; anything else NaN. */
function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i.exec(text.trim());
  if (!match) return Number.NaN;
  const value = Number(match[1]);
  const unit = (match[2] ?? 'ms').toLowerCase();
  const scale = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 }[unit] ?? 1;
  return Math.round(value * scale);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function prune<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Partial<T>;
}
