// Commands on a remote host over SSH (ssh2): key authentication, and the host key checked against
// the host's known_hosts entries, never trusted blindly. The remote shell is a session leader, so
// its pid names the job's process group: it is reported first on stderr and used by cancel.

import ssh2, { type ClientChannel, type ConnectConfig } from 'ssh2';

const { Client } = ssh2;
type Client = InstanceType<typeof Client>;

import { NixSpaceError } from '../../../errors.js';
import { shellQuote } from '../../../runtime/host/shell-quote.js';
import type {
  CommandExit,
  CommandSpec,
  ExecutionStrategy,
  OutputStream,
  RunningCommand,
} from './execution-strategy.js';
import { keysForHost } from './known-hosts.js';

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  privateKey: string;
  knownHosts: string;
  /** How long connecting and the handshake may take. */
  timeoutMs: number;
}

const GROUP_MARKER = 'nixspace-job-group:';

export class SshStreamStrategy implements ExecutionStrategy {
  readonly type = 'ssh' as const;
  readonly capabilities = { separateStderr: true, terminal: false };

  constructor(private readonly target: SshTarget) {}

  async start(
    spec: CommandSpec,
    onOutput: (stream: OutputStream, data: Buffer) => void,
  ): Promise<RunningCommand> {
    const client = await connect(this.target);
    const inner = spec.cwd ? `cd ${shellQuote(spec.cwd)} && ${spec.command}` : spec.command;
    const wrapped = `printf '${GROUP_MARKER}%s\\n' "$$" >&2; exec /bin/sh -c ${shellQuote(inner)}`;
    let channel: ClientChannel;
    try {
      channel = await new Promise<ClientChannel>((resolve, reject) =>
        client.exec(wrapped, (error, stream) => (error ? reject(error) : resolve(stream))),
      );
    } catch (error) {
      client.end();
      throw new NixSpaceError(
        'JOB_START_FAILED',
        `The SSH server refused to run the command: ${(error as Error).message}`,
      );
    }
    let group: number | undefined;
    let groupKnown!: () => void;
    const groupReported = new Promise<void>((resolve) => {
      groupKnown = resolve;
    });
    let pendingStderr = Buffer.alloc(0);
    channel.on('data', (data: Buffer) => onOutput('stdout', data));
    channel.stderr.on('data', (data: Buffer) => {
      if (group !== undefined) return onOutput('stderr', data);
      pendingStderr = Buffer.concat([pendingStderr, data]);
      const newline = pendingStderr.indexOf(10);
      if (newline < 0) return;
      const first = pendingStderr.subarray(0, newline).toString('utf8');
      const rest = pendingStderr.subarray(newline + 1);
      group = first.startsWith(GROUP_MARKER) ? Number(first.slice(GROUP_MARKER.length)) : 0;
      groupKnown();
      if (group === 0) onOutput('stderr', pendingStderr);
      else if (rest.length > 0) onOutput('stderr', rest);
    });
    const done = new Promise<CommandExit>((resolve) => {
      let exit: CommandExit = { exitCode: null, signal: null };
      channel.on('exit', (code: number | null, signal?: string) => {
        exit = signal
          ? { exitCode: null, signal: signal.startsWith('SIG') ? signal : `SIG${signal}` }
          : { exitCode: code, signal: null };
      });
      channel.on('close', () => {
        groupKnown();
        if (group === undefined && pendingStderr.length > 0) onOutput('stderr', pendingStderr);
        client.end();
        resolve(exit);
      });
    });
    const remote = `${this.target.username}@${this.target.host}:${this.target.port}`;
    const cancel = async (graceMs: number): Promise<string[]> => {
      await Promise.race([groupReported, done]);
      if (!group) {
        channel.close();
        return [`closed the SSH channel to ${remote} (the remote process group was not known)`];
      }
      const notes: string[] = [];
      await runRemote(client, `kill -TERM -- -${group}`).catch(() => undefined);
      notes.push(`SIGTERM sent to remote process group ${group} on ${remote}`);
      const ended = await Promise.race([done.then(() => true), delay(graceMs).then(() => false)]);
      if (ended) {
        notes.push(`it exited within the ${graceMs / 1000} s grace period`);
        return notes;
      }
      await runRemote(client, `kill -KILL -- -${group}`).catch(() => undefined);
      notes.push(`SIGKILL sent to remote process group ${group}, still running after ${graceMs / 1000} s`);
      await Promise.race([done, delay(2000)]);
      channel.close();
      return notes;
    };
    return { done, cancel };
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function runRemote(client: Client, command: string): Promise<void> {
  return new Promise((resolve, reject) =>
    client.exec(command, (error, stream) => {
      if (error) return reject(error);
      stream.on('close', () => resolve());
      stream.resume();
      stream.stderr.resume();
    }),
  );
}

/** Connects and authenticates, mapping each way it can fail to an error a person can act on. */
export function connect(target: SshTarget): Promise<Client> {
  const trusted = keysForHost(target.knownHosts, target.host, target.port);
  const where = `${target.host}:${target.port}`;
  return new Promise((resolve, reject) => {
    const client = new Client();
    let hostKeyRejected = false;
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.username,
      privateKey: target.privateKey,
      readyTimeout: target.timeoutMs,
      keepaliveInterval: 15_000,
      hostVerifier: (key: Buffer) => {
        const ok = trusted.some((entry) => entry.key.equals(key));
        if (!ok) hostKeyRejected = true;
        return ok;
      },
    };
    const timer = setTimeout(() => {
      settled = true;
      client.end();
      reject(new NixSpaceError('HOST_UNREACHABLE', `${where} did not answer within ${target.timeoutMs} ms`));
    }, target.timeoutMs + 1000);
    client.once('ready', () => {
      settled = true;
      clearTimeout(timer);
      resolve(client);
    });
    let settled = false;
    // Kept for the client's whole life: a connection lost mid-job surfaces as the channel closing.
    client.on('error', (error: Error & { level?: string; code?: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end();
      if (hostKeyRejected) {
        return reject(
          new NixSpaceError(
            'HOST_KEY_MISMATCH',
            trusted.length === 0
              ? `known_hosts has no key for ${where}; add the host's key to trust it`
              : `The host key of ${where} does not match its known_hosts entry`,
          ),
        );
      }
      if (error.level === 'client-authentication') {
        return reject(
          new NixSpaceError('SSH_AUTH_FAILED', `${target.username}@${where} refused the key`, {
            detail: error.message,
          }),
        );
      }
      if (
        error.level === 'client-timeout' ||
        error.code === 'ECONNREFUSED' ||
        error.code === 'EHOSTUNREACH'
      ) {
        return reject(
          new NixSpaceError(
            'HOST_UNREACHABLE',
            error.level === 'client-timeout'
              ? `${where} did not complete the SSH handshake within ${target.timeoutMs} ms`
              : `Cannot connect to ${where}: ${error.code}`,
          ),
        );
      }
      reject(new NixSpaceError('HOST_UNREACHABLE', `SSH to ${where} failed: ${error.message}`));
    });
    try {
      client.connect(config);
    } catch (error) {
      clearTimeout(timer);
      reject(new NixSpaceError('BAD_REQUEST', `Cannot use this SSH host: ${(error as Error).message}`));
    }
  });
}
