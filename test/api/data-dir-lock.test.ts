// One server per data directory (issue 11, item 11): a second server on the same directory used to
// start and reconcile the first one's running workspaces as leftovers, killing their sandboxes.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { type ConfigInput, parseConfig } from '../../src/config.js';
import { dataDirLockPath, processStartTicks } from '../../src/data-dir-lock.js';
import { NixSpaceError } from '../../src/errors.js';
import { startNixSpace } from '../../src/nixspace.js';
import { startTestServer, type TestServer } from '../support/nixspace-server.js';

function configFor(dataDir: string) {
  return parseConfig({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    logLevel: 'silent',
    environmentProvider: 'host',
    ide: { enabled: false },
  } as ConfigInput);
}

const logger = pino({ level: 'silent' });

/** A process that has exited (and been reaped), with the start time it had while it lived. */
async function deadProcess(): Promise<{ pid: number; startTicks: number }> {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('spawn', resolve));
  const pid = child.pid!;
  const startTicks = (await processStartTicks(pid))!;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  return { pid, startTicks };
}

describe('the data directory lock', () => {
  let first: TestServer;

  before(async () => {
    first = await startTestServer();
  });

  after(() => first?.close());

  it('refuses a second server on the same data directory, naming the running one', async () => {
    await assert.rejects(
      async () => {
        const second = await startNixSpace(configFor(first.dataDir), { logger });
        await second.close();
      },
      (error: unknown) => {
        assert.ok(error instanceof NixSpaceError, String(error));
        assert.equal(error.code, 'CONFLICT');
        assert.match(error.message, new RegExp(`pid ${process.pid}\\b`));
        assert.ok(error.message.includes(first.url), error.message);
        assert.ok(error.message.includes(first.dataDir), error.message);
        return true;
      },
    );
    // The first server is untouched: it still answers.
    const health = await first.api('/api/workspaces');
    assert.equal(health.status, 200);
  });

  it('lets a new server start once the first has stopped', async () => {
    await first.restart();
    const again = await first.api('/api/workspaces');
    assert.equal(again.status, 200);
  });

  it('takes over a lock left by a process that was killed', async () => {
    const server = await startTestServer();
    const { dataDir } = server;
    await server.nixspace.close();
    const dead = await deadProcess();
    await writeFile(
      dataDirLockPath(dataDir),
      JSON.stringify({ ...dead, startedAt: new Date().toISOString(), url: 'http://127.0.0.1:1' }),
    );
    const next = await startNixSpace(configFor(dataDir), { logger });
    await next.close();
    await server.close().catch(() => undefined);
  });

  it('takes over a lock whose pid now belongs to another process', async () => {
    const server = await startTestServer();
    const { dataDir } = server;
    await server.nixspace.close();
    // A live pid that started at another time than the lock says: the pid was reused.
    const stranger = spawn('sleep', ['1000'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => stranger.once('spawn', resolve));
      const startTicks = (await processStartTicks(stranger.pid!))!;
      await writeFile(
        dataDirLockPath(dataDir),
        JSON.stringify({
          pid: stranger.pid,
          startTicks: startTicks - 1,
          startedAt: new Date().toISOString(),
        }),
      );
      const next = await startNixSpace(configFor(dataDir), { logger });
      await next.close();
    } finally {
      stranger.kill('SIGKILL');
      await server.close().catch(() => undefined);
    }
  });
});
