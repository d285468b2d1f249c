// A service's log file in the workspace (`.nixspace/services/<name>-<version>/service.log`): its
// lines are appended by a program inside the sandbox, so the server never writes a file in a tree
// the workspace can change (the file may be a symlink the workspace planted).
import { AgentProcess } from '../../../runtime/agent/agent-process.js';
import { delay } from '../../../runtime/host/host-processes.js';
import type { Sandbox } from '../../../runtime/sandbox.js';

export class ServiceLog {
  #writer: AgentProcess | undefined;
  #closing: Promise<void> | undefined;

  private constructor(writer: AgentProcess) {
    this.#writer = writer;
  }

  /** Starts appending to `file`. */
  static async open(sandbox: Sandbox, id: string, file: string): Promise<ServiceLog> {
    const writer = await AgentProcess.respawn(sandbox.agent, {
      id,
      argv: ['/bin/sh', '-c', 'exec cat >> "$0"', file],
      cwd: sandbox.workspaceDir,
      env: sandbox.env(),
      stdin: true,
      output: { mode: 'ring', bytes: 4096 },
    });
    return new ServiceLog(writer);
  }

  /** A log the writer cannot write must not take the service down: lines are then dropped. */
  write(line: string): void {
    this.#writer?.write(`${line}\n`);
  }

  /** Ends the writer once it has every line (or after 2 s). */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const writer = this.#writer;
    this.#writer = undefined;
    if (writer === undefined) return;
    await Promise.race([writer.endInput().then(() => writer.exited), delay(2000)]).catch(() => undefined);
    await writer.forget().catch(() => undefined);
  }
}
