// Jobs on hosts reached over SSH: the hosts (added with a private key and the known_hosts entry
// their key must match), and the job cockpit targeting them.
import { createResource, createSignal, For, Show } from 'solid-js';
import { addSshHost, listSshHosts, removeSshHost } from '../api/jobs';
import { Callout } from '../components/callout';
import type { JobTarget } from '../components/jobs/command-panel';
import { JobsPanel } from '../components/jobs/jobs-panel';
import { errorMessage } from '../lib/error-message';

export function JobsPage() {
  const [hosts, { refetch }] = createResource(listSshHosts);
  const [problem, setProblem] = createSignal<string | null>(null);
  const [saving, setSaving] = createSignal(false);
  const targets = (): JobTarget[] =>
    (hosts() ?? []).map((h) => ({ id: h.id, label: h.name, kind: 'ssh' as const }));

  const add = async (event: SubmitEvent & { currentTarget: HTMLFormElement }) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? '');
    setSaving(true);
    setProblem(null);
    try {
      await addSshHost({
        host: text('host'),
        port: Number(text('port') || 22),
        username: text('username'),
        privateKey: text('privateKey'),
        knownHosts: text('knownHosts'),
        ...(text('name') ? { name: text('name') } : {}),
      });
      event.currentTarget.reset();
      await refetch();
    } catch (error) {
      setProblem(errorMessage(error));
    } finally {
      setSaving(false);
    }
  };

  return (
    <div class="page jobs-page">
      <h1>Jobs over SSH</h1>
      <section class="ssh-hosts" aria-label="SSH hosts">
        <h2>Hosts</h2>
        <Show when={(hosts() ?? []).length > 0} fallback={<p class="muted">No SSH hosts yet.</p>}>
          <ul class="ssh-host-list">
            <For each={hosts()}>
              {(host) => (
                <li data-testid="ssh-host">
                  <strong>{host.name}</strong>{' '}
                  <span class="muted">
                    {host.username}@{host.host}:{host.port} · key {host.keyFingerprint}
                  </span>
                  <button
                    type="button"
                    class="button button-small button-danger-quiet"
                    onClick={async () => {
                      await removeSshHost(host.id).catch((e: unknown) => setProblem(errorMessage(e)));
                      await refetch();
                    }}
                  >
                    Remove
                  </button>
                </li>
              )}
            </For>
          </ul>
        </Show>
        <details class="ssh-host-add">
          <summary>Add a host</summary>
          <form class="field ssh-host-form" onSubmit={add}>
            <label for="ssh-name">Name (optional)</label>
            <input id="ssh-name" name="name" />
            <label for="ssh-host">Host</label>
            <input id="ssh-host" name="host" required placeholder="build.example.com" />
            <label for="ssh-port">Port</label>
            <input id="ssh-port" name="port" type="number" min="1" max="65535" value="22" />
            <label for="ssh-user">User</label>
            <input id="ssh-user" name="username" required />
            <label for="ssh-key">Private key (OpenSSH or PEM, unencrypted)</label>
            <textarea id="ssh-key" name="privateKey" required rows="4" spellcheck={false} />
            <label for="ssh-known">known_hosts entry (ssh-keyscan -p PORT HOST)</label>
            <textarea id="ssh-known" name="knownHosts" required rows="2" spellcheck={false} />
            <button type="submit" class="button button-primary" disabled={saving()}>
              Add host
            </button>
          </form>
        </details>
      </section>
      <Show when={problem()}>
        {(message) => <Callout tone="error" title={message()} onDismiss={() => setProblem(null)} />}
      </Show>
      <JobsPanel targets={targets()} />
    </div>
  );
}
