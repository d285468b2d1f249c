import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closedPort, type SilentHost, startSilentHost } from '../../../../test/support/git-fixtures.js';
import { startSshd, type TestSshd } from '../../../../test/support/sshd.js';
import { runStrategySuite } from './execution-strategy.case.js';
import { SshStreamStrategy, type SshTarget } from './ssh-stream-strategy.js';

function target(sshd: TestSshd, patch: Partial<SshTarget> = {}): SshTarget {
  return {
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    privateKey: sshd.privateKey,
    knownHosts: sshd.knownHosts,
    timeoutMs: 5000,
    ...patch,
  };
}

runStrategySuite({
  name: 'SSH (SshStream) against OpenSSH on loopback',
  async setup() {
    const sshd = await startSshd();
    return { strategy: new SshStreamStrategy(target(sshd)), close: sshd.close };
  },
  skip: {
    cancelDetached:
      "a remote host's processes are outside NixSpace's cgroups: cancel signals the remote process group, which a setsid child has left",
  },
});

describe('SSH connection failures', () => {
  let sshd: TestSshd;
  let silent: SilentHost;
  before(async () => {
    sshd = await startSshd();
    silent = await startSilentHost();
  });
  after(async () => {
    await sshd?.close();
    await silent?.[Symbol.asyncDispose]();
  });

  const run = (t: SshTarget) => new SshStreamStrategy(t).start({ command: 'true' }, () => {});

  it('refuses a host whose key differs from its known_hosts entry', async () => {
    await assert.rejects(run(target(sshd, { knownHosts: sshd.wrongKnownHosts })), {
      code: 'HOST_KEY_MISMATCH',
    });
  });

  it('refuses a host that known_hosts does not list at all', async () => {
    await assert.rejects(run(target(sshd, { knownHosts: '# nothing\n' })), {
      code: 'HOST_KEY_MISMATCH',
      message: /known_hosts has no key/,
    });
  });

  it('reports a key the server does not accept as an authentication failure', async () => {
    await assert.rejects(run(target(sshd, { privateKey: sshd.strangerKey })), { code: 'SSH_AUTH_FAILED' });
  });

  it('reports a closed port as unreachable', async () => {
    await assert.rejects(run(target(sshd, { port: await closedPort() })), { code: 'HOST_UNREACHABLE' });
  });

  it('gives up on a host that accepts TCP but never speaks SSH within the timeout', async () => {
    const started = Date.now();
    await assert.rejects(run(target(sshd, { host: '127.0.0.1', port: silent.port, timeoutMs: 800 })), {
      code: 'HOST_UNREACHABLE',
    });
    assert.ok(Date.now() - started < 5000, 'the timeout bounds the wait');
  });
});
