// The one suite every execution strategy passes (pipe, PTY, SSH). Each strategy's test file calls
// it; a case a strategy cannot pass by design is skipped with the reason. Every case asserts what
// really happened: the bytes that arrived, the exit code, the processes left on the host.

import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { CommandExit, ExecutionStrategy, OutputStream, RunningCommand } from './execution-strategy.js';

export type StrategyCase =
  | 'exitCode'
  | 'separateStreams'
  | 'longLines'
  | 'cwd'
  | 'terminal'
  | 'cancelTree'
  | 'cancelDetached'
  | 'gracefulCancel';

export interface StrategySuiteOptions {
  name: string;
  setup(): Promise<{ strategy: ExecutionStrategy; close(): Promise<void> }>;
  /** Cases this strategy cannot pass, each with the reason. */
  skip?: Partial<Record<StrategyCase, string>>;
}

interface Captured {
  run: RunningCommand;
  chunks: { stream: OutputStream; data: Buffer }[];
  text(stream?: OutputStream): string;
  waitFor(text: string, timeoutMs?: number): Promise<void>;
}

async function start(strategy: ExecutionStrategy, command: string, cwd?: string): Promise<Captured> {
  const chunks: { stream: OutputStream; data: Buffer }[] = [];
  let wake = () => {};
  const run = await strategy.start({ command, cwd }, (stream, data) => {
    chunks.push({ stream, data });
    wake();
  });
  const text = (stream?: OutputStream) =>
    Buffer.concat(chunks.filter((c) => !stream || c.stream === stream).map((c) => c.data)).toString('utf8');
  return {
    run,
    chunks,
    text,
    async waitFor(needle, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!text().includes(needle)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${needle}; got ${text()}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
      }
    },
  };
}

/** Host processes whose command line holds every given word. */
async function hostProcessesWith(...words: string[]): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (words.every((w) => cmdline.includes(w))) found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found;
}

