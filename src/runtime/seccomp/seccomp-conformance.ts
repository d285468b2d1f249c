// The seccomp section of the sandbox conformance suite: inside a sandbox, every call the workspace
// policy refuses fails with the policy's errno, other ABIs are killed, and ordinary programs still
// run. A driver's test calls it with a runner for its sandbox; given a runner for the same sandbox
// without the filter (with as much privilege as the host allows), each case also checks that the
// kernel alone answers otherwise, so the case shows the filter's work and not a missing privilege.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { EPERM, workspaceSeccompPolicy } from './seccomp-policy.js';
import {
  allowedCallProbes,
  i386ProbeScript,
  type ProbeOutcome,
  probeScript,
  refusedCallProbes,
  type SyscallProbe,
} from './seccomp-probes.js';
import { hostSeccompArch, type SyscallName, syscallTables } from './syscall-numbers.js';

export interface SeccompRunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs argv to completion inside the sandbox under test. */
export type SeccompRunner = (argv: readonly string[]) => Promise<SeccompRunResult>;

export interface SeccompConformanceOptions {
  name: string;
  /** Runs a program in the sandbox, under the filter. */
  run: SeccompRunner;
  /** Runs a program in the same sandbox without the filter, for the control of each case. */
  runUnfiltered?: SeccompRunner;
  /** Cases (by their title) this driver skips, each with the reason. */
  skip?: Record<string, string>;
}

/** 128 + SIGSYS, as a shell reports a process the filter killed. */
const killedBySigsys = 159;

export function runSeccompConformance(options: SeccompConformanceOptions): void {
  const { name, run, runUnfiltered } = options;
  const arch = hostSeccompArch();
  const skipped = (title: string) => options.skip?.[title] ?? false;

  describe(`seccomp filter conformance: ${name}`, { skip: arch === undefined && 'no syscall table' }, () => {
    const numbers = syscallTables[arch ?? 'x64'].numbers;
    const probes: [label: string, call: SyscallName, probe: SyscallProbe][] = [
      ...workspaceSeccompPolicy
        .filter((rule) => numbers[rule.call] !== undefined)
        .map((rule): [string, SyscallName, SyscallProbe] => [rule.call, rule.call, probeFor(rule.call)]),
      ...Object.entries(allowedCallProbes).map(([label, probe]): [string, SyscallName, SyscallProbe] => [
        label,
        probe.call,
        probe,
      ]),
    ];
    const batch = JSON.stringify(
      probes.map(([label, call, probe]) => [label, numbers[call], probe.args, probe.forks === true]),
    );
    let filtered: Record<string, ProbeOutcome | null> = {};
    let unfiltered: Record<string, ProbeOutcome | null> | undefined;

    before(async () => {
      // One python3 for all probes: each call still runs in a child of its own.
      filtered = await runProbes(run, batch);
      if (runUnfiltered !== undefined) unfiltered = await runProbes(runUnfiltered, batch);
    });

    for (const rule of workspaceSeccompPolicy) {
      if (numbers[rule.call] === undefined) continue;
      const title = `refuses ${rule.call}: ${rule.why}`;
      it(title, { skip: skipped(title) }, () => {
        const refused: ProbeOutcome = [-1, rule.errno];
        assert.deepEqual(filtered[rule.call], refused, `${rule.call} under the filter`);
        if (unfiltered !== undefined) {
          assert.notDeepEqual(
            unfiltered[rule.call],
            refused,
            `${rule.call} without the filter fails the same way`,
          );
          assert.notEqual(
            unfiltered[rule.call],
            null,
            `${rule.call} probe without the filter gave no answer`,
          );
        }
      });
    }

    for (const label of Object.keys(allowedCallProbes)) {
      const title = `allows ${label}`;
      it(title, { skip: skipped(title) }, () => {
        const outcome = filtered[label];
        assert.ok(outcome, `no answer for ${label}`);
        assert.ok(
          outcome[0] !== -1 || outcome[1] !== EPERM,
          `${label} was refused: ${JSON.stringify(outcome)}`,
        );
      });
    }

    const title = 'refuses a new user namespace (unshare -U true)';
    it(title, { skip: skipped(title) }, async () => {
      const result = await run(['unshare', '-U', 'true']);
      assert.notEqual(result.code, 0, 'unshare -U succeeded under the filter');
      assert.match(result.stderr, /Operation not permitted/);
      if (runUnfiltered !== undefined) {
        const control = await runUnfiltered(['unshare', '-U', 'true']);
        assert.equal(control.code, 0, `unshare -U fails even without the filter: ${control.stderr}`);
      }
    });

    if (arch === 'x64') {
      const x32 = `import ctypes; print(ctypes.CDLL(None).syscall(${0x40000000 | numbers.getpid!}))`;
      for (const [abi, script] of [
        ['x32 (syscall numbers with bit 30 set)', x32],
        ['i386 (int 0x80)', i386ProbeScript],
      ] as const) {
        const title = `kills a process making ${abi} calls`;
        it(title, { skip: skipped(title) }, async () => {
          const argv = ['/bin/sh', '-c', 'python3 -c "$1" 2>/dev/null; echo "exit=$?"', 'sh', script];
          const result = await run(argv);
          assert.match(result.stdout, new RegExp(`exit=${killedBySigsys}\\b`), result.stderr);
          if (runUnfiltered !== undefined) {
            const control = await runUnfiltered(argv);
            assert.match(control.stdout, /exit=0\b/, `without the filter: ${control.stderr}`);
          }
        });
      }
    }

    const programs: [string, string[], RegExp][] = [
      ['sh', ['/bin/sh', '-c', 'echo hello from sh'], /hello from sh/],
      ['ls', ['ls', '/'], /usr/],
      // The C library makes threads and children with clone3 first and falls back to clone.
      [
        'python3 with a thread and a child',
        [
          'python3',
          '-c',
          'import subprocess, threading\nt = threading.Thread(target=print, args=("thread",))\nt.start(); t.join()\nprint(subprocess.run(["true"]).returncode)',
        ],
        /^thread\n0$/m,
      ],
      ['node --version', ['node', '--version'], /^v\d+/],
      // Reading a file goes through libuv, which may try io_uring first and must fall back.
      [
        'node reading a file',
        [
          'node',
          '-e',
          "require('fs').promises.readFile('/proc/self/status','utf8').then((s)=>console.log(s))",
        ],
        /^Seccomp:\s+2$/m,
      ],
      ['git --version', ['git', '--version'], /^git version/],
    ];
    for (const [label, argv, expected] of programs) {
      const title = `runs ${label}`;
      it(title, { skip: skipped(title) }, async () => {
        const result = await run(argv);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, expected);
      });
    }
  });
}

function probeFor(call: SyscallName): SyscallProbe {
  const probe = refusedCallProbes[call];
  if (probe === undefined) throw new Error(`no seccomp probe for ${call}`);
  return probe;
}

async function runProbes(run: SeccompRunner, batch: string): Promise<Record<string, ProbeOutcome | null>> {
  const result = await run(['python3', '-c', probeScript, batch]);
  assert.equal(result.code, 0, `the syscall probes failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, ProbeOutcome | null>;
}
