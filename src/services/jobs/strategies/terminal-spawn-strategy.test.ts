import { join } from 'node:path';
import { startTestSandbox } from '../../../../test/support/sandbox.js';
import { runStrategySuite } from './execution-strategy.case.js';
import { TerminalSpawnStrategy } from './terminal-spawn-strategy.js';

runStrategySuite({
  name: 'PTY (TerminalSpawn) in a bubblewrap sandbox',
  async setup() {
    const t = await startTestSandbox();
    const shell = { sandbox: t.sandbox, cwd: join(t.dir, 'repo'), env: { PATH: '/usr/bin:/bin' } };
    return { strategy: new TerminalSpawnStrategy(() => shell), close: t.close };
  },
  skip: { separateStreams: 'a terminal merges stderr into stdout' },
});
