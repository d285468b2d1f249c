// Why a sandbox's init ended, in words for the workspace's error. A driver's init may report a
// signal itself, or, as bwrap does for the process it waits for, an exit code of 128 + the signal.
import { constants } from 'node:os';
import type { SandboxExit } from './sandbox.js';

function signalName(number: number): string {
  const found = Object.entries(constants.signals).find(([, value]) => value === number);
  return found?.[0] ?? `signal ${number}`;
}

export function describeSandboxExit(exit: SandboxExit): string {
  if (exit.unresponsive !== undefined) return `${exit.unresponsive}, so the sandbox was ended`;
  if (exit.signal !== null) return `the sandbox's init was killed (${exit.signal})`;
  if (exit.code !== null && exit.code > 128 && exit.code < 160) {
    return `the sandbox's init was killed (${signalName(exit.code - 128)})`;
  }
  if (exit.code === null) return "the sandbox's init ended";
  return `the sandbox's init exited with code ${exit.code}`;
}
