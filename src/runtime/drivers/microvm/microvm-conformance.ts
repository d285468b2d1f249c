// The microVM driver against the suites every driver passes, with real QEMU under TCG and the real
// agent on its virtio-serial port. Each case boots a box (30–50 s under TCG on a busy machine) and
// a test file has ten minutes (scripts/run-tests.mjs), so the cases are dealt out over four files
// (microvm-driver-<part>.test.ts) of at most five boots, each running its own and naming where the
// others run.
import { describe } from 'node:test';
import { runCommandGroupConformance } from '../../command-group-conformance.js';
import { type CaseName, runSandboxConformance } from '../../sandbox-conformance.js';
import { MicrovmTestDriver } from './microvm-test-driver.js';
import { microvmSkipReason } from './microvm-test-kit.js';

const inGuest =
  "a box's processes run in the guest under its own kernel, invisible to the host's /proc and cgroups (microvm-box.test.ts checks limits and stop the way a box allows)";

/** Cases that cannot apply: they look for the sandbox's processes or cgroups from the host. */
const inapplicable: Partial<Record<CaseName, string>> = {
  stopKillsTree: inGuest,
  pidsLimit: inGuest,
  crashCleanup: inGuest,
  cpuLimit: `${inGuest}; the quota is on QEMU's host cgroup`,
  networkNone:
    "under network host the guest reaches the host's loopback as 10.0.2.2 (QEMU's user-mode network), its own 127.0.0.1 being the guest's, so the case's control cannot connect; microvm-box.test.ts checks none and host against 10.0.2.2",
};

export const parts = {
  escape: ['escape'],
  programs: ['command', 'user', 'pty', 'filesystem'],
  isolation: ['hiddenPaths', 'processes', 'sharedNamespaces'],
  lifecycle: ['memoryLimit', 'afterStop'],
} satisfies Record<string, CaseName[]>;

export type Part = keyof typeof parts;

/** This part's cases of the sandbox suite (and, in `lifecycle`, the command-group suite). */
export async function runMicrovmConformance(part: Part): Promise<void> {
  const skipAll = await microvmSkipReason();
  const skip: Partial<Record<CaseName, string>> = { ...inapplicable };
  for (const [other, cases] of Object.entries(parts) as [Part, CaseName[]][]) {
    if (other === part) continue;
    for (const name of cases) skip[name] = `runs in microvm-driver-${other}.test.ts`;
  }
  describe(`the microVM driver (${part})`, { skip: skipAll }, () => {
    runSandboxConformance({
      name: `microvm-${part}`,
      makeDriver: () => new MicrovmTestDriver(),
      driverModule: {
        url: new URL('./microvm-test-driver.ts', import.meta.url).href,
        exportName: 'MicrovmTestDriver',
      },
      skip,
      // TCG emulates every instruction: piping 256 MiB into the memory limit takes seconds here.
      slowdown: 5,
    });
    if (part === 'lifecycle') {
      runCommandGroupConformance({ name: 'microvm', makeDriver: () => new MicrovmTestDriver() });
    }
  });
}
