// Run as its own Node process by the suite: boots the box described by argv[2] (JSON) under the
// state root argv[3], prints its QEMU pid and exits, leaving the box running without it.
import { MicrovmHost } from './microvm-host.js';
import type { MicrovmSpec } from './microvm-spec.js';

const spec = JSON.parse(process.argv[2] ?? '') as MicrovmSpec;
const box = await new MicrovmHost({ stateRoot: process.argv[3] ?? '' }).boot(spec);
console.log(JSON.stringify({ pid: box.pid }));
