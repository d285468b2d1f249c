// QEMU's command line for a box: the `microvm` machine under TCG, the Debian kernel and the box's
// initrd, one virtio-9p device per share, the agent's virtio-serial port on a reconnecting Unix
// socket client, and user-mode networking only for network 'host'. Paths that QEMU opens after it
// dropped to the box's user are relative to its working directory, the box's QEMU directory.
import type { BoxShare } from './box-shares.js';
import type { GuestKernel } from './guest-kernel.js';
import { agentPortName, defaultMemoryBytes, type MicrovmSpec } from './microvm-spec.js';

/** Files QEMU opens in its working directory (BoxPaths.vmDir). */
export const vmFiles = {
  qmp: 'qmp.sock',
  console: 'console.log',
  initrd: 'initrd.cpio',
  hibernation: 'hibernation.img',
} as const;

/** MiB of TCG's translated-code cache: QEMU's default of 1 GiB would dwarf a small guest. */
export const tcgCacheMiB = 128;

export interface QemuArgsInput {
  spec: MicrovmSpec;
  qemu: string;
  kernel: GuestKernel;
  shares: readonly BoxShare[];
  /** The guest's TSC frequency (hostTscKhz), so its kernel does not calibrate it. */
  tscKhz?: number;
  /** Resume from the saved state file instead of booting. */
  incoming?: boolean;
}

export function qemuArgs({ spec, qemu, kernel, shares, tscKhz, incoming }: QemuArgsInput): string[] {
  const memoryMiB = Math.floor((spec.limits.memoryBytes ?? defaultMemoryBytes) / (1024 * 1024));
  const cpus = Math.max(1, Math.ceil(spec.limits.cpus ?? 1));
  const cmdline = ['console=ttyS0', 'quiet', 'panic=-1', 'reboot=t', 'pci=off', 'i8042.noaux', 'i8042.nokbd'];
  // microvm has no HPET nor PM timer to check the TSC against; see hostTscKhz.
  if (tscKhz !== undefined) cmdline.push(`tsc_early_khz=${tscKhz}`, 'tsc=reliable', 'no_timer_check');
  const args = [
    qemu,
    ...['-name', `nixspace-${spec.id},process=nixspace-box-${spec.id}`],
    // ACPI on: Debian's kernel finds virtio-mmio devices only through ACPI (it lacks
    // VIRTIO_MMIO_CMDLINE_DEVICES), and powers off through it.
    ...['-machine', 'microvm,acpi=on'],
    ...['-accel', `tcg,tb-size=${tcgCacheMiB}`],
    ...['-cpu', 'max', '-m', String(memoryMiB), '-smp', String(cpus)],
    ...['-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot'],
    // Appended, not truncated: a box resumed from hibernation keeps what it printed before.
    ...['-chardev', `file,id=console,path=${vmFiles.console},append=on`, '-serial', 'chardev:console'],
    ...['-kernel', kernel.image, '-initrd', vmFiles.initrd, '-append', cmdline.join(' ')],
    ...['-qmp', `unix:${vmFiles.qmp},server=on,wait=off`],
  ];
  shares.forEach((share, index) => {
    const readonly = share.writable ? '' : ',readonly=on';
    args.push('-fsdev', `local,id=fs${index},path=${option(share.hostPath)},security_model=none${readonly}`);
    args.push('-device', `virtio-9p-device,fsdev=fs${index},mount_tag=${share.tag}`);
  });
  args.push('-device', 'virtio-serial-device');
  args.push('-chardev', `socket,id=agent,path=${option(spec.agentSocket)},reconnect=1`);
  args.push('-device', `virtserialport,chardev=agent,name=${agentPortName}`);
  if (spec.network === 'host') {
    args.push('-netdev', 'user,id=net0', '-device', 'virtio-net-device,netdev=net0');
  }
  if (incoming) args.push('-incoming', `exec:cat ${vmFiles.hibernation}`);
  return args;
}

/** QEMU reads `,` as the end of an option value; `,,` is a literal comma. */
function option(value: string): string {
  return value.replaceAll(',', ',,');
}
