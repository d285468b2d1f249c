// The way from a host socket of the server's to a Unix socket in the workspace, carried by a real
// agent over a real link: bytes go both ways unchanged and in order, many connections at once,
// each ending when either side does; a socket nobody listens on, or a path that is no absolute
// socket path, is refused with the reason.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AgentForward } from './agent-forward.js';
import { AgentLink } from './agent-link.js';
import { startAgentOnHost } from './agent-on-host.js';

/**
 * Sends `data`, half-closes, and resolves with everything the other end sent back and how the
 * connection ended: closed in order, or reset.
 */
function exchange(path: string, data: Buffer): Promise<{ answer: Buffer; reset: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const chunks: Buffer[] = [];
    let reset = false;
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.once('error', () => {
      reset = true;
    });
    socket.once('close', () => resolve({ answer: Buffer.concat(chunks), reset }));
    socket.end(data);
  });
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('a forward through the agent', () => {
  let dir: string;
  let link: AgentLink;
  let agent: ChildProcess;
  let echo: Server;
  let forward: AgentForward;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nixspace-forward-'));
    link = await AgentLink.listen(join(dir, 'agent.sock'), undefined);
    agent = await startAgentOnHost(link);
    // What listens in the workspace: sends back what it got, once its caller has sent it all.
    echo = createServer((socket) => {
      socket.on('error', () => socket.destroy());
      const chunks: Buffer[] = [];
      socket.on('data', (chunk) => chunks.push(chunk));
      socket.on('end', () => socket.end(Buffer.concat(chunks)));
    });
    await new Promise<void>((resolve) => echo.listen(join(dir, 'inside.sock'), resolve));
    forward = await AgentForward.listen(link, join(dir, 'host', 'ide.sock'), join(dir, 'inside.sock'));
  });

  after(async () => {
    await forward?.close();
    echo?.close();
    agent?.kill('SIGKILL');
    await link?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("listens where only the server's user may connect", async () => {
    const stat = await lstat(forward.hostPath);
    assert.ok(stat.isSocket());
    assert.equal(stat.mode & 0o777, 0o600);
    assert.equal((await lstat(join(dir, 'host'))).mode & 0o777, 0o700);
  });

  it('carries 8 MiB each way unchanged, on several connections at once', async () => {
    const payloads = [0, 1, 2].map(() => randomBytes(8 << 20));
    const answers = await Promise.all(payloads.map((data) => exchange(forward.hostPath, data)));
    assert.deepEqual(
      answers.map(({ reset }) => reset),
      [false, false, false],
    );
    assert.deepEqual(
      answers.map(({ answer }) => answer.length),
      payloads.map((data) => data.length),
    );
    assert.deepEqual(
      answers.map(({ answer }) => sha(answer)),
      payloads.map(sha),
    );
  });

  it('ends a connection to a socket nobody listens on, and says why to a direct caller', async () => {
    const nowhere = await AgentForward.listen(
      link,
      join(dir, 'host', 'none.sock'),
      join(dir, 'missing.sock'),
    );
    try {
      // Ended (in order or reset, as the caller's write races the end) with nothing answered.
      assert.equal((await exchange(nowhere.hostPath, Buffer.from('hello'))).answer.length, 0);
    } finally {
      await nowhere.close();
    }
    const client = await link.connected();
    await assert.rejects(
      client.connect(join(dir, 'missing.sock')),
      /cannot connect to .*missing\.sock: ENOENT/,
    );
    await assert.rejects(client.connect('relative.sock'), /absolute socket path/);
  });
});
