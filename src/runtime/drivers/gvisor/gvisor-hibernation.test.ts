// The gVisor driver's hibernation with memory, with the real agent in real boxes: a program
// started before goes on after the resume with what it held in memory, the image is used once,
// and a workspace whose image is gone (resumed, discarded, cleaned up, or broken) starts anew.
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NixSpaceError } from '../../../errors.js';
import type { AgentLink } from '../../agent/agent-link.js';
import { AgentProcess } from '../../agent/agent-process.js';
import type { Sandbox, SandboxSpec } from '../../sandbox.js';
import { GvisorDriver } from './gvisor-driver.js';
import { makeTestKit, skipReason, type TestKit } from './gvisor-test-kit.js';

/** A shell that counts the lines it reads: its count lives only in its memory. */
const counter = ['sh', '-c', 'n=0; while read -r line; do n=$((n+1)); echo "$line $n"; done'];

async function startCounter(agent: AgentLink, cwd: string): Promise<AgentProcess> {
  return AgentProcess.spawn(agent, {
    id: 'counter',
    argv: counter,
    cwd,
    env: { PATH: '/usr/bin:/bin' },
    stdin: true,
    output: { mode: 'ring', bytes: 64 * 1024 },
  });
}

/** Follows stdout from the start until `text` has come. */
function outputUntil(process: AgentProcess, text: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const following = process.follow('stdout', 0, (data) => {
      got += data.toString();
      if (got.includes(text)) {
        following.stop();
        resolve(got);
      }
    });
  });
}

describe('gVisor hibernation with memory', { skip: skipReason }, () => {
  let kit: TestKit;
  let driver: GvisorDriver;
  const running: Sandbox[] = [];

  before(async () => {
    kit = await makeTestKit('memory');
    driver = new GvisorDriver({ stateDir: kit.boxes.stateDir });
  });
  after(async () => {
    for (const sandbox of running) await sandbox.stop().catch(() => undefined);
    await kit?.teardown();
  });

  async function newSpec(): Promise<SandboxSpec> {
    const { init: _init, ...spec } = await kit.spec([]);
    return spec;
  }

  async function start(spec: SandboxSpec): Promise<Sandbox> {
    const sandbox = await driver.start(spec);
    running.push(sandbox);
    return sandbox;
  }

  test('a program goes on after the resume with its memory; the image is used once', async () => {
    assert.equal(driver.capabilities.memoryHibernate, true);
    const spec = await newSpec();
    const sandbox = await start(spec);
    const first = await startCounter(sandbox.agent, spec.workspaceDir);
    first.write('first\n');
    await outputUntil(first, 'first 1');

    const image = await driver.memoryHibernation.hibernate(sandbox);
    assert.ok(image.bytes > 0, 'the image holds the box');
    assert.equal(await driver.memoryHibernation.hasImage(spec.id), true);
    await sandbox.exited;
    assert.equal(await kit.boxes.find(spec.id), undefined, 'runsc keeps nothing of it');

    const resumed = await driver.memoryHibernation.resume(spec);
    running.push(resumed);
    assert.equal(await driver.memoryHibernation.hasImage(spec.id), false, 'the image is gone');
    await assert.rejects(driver.memoryHibernation.resume(spec), (error: unknown) => {
      assert.ok(error instanceof NixSpaceError);
      assert.equal(error.code, 'NOT_FOUND');
      return true;
    });
    const info = await AgentProcess.running(resumed.agent, 'counter');
    assert.ok(info, 'the agent still runs the program');
    assert.equal(info.pid, first.pid, 'the same process');
    const adopted = AgentProcess.adopt(resumed.agent, info);
    adopted.write('second\n');
    // A new shell would count 1 again: the count came back from the image.
    const output = await outputUntil(adopted, 'second');
    assert.match(output, /first 1\nsecond 2\n/);
    await resumed.stop();
  });

  test('a stopped or deleted workspace has its image removed: it cannot be resumed', async () => {
    const spec = await newSpec();
    await driver.memoryHibernation.hibernate(await start(spec));
    assert.equal(await driver.memoryHibernation.hasImage(spec.id), true);
    await driver.cleanup(spec.id);
    assert.equal(await driver.memoryHibernation.hasImage(spec.id), false);
    await assert.rejects(driver.memoryHibernation.resume(spec), /has no memory image/);
    const again = await start(spec);
    assert.ok(again.agent.client, 'it starts anew from its files');
    await again.stop();
  });

  test('an image that does not restore is deleted, and the workspace starts anew', async () => {
    const spec = await newSpec();
    await driver.memoryHibernation.hibernate(await start(spec));
    const dir = driver.memoryHibernation.imageDir(spec.id);
    for (const name of await readdir(dir)) await writeFile(join(dir, name), 'not an image');
    await assert.rejects(driver.memoryHibernation.resume(spec), (error: unknown) => {
      assert.ok(error instanceof NixSpaceError);
      assert.equal(error.code, 'SANDBOX_FAILED');
      return true;
    });
    assert.equal(await driver.memoryHibernation.hasImage(spec.id), false);
    assert.equal(await kit.boxes.find(spec.id), undefined, 'nothing of the attempt is left');
    const again = await start(spec);
    await again.stop();
  });
});
