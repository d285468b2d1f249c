// The bar across every signed-in page: product name (home link), who is signed in, sign out.
import { createSignal, Show } from 'solid-js';
import { Link } from '../lib/router';

export function Logo() {
  return (
    <svg class="logo" viewBox="0 0 32 32" width="24" height="24" aria-hidden="true">
      <rect width="32" height="32" rx="8" fill="var(--accent)" />
      <path
        d="M9.5 22V10l13 12V10"
        stroke="var(--accent-ink)"
        stroke-width="3"
        fill="none"
        stroke-linecap="round"
        stroke-linejoin="round"
      />
    </svg>
  );
}

export function AppHeader(props: { email?: string; onSignOut?: () => Promise<void> }) {
  const [signingOut, setSigningOut] = createSignal(false);
  const signOut = async () => {
    setSigningOut(true);
    try {
      await props.onSignOut?.();
    } finally {
      setSigningOut(false);
    }
  };
  return (
    <header class="app-header">
      <Link href="/" class="brand">
        <Logo />
        <span>NixSpace</span>
      </Link>
      <Show when={props.email}>
        {(email) => (
          <div class="account">
            <Link href="/jobs" class="button button-quiet" data-testid="jobs-link">
              SSH jobs
            </Link>
            <span class="account-email" title="Signed in">
              {email()}
            </span>
            <button type="button" class="button button-quiet" onClick={signOut} disabled={signingOut()}>
              Sign out
            </button>
          </div>
        )}
      </Show>
    </header>
  );
}
