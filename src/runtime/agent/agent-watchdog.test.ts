// The watch on an agent, against a real nixspace-agent process on a real link: one that answers is
// left alone however long it runs; one that is stopped (SIGSTOP: its event loop answers nothing, as
// a wedged agent's does) or never dials in is declared unresponsive once, with the reason.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AgentLink } from './agent-link.js';
import { startAgentOnHost } from './agent-on-host.js';
import { AgentWatchdog } from './agent-watchdog.js';

describe('the watch on a workspace agent', () => {
  let dir: string;
  let link: AgentLink;
  let agent: ChildProcess | undefined;
  let watchdog: AgentWatchdog | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nixspace-watchdog-'));
    link = await AgentLink.listen(join(dir, 'agent.sock'), undefined);
  });

  afterEach(async () => {
    watchdog?.stop();
    agent?.kill('SIGKILL');
    await link.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function startAgent(): Promise<ChildProcess> {
    agent = await startAgentOnHost(link);
    return agent;
  }

  function watch(deadlineMs: number, intervalMs: number) {
    const reasons: string[] = [];
    let resolve: (reason: string) => void = () => {};
    const unresponsive = new Promise<string>((r) => {
      resolve = r;
    });
    watchdog = new AgentWatchdog(link, { deadlineMs, intervalMs }, (reason) => {
      reasons.push(reason);
      resolve(reason);
    });
    return { reasons, unresponsive };
  }

  it('answers a ping while it runs', async () => {
    await startAgent();
    const client = await link.connected();
    for (let i = 0; i < 5; i += 1) assert.ok((await client.ping(30_000)) >= 0);
  });

  it('leaves an agent that answers alone, and declares one stopped unresponsive, once', async () => {
    const running = await startAgent();
    const client = await link.connected();
    // Many rounds of the watch pass with the agent answering: none of them declares it.
    const { reasons } = watch(30_000, 20);
    for (let i = 0; i < 10; i += 1) await client.ping(30_000);
    assert.deepEqual(reasons, []);
    watchdog?.stop();

    const stopped = watch(500, 50);
    running.kill('SIGSTOP');
    try {
      assert.match(await stopped.unresponsive, /^its agent did not answer for \d+ s$/);
      // It is said once, however long the agent stays stopped.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(stopped.reasons.length, 1);
    } finally {
      running.kill('SIGCONT');
    }
  });

  it('declares an agent that never dials in unresponsive', async () => {
    const { unresponsive } = watch(300, 50);
    assert.match(await unresponsive, /^its agent has not been connected for \d+ s$/);
  });
});
