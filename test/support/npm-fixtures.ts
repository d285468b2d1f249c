// npm packages for install tests that need no registry: a package packed into a tarball that a
// repository commits and depends on with `file:` (npm unpacks it into node_modules for real).

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** The `npm pack` tarball of a package whose index.js exports `value`. */
export async function packedPackage(name: string, version: string, value: string): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'nixspace-npm-pack-'));
  try {
    const pkg = join(dir, 'package');
    await mkdir(pkg);
    await writeFile(join(pkg, 'package.json'), JSON.stringify({ name, version, main: 'index.js' }));
    await writeFile(join(pkg, 'index.js'), `module.exports = ${JSON.stringify(value)};\n`);
    const { stdout } = await exec('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: pkg });
    return await readFile(join(dir, stdout.trim().split('\n').pop()!));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
