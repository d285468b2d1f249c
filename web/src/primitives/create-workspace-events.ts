// One workspace, kept live: a REST snapshot first, then the one-way progress WebSocket, which is
// reconnected with backoff for as long as the workspace can still change on its own.
import { createEffect, createSignal, onCleanup } from 'solid-js';
import {
  ApiError,
  CloseCode,
  deleteWorkspace,
  getWorkspace,
  keepWorkspace,
  notifyUnauthenticated,
  openWorkspaceEvents,
  resumeWorkspace,
  startWorkspace,
  stopWorkspace,
} from '../api/client';
import type { StepName, Workspace, WorkspaceEvent } from '../api/types';
import { errorMessage } from '../lib/error-message';
import { makeBackoff } from '../lib/make-backoff';
import { isSettled } from '../lib/workspace-status';
import { isServerGone, serverAnswered, serverLost } from './server-connection';

export interface LogLine {
  id: number;
  step: StepName;
  line: string;
}

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'idle';

const maxLogLines = 1000;
// Git reports progress as repeated lines ("Receiving objects:  41% (…)"); keep only the latest.
const progressKey = (line: string) => {
  const match = /^(.*?)\s*\d{1,3}% /.exec(line);
  return match ? match[1] : null;
};

export function createWorkspaceEvents(id: string) {
  const [workspace, setWorkspace] = createSignal<Workspace>();
  const [missing, setMissing] = createSignal<string | null>(null);
  const [loadError, setLoadError] = createSignal<string | null>(null);
  const [logs, setLogs] = createSignal<readonly LogLine[]>([]);
  const [connection, setConnection] = createSignal<Connection>('connecting');
  const [busy, setBusy] = createSignal(false);
  const [actionError, setActionError] = createSignal<string | null>(null);

  let socket: WebSocket | undefined;
  let reconnectTimer: number | undefined;
  let flushFrame: number | undefined;
  let pending: LogLine[] = [];
  let nextLogId = 0;
  let disposed = false;
  const backoff = makeBackoff();

  // Log lines can arrive in bursts; apply them once per frame.
  const flushLogs = () => {
    flushFrame = undefined;
    const incoming = pending;
    pending = [];
    setLogs((current) => {
      const next = current.slice();
      for (const entry of incoming) {
        const last = next[next.length - 1];
        const key = progressKey(entry.line);
        if (last && key !== null && last.step === entry.step && progressKey(last.line) === key) {
          next[next.length - 1] = { ...entry, id: last.id };
        } else {
          next.push(entry);
        }
      }
      return next.length > maxLogLines ? next.slice(next.length - maxLogLines) : next;
    });
  };

  const onEvent = (event: WorkspaceEvent) => {
    if (event.type === 'hello') {
      serverAnswered(event.server.startedAt);
    } else if (event.type === 'workspace') {
      setWorkspace(event.workspace);
    } else if (event.type === 'log') {
      pending.push({ id: nextLogId++, step: event.step, line: event.line });
      flushFrame ??= window.requestAnimationFrame(flushLogs);
    }
  };

  // A settled workspace changes only when asked, unless the server went away: then the stream
  // comes back by itself, with the workspace as the server has it now.
  let serverGone = false;
  const shouldStayConnected = () => {
    const ws = workspace();
    return !disposed && missing() === null && (ws === undefined || serverGone || !isSettled(ws.status));
  };

  const connect = () => {
    reconnectTimer = undefined;
    if (socket || !shouldStayConnected()) return;
    const current = openWorkspaceEvents(id);
    socket = current;
    current.onmessage = (message) => {
      if (typeof message.data !== 'string') return;
      setConnection('live');
      serverGone = false;
      backoff.reset();
      try {
        onEvent(JSON.parse(message.data) as WorkspaceEvent);
      } catch {
        // A malformed frame is not worth dropping the stream for.
      }
    };
    current.onclose = (event) => {
      if (socket !== current) return;
      socket = undefined;
      if (event.code === CloseCode.unauthenticated) notifyUnauthenticated();
      if (event.code === CloseCode.notFound) setMissing('This workspace does not exist or was deleted.');
      if (isServerGone(event.code)) {
        serverGone = true;
        serverLost();
      }
      if (shouldStayConnected()) {
        setConnection('reconnecting');
        reconnectTimer = window.setTimeout(connect, backoff.next());
      } else {
        setConnection('idle');
      }
    };
  };

  const disconnect = () => {
    if (reconnectTimer !== undefined) window.clearTimeout(reconnectTimer);
    reconnectTimer = undefined;
    const current = socket;
    socket = undefined;
    current?.close(1000);
  };

  getWorkspace(id).then(
    (ws) => setWorkspace((existing) => existing ?? ws),
    (error) => {
      if (error instanceof ApiError && error.status === 404) setMissing(error.message);
      else setLoadError(errorMessage(error));
    },
  );

  // Connect whenever the workspace can still change: at first, and again after Start or Stop.
  createEffect(() => {
    if (shouldStayConnected() && !socket && reconnectTimer === undefined) connect();
    if (missing() !== null) disconnect();
  });

  onCleanup(() => {
    disposed = true;
    disconnect();
    if (flushFrame !== undefined) window.cancelAnimationFrame(flushFrame);
  });

  /** Runs an action on the workspace; resolves to whether it succeeded (its error is in actionError). */
  const act = async (action: () => Promise<Workspace | undefined>): Promise<boolean> => {
    setBusy(true);
    setActionError(null);
    try {
      const updated = await action();
      if (updated) setWorkspace(updated);
      return true;
    } catch (error) {
      setActionError(errorMessage(error));
      return false;
    } finally {
      setBusy(false);
    }
  };

  const [refreshing, setRefreshing] = createSignal(false);
  /** Fetches a fresh snapshot: a running workspace has no live stream, yet its services can change. */
  const refresh = async () => {
    setRefreshing(true);
    try {
      setWorkspace(await getWorkspace(id));
    } catch (error) {
      setActionError(errorMessage(error));
    } finally {
      setRefreshing(false);
    }
  };

  return {
    workspace,
    missing,
    loadError,
    logs,
    connection,
    busy,
    actionError,
    dismissError: () => setActionError(null),
    start: () =>
      act(() => {
        setLogs([]);
        return startWorkspace(id);
      }),
    stop: () => act(() => stopWorkspace(id)),
    keep: () => act(() => keepWorkspace(id)),
    /** Starts it again if it hibernated, with the start's progress on the stream. */
    resume: () =>
      act(() => {
        setLogs([]);
        return resumeWorkspace(id);
      }),
    refreshing,
    refresh,
    remove: () =>
      act(async () => {
        await deleteWorkspace(id);
        return undefined;
      }),
  };
}