/** Waits until `check` holds, polling, for at most `timeoutMs`; says what it waited for. */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function runStrategySuite(options: StrategySuiteOptions): void {
  const skip = options.skip ?? {};
  describe(`${options.name} strategy`, () => {
    let strategy: ExecutionStrategy;
    let close: () => Promise<void>;
    /** Commands still running, and the command lines of processes a case may leave behind. */
    const running = new Set<RunningCommand>();
    const leftovers: string[][] = [];
    const launch = async (command: string, cwd?: string) => {
      const c = await start(strategy, command, cwd);
      running.add(c.run);
      void c.run.done.finally(() => running.delete(c.run));
      return c;
    };
    before(async () => {
      ({ strategy, close } = await options.setup());
    });
    after(async () => {
      // A failed case must not leave its processes to hang the suite: end them, whatever happened
      // (the leftovers first: a process that escaped a cancel may hold a command's output open).
      const cancels = [...running].map((run) => run.cancel(0).then(() => run.done));
      for (const words of leftovers) {
        for (const pid of await hostProcessesWith(...words)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // ended on its own meanwhile
          }
        }
      }
      await Promise.allSettled(cancels);
      await close?.();
    });

    it('reports the output and the exit code of the command', { skip: skip.exitCode ?? false }, async () => {
      const c = await launch('echo hello from the job; exit 7');
      const exit: CommandExit = await c.run.done;
      assert.equal(exit.exitCode, 7);
      assert.match(c.text(), /hello from the job/);
    });

    it('keeps stderr apart from stdout', { skip: skip.separateStreams ?? false }, async () => {
      const c = await launch('echo to-out; echo to-err >&2; echo more-out');
      await c.run.done;
      assert.equal(c.text('stdout'), 'to-out\nmore-out\n');
      assert.equal(c.text('stderr'), 'to-err\n');
    });

    it('hands over a 300 kB line without a newline intact', { skip: skip.longLines ?? false }, async () => {
      const c = await launch("head -c 300000 /dev/zero | tr '\\0' x; echo; echo end");
      await c.run.done;
      const text = c.text().replace(/\r\n/g, '\n');
      assert.equal(text, `${'x'.repeat(300_000)}\nend\n`);
    });

    it('runs in the working directory it is given', { skip: skip.cwd ?? false }, async () => {
      const c = await launch('pwd', '/usr');
      await c.run.done;
      assert.equal(c.text().trim(), '/usr');
    });

    it('gives the command a terminal exactly when it says so', { skip: skip.terminal ?? false }, async () => {
      const c = await launch('if [ -t 1 ]; then echo on-a-tty; else echo not-a-tty; fi');
      await c.run.done;
      assert.equal(c.text().trim(), strategy.capabilities.terminal ? 'on-a-tty' : 'not-a-tty');
    });

    it('cancels the whole process tree, SIGKILLing what ignores SIGTERM', {
      skip: skip.cancelTree ?? false,
    }, async () => {
      const seconds = String(3000 + Math.floor(Math.random() * 5000));
      const c = await launch(`trap '' TERM; sleep ${seconds} & sleep ${seconds} & echo started; wait`);
      leftovers.push(['sleep', seconds]);
      await c.waitFor('started');
      // "started" is printed before the backgrounded sleeps are sure to have been exec'd.
      await eventually(
        async () => (await hostProcessesWith('sleep', seconds)).length >= 2,
        'both sleeps run',
      );
      const notes = await c.run.cancel(300);
      const exit = await c.run.done;
      assert.notEqual(exit.exitCode, 0);
      assert.match(notes.join('\n'), /SIGTERM/);
      assert.match(notes.join('\n'), /SIGKILL/);
      // The kernel reaps a SIGKILLed process soon after, not at once (over SSH, on the far side).
      await eventually(
        async () => (await hostProcessesWith('sleep', seconds)).length === 0,
        'no child survives',
      );
    });

    // Regression (issue 11, item 10): children that left the job's session survived a cancel and
    // held its output pipe, and the cancel request hung for minutes until they ended on their own.
    for (const [what, command] of [
      ['a setsid child', (s: string) => `setsid sh -c 'sleep ${s}' & echo started; sleep ${s}`],
      ['a setsid child that forked away', (s: string) => `setsid -f sleep ${s}; echo started; sleep ${s}`],
      [
        'a double-forked setsid child that ignores SIGTERM and keeps the output open',
        (s: string) => `( trap '' TERM; setsid sleep ${s} & ); echo started; sleep ${s}`,
      ],
    ] as const) {
      it(`cancel ends ${what} within the grace period plus a second`, {
        skip: skip.cancelDetached ?? false,
      }, async () => {
        const seconds = String(3000 + Math.floor(Math.random() * 5000));
        const graceMs = 1000;
        // The product answers within grace + 1 s; a busy test machine gets two more.
        const boundMs = graceMs + 1000 + 2000;
        const c = await launch(command(seconds));
        leftovers.push(['sleep', seconds]);
        await c.waitFor('started');
        await eventually(
          async () => (await hostProcessesWith('sleep', seconds)).length >= 2,
          'both sleeps run',
        );
        const startedAt = Date.now();
        const ended = Promise.all([c.run.cancel(graceMs), c.run.done]);
        const outcome = await Promise.race([
          ended.then(() => 'ended'),
          new Promise((resolve) => setTimeout(resolve, boundMs * 3, 'hung')),
        ]);
        const elapsed = Date.now() - startedAt;
        assert.equal(outcome, 'ended', `cancel still waiting after ${elapsed} ms`);
        assert.ok(elapsed <= boundMs, `cancel took ${elapsed} ms with a ${graceMs} ms grace period`);
        await eventually(
          async () => (await hostProcessesWith('sleep', seconds)).length === 0,
          'no process of the job is left',
        );
      });
    }

    it('lets a command that handles SIGTERM finish within the grace period', {
      skip: skip.gracefulCancel ?? false,
    }, async () => {
      const c = await launch(
        "trap 'echo cleaning up; exit 0' TERM; echo ready; while true; do sleep 0.05; done",
      );
      await c.waitFor('ready');
      const notes = await c.run.cancel(5000);
      await c.run.done;
      assert.match(c.text(), /cleaning up/);
      assert.match(notes.join('\n'), /SIGTERM/);
      assert.doesNotMatch(notes.join('\n'), /SIGKILL/);
    });
  });
}
