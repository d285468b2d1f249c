// The agent protocol end to end: a real nixspace-agent process dials a real AgentLink, over a Unix
// socket, and runs real programs. No sandbox here (the drivers' suites run the agent inside one).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttp2Server } from 'node:http2';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NixSpaceError } from '../../errors.js';
import { AGENT_TRANSPORT_ENV } from '../../wire/agent.js';
import { AgentLink } from './agent-link.js';
import { AgentProcess } from './agent-process.js';

const agentMain = new URL('../../agent/main.ts', import.meta.url).pathname;

function startAgent(socketPath: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', agentMain], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', [AGENT_TRANSPORT_ENV]: `unix:${socketPath}` },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

function collect(process: AgentProcess, stream: 'stdout' | 'stderr', from = 0) {
  const chunks: Buffer[] = [];
  const offsets: number[] = [];
  const following = process.follow(stream, from, (data, offset) => {
    offsets.push(offset);
    chunks.push(data);
  });
  return {
    following,
    offsets,
    text: () => Buffer.concat(chunks).toString('utf8'),
    bytes: () => Buffer.concat(chunks),
  };
}

async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const output = { mode: 'keep', bytes: 1 << 20 } as const;
const env = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' };

describe('the workspace agent over its link', () => {
  let dir: string;
  let socketPath: string;
  let agent: ChildProcess;
  let link: AgentLink;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nixspace-agent-'));
    socketPath = join(dir, 'agent.sock');
    link = await AgentLink.listen(socketPath, undefined);
    agent = startAgent(socketPath);
    await link.connected();
  });

  after(async () => {
    agent.kill('SIGKILL');
    await link.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('greets with the protocol version and a boot id', async () => {
    const client = await link.connected();
    assert.equal(client.hello.protocol, 1);
    assert.equal(client.hello.pid, agent.pid);
    assert.match(client.hello.bootId, /^[0-9a-f-]{36}$/);
  });

  it('runs a program over pipes: stdout and stderr apart, and its exit code', async () => {
    const p = await AgentProcess.spawn(link, {
      id: 'pipes-1',
      argv: ['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'],
      cwd: '/',
      env,
      output,
    });
    const out = collect(p, 'stdout');
    const err = collect(p, 'stderr');
    assert.deepEqual(await p.exited, { code: 3, signal: null });
    await Promise.all([out.following.done, err.following.done]);
    assert.equal(out.text(), 'out\n');
    assert.equal(err.text(), 'err\n');
    assert.equal(p.lost, false);
  });

  it('runs a shell on a terminal of its own, with keys in and the window size', async () => {
    const p = await AgentProcess.spawn(link, {
      id: 'tty-1',
      argv: ['/bin/sh'],
      cwd: '/tmp',
      env: { ...env, TERM: 'xterm-256color' },
      tty: { cols: 90, rows: 30 },
      output: { mode: 'ring', bytes: 64 * 1024 },
    });
    const out = collect(p, 'stdout');
    p.write('stty size; pwd; tty\n');
    await until(() => /30 90/.test(out.text()) && /\/dev\/pts\/\d+/.test(out.text()), 'stty and tty');
    p.resize(120, 40);
    await new Promise((r) => setTimeout(r, 50));
    p.write('stty size; exit 7\n');
    assert.deepEqual(await p.exited, { code: 7, signal: null });
    await out.following.done;
    assert.match(out.text(), /40 120/);
    assert.match(out.text(), /\/tmp/);
  });

  it('refuses a process id twice and names a program that cannot start', async () => {
    const spec = { id: 'twice', argv: ['/bin/sleep', '30'], cwd: '/', env, output };
    const p = await AgentProcess.spawn(link, spec);
    await assert.rejects(AgentProcess.spawn(link, spec), /exists already/);
    await assert.rejects(
      AgentProcess.spawn(link, { ...spec, id: 'missing', argv: ['/no/such/program'] }),
      /cannot start \/no\/such\/program/,
    );
    await assert.rejects(AgentProcess.spawn(link, { ...spec, id: '../etc' }), /refused/);
    await p.forget();
    assert.equal((await p.exited).signal, 'SIGKILL');
  });

  it('signals the whole process group', async () => {
    const p = await AgentProcess.spawn(link, {
      id: 'group-1',
      argv: ['/bin/sh', '-c', 'sleep 1000 & sleep 1000; wait'],
      cwd: '/',
      env,
      output,
    });
    await p.signal('SIGTERM');
    const exit = await p.exited;
    assert.equal(exit.signal, 'SIGTERM');
  });

  it('keeps output nobody has acknowledged: the writer waits, and not a byte is lost', async () => {
    const bytes = 5 << 20;
    const p = await AgentProcess.spawn(link, {
      id: 'keep-1',
      argv: [
        '/bin/sh',
        '-c',
        `head -c ${bytes} /dev/urandom | tee /tmp/nixspace-agent-keep-$$ | cat; sha256sum /tmp/nixspace-agent-keep-$$ >&2; rm /tmp/nixspace-agent-keep-$$`,
      ],
      cwd: '/',
      env,
      output: { mode: 'keep', bytes: 1 << 20 },
    });
    // Nobody reads for a while: the agent holds a mebibyte and the program waits.
    await until(async () => (await link.client!.info(p.id)).output.stdout.end >= 1 << 20, 'a full buffer');
    await new Promise((r) => setTimeout(r, 200));
    const held = await link.client!.info(p.id);
    assert.ok(
      held.output.stdout.end - held.output.stdout.start <= (1 << 20) + 65536,
      'the buffer stays bounded',
    );
    assert.equal(held.exit, undefined, 'the program waits for its reader');
    const hash = createHash('sha256');
    let received = 0;
    const following = p.follow('stdout', 0, (data) => {
      hash.update(data);
      received += data.length;
      p.ack('stdout', received);
    });
    const err = collect(p, 'stderr');
    await following.done;
    await err.following.done;
    assert.equal(received, bytes);
    assert.equal(err.text().split(' ')[0], hash.digest('hex'));
  });

  it('keeps only the newest bytes of a ring, and says where they start', async () => {
    const p = await AgentProcess.spawn(link, {
      id: 'ring-1',
      argv: ['/bin/sh', '-c', 'head -c 300000 /dev/zero'],
      cwd: '/',
      env,
      output: { mode: 'ring', bytes: 64 * 1024 },
    });
    await p.exited;
    const out = collect(p, 'stdout');
    await out.following.done;
    assert.equal(out.offsets[0], 300000 - 64 * 1024);
    assert.equal(out.bytes().length, 64 * 1024);
  });

  it('keeps running what it runs while the server is away, and catches a new link up by offset', async () => {
    const p = await AgentProcess.spawn(link, {
      id: 'outlive-1',
      argv: ['/bin/sh', '-c', 'i=0; while [ $i -lt 60 ]; do echo line $i; i=$((i+1)); sleep 0.02; done'],
      cwd: '/',
      env,
      output,
    });
    const first = collect(p, 'stdout');
    await until(() => first.text().includes('line 5\n'), 'the first lines');
    first.following.stop();
    await first.following.done;
    const received = first.bytes().length;
    // The server goes away and comes back on the same socket: the agent dials it again.
    const bootId = link.client!.hello.bootId;
    await link.close();
    link = await AgentLink.listen(socketPath, undefined);
    const client = await link.connected();
    assert.equal(client.hello.bootId, bootId, 'the same agent, not a new one');
    const [info] = (await client.list()).filter((i) => i.id === 'outlive-1');
    assert.ok(info, 'the new link finds the process');
    const again = AgentProcess.adopt(link, info);
    const rest = collect(again, 'stdout', received);
    assert.deepEqual(await again.exited, { code: 0, signal: null });
    await rest.following.done;
    const all = first.text() + rest.text();
    const expected = Array.from({ length: 60 }, (_, i) => `line ${i}\n`).join('');
    assert.equal(all, expected);
  });

  it('lets go when detached: the link closes once the agent closed its end, and it dials the next', async () => {
    const p = await AgentProcess.spawn(link, {
      id: 'detached-1',
      argv: ['/bin/sleep', '30'],
      cwd: '/',
      env,
      output,
    });
    const bootId = link.client!.hello.bootId;
    await link.detach();
    await assert.rejects(link.connected(), /closed/);
    // The socket went first: nothing can dial this link any more.
    await assert.rejects(
      new Promise((resolve, reject) => connect(socketPath, () => resolve(undefined)).once('error', reject)),
      /ENOENT/,
    );
    link = await AgentLink.listen(socketPath, undefined);
    const client = await link.connected();
    assert.equal(client.hello.bootId, bootId, 'the same agent');
    assert.ok((await client.list()).some((i) => i.id === p.id && i.exit === undefined));
    await AgentProcess.adopt(link, (await client.info(p.id))!).forget();
  });
});

