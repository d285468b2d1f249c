// The roster of workspaces with their state and the actions that apply to each.
import { For, Show } from 'solid-js';
import type { Workspace } from '../api/types';
import { reproducibility, workspaceNotes } from '../lib/environment';
import { describeRevision, displayRepo, formatAbsoluteTime, formatRelativeTime } from '../lib/format';
import { Link } from '../lib/router';
import { canDelete, canStart, canStop } from '../lib/workspace-status';
import { StatusBadge } from './status-badge';
import { StatusIcon } from './status-icon';
import { WorkspaceNotes } from './workspace-notes';

export function WorkspaceList(props: {
  workspaces: readonly Workspace[];
  now: number;
  isBusy: (id: string) => boolean;
  onStart: (id: string) => void;
  onStop: (id: string) => void;
  onDelete: (workspace: Workspace) => void;
}) {
  return (
    <ul class="workspace-list" data-testid="workspace-list">
      <For each={props.workspaces}>
        {(ws) => (
          <li
            class="workspace-row"
            data-testid="workspace-row"
            data-id={ws.id}
            aria-busy={props.isBusy(ws.id)}
          >
            <div class="workspace-main">
              <Link href={`/w/${encodeURIComponent(ws.id)}`} class="workspace-name">
                {ws.name}
              </Link>
              <span class="workspace-repo" title={ws.repoUrl}>
                {displayRepo(ws.repoUrl)}
              </span>
              <Show when={ws.environment?.reproducible === false && ws.environment}>
                {(env) => (
                  <span
                    class="workspace-marker"
                    data-testid="not-reproducible-marker"
                    data-reproducibility={env().reproducibility}
                    title={
                      env().fallback?.message ?? "Uses the server's own tools instead of a Nix environment"
                    }
                  >
                    <StatusIcon shape={reproducibility(env()).shape} />
                    {env().reproducibility === 'pinned'
                      ? 'pinned toolchain (npm registry)'
                      : 'not reproducible'}
                  </span>
                )}
              </Show>
            </div>
            <span class="workspace-rev mono">{describeRevision(ws)}</span>
            <StatusBadge status={ws.status} testId="workspace-row-status" />
            <time class="workspace-time" datetime={ws.createdAt} title={formatAbsoluteTime(ws.createdAt)}>
              {formatRelativeTime(ws.createdAt, props.now)}
            </time>
            <div class="workspace-actions">
              <Link
                href={`/w/${encodeURIComponent(ws.id)}`}
                class="button button-small"
                aria-label={`Open ${ws.name}`}
              >
                Open
              </Link>
              <Show when={ws.status === 'running'}>
                {/* The IDE page checks the session and mints its own workspace token. */}
                <a
                  href={ws.urls.ide}
                  target="_blank"
                  rel="noopener"
                  class="button button-small"
                  aria-label={`Launch VS Code for ${ws.name}`}
                  data-testid="launch-ide"
                >
                  Launch IDE
                </a>
              </Show>
              <Show when={canStart(ws)}>
                <button
                  type="button"
                  class="button button-small"
                  disabled={props.isBusy(ws.id)}
                  onClick={() => props.onStart(ws.id)}
                  aria-label={`Start ${ws.name}`}
                >
                  Start
                </button>
              </Show>
              <Show when={canStop(ws)}>
                <button
                  type="button"
                  class="button button-small"
                  disabled={props.isBusy(ws.id)}
                  onClick={() => props.onStop(ws.id)}
                  aria-label={`Stop ${ws.name}`}
                >
                  Stop
                </button>
              </Show>
              <Show when={canDelete(ws)}>
                <button
                  type="button"
                  class="button button-small button-danger-quiet"
                  disabled={props.isBusy(ws.id)}
                  onClick={() => props.onDelete(ws)}
                  aria-label={`Delete ${ws.name}`}
                >
                  Delete
                </button>
              </Show>
            </div>
            <WorkspaceNotes notes={workspaceNotes(ws)} />
          </li>
        )}
      </For>
    </ul>
  );
}
