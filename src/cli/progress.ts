// A workspace's progress on the terminal, from the same one-way WebSocket the UI follows
// (`/api/workspaces/:id/events`): each step once it ends, with its timing, and the log lines of
// builds and installs as they come.

import type { WorkspaceStatus } from '../store/schema.js';
import { type ServerClient, ServerError } from './server-client.js';
import type { Workspace } from './workspace-target.js';

type Event =
  | { type: 'hello' }
  | { type: 'workspace'; workspace: Workspace }
  | { type: 'log'; step: string; line: string }
  | { type: 'error'; code: string; message: string; detail?: string };

/** Statuses a workspace passes through while it is created or started again. */
export const creating: readonly WorkspaceStatus[] = ['pending', 'fetching', 'building', 'starting'];

export class StepPrinter {
  private readonly printed = new Set<string>();

  constructor(private readonly write: (text: string) => void = (text) => process.stdout.write(text)) {}

  /** Prints the steps of this view that ended and were not printed yet. */
  steps(ws: Workspace): void {
    for (const step of ws.steps) {
      if (this.printed.has(step.name) || !['done', 'skipped', 'failed'].includes(step.status)) continue;
      this.printed.add(step.name);
      this.write(`${formatStep(step)}\n`);
      if (step.status === 'failed' && step.log?.length) {
        this.write(`${step.log.map((line) => `      │ ${line}`).join('\n')}\n`);
      }
    }
  }

  log(line: string): void {
    this.write(`      │ ${line}\n`);
  }
}

export function formatStep(step: Workspace['steps'][number]): string {
  const time = step.durationMs === null ? '' : `${step.durationMs} ms`;
  const mark =
    step.status === 'done' ? '✓' : step.status === 'skipped' ? '-' : step.status === 'failed' ? '✗' : '·';
  return `  ${mark} ${step.label.padEnd(22)} ${time.padStart(8)}${step.detail ? `  ${step.detail}` : ''}`;
}

/**
 * Follows a workspace while its status is one of `busy`, printing each step as it ends; resolves
 * with the view in which it settled (running, failed, stopped, …).
 */
export async function followProgress(
  client: ServerClient,
  id: string,
  busy: readonly WorkspaceStatus[],
  printer = new StepPrinter(),
): Promise<Workspace> {
  const socket = await client.socket(`/api/workspaces/${id}/events`);
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      socket.close();
      outcome();
    };
    socket.on('message', (data: Buffer) => {
      if (settled) return;
      const event = JSON.parse(data.toString('utf8')) as Event;
      if (event.type === 'hello') return;
      if (event.type === 'log') return printer.log(event.line);
      if (event.type === 'error') {
        return finish(() => reject(new ServerError(event.code, event.message, event.detail)));
      }
      const ws = event.workspace;
      printer.steps(ws);
      // A workspace is running from the start of its last step (Ready); it has arrived when that ends.
      const arriving = ws.status === 'running' && ws.steps.some((step) => step.status === 'running');
      if (!busy.includes(ws.status) && !arriving) finish(() => resolve(ws));
    });
    socket.on('error', (error) =>
      finish(() => reject(new Error(`progress stream failed: ${error.message}`))),
    );
    socket.on('close', (code) =>
      finish(() =>
        reject(new Error(`the server closed the progress stream (${code}) before the workspace settled`)),
      ),
    );
  });
}
