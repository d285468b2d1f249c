// The terminal WebSocket's text frames (`/api/workspaces/:id/terminal`); binary frames are the
// shell's bytes. The server sends these; the UI and the tests read them.

/** Who opened a shell: a viewer only ever watches one of the owner's. */
export type TerminalOpener = 'owner' | 'editor';

export type TerminalControl =
  | {
      type: 'hello';
      terminalId: string;
      replayed: boolean;
      /** Whose shell this is. */
      openedBy: TerminalOpener;
      readOnly?: boolean;
    }
  | { type: 'exit'; code: number }
  | { type: 'error'; code: string; message: string }
  /** A viewer's socket before the owner opened any shell. */
  | { type: 'waiting'; message: string }
  /** A viewer typed: nothing was sent. */
  | { type: 'read-only'; code: string; message: string };
