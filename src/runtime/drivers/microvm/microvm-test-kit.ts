// Why the microVM suites cannot run on this host, or undefined when they can: the one check the
// box, conformance, workspace and browser suites skip by.
import { tmpdir } from 'node:os';
import { MicrovmHost } from './microvm-host.js';

export async function microvmSkipReason(options: { needsRoot?: boolean } = {}): Promise<string | undefined> {
  if (options.needsRoot !== false && process.getuid?.() !== 0) {
    return 'microVM boxes need root (QEMU is started as the box user)';
  }
  try {
    await new MicrovmHost({ stateRoot: tmpdir() }).probe();
    return undefined;
  } catch (error) {
    return `microVM boxes need QEMU and a Debian kernel here: ${(error as Error).message}`;
  }
}
