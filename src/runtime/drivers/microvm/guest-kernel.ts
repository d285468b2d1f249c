// The host programs a box is made of: QEMU, and a Debian kernel (image plus its modules, since the
// virtio and 9p drivers of Debian's kernel are modules the guest init loads itself).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NixSpaceError } from '../../../errors.js';
import { findExecutable } from '../../host/find-executable.js';

export interface GuestKernel {
  /** `uname -r` of the kernel, e.g. 6.1.0-57-amd64: keys the initramfs cache. */
  version: string;
  image: string;
  modulesDir: string;
}

export interface MicrovmTools {
  qemu: string;
  /** Static busybox: the guest init's shell and tools, before and without any host share. */
  busybox: string;
  /** util-linux setpriv, copied with its libraries into the initramfs to drop to the workspace user. */
  setpriv: string;
  /** util-linux unshare: QEMU's user namespace, where the box's user is the workspace user. */
  unshare: string;
  ldd: string;
}

/** The newest /boot/vmlinuz-* whose modules are installed; throws naming the package if none. */
export function findGuestKernel(bootDir = '/boot', modulesRoot = '/lib/modules'): GuestKernel {
  const versions = (existsSync(bootDir) ? readdirSync(bootDir) : [])
    .filter((name) => name.startsWith('vmlinuz-'))
    .map((name) => name.slice('vmlinuz-'.length))
    .filter((version) => existsSync(join(modulesRoot, version, 'modules.dep')))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const version = versions.at(-1);
  if (version === undefined) {
    throw new NixSpaceError('SANDBOX_UNAVAILABLE', `no guest kernel with modules in ${bootDir}`, {
      detail: 'install the Debian package linux-image-amd64',
    });
  }
  return { version, image: join(bootDir, `vmlinuz-${version}`), modulesDir: join(modulesRoot, version) };
}

export function findMicrovmTools(): MicrovmTools {
  const wanted = [
    ['qemu', 'qemu-system-x86_64', 'qemu-system-x86'],
    ['busybox', 'busybox', 'busybox-static'],
    ['setpriv', 'setpriv', 'util-linux'],
    ['unshare', 'unshare', 'util-linux'],
    ['ldd', 'ldd', 'libc-bin'],
  ] as const;
  const found: Partial<Record<keyof MicrovmTools, string>> = {};
  for (const [key, program, pkg] of wanted) {
    const path = findExecutable(program);
    if (path === undefined) {
      throw new NixSpaceError('SANDBOX_UNAVAILABLE', `${program} is not installed`, {
        detail: `install the Debian package ${pkg}`,
      });
    }
    found[key] = path;
  }
  return found as MicrovmTools;
}

/**
 * The host's TSC frequency in kHz, which under TCG is the guest's too (QEMU hands the guest the
 * host's TSC). Given to the guest kernel, it spares the calibration against the emulated PIT,
 * which fails on a busy host ("tsc: Unable to calibrate against PIT") and then hangs the guest
 * before its console comes up. Undefined where /proc/cpuinfo does not say.
 */
export function hostTscKhz(cpuinfo = '/proc/cpuinfo'): number | undefined {
  const mhz = /^cpu MHz\s*:\s*([\d.]+)$/m.exec(readFileSync(cpuinfo, 'utf8'))?.[1];
  return mhz === undefined ? undefined : Math.round(Number(mhz) * 1000);
}
