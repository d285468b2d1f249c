// gVisor's hibernation with memory: `runsc checkpoint` saves a box whole (the sentry's state and
// the memory of every process) in an image in the driver's root-only state directory,
//
//   images/<id>/          the image of a hibernated box, complete
//   images/<id>.saving/   one being written (a crash leaves it, and it is never resumed)
//
// and `runsc restore` makes the box again from it, with the bundle it was started with (kept by
// the checkpoint). The agent inside dials the new socket on its own. An image is resumed once.
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NixSpaceError } from '../../../errors.js';
import { AgentLink } from '../../agent/agent-link.js';
import { AGENT_SOCKET_NAME } from '../../agent/agent-program.js';
import type { MemoryHibernation, MemoryImage, Sandbox, SandboxSpec } from '../../sandbox.js';
import { assertSandboxId } from '../../sandbox-id.js';
import { resolveWorkspaceDir } from '../../workspace-dir.js';
import { bundleDir } from './box-bundle.js';
import type { GvisorBoxes } from './gvisor-boxes.js';
import { GvisorSandbox } from './gvisor-sandbox.js';

/** A restored agent goes on where it was: it dials within milliseconds, unless it is not there. */
const agentRedialMs = 10_000;

export class GvisorHibernation implements MemoryHibernation {
  readonly #boxes: GvisorBoxes;
  readonly #sandbox: (spec: SandboxSpec, pid: number, link: AgentLink) => Promise<GvisorSandbox>;

  constructor(
    boxes: GvisorBoxes,
    sandbox: (spec: SandboxSpec, pid: number, link: AgentLink) => Promise<GvisorSandbox>,
  ) {
    this.#boxes = boxes;
    this.#sandbox = sandbox;
  }

  /** Where the image of box `id` is kept. */
  imageDir(id: string): string {
    assertSandboxId(id);
    return join(this.#boxes.stateDir, 'images', id);
  }

  async hibernate(sandbox: Sandbox): Promise<MemoryImage> {
    if (!(sandbox instanceof GvisorSandbox) || sandbox.boxes !== this.#boxes) {
      throw new NixSpaceError('BAD_REQUEST', `sandbox ${sandbox.id} is not a box of this gVisor driver`);
    }
    const dir = this.imageDir(sandbox.id);
    const saving = `${dir}.saving`;
    await mkdir(join(this.#boxes.stateDir, 'images'), { recursive: true, mode: 0o700 });
    await rm(dir, { recursive: true, force: true });
    await rm(saving, { recursive: true, force: true });
    try {
      const image = await sandbox.hibernate(saving);
      await rename(saving, dir);
      return { bytes: image.bytes, ms: image.ms };
    } catch (error) {
      await sandbox.stop().catch(() => undefined);
      await rm(saving, { recursive: true, force: true });
      throw error;
    }
  }

  /** An image is there, complete, with the bundle the box is restored with. */
  async hasImage(id: string): Promise<boolean> {
    const isDir = (path: string) =>
      stat(path).then(
        (found) => found.isDirectory(),
        () => false,
      );
    return (await isDir(this.imageDir(id))) && (await isDir(bundleDir(this.#boxes.stateDir, id)));
  }

  async resume(spec: SandboxSpec, options: { signal?: AbortSignal } = {}): Promise<Sandbox> {
    const dir = this.imageDir(spec.id);
    if (!(await this.hasImage(spec.id))) {
      throw new NixSpaceError('NOT_FOUND', `sandbox ${spec.id} has no memory image to resume`);
    }
    options.signal?.throwIfAborted();
    const workspaceDir = await resolveWorkspaceDir(spec.workspaceDir);
    const link = await AgentLink.listen(join(spec.agentDir, AGENT_SOCKET_NAME), spec.user);
    try {
      const box = await this.#boxes.restore(spec.id, dir);
      const sandbox = await this.#sandbox({ ...spec, workspaceDir }, box.pid, link);
      await Promise.race([
        link.connected({ timeoutMs: agentRedialMs, ...(options.signal ? { signal: options.signal } : {}) }),
        sandbox.exited.then(async () => {
          throw new NixSpaceError('SANDBOX_FAILED', `sandbox ${spec.id} ended as it was restored`, {
            detail: `see ${box.logFile}`,
          });
        }),
      ]);
      return sandbox;
    } catch (error) {
      await this.#boxes.destroy(spec.id).catch(() => undefined);
      await link.close();
      throw error;
    } finally {
      // Used once: a box restored from it runs on its own memory now, and one that failed to
      // restore would fail again.
      await this.discard(spec.id);
    }
  }

  async discard(id: string): Promise<void> {
    const dir = this.imageDir(id);
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}.saving`, { recursive: true, force: true });
  }
}
