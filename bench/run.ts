// `npm run bench`: measures NixSpace against the raw operations underneath, prints a table and
// writes bench/results.json.

import { fileURLToPath } from 'node:url';
import { benchCli } from './cli.js';
import { benchDisk } from './disk.js';
import { benchEnvironments } from './environments.js';
import { benchGvisor } from './gvisor.js';
import { benchHibernate, benchHibernateGvisor } from './hibernate.js';
import { benchIde } from './ide.js';
import { benchJobs } from './jobs.js';
import { benchMicrovm } from './microvm.js';
import { benchMicrovmDriver } from './microvm-driver.js';
import { type BenchResult, printTable, saveResults } from './results-file.js';
import { benchSandbox } from './sandbox.js';
import { benchSharing } from './sharing.js';
import { benchSpine } from './spine.js';
import { benchSwitching } from './switching.js';

const suites: Record<string, () => Promise<BenchResult[]>> = {
  spine: benchSpine,
  sandbox: benchSandbox,
  gvisor: benchGvisor,
  environments: benchEnvironments,
  switching: benchSwitching,
  ide: benchIde,
  jobs: benchJobs,
  sharing: benchSharing,
  hibernate: benchHibernate,
  'hibernate-gvisor': benchHibernateGvisor,
  cli: benchCli,
  disk: benchDisk,
  microvm: benchMicrovm,
  'microvm-driver': benchMicrovmDriver,
};
const only = process.argv.slice(2);
const results: BenchResult[] = [];
for (const [name, run] of Object.entries(suites)) {
  if (only.length && !only.includes(name)) continue;
  console.error(`bench: ${name} …`);
  results.push(...(await run()));
}
printTable(results);
saveResults(fileURLToPath(new URL('results.json', import.meta.url)), results);
