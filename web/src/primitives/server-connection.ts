// Whether this page still reaches the NixSpace server, and whether the server it reaches is the one
// it first met: the progress streams report here, and the page says so (a restarted server is told,
// and everything reconnects by itself).
import { createSignal } from 'solid-js';

export type ServerConnection =
  | { kind: 'up' }
  | { kind: 'lost'; since: number }
  | { kind: 'restarted'; at: string };

const [state, setState] = createSignal<ServerConnection>({ kind: 'up' });
let firstStartedAt: string | undefined;

export const serverConnection = state;

/** A stream's first frame named the server's start time. */
export function serverAnswered(startedAt: string): void {
  firstStartedAt ??= startedAt;
  if (startedAt !== firstStartedAt) {
    firstStartedAt = startedAt;
    setState({ kind: 'restarted', at: startedAt });
  } else if (state().kind === 'lost') {
    setState({ kind: 'up' });
  }
}

/** A stream closed without a word from the server (it went away, or the network did). */
export function serverLost(): void {
  if (state().kind !== 'lost') setState({ kind: 'lost', since: Date.now() });
}

export function dismissServerNotice(): void {
  setState({ kind: 'up' });
}

/** Close codes of a server that went away, rather than one that said no. */
export function isServerGone(code: number): boolean {
  return code === 1001 || code === 1006 || code === 1012;
}
