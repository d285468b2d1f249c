// A workspace's hibernation with its memory, where the sandbox driver has it (gVisor): its
// sandbox is saved whole and ends; opening the workspace resumes it, with the very processes it
// had (shells with their scrollback and variables, services, the IDE), which the workspace then
// takes back as after a server restart. Elsewhere, or when saving fails, hibernating stops the
// sandbox and opening the workspace starts it anew from its files. An image is resumed once.
import type { Logger } from 'pino';
import { RuntimeSandbox, type RuntimeSandboxOptions } from '../../runtime/runtime-sandbox.js';
import { memoryHibernationOf, type SandboxDriver, type SandboxSpec } from '../../runtime/sandbox.js';

export function hibernatesWithMemory(driver: SandboxDriver): boolean {
  return memoryHibernationOf(driver) !== undefined;
}

/**
 * Saves a running workspace's sandbox with its memory; false when the driver cannot or saving
 * failed (logged with the reason): the sandbox is stopped then, its files kept.
 */
export async function hibernateSandbox(sandbox: RuntimeSandbox, logger: Logger): Promise<boolean> {
  try {
    const image = await sandbox.hibernate();
    logger.info(
      { workspace: sandbox.id, imageBytes: image.bytes, ms: Math.round(image.ms) },
      'hibernated the workspace with its memory',
    );
    return true;
  } catch (error) {
    logger.warn(
      { err: error, workspace: sandbox.id },
      'could not hibernate the workspace with its memory: its processes stop, its files stay',
    );
    await sandbox.stop();
    return false;
  }
}

/**
 * The workspace's sandbox resumed from its memory image, or undefined when it has none (the
 * driver cannot, or it was stopped) or the resume failed (logged with the reason; the image is
 * gone and what the attempt left is cleared, so it starts from its files).
 */
export async function resumeSandbox(
  driver: SandboxDriver,
  spec: SandboxSpec,
  options: RuntimeSandboxOptions,
  logger: Logger,
): Promise<RuntimeSandbox | undefined> {
  const hibernation = memoryHibernationOf(driver);
  if (hibernation === undefined || !(await hibernation.hasImage(spec.id))) return undefined;
  const started = performance.now();
  try {
    const sandbox = await RuntimeSandbox.resume(driver, spec, options);
    logger.info(
      { workspace: spec.id, ms: Math.round(performance.now() - started) },
      'resumed the workspace from its memory',
    );
    return sandbox;
  } catch (error) {
    logger.warn(
      { err: error, workspace: spec.id },
      'could not resume the workspace from its memory: it starts again from its files',
    );
    await driver.cleanup(spec.id, { agentDir: spec.agentDir });
    return undefined;
  }
}

/**
 * The workspace is not to come back with its processes (stopped, deleted): its image goes, and
 * what the driver kept to resume it from (a gVisor box's bundle).
 */
export async function discardMemoryImage(
  driver: SandboxDriver | undefined,
  id: string,
  agentDir: string,
): Promise<void> {
  if (driver !== undefined && memoryHibernationOf(driver) !== undefined)
    await driver.cleanup(id, { agentDir });
}

/**
 * Of these workspaces (each with the driver it runs on), the ones whose sandbox waits as a memory
 * image (left alone at a restart).
 */
export async function withMemoryImages(
  workspaces: readonly { id: string; driver: SandboxDriver | undefined }[],
): Promise<string[]> {
  const kept: string[] = [];
  for (const { id, driver } of workspaces) {
    const hibernation = driver && memoryHibernationOf(driver);
    if (hibernation && (await hibernation.hasImage(id))) kept.push(id);
  }
  return kept;
}
