// The gVisor driver against the suite every driver passes. A box's processes live inside the
// sentry (the box's own kernel), not on the host: the cases that count a sandbox's processes or
// read its cgroups from the host cannot apply, and gvisor-boxes.test.ts checks the same outcomes
// (limits, stop leaving nothing, a box outliving its starter) the way a box allows.
import { describe } from 'node:test';
import { runCommandGroupConformance } from '../../command-group-conformance.js';
import { runSandboxConformance } from '../../sandbox-conformance.js';
import { GvisorTestDriver } from './gvisor-test-driver.js';
import { skipReason } from './gvisor-test-kit.js';

const inSentry =
  "a box's processes run inside the sentry, invisible to the host's /proc (gvisor-boxes.test.ts checks this outcome for boxes)";
const debianStatx =
  "Debian 12's runsc rejects the statx flags coreutils 9.1 passes, so ls fails in every box (a newer runsc is not in Debian 12)";

describe('the gVisor driver', { skip: skipReason }, () => {
  runSandboxConformance({
    name: 'gvisor',
    makeDriver: () => new GvisorTestDriver(),
    driverModule: {
      url: new URL('./gvisor-test-driver.ts', import.meta.url).href,
      exportName: 'GvisorTestDriver',
    },
    skip: {
      processes: debianStatx,
      user: `${debianStatx} (the case reads the owner with stat)`,
      stopKillsTree: inSentry,
      pidsLimit: inSentry,
      crashCleanup: inSentry,
      memoryLimit:
        'going past the memory limit ends the whole box, not one process (gvisor-boxes.test.ts checks that)',
      cpuLimit:
        "the box's cgroups are the sentry's own; runsc applies the quota to the host cgroup of the sentry",
    },
  });
  runCommandGroupConformance({ name: 'gvisor', makeDriver: () => new GvisorTestDriver() });
});
