// Figures for the microVM driver as workspaces use it: a sandbox start until the real agent has
// greeted over its virtio-serial port (QEMU, the guest kernel under TCG, Node from the host's /usr
// over 9p), against raw QEMU booting the same kernel and initramfs to a trivial init that writes
// to the same port, in the same run; and a command through the agent, against spawning it on the
// host.

import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MicrovmDriver } from '../src/runtime/drivers/microvm/microvm-driver.js';
import { giveTree } from '../src/runtime/host/give-tree.js';
import { RuntimeSandbox } from '../src/runtime/runtime-sandbox.js';
import { execInSandbox } from '../src/runtime/sandbox-exec.js';
import { TEST_SANDBOX_USER } from '../src/runtime/test-sandbox-user.js';
import { rawSetup } from './microvm.js';
import { type BenchResult, percentile, round, withRatio } from './results-file.js';

const RUNS = 3;
const COMMANDS = 10;
const exec = promisify(execFile);
const p50 = (values: number[]) => round(percentile(values, 50), 0);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

export async function benchMicrovmDriver(): Promise<BenchResult[]> {
  const root = await mkdtemp(join(tmpdir(), 'nsvm-driver-bench-'));
  await chmod(root, 0o711);
  const driver = new MicrovmDriver({ stateRoot: join(root, 'state') });
  try {
    await driver.probe();
  } catch (error) {
    console.error(`bench microvm-driver skipped: ${(error as Error).message}`);
    await rm(root, { recursive: true, force: true });
    return [];
  }
  const start: number[] = [];
  const raw: number[] = [];
  const command: number[] = [];
  const host: number[] = [];
  const sandboxes: RuntimeSandbox[] = [];
  try {
    const rawBoot = await rawSetup(root);
    // Alternate the two ways so neither gets a quieter machine.
    for (let i = 0; i < RUNS; i++) {
      const workspaceDir = join(root, `ws-${i}`);
      await mkdir(workspaceDir);
      await giveTree(workspaceDir, TEST_SANDBOX_USER);
      const spec = {
        id: `bench-driver-${i}-${process.pid}`,
        user: TEST_SANDBOX_USER,
        workspaceDir,
        agentDir: join(root, 'agents', String(i)),
        network: 'none' as const,
        limits: { memoryBytes: 512 * 1024 * 1024, cpus: 1 },
      };
      let sandbox: RuntimeSandbox | undefined;
      start.push(
        await timed(async () => {
          sandbox = await RuntimeSandbox.start(driver, spec);
        }),
      );
      if (sandbox === undefined) throw new Error('no sandbox');
      sandboxes.push(sandbox);
      // The first command loads the agent's routes: not counted.
      await execInSandbox(sandbox, ['/bin/true']);
      for (let j = 0; j < COMMANDS; j++) {
        command.push(await timed(() => execInSandbox(sandbox!, ['/bin/true'])));
        host.push(await timed(() => exec('/bin/true')));
      }
      await sandbox.stop();
      raw.push(await rawBoot.run(i));
    }
  } finally {
    for (const sandbox of sandboxes) await sandbox.stop().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  }
  return [
    withRatio({
      name: 'microvm driver: sandbox start until its agent has greeted (p50)',
      value: p50(start),
      unit: 'ms',
      baseline: p50(raw),
      note: `baseline: raw QEMU, same kernel and initramfs, a trivial init writing to the port; TCG; 512 MiB, 1 cpu; ${RUNS} runs; the agent is Node over 9p`,
    }),
    withRatio({
      name: 'microvm driver: a command through the agent, to exit with its output (p50)',
      value: round(percentile(command, 50), 1),
      unit: 'ms',
      baseline: round(percentile(host, 50), 1),
      note: `baseline: spawning /bin/true on the host; ${command.length} runs; TCG`,
    }),
  ];
}
