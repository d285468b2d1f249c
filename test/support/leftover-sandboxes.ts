// Workspace sandboxes outlive the server that started them (their agent keeps them running), so a
// test's server leaves its running workspaces behind when it closes. This ends them, the way a
// server start ends those of deleted workspaces, for whatever a test (or a failed one) left.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BubblewrapDriver } from '../../src/runtime/drivers/bubblewrap/bubblewrap-driver.js';
import { GvisorDriver } from '../../src/runtime/drivers/gvisor/gvisor-driver.js';
import { MicrovmDriver } from '../../src/runtime/drivers/microvm/microvm-driver.js';
import { ProcessDriver } from '../../src/runtime/drivers/process/process-driver.js';
import { findExecutable } from '../../src/runtime/host/find-executable.js';

export async function endSandboxesUnder(dataDir: string): Promise<void> {
  const agents = join(dataDir, 'run', 'agents');
  if (!existsSync(agents)) return;
  const bubblewrap = findExecutable('bwrap') ? new BubblewrapDriver() : undefined;
  const processes = new ProcessDriver();
  const gvisorState = join(dataDir, 'gvisor');
  const gvisor = existsSync(gvisorState) ? new GvisorDriver({ stateDir: gvisorState }) : undefined;
  const microvmState = join(dataDir, 'microvm');
  const microvm = existsSync(microvmState) ? new MicrovmDriver({ stateRoot: microvmState }) : undefined;
  for (const id of await readdir(agents)) {
    const agentDir = join(agents, id);
    await bubblewrap?.cleanup(id, { agentDir }).catch(() => undefined);
    await gvisor?.cleanup(id).catch(() => undefined);
    await microvm?.cleanup(id).catch(() => undefined);
    await processes.cleanup(id).catch(() => undefined);
  }
}
