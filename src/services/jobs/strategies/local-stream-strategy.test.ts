import { join } from 'node:path';
import { startTestSandbox } from '../../../../test/support/sandbox.js';
import { runStrategySuite } from './execution-strategy.case.js';
import { LocalStreamStrategy } from './local-stream-strategy.js';

runStrategySuite({
  name: 'pipe (LocalStream) in a bubblewrap sandbox',
  async setup() {
    const t = await startTestSandbox();
    const shell = { sandbox: t.sandbox, cwd: join(t.dir, 'repo'), env: { PATH: '/usr/bin:/bin' } };
    return { strategy: new LocalStreamStrategy(() => shell), close: t.close };
  },
});
