// Shown whenever there is no session: how to get one, since sign-in links come from the server.
import { Show } from 'solid-js';
import { Callout } from '../components/callout';
import { createDocumentTitle } from '../primitives/create-document-title';

export function SignedOutPage(props: { signInProblem: boolean }) {
  createDocumentTitle(() => 'Signed out');
  return (
    <div class="page page-narrow signed-out" data-testid="signed-out">
      <Show when={props.signInProblem}>
        <Callout
          tone="error"
          title="That sign-in link is invalid, expired or already used"
          testId="signin-invalid"
        >
          <p>Sign-in links work once and only for a short time. Get a fresh one as described below.</p>
        </Callout>
      </Show>
      <div class="card">
        <h1>Signed out</h1>
        <p>
          Open the sign-in link printed by <code>nixspace serve</code> (or run{' '}
          <code>npx nixspace login-link</code>).
        </p>
        <p class="muted">The link signs this browser in and brings you back here.</p>
      </div>
    </div>
  );
}
