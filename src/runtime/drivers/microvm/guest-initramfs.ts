// The part of every box's initramfs that does not depend on the box: busybox, setpriv and its
// libraries, the kernel's virtio/9p modules in load order, and the init script. Built on first
// use and cached under a name keyed by the kernel version and a hash of everything that went in.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { NixSpaceError } from '../../../errors.js';
import { type CpioEntry, cpioArchive } from './cpio-newc.js';
import { guestInitScript } from './guest-init-script.js';
import type { GuestKernel, MicrovmTools } from './guest-kernel.js';

/** Drivers the guest needs; their dependencies are found in modules.dep. */
const wantedModules = ['virtio_mmio', '9pnet_virtio', '9p', 'virtio_console', 'virtio_net'];

export async function cachedInitramfs(
  cacheDir: string,
  kernel: GuestKernel,
  tools: MicrovmTools,
): Promise<string> {
  const modules = await moduleLoadOrder(kernel.modulesDir, wantedModules);
  const setprivFiles = await withLibraries(tools.ldd, tools.setpriv);
  const hash = createHash('sha256').update(guestInitScript);
  for (const file of [tools.busybox, ...setprivFiles, ...modules]) {
    const { size, mtimeMs } = await stat(file);
    hash.update(`${file}:${size}:${mtimeMs}\n`);
  }
  const path = join(cacheDir, `initramfs-${kernel.version}-${hash.digest('hex').slice(0, 16)}.cpio`);
  if (existsSync(path)) return path;

  await assertStatic(tools);
  const entries: CpioEntry[] = [];
  for (const dir of ['.nixspace', '.nixspace/bin', '.nixspace/lib', '.nixspace/modules']) {
    entries.push({ kind: 'dir', path: dir });
  }
  for (const dir of ['proc', 'sys', 'dev', 'run', 'usr', 'etc']) entries.push({ kind: 'dir', path: dir });
  entries.push({ kind: 'dir', path: 'tmp', mode: 0o1777 }, { kind: 'dir', path: 'root', mode: 0o700 });
  // The host's /usr is merged (Debian 12): once it is mounted, these make its programs run.
  for (const link of ['bin', 'lib', 'lib64', 'sbin'])
    entries.push({ kind: 'symlink', path: link, target: `usr/${link}` });
  entries.push({ kind: 'file', path: 'init', data: Buffer.from(guestInitScript), mode: 0o755 });
  entries.push({
    kind: 'file',
    path: '.nixspace/bin/busybox',
    data: await readFile(tools.busybox),
    mode: 0o755,
  });
  entries.push({
    kind: 'file',
    path: '.nixspace/bin/setpriv',
    data: await readFile(tools.setpriv),
    mode: 0o755,
  });
  for (const library of setprivFiles.slice(1)) {
    entries.push({
      kind: 'file',
      path: `.nixspace/lib/${basename(library)}`,
      data: await readFile(library),
      mode: 0o755,
    });
  }
  for (const module of modules) {
    entries.push({
      kind: 'file',
      path: `.nixspace/modules/${basename(module)}`,
      data: await readFile(module),
    });
  }
  const order = `${modules.map((module) => basename(module)).join('\n')}\n`;
  entries.push({ kind: 'file', path: '.nixspace/modules.order', data: Buffer.from(order) });

  await mkdir(cacheDir, { recursive: true, mode: 0o755 });
  const partial = `${path}.${process.pid}.partial`;
  await writeFile(partial, cpioArchive(entries), { mode: 0o644 });
  await rename(partial, path);
  return path;
}

/** Paths of `names` and everything they need, each after its dependencies (insmod order). */
export async function moduleLoadOrder(modulesDir: string, names: readonly string[]): Promise<string[]> {
  const dependencies = new Map<string, string[]>();
  const byName = new Map<string, string>();
  for (const line of (await readFile(join(modulesDir, 'modules.dep'), 'utf8')).split('\n')) {
    const [module, deps] = line.split(':');
    if (module === undefined || deps === undefined) continue;
    dependencies.set(module, deps.trim().split(/\s+/).filter(Boolean));
    byName.set(moduleName(module), module);
  }
  const order: string[] = [];
  const visit = (module: string) => {
    if (order.includes(module)) return;
    for (const dep of dependencies.get(module) ?? []) visit(dep);
    order.push(module);
  };
  for (const name of names) {
    const module = byName.get(moduleName(name));
    if (module === undefined) {
      throw new NixSpaceError('SANDBOX_UNAVAILABLE', `the guest kernel has no module ${name}`, {
        detail: `looked in ${join(modulesDir, 'modules.dep')}`,
      });
    }
    visit(module);
  }
  return order.map((module) => join(modulesDir, module));
}

const moduleName = (path: string) =>
  basename(path)
    .replace(/\.ko(\.\w+)?$/, '')
    .replaceAll('-', '_');

/** `program` first, then the shared libraries ldd says it loads (the dynamic loader included). */
async function withLibraries(ldd: string, program: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(ldd, [program]);
  const libraries = [...stdout.matchAll(/(\/\S+) \(0x/g)].map((match) => match[1] as string);
  if (!libraries.some((library) => basename(library) === 'ld-linux-x86-64.so.2')) {
    throw new NixSpaceError('SANDBOX_UNAVAILABLE', `cannot find the dynamic loader of ${program}`, {
      detail: stdout,
    });
  }
  return [program, ...libraries];
}

async function assertStatic(tools: MicrovmTools): Promise<void> {
  const { stdout, stderr } = await promisify(execFile)(tools.ldd, [tools.busybox]).catch(
    (error: { stdout?: string; stderr?: string }) => ({
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? '',
    }),
  );
  if (!`${stdout}${stderr}`.includes('not a dynamic executable')) {
    throw new NixSpaceError('SANDBOX_UNAVAILABLE', `${tools.busybox} is not a static busybox`, {
      detail: 'install the Debian package busybox-static',
    });
  }
}
