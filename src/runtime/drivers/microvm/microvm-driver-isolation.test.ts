// The microVM driver's share of the suites every driver passes: see microvm-conformance.ts.
import { runMicrovmConformance } from './microvm-conformance.js';

await runMicrovmConformance('isolation');
