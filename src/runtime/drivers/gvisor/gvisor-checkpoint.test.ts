import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NixSpaceError } from '../../../errors.js';
import { delay } from '../../host/host-processes.js';
import { bundleDir } from './box-bundle.js';
import { boxHostPids } from './box-leftovers.js';
import {
  AgentListener,
  echoAgent,
  makeTestKit,
  roundTrip,
  skipReason,
  type TestKit,
  waitForFile,
} from './gvisor-test-kit.js';

describe('gVisor checkpoint and restore', { skip: skipReason }, () => {
  let kit: TestKit;
  before(async () => {
    kit = await makeTestKit('hibernate');
  });
  after(() => kit?.teardown());

  test('a restored box goes on from the memory it had: a shell counter continues', async () => {
    const spec = await kit.spec([]);
    const count = join(spec.workspaceDir, 'count');
    const counter =
      'i=0; while :; do i=$((i+1)); echo $i > "$W/count.new"; mv "$W/count.new" "$W/count"; sleep 0.1; done';
    const box = await kit.boxes.start({
      ...spec,
      init: ['sh', '-c', counter],
      env: { W: spec.workspaceDir },
    });
    await waitForFile(count, (text) => Number(text) >= 5);
    const image = await box.checkpoint(join(kit.root, 'images', spec.id));
    assert.ok(image.bytes > 0, 'the image has the box in it');
    assert.deepEqual(await boxHostPids(bundleDir(kit.boxes.stateDir, spec.id)), [], 'hibernated: no process');
    assert.equal(await kit.boxes.find(spec.id), undefined);
    const saved = Number(await readFile(count, 'utf8'));
    await delay(500);
    assert.equal(Number(await readFile(count, 'utf8')), saved, 'nothing counts while hibernated');

    const restored = await kit.boxes.restore(spec.id, image.dir);
    assert.equal(restored.state, 'running');
    const next = Number(await waitForFile(count, (text) => Number(text) !== saved));
    // A fresh start would count from 1 again; the shell's variable came back with its value.
    assert.ok(next > saved && next < saved + 20, `counted ${saved}, then ${next} after the restore`);
    await restored.stop();
  });

  test('the agent closes its stream before a checkpoint, and connects again after the restore', async () => {
    const spec = await kit.spec(echoAgent);
    const listener = await AgentListener.listen(spec);
    const box = await kit.boxes.start(spec);
    const stream = await listener.next();
    assert.equal(await roundTrip(stream, 'before\n'), 'before\n');
    const closed = new Promise((resolve) => stream.once('close', resolve));
    stream.write('close\n');
    await closed;
    const image = await box.checkpoint(join(kit.root, 'images', spec.id));
    const restored = await kit.boxes.restore(spec.id, image.dir);
    const again = await listener.next();
    assert.equal(await roundTrip(again, 'after\n'), 'after\n');
    await listener.close();
    await restored.stop();
  });

  test('a checkpoint while the agent is connected fails and loses the box (this runsc)', async () => {
    const spec = await kit.spec(echoAgent);
    const listener = await AgentListener.listen(spec);
    const box = await kit.boxes.start(spec);
    assert.equal(await roundTrip(await listener.next(), 'hi\n'), 'hi\n');
    await assert.rejects(box.checkpoint(join(kit.root, 'images', spec.id)), (error: unknown) => {
      assert.ok(error instanceof NixSpaceError);
      assert.match(error.message, /cannot checkpoint a socket connected to the host/);
      return true;
    });
    assert.equal(await box.status(), 'stopped');
    await listener.close();
    await box.stop();
  });
});
