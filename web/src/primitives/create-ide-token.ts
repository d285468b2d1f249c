// Keeps a workspace's IDE token fresh while the IDE is shown: fetched once, then again at a third
// of its lifetime before it expires, whenever the tab comes back after being hidden, and at once
// when the IDE answers that the token ran out (a machine that slept past both).
import { type Accessor, createEffect, createSignal, onCleanup } from 'solid-js';
import { requestIdeToken } from '../api/client';
import { errorMessage } from '../lib/error-message';

export type IdeTokenState =
  | { kind: 'pending' }
  | { kind: 'ready'; expiresAt: number }
  | { kind: 'error'; message: string };

export interface IdeToken {
  state: Accessor<IdeTokenState>;
  /** Fetches a fresh token now (the IDE answered that its token expired); resolves when it is set. */
  renew(): Promise<void>;
}

export function createIdeToken(workspaceId: Accessor<string>, enabled: Accessor<boolean>): IdeToken {
  const [state, setState] = createSignal<IdeTokenState>({ kind: 'pending' });
  let renewNow: () => Promise<void> = async () => {};

  createEffect(() => {
    const id = workspaceId();
    if (!enabled()) return;
    let timer: number | undefined;
    let disposed = false;
    let issuedAt = 0;
    let expiresAt = 0;

    const refresh = async () => {
      window.clearTimeout(timer);
      try {
        const token = await requestIdeToken(id);
        if (disposed) return;
        issuedAt = Date.now();
        expiresAt = Date.parse(token.expiresAt);
        setState({ kind: 'ready', expiresAt });
        const lifetime = Math.max(expiresAt - issuedAt, 30_000);
        timer = window.setTimeout(() => void refresh(), (lifetime * 2) / 3);
      } catch (error) {
        if (disposed) return;
        setState({ kind: 'error', message: errorMessage(error) });
        timer = window.setTimeout(() => void refresh(), 5000);
      }
    };
    const onVisible = () => {
      if (document.visibilityState === 'visible' && Date.now() > issuedAt + (expiresAt - issuedAt) / 2) {
        void refresh();
      }
    };
    document.addEventListener('visibilitychange', onVisible);
    renewNow = refresh;
    void refresh();
    onCleanup(() => {
      disposed = true;
      window.clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    });
  });
  return { state, renew: () => renewNow() };
}
