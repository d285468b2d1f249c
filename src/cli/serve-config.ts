// The options of `nixspace serve` (and of the commands that read the same configuration:
// login-link, install-ide) and the configuration they make, flags over environment over defaults.

import { parseArgs } from 'node:util';
import { type ConfigInput, configFromEnv, mergeConfig, parseConfig } from '../config.js';

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
  'disk-limit': { type: 'string' },
  'max-repo-size': { type: 'string' },
  'git-timeout-ms': { type: 'string' },
  'job-retention-days': { type: 'string' },
  'job-max-output': { type: 'string' },
  'max-workspace-users': { type: 'string' },
  'key-rotation-hours': { type: 'string' },
  'workspace-lifetime': { type: 'string' },
  'hibernate-after': { type: 'string' },
  'agent-timeout': { type: 'string' },
  'log-level': { type: 'string' },
  'unsafe-no-sandbox': { type: 'boolean' },
  sandbox: { type: 'string' },
  'allow-local-sources': { type: 'boolean' },
  'unsafe-no-disk-quota': { type: 'boolean' },
  'unsafe-no-limits': { type: 'boolean' },
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
    sandbox: values.sandbox as ConfigInput['sandbox'],
    allowLocalSources: values['allow-local-sources'],
    unsafeNoDiskQuota: values['unsafe-no-disk-quota'],
    unsafeNoLimits: values['unsafe-no-limits'],
    logLevel: values['log-level'] as ConfigInput['logLevel'],
    maxWorkspaceUsers: values['max-workspace-users'],
    tokens: { keyRotationHours: values['key-rotation-hours'] },
    workspaces: {
      lifetimeMs: values['workspace-lifetime'],
      hibernateAfterMs: values['hibernate-after'],
      agentTimeoutMs: values['agent-timeout'],
    },
    limits: {
      memory: values['memory-limit'],
      cpus: values['cpu-limit'],
      pids: values['pids-limit'],
      disk: values['disk-limit'],
    },
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
