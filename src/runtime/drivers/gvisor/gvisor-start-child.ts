// Run as a program by the suite: starts one box (state directory and spec as JSON in argv[2]),
// prints its pid and exits, as a server that starts a box and then goes away.
import type { GvisorBoxSpec } from './box-spec.js';
import { GvisorBoxes } from './gvisor-boxes.js';

const { stateDir, spec } = JSON.parse(process.argv[2] ?? '{}') as { stateDir: string; spec: GvisorBoxSpec };
const box = await new GvisorBoxes({ stateDir }).start(spec);
process.stdout.write(`${JSON.stringify({ pid: box.pid })}\n`);
