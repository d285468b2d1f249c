// Figures for microVM boxes under TCG: booting a box until its init (a Node program run from the
// host's /usr over 9p, as the agent will be) is connected to the host socket, against raw QEMU
// booting the same kernel and initramfs to a trivial init that only writes to the same port;
// and hibernating a 256 MiB box (save, restore, image size), idle and with 120 MiB of tmpfs
// (its RAM) written.

import { spawn } from 'node:child_process';
import { appendFile, chmod, copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpioArchive } from '../src/runtime/drivers/microvm/cpio-newc.js';
import { cachedInitramfs } from '../src/runtime/drivers/microvm/guest-initramfs.js';
import {
  findGuestKernel,
  findMicrovmTools,
  hostTscKhz,
} from '../src/runtime/drivers/microvm/guest-kernel.js';
import type { MicrovmBox } from '../src/runtime/drivers/microvm/microvm-box.js';
import { MicrovmHost } from '../src/runtime/drivers/microvm/microvm-host.js';
import { AgentListener, prepareEchoBox } from '../src/runtime/drivers/microvm/microvm-test-fixtures.js';
import { waitFor } from '../src/runtime/drivers/microvm/wait-for.js';
import { TEST_SANDBOX_USER } from '../src/runtime/test-sandbox-user.js';
import { type BenchResult, percentile, round } from './results-file.js';

const RUNS = 3;
const mib = 1024 * 1024;
const user = TEST_SANDBOX_USER;

export async function benchMicrovm(): Promise<BenchResult[]> {
  const root = await mkdtemp(join(tmpdir(), 'nsvm-bench-'));
  await chmod(root, 0o711);
  const host = new MicrovmHost({ stateRoot: join(root, 'state') });
  await host.probe();
  const boot: number[] = [];
  const monitorUp: number[] = [];
  const raw: number[] = [];
  const hibernation: { label: string; saveMs: number; restoreMs: number; imageBytes: number }[] = [];
  const boxes: MicrovmBox[] = [];
  try {
    const raw0 = await rawSetup(root);
    // Alternate the two ways so neither gets a quieter machine.
    for (let i = 0; i < RUNS; i++) {
      const { spec, listener } = await prepareEchoBox(root, `bench-boot-${i}`, user);
      const started = performance.now();
      const box = await host.boot(spec);
      boxes.push(box);
      monitorUp.push(performance.now() - started);
      await listener.agent(180_000);
      boot.push(performance.now() - started);
      await box.stop();
      await listener.close();
      raw.push(await raw0.run(i));
    }
    for (const fill of [0, 120]) {
      const fillRam = fill ? `dd if=/dev/urandom of=/dev/shm/fill bs=1M count=${fill} 2>/dev/null; ` : '';
      const counter = `${fillRam}i=0; while true; do i=$((i+1)); echo "count $i" > /dev/virtio-ports/nixspace.agent; sleep 0.2; done`;
      const { spec, listener } = await prepareEchoBox(root, `bench-hibernate-${fill}`, user, {
        mountShares: false,
        init: ['/.nixspace/bin/busybox', 'sh', '-c', counter],
      });
      const box = await host.boot(spec);
      boxes.push(box);
      await waitFor(async () => listener.connections.some((c) => c.lines.includes('count 3')), {
        timeoutMs: 180_000,
        what: 'the counter to run',
      });
      const saved = await box.hibernate();
      const restored = await box.resume();
      hibernation.push({ label: fill ? `${fill} MiB of tmpfs written` : 'idle', ...saved, ...restored });
      await box.stop();
      await listener.close();
    }
  } finally {
    for (const box of boxes) await box.stop();
    await rm(root, { recursive: true, force: true });
  }
  const p50 = (values: number[]) => round(percentile(values, 50), 0);
  const results: BenchResult[] = [
    {
      name: 'microvm: boot until the init is connected to the host socket (p50)',
      value: p50(boot),
      unit: 'ms',
      baseline: p50(raw),
      ratio: round(p50(boot) / p50(raw), 2),
      note:
        `init: node from the host's /usr over 9p, as the workspace user; QEMU's monitor up after ` +
        `${p50(monitorUp)} ms; baseline: raw QEMU, same kernel and initramfs, trivial init; TCG; ${RUNS} runs`,
    },
  ];
  for (const h of hibernation) {
    results.push(
      { name: `microvm: hibernate a 256 MiB box, ${h.label} (save)`, value: round(h.saveMs, 0), unit: 'ms' },
      {
        name: `microvm: resume a 256 MiB box, ${h.label} (restore)`,
        value: round(h.restoreMs, 0),
        unit: 'ms',
      },
      {
        name: `microvm: hibernation image of a 256 MiB box, ${h.label}`,
        value: round(h.imageBytes / mib, 1),
        unit: 'MiB',
      },
    );
  }
  return results;
}

/** Plain QEMU (as root, no user namespace, no cgroup, no share) to the same init's first write. */
export async function rawSetup(root: string) {
  const kernel = findGuestKernel();
  const tools = findMicrovmTools();
  const initrd = join(root, 'raw.cpio');
  await copyFile(await cachedInitramfs(join(root, 'state', '.initramfs'), kernel, tools), initrd);
  const trivial = 'box_ports\necho hello > /dev/virtio-ports/nixspace.agent\nsync\npoweroff -f\n';
  await appendFile(
    initrd,
    cpioArchive([{ kind: 'file', path: '.nixspace/boot.sh', data: Buffer.from(trivial) }]),
  );
  const tsc = hostTscKhz();
  const cmdline = `console=ttyS0 quiet panic=-1${tsc ? ` tsc_early_khz=${tsc} tsc=reliable no_timer_check` : ''}`;
  return {
    async run(i: number): Promise<number> {
      const dir = join(root, `raw-${i}`);
      await mkdir(dir);
      const socket = join(dir, 'agent.sock');
      const listener = await AgentListener.listen(socket, { uid: 0, gid: 0 });
      const started = performance.now();
      const qemu = spawn(
        tools.qemu,
        [
          ...['-machine', 'microvm,acpi=on', '-accel', 'tcg', '-cpu', 'max', '-m', '256', '-smp', '1'],
          ...['-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot', '-serial', 'none'],
          ...['-kernel', kernel.image, '-initrd', initrd, '-append', cmdline],
          ...['-device', 'virtio-serial-device', '-chardev', `socket,id=agent,path=${socket},reconnect=1`],
          ...['-device', 'virtserialport,chardev=agent,name=nixspace.agent'],
        ],
        { stdio: 'ignore' },
      );
      try {
        await listener.agent(180_000);
        return performance.now() - started;
      } finally {
        qemu.kill('SIGKILL');
        await listener.close();
        if (qemu.exitCode === null) await new Promise((resolve) => qemu.once('exit', resolve));
      }
    },
  };
}
