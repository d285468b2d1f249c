// A real OpenSSH server on a random loopback port, with its own config, host key and
// authorized_keys in a temporary directory; the system's sshd is never touched.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const sshdPath = '/usr/sbin/sshd';

export interface TestSshd extends AsyncDisposable {
  host: string;
  port: number;
  username: string;
  /** A key the server accepts. */
  privateKey: string;
  /** A key the server does not know. */
  strangerKey: string;
  /** The known_hosts line for this server's host key. */
  knownHosts: string;
  /** A well-formed known_hosts line for this address with another key. */
  wrongKnownHosts: string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

function keygen(path: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path], { stdio: 'ignore' });
}

export async function startSshd(): Promise<TestSshd> {
  const dir = await mkdtemp(join(tmpdir(), 'nixspace-sshd-'));
  // sshd insists on its privilege separation directory, which Debian creates only at boot.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  keygen(join(dir, 'host_key'));
  keygen(join(dir, 'client_key'));
  keygen(join(dir, 'stranger_key'));
  keygen(join(dir, 'other_host_key'));
  await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'client_key.pub')), { mode: 0o600 });
  const port = await freePort();
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_key')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'StrictModes no',
    'UsePAM no',
    'MaxSessions 50',
    'MaxStartups 200',
    'LogLevel ERROR',
  ].join('\n');
  await writeFile(join(dir, 'sshd_config'), `${config}\n`);
  const child: ChildProcess = spawn(sshdPath, ['-D', '-e', '-f', join(dir, 'sshd_config')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  // sshd -D logs nothing at ERROR level when it starts: wait until the port accepts connections.
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sshd exited: ${stderr}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = netConnect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`sshd did not listen: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const hostPub = (await readFile(join(dir, 'host_key.pub'), 'utf8')).trim().split(/\s+/);
  const otherPub = (await readFile(join(dir, 'other_host_key.pub'), 'utf8')).trim().split(/\s+/);
  const close = async () => {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    await rm(dir, { recursive: true, force: true });
  };
  return {
    host: '127.0.0.1',
    port,
    username: 'root',
    privateKey: await readFile(join(dir, 'client_key'), 'utf8'),
    strangerKey: await readFile(join(dir, 'stranger_key'), 'utf8'),
    knownHosts: `[127.0.0.1]:${port} ${hostPub[0]} ${hostPub[1]}\n`,
    wrongKnownHosts: `[127.0.0.1]:${port} ${otherPub[0]} ${otherPub[1]}\n`,
    close,
    [Symbol.asyncDispose]: close,
  };
}
