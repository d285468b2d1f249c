import { runCommandGroupConformance } from '../../command-group-conformance.js';
import { runSandboxConformance } from '../../sandbox-conformance.js';
import { ProcessDriver } from './process-driver.js';

const noIsolation = 'no isolation by design: the unsafe process driver runs on the host';

runSandboxConformance({
  name: 'process',
  makeDriver: () => new ProcessDriver(),
  driverModule: { url: new URL('./process-driver.ts', import.meta.url).href, exportName: 'ProcessDriver' },
  skip: {
    filesystem: noIsolation,
    hiddenPaths: noIsolation,
    processes: noIsolation,
    networkNone: 'no network isolation by design: the process driver has only the host network',
  },
});

runCommandGroupConformance({ name: 'process', makeDriver: () => new ProcessDriver() });
