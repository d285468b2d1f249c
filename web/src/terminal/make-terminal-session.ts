// Connects an xterm.js Terminal to a workspace shell over the terminal WebSocket: binary frames carry
// bytes both ways, text frames carry JSON control messages. Reattaches to the same shell after a drop
// or a page reload (the terminal id is kept per tab), and the server replays recent output.
import type { Terminal } from '@xterm/xterm';
import {
  CloseCode,
  loadTerminalId,
  notifyUnauthenticated,
  openTerminal,
  saveTerminalId,
} from '../api/client';
import type { TerminalControl } from '../api/types';
import { makeBackoff } from '../lib/make-backoff';

export type TerminalState =
  | { kind: 'connecting' }
  | { kind: 'connected' }
  | { kind: 'reconnecting' }
  | { kind: 'exited'; code: number }
  | { kind: 'not-running' }
  /** Watching read-only, before the owner opened a shell. */
  | { kind: 'waiting' }
  | { kind: 'failed'; message: string };

export interface TerminalSession {
  /** Starts a fresh shell after the previous one exited or failed. */
  restart(): void;
  dispose(): void;
}

const encoder = new TextEncoder();

export function makeTerminalSession(options: {
  workspaceId: string;
  terminal: Terminal;
  onState: (state: TerminalState) => void;
  /** Watch the shell opened last (a viewer's share link): keystrokes are not sent. */
  readOnly?: boolean;
}): TerminalSession {
  const { workspaceId, terminal, onState, readOnly = false } = options;
  const backoff = makeBackoff({ initialMs: 300, maxMs: 10_000 });
  let socket: WebSocket | undefined;
  let reconnectTimer: number | undefined;
  let ended = false;
  let disposed = false;

  const send = (data: string | Uint8Array) => {
    if (socket?.readyState === WebSocket.OPEN) socket.send(data);
  };

  // Keystrokes typed while the shell (re)connects are kept and sent once it answers, not lost.
  let typedAhead: Uint8Array[] = [];
  let typedAheadBytes = 0;
  let connected = false;
  const sendInput = (data: Uint8Array) => {
    if (socket?.readyState === WebSocket.OPEN && connected) return socket.send(data);
    if (typedAheadBytes + data.length > 64 * 1024) return;
    typedAhead.push(data);
    typedAheadBytes += data.length;
  };

  const sendResize = () => send(JSON.stringify({ type: 'resize', cols: terminal.cols, rows: terminal.rows }));

  const onControl = (message: TerminalControl) => {
    switch (message.type) {
      case 'hello':
        saveTerminalId(workspaceId, message.terminalId);
        backoff.reset();
        connected = true;
        for (const data of typedAhead) send(data);
        dropTypedAhead();
        // The replay is the screen's recent history: start from a clean screen so it is not doubled.
        if (message.replayed) terminal.reset();
        // A watcher's window does not resize the owner's shell.
        if (!readOnly) sendResize();
        onState({ kind: 'connected' });
        break;
      case 'exit':
        ended = true;
        saveTerminalId(workspaceId, undefined);
        onState({ kind: 'exited', code: message.code });
        // A watcher follows the owner to whichever shell is open next.
        if (readOnly) reconnectTimer = window.setTimeout(() => restartSession(), 1000);
        break;
      case 'waiting':
        onState({ kind: 'waiting' });
        break;
      case 'read-only':
        break;
      case 'error':
        ended = true;
        onState({ kind: 'failed', message: message.message });
        break;
    }
  };

  const connect = () => {
    reconnectTimer = undefined;
    ended = false;
    const current = openTerminal(
      workspaceId,
      { cols: terminal.cols, rows: terminal.rows },
      loadTerminalId(workspaceId),
    );
    socket = current;
    connected = false;
    current.onmessage = (event) => {
      if (event.data instanceof ArrayBuffer) {
        terminal.write(new Uint8Array(event.data));
      } else if (typeof event.data === 'string') {
        try {
          onControl(JSON.parse(event.data) as TerminalControl);
        } catch {
          // Ignore malformed control frames rather than lose the session.
        }
      }
    };
    current.onclose = (event) => {
      if (socket !== current) return;
      socket = undefined;
      connected = false;
      if (disposed || ended) return dropTypedAhead();
      // Only a reconnect to the same shell takes what was typed meanwhile.
      if (event.code >= 4000) dropTypedAhead();
      switch (event.code) {
        case CloseCode.unauthenticated:
          notifyUnauthenticated();
          return;
        case CloseCode.notFound:
          onState({ kind: 'failed', message: 'This workspace no longer exists.' });
          return;
        case CloseCode.notRunning:
          onState({ kind: 'not-running' });
          return;
        case CloseCode.linkGone:
        case CloseCode.full:
        case CloseCode.forbidden:
          onState({
            kind: 'failed',
            message: event.reason || 'This share link no longer opens the workspace.',
          });
          return;
      }
      onState({ kind: 'reconnecting' });
      reconnectTimer = window.setTimeout(connect, backoff.next());
    };
  };

  const inputs = readOnly
    ? []
    : [
        terminal.onData((data) => sendInput(encoder.encode(data))),
        // Some mouse reports are raw bytes, one per character code.
        terminal.onBinary((data) => sendInput(Uint8Array.from(data, (char) => char.charCodeAt(0) & 0xff))),
        terminal.onResize(() => sendResize()),
      ];

  function dropTypedAhead() {
    typedAhead = [];
    typedAheadBytes = 0;
  }

  function restartSession() {
    if (disposed) return;
    dropTypedAhead();
    if (reconnectTimer !== undefined) window.clearTimeout(reconnectTimer);
    const previous = socket;
    socket = undefined;
    previous?.close(1000);
    saveTerminalId(workspaceId, undefined);
    terminal.reset();
    onState({ kind: 'connecting' });
    connect();
  }

  onState({ kind: 'connecting' });
  connect();

  return {
    restart: restartSession,
    dispose() {
      disposed = true;
      if (reconnectTimer !== undefined) window.clearTimeout(reconnectTimer);
      for (const input of inputs) input.dispose();
      const current = socket;
      socket = undefined;
      current?.close(1000);
    },
  };
}