describe('an agent link with something else on the line', () => {
  it('does not take a peer that does not greet as an agent of this protocol', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nixspace-agent-'));
    const socketPath = join(dir, 'agent.sock');
    const link = await AgentLink.listen(socketPath, undefined);
    const impostor = createHttp2Server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ protocol: 99, version: 'x', bootId: 'y', pid: 1 }));
    });
    const socket = connect(socketPath, () => impostor.emit('connection', socket));
    try {
      await assert.rejects(link.connected({ timeoutMs: 1500 }), /did not connect/);
      assert.equal(link.client, undefined);
    } finally {
      socket.destroy();
      await link.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails a detach at once when the agent refuses it (an agent from before detach), closed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nixspace-agent-'));
    const socketPath = join(dir, 'agent.sock');
    const link = await AgentLink.listen(socketPath, undefined);
    const older = createHttp2Server((req, res) => {
      const hello = req.url === '/v1/hello';
      res.writeHead(hello ? 200 : 404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          hello
            ? { protocol: 1, version: 'old', bootId: '00000000-0000-4000-8000-000000000000', pid: 1 }
            : { error: { code: 'NOT_FOUND', message: `no route ${req.url}` } },
        ),
      );
    });
    const socket = connect(socketPath, () => older.emit('connection', socket));
    try {
      await link.connected();
      await assert.rejects(link.detach(), (error: unknown) => {
        assert.ok(error instanceof NixSpaceError);
        assert.equal(error.code, 'NOT_FOUND');
        return true;
      });
      await assert.rejects(link.connected(), /closed/);
    } finally {
      socket.destroy();
      await link.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails a detach when the agent answers but keeps its connection', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nixspace-agent-'));
    const socketPath = join(dir, 'agent.sock');
    const link = await AgentLink.listen(socketPath, undefined);
    const clinging = createHttp2Server((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          req.url === '/v1/hello'
            ? { protocol: 1, version: 'x', bootId: '00000000-0000-4000-8000-000000000000', pid: 1 }
            : {},
        ),
      );
    });
    const socket = connect(socketPath, () => clinging.emit('connection', socket));
    try {
      await link.connected();
      await assert.rejects(link.detach({ timeoutMs: 500 }), /did not let go within 500 ms/);
      await assert.rejects(link.connected(), /closed/);
    } finally {
      socket.destroy();
      await link.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
