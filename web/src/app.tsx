// The shell of the UI: who is signed in decides between the signed-out page and the routed pages.
import { Match, Show, Switch } from 'solid-js';
import { AppHeader } from './components/app-header';
import { Callout } from './components/callout';
import { ServerNotice } from './components/server-notice';
import { SettingsModal } from './components/settings-modal';
import { createRouter, RouterProvider } from './lib/router';
import { HomePage } from './pages/home-page';
import { JobsPage } from './pages/jobs-page';
import { NotFoundPage } from './pages/not-found-page';
import { SharePage } from './pages/share-page';
import { SignedOutPage } from './pages/signed-out-page';
import { WorkspacePage } from './pages/workspace-page';
import { createSession, takeSignInProblem } from './primitives/create-session';

export function App() {
  const signInProblem = takeSignInProblem();
  const router = createRouter();
  const session = createSession();

  const user = () => {
    const state = session.state();
    return state.kind === 'signed-in' ? state.user : undefined;
  };
  const problem = () => {
    const state = session.state();
    return state.kind === 'error' ? state.message : undefined;
  };
  const workspaceId = () => {
    const route = router.route();
    return route.name === 'workspace' ? route.id : undefined;
  };
  const shareToken = () => {
    const route = router.route();
    return route.name === 'share' ? route.token : undefined;
  };

  return (
    <RouterProvider router={router}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <div class="app" data-route={router.route().name}>
        <AppHeader email={user()?.email} onSignOut={session.signOut} />
        <ServerNotice />
        {/* One stable landmark: focus lands here after navigation and survives page swaps. */}
        <main id="main" class="app-main" tabindex="-1">
          <Switch>
            {/* A share link opens without an account: it does not wait for, or need, a session. */}
            <Match when={shareToken()} keyed>
              {(token) => <SharePage token={token} />}
            </Match>
            <Match when={session.state().kind === 'loading'}>
              <div class="page page-narrow" aria-busy="true">
                <p class="muted loading">Loading…</p>
              </div>
            </Match>
            <Match when={session.state().kind === 'signed-out'}>
              <SignedOutPage signInProblem={signInProblem} />
            </Match>
            <Match when={problem()}>
              {(message) => (
                <div class="page page-narrow">
                  <Callout tone="error" title="Cannot reach NixSpace">
                    <p>{message()}</p>
                  </Callout>
                  <button type="button" class="button" onClick={() => session.retry()}>
                    Try again
                  </button>
                </div>
              )}
            </Match>
            <Match when={user()}>
              <Show when={signInProblem}>
                <div class="page page-flush">
                  <Callout tone="error" title="That sign-in link is invalid, expired or already used">
                    <p>You are still signed in with your current session.</p>
                  </Callout>
                </div>
              </Show>
              <Switch fallback={<NotFoundPage />}>
                <Match when={router.route().name === 'home'}>
                  <HomePage />
                </Match>
                <Match when={router.route().name === 'jobs'}>
                  <JobsPage />
                </Match>
                <Match when={workspaceId()} keyed>
                  {(id) => <WorkspacePage id={id} />}
                </Match>
              </Switch>
            </Match>
          </Switch>
        </main>
        <SettingsModal />
      </div>
    </RouterProvider>
  );
}
