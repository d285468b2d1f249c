import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configFromArgs } from './cli/serve-config.js';
import { NixSpaceError } from './errors.js';

describe('configuration', () => {
  it('listens on loopback port 7777 with PGlite and bubblewrap by default', () => {
    const { config } = configFromArgs([], { HOME: '/home/ana' });
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 7777);
    assert.equal(config.dataDir, '/home/ana/.local/share/nixspace');
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.unsafeNoSandbox, false);
    assert.equal(config.sandbox, 'bubblewrap');
    assert.equal(config.sandboxNetwork, 'none');
  });

  it('runs workspaces under gVisor with --sandbox gvisor or NIXSPACE_SANDBOX, and refuses another name', () => {
    assert.equal(configFromArgs(['--sandbox', 'gvisor'], { HOME: '/h' }).config.sandbox, 'gvisor');
    assert.equal(configFromArgs([], { HOME: '/h', NIXSPACE_SANDBOX: 'gvisor' }).config.sandbox, 'gvisor');
    assert.throws(
      () => configFromArgs(['--sandbox', 'docker'], { HOME: '/h' }),
      (error) => error instanceof NixSpaceError && /sandbox/.test(`${error.message} ${error.detail ?? ''}`),
    );
  });

  it("enforces the brief's limits per workspace by default: 2 cpus, 4 GiB memory, 10 GiB disk", () => {
    const { config } = configFromArgs([], { HOME: '/h' });
    assert.deepEqual(config.limits, { cpus: 2, memory: 4 * 1024 ** 3, disk: 10 * 1024 ** 3, pids: 4096 });
    assert.equal(config.unsafeNoDiskQuota, false);
  });

  it('takes the disk quota from a flag or the environment, and refuses one too small for a volume', () => {
    const env = { HOME: '/h', NIXSPACE_DISK_LIMIT: '20G', NIXSPACE_UNSAFE_NO_DISK_QUOTA: '1' };
    const fromEnv = configFromArgs([], env).config;
    assert.equal(fromEnv.limits.disk, 20 * 1024 ** 3);
    assert.equal(fromEnv.unsafeNoDiskQuota, true);
    const fromFlags = configFromArgs(['--disk-limit', '512M', '--unsafe-no-disk-quota'], { HOME: '/h' });
    assert.equal(fromFlags.config.limits.disk, 512 * 1024 ** 2);
    assert.equal(fromFlags.config.unsafeNoDiskQuota, true);
    assert.throws(
      () => configFromArgs(['--disk-limit', '1M'], { HOME: '/h' }),
      (error: unknown) => error instanceof NixSpaceError && /limits\.disk.*at least 16M/.test(error.message),
    );
  });

  it('lets flags win over environment variables', () => {
    const env = {
      HOME: '/h',
      NIXSPACE_PORT: '8000',
      NIXSPACE_DATA_DIR: '/srv/env',
      NIXSPACE_MEMORY_LIMIT: '2G',
    };
    const { config } = configFromArgs(['--port', '9000', '--memory-limit', '512M'], env);
    assert.equal(config.port, 9000);
    assert.equal(config.dataDir, '/srv/env');
    assert.equal(config.limits.memory, 512 * 1024 ** 2);
    assert.equal(config.limits.cpus, 2, 'unset nested settings keep their defaults');
  });

  it('reads DATABASE_URL and refuses one that is not PostgreSQL, naming the setting', () => {
    assert.equal(
      configFromArgs([], { HOME: '/h', DATABASE_URL: 'postgres://u@db/nixspace' }).config.databaseUrl,
      'postgres://u@db/nixspace',
    );
    assert.throws(
      () => configFromArgs(['--database-url', 'mysql://db'], { HOME: '/h' }),
      (error: unknown) => error instanceof NixSpaceError && /databaseUrl/.test(error.message),
    );
  });

  it('names each invalid setting', () => {
    assert.throws(
      () =>
        configFromArgs(['--port', '70000', '--sandbox-network', 'wide', '--memory-limit', 'lots'], {
          HOME: '/h',
        }),
      (error: unknown) =>
        error instanceof NixSpaceError &&
        /port/.test(error.message) &&
        /sandboxNetwork/.test(error.message) &&
        /limits\.memory/.test(error.message),
    );
  });

  it('accepts local repository sources only when --allow-local-sources or its variable says so', () => {
    assert.equal(configFromArgs([], { HOME: '/h' }).config.allowLocalSources, false);
    assert.equal(configFromArgs(['--allow-local-sources'], { HOME: '/h' }).config.allowLocalSources, true);
    assert.equal(
      configFromArgs([], { HOME: '/h', NIXSPACE_ALLOW_LOCAL_SOURCES: '1' }).config.allowLocalSources,
      true,
    );
  });

  it('keeps 32 terminals per workspace and closes detached ones after 15 minutes unless told otherwise', () => {
    assert.deepEqual(configFromArgs([], { HOME: '/h' }).config.terminals, {
      max: 32,
      detachedIdleSeconds: 900,
    });
    const env = { HOME: '/h', NIXSPACE_MAX_TERMINALS: '4', NIXSPACE_TERMINAL_IDLE_SECONDS: '60' };
    assert.deepEqual(configFromArgs([], env).config.terminals, { max: 4, detachedIdleSeconds: 60 });
  });

  it('deletes workspaces after 24 h and hibernates them after 1 h idle by default, as the brief says', () => {
    const { config } = configFromArgs([], { HOME: '/h' });
    assert.deepEqual(config.workspaces, {
      lifetimeMs: 24 * 3600_000,
      expiryWarningMs: 3600_000,
      hibernateAfterMs: 3600_000,
      agentTimeoutMs: 60_000,
    });
  });

  it('takes how long an agent may go unanswering as a duration; 0 never restarts a workspace for it', () => {
    const flags = configFromArgs(['--agent-timeout', '5s'], { HOME: '/h' }).config.workspaces;
    assert.equal(flags.agentTimeoutMs, 5000);
    const env = configFromArgs([], { HOME: '/h', NIXSPACE_AGENT_TIMEOUT: '0' }).config.workspaces;
    assert.equal(env.agentTimeoutMs, 0);
    assert.throws(
      () => configFromArgs(['--agent-timeout', 'soon'], { HOME: '/h' }),
      (error: unknown) => error instanceof NixSpaceError && /workspaces\.agentTimeoutMs/.test(error.message),
    );
  });

  it('takes the lifetime and idle timeout as durations from flags or the environment; 0 turns them off', () => {
    const fromFlags = configFromArgs(['--workspace-lifetime', '7d', '--hibernate-after', '0'], {
      HOME: '/h',
    });
    assert.equal(fromFlags.config.workspaces.lifetimeMs, 7 * 86_400_000);
    assert.equal(fromFlags.config.workspaces.hibernateAfterMs, 0);
    const env = {
      HOME: '/h',
      NIXSPACE_WORKSPACE_LIFETIME: '0',
      NIXSPACE_HIBERNATE_AFTER: '90s',
      NIXSPACE_EXPIRY_WARNING: '15m',
    };
    const fromEnv = configFromArgs([], env).config.workspaces;
    assert.deepEqual(fromEnv, {
      lifetimeMs: 0,
      expiryWarningMs: 15 * 60_000,
      hibernateAfterMs: 90_000,
      agentTimeoutMs: 60_000,
    });
    assert.equal(
      configFromArgs(['--hibernate-after', '1500ms'], { HOME: '/h' }).config.workspaces.hibernateAfterMs,
      1500,
    );
    assert.throws(
      () => configFromArgs(['--workspace-lifetime', 'a day'], { HOME: '/h' }),
      (error: unknown) =>
        error instanceof NixSpaceError &&
        /workspaces\.lifetimeMs: expected a duration such as 24h/.test(error.message),
    );
  });

  it('refuses an unknown flag', () => {
    assert.throws(() => configFromArgs(['--prot', '80'], { HOME: '/h' }), /--prot/);
  });
});
