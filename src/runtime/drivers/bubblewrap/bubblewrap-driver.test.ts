import { runCommandGroupConformance } from '../../command-group-conformance.js';
import { runSandboxConformance } from '../../sandbox-conformance.js';
import { BubblewrapDriver } from './bubblewrap-driver.js';

runSandboxConformance({
  name: 'bubblewrap',
  makeDriver: () => new BubblewrapDriver(),
  driverModule: {
    url: new URL('./bubblewrap-driver.ts', import.meta.url).href,
    exportName: 'BubblewrapDriver',
  },
});

runCommandGroupConformance({ name: 'bubblewrap', makeDriver: () => new BubblewrapDriver() });
