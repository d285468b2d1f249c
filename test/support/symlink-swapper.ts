// Another process that swaps a directory for a symlink and back as fast as it can: a sandbox
// racing the host's check of a path against its use.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface Swapper {
  stop(): Promise<void>;
}

/** Starts swapping `dir/name` (a directory) with a symlink to `target`; resolves once it is swapping. */
export async function startSymlinkSwapper(dir: string, name: string, target: string): Promise<Swapper> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-e',
      `const fs = require('node:fs');
       const [dir, name, target] = process.argv.slice(1);
       process.chdir(dir);
       let n = 0;
       for (;;) {
         fs.renameSync(name, name + '.real');
         fs.symlinkSync(target, name);
         fs.unlinkSync(name);
         fs.renameSync(name + '.real', name);
         if (++n === 100) console.log('swapping');
       }`,
      dir,
      name,
      target,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  try {
    await once(createInterface({ input: child.stdout! }), 'line');
  } catch (error) {
    await stop();
    throw error;
  }
  return { stop };
}
