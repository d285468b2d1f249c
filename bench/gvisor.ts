// Figures for the gVisor box: starting one (bundle, runsc run --detach, the sentry and gofer,
// the agent's first connection to the host socket) against a raw `runsc do true` in the same run,
// and hibernating one: checkpoint and restore times and the size of the image.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GvisorDriver } from '../src/runtime/drivers/gvisor/gvisor-driver.js';
import {
  AgentListener,
  echoAgent,
  makeTestKit,
  roundTrip,
  skipReason,
  type TestKit,
  waitForFile,
} from '../src/runtime/drivers/gvisor/gvisor-test-kit.js';
import { delay } from '../src/runtime/host/host-processes.js';
import { RuntimeSandbox } from '../src/runtime/runtime-sandbox.js';
import { execInSandbox } from '../src/runtime/sandbox-exec.js';
import { type BenchResult, percentile, round, withRatio } from './results-file.js';

const RUNS = 10;
const exec = promisify(execFile);

const p50 = (values: number[]) => round(percentile(values, 50), 1);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

export async function benchGvisor(): Promise<BenchResult[]> {
  if (skipReason) {
    console.error(`bench gvisor skipped: ${skipReason}`);
    return [];
  }
  const kit = await makeTestKit('bench');
  const start: number[] = [];
  const rawDo: number[] = [];
  const checkpoint: number[] = [];
  const restore: number[] = [];
  const imageBytes: number[] = [];
  try {
    // Alternate the two ways so neither gets a quieter machine.
    for (let i = 0; i < RUNS; i++) {
      const spec = await kit.spec(echoAgent);
      const listener = await AgentListener.listen(spec);
      start.push(
        await timed(async () => {
          await kit.boxes.start(spec);
          await listener.next();
        }),
      );
      await listener.close();
      await kit.boxes.destroy(spec.id);
      rawDo.push(
        await timed(() =>
          exec('runsc', [`--root=${join(kit.root, 'do')}`, '--network=none', 'do', 'true'], {
            timeout: 60_000,
          }),
        ),
      );
    }
    for (let i = 0; i < Math.ceil(RUNS / 2); i++) {
      const spec = await kit.spec([]);
      const counter = 'i=0; while :; do i=$((i+1)); echo $i > "$W/count"; sleep 0.1; done';
      const box = await kit.boxes.start({
        ...spec,
        init: ['sh', '-c', counter],
        env: { W: spec.workspaceDir },
      });
      await waitForFile(join(spec.workspaceDir, 'count'), (text) => Number(text) >= 3);
      const image = await box.checkpoint(join(kit.root, 'images', spec.id));
      checkpoint.push(image.ms);
      imageBytes.push(image.bytes);
      restore.push(await timed(() => kit.boxes.restore(spec.id, image.dir)));
      await kit.boxes.destroy(spec.id);
      await delay(100);
    }
    // The agent's box as it would be hibernated: the stream closed first.
    const spec = await kit.spec(echoAgent);
    const listener = await AgentListener.listen(spec);
    const box = await kit.boxes.start(spec);
    const stream = await listener.next();
    const closed = new Promise((resolve) => stream.once('close', resolve));
    stream.write('close\n');
    await closed;
    const image = await box.checkpoint(join(kit.root, 'images', spec.id));
    const wake = await timed(async () => {
      await kit.boxes.restore(spec.id, image.dir);
      await roundTrip(await listener.next(), 'awake\n');
    });
    await listener.close();
    const driver = await benchDriver(kit, p50(rawDo));
    return [
      ...driver,
      withRatio({
        name: 'gvisor: box start until the init is connected to the host socket (p50)',
        value: p50(start),
        unit: 'ms',
        baseline: p50(rawDo),
        note: `baseline: raw runsc do true (network none); p95 ${round(percentile(start, 95), 1)} ms; ${RUNS} runs; ptrace platform; init is python3`,
      }),
      {
        name: 'gvisor: checkpoint of a running shell box (p50)',
        value: p50(checkpoint),
        unit: 'ms',
        note: `${checkpoint.length} runs; the box is gone afterwards`,
      },
      {
        name: 'gvisor: restore of a checkpointed shell box until running (p50)',
        value: p50(restore),
        unit: 'ms',
        note: `${restore.length} runs`,
      },
      {
        name: 'gvisor: checkpoint image of a shell box (p50)',
        value: round(percentile(imageBytes, 50) / 1024, 1),
        unit: 'KiB',
      },
      {
        name: 'gvisor: restore of the agent box until the agent echoes again',
        value: round(wake, 1),
        unit: 'ms',
        note: `includes what is left of the test agent's 1 s pause before it reconnects; image ${round(image.bytes / 1024, 1)} KiB (python3)`,
      },
    ];
  } finally {
    await kit.teardown();
  }
}

/** The driver as workspaces use it: a box whose init is the real agent, and a command through it. */
async function benchDriver(kit: TestKit, rawDoMs: number): Promise<BenchResult[]> {
  const driver = new GvisorDriver({ stateDir: join(kit.root, 'driver') });
  const start: number[] = [];
  const command: number[] = [];
  for (let i = 0; i < Math.ceil(RUNS / 2); i++) {
    const { init: _init, ...spec } = await kit.spec([]);
    let sandbox: Awaited<ReturnType<typeof RuntimeSandbox.start>> | undefined;
    start.push(
      await timed(async () => {
        sandbox = await RuntimeSandbox.start(driver, spec);
      }),
    );
    for (let j = 0; j < 5; j++) command.push(await timed(() => execInSandbox(sandbox!, ['/bin/true'])));
    await sandbox!.stop();
  }
  return [
    withRatio({
      name: 'gvisor driver: sandbox start until its agent has greeted (p50)',
      value: p50(start),
      unit: 'ms',
      baseline: rawDoMs,
      note: `baseline: raw runsc do true (network none); ${start.length} runs; the agent is Node`,
    }),
    withRatio({
      name: 'gvisor driver: a command through the agent, to exit with its output (p50)',
      value: p50(command),
      unit: 'ms',
      baseline: rawDoMs,
      note: `baseline: raw runsc do true, a new box per command; ${command.length} runs`,
    }),
  ];
}
