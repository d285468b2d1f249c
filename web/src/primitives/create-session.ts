// Who is signed in. Any 401 from the API (or 4401 from a socket) flips the app to the signed-out page.
import { createResource, createSignal, onCleanup } from 'solid-js';
import { ApiError, getMe, logout, onUnauthenticated } from '../api/client';
import type { User } from '../api/types';

export type SessionState =
  | { kind: 'loading' }
  | { kind: 'signed-in'; user: User }
  | { kind: 'signed-out' }
  | { kind: 'error'; message: string };

export function createSession() {
  const [signedOut, setSignedOut] = createSignal(false);
  const [me, { refetch }] = createResource(async () => {
    try {
      return { user: await getMe() } as const;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return { user: null } as const;
      throw error;
    }
  });
  onCleanup(onUnauthenticated(() => setSignedOut(true)));

  const state = (): SessionState => {
    if (signedOut()) return { kind: 'signed-out' };
    if (me.error) {
      const message = me.error instanceof Error ? me.error.message : 'Could not load your session';
      return { kind: 'error', message };
    }
    const value = me.latest;
    if (value === undefined) return { kind: 'loading' };
    return value.user ? { kind: 'signed-in', user: value.user } : { kind: 'signed-out' };
  };

  const signOut = async () => {
    try {
      await logout();
    } finally {
      setSignedOut(true);
    }
  };

  const retry = () => {
    setSignedOut(false);
    void refetch();
  };

  return { state, signOut, retry };
}

/** Reads and forgets `?signin=invalid`, set by the server when a sign-in link was refused. */
export function takeSignInProblem(): boolean {
  const url = new URL(window.location.href);
  if (url.searchParams.get('signin') !== 'invalid') return false;
  url.searchParams.delete('signin');
  window.history.replaceState(null, '', `${url.pathname}${url.search}${url.hash}`);
  return true;
}
