// The roster of workspaces with their state and the actions that apply to each. Repeated failed
// attempts at one repository and ref show as one row that expands; workspaces sharing a name
// show a short id.
import { createSignal, For, type JSX, Show } from 'solid-js';
import type { Workspace } from '../api/types';
import { reproducibility, workspaceNotes } from '../lib/environment';
import { describeRevision, displayRepo, formatAbsoluteTime, formatRelativeTime } from '../lib/format';
import { expiryLabel, isExpiring } from '../lib/lifetime';
import { Link } from '../lib/router';
import { groupWorkspaces, isFailedAttempts, sharedNames, shortId } from '../lib/workspace-groups';
import { canDelete, canStart, canStop } from '../lib/workspace-status';
import { StatusBadge } from './status-badge';
import { StatusIcon } from './status-icon';
import { WorkspaceNotes } from './workspace-notes';

interface RowActions {
  now: number;
  isBusy: (id: string) => boolean;
  onStart: (id: string) => void;
  onStop: (id: string) => void;
  onKeep: (id: string) => void;
  onDelete: (workspace: Workspace) => void;
}

export function WorkspaceList(props: RowActions & { workspaces: readonly Workspace[] }) {
  const shared = () => sharedNames(props.workspaces);
  // Kept here: a refresh rebuilds the groups, and an expanded one stays expanded.
  const [expanded, setExpanded] = createSignal<ReadonlySet<string>>(new Set());
  const toggle = (key: string) =>
    setExpanded((open) => {
      const next = new Set(open);
      if (!next.delete(key)) next.add(key);
      return next;
    });
  const row = (ws: Workspace) => (
    <WorkspaceRow
      ws={ws}
      showId={shared().has(ws.name)}
      busy={props.isBusy(ws.id)}
      now={props.now}
      onStart={props.onStart}
      onStop={props.onStop}
      onKeep={props.onKeep}
      onDelete={props.onDelete}
    />
  );
  return (
    <ul class="workspace-list" data-testid="workspace-list">
      <For each={groupWorkspaces(props.workspaces)}>
        {(entry) =>
          isFailedAttempts(entry) ? (
            <FailedAttempts
              attempts={entry.attempts}
              now={props.now}
              open={expanded().has(entry.key)}
              onToggle={() => toggle(entry.key)}
              row={row}
            />
          ) : (
            row(entry)
          )
        }
      </For>
    </ul>
  );
}

/** One row for repeated failed attempts; expanding it lists each attempt as a row of its own. */
function FailedAttempts(props: {
  attempts: Workspace[];
  now: number;
  open: boolean;
  onToggle: () => void;
  row: (ws: Workspace) => JSX.Element;
}) {
  const latest = () => props.attempts[0]!;
  return (
    <li class="workspace-group" data-testid="failed-attempts" data-count={props.attempts.length}>
      <div class="workspace-row">
        <div class="workspace-main">
          <span class="workspace-name">{latest().name}</span>
          <span class="workspace-repo" title={latest().repoUrl}>
            {displayRepo(latest().repoUrl)}
          </span>
        </div>
        <span class="workspace-rev mono" title={latest().error?.message ?? ''}>
          {describeRevision(latest())}
        </span>
        <StatusBadge status="failed" />
        <time
          class="workspace-time"
          datetime={latest().createdAt}
          title={formatAbsoluteTime(latest().createdAt)}
        >
          {formatRelativeTime(latest().createdAt, props.now)}
        </time>
        <div class="workspace-actions">
          <button
            type="button"
            class="button button-small"
            aria-expanded={props.open}
            onClick={() => props.onToggle()}
            data-testid="failed-attempts-toggle"
          >
            {props.attempts.length} failed attempts
          </button>
        </div>
      </div>
      <Show when={props.open}>
        <ul class="workspace-group-rows">
          <For each={props.attempts}>{(ws) => props.row(ws)}</For>
        </ul>
      </Show>
    </li>
  );
}

function WorkspaceRow(props: Omit<RowActions, 'isBusy'> & { ws: Workspace; showId: boolean; busy: boolean }) {
  const ws = props.ws;
  return (
    <li class="workspace-row" data-testid="workspace-row" data-id={ws.id} aria-busy={props.busy}>
      <div class="workspace-main">
        <span class="workspace-title">
          <Link href={`/w/${encodeURIComponent(ws.id)}`} class="workspace-name">
            {ws.name}
          </Link>
          <Show when={props.showId}>
            <span class="workspace-id mono" title={ws.id} data-testid="workspace-short-id">
              {shortId(ws.id)}
            </span>
          </Show>
        </span>
        <span class="workspace-repo" title={ws.repoUrl}>
          {displayRepo(ws.repoUrl)}
        </span>
        <Show when={ws.environment?.reproducible === false && ws.environment}>
          {(env) => (
            <span
              class="workspace-marker"
              data-testid="not-reproducible-marker"
              data-reproducibility={env().reproducibility}
              title={env().fallback?.message ?? "Uses the server's own tools instead of a Nix environment"}
            >
              <StatusIcon shape={reproducibility(env()).shape} />
              {env().reproducibility === 'pinned' ? 'pinned toolchain (npm registry)' : 'not reproducible'}
            </span>
          )}
        </Show>
        <Show when={isExpiring(ws, props.now) && ws.lifetime.expiresAt}>
          {(expiresAt) => (
            <span
              class="workspace-marker"
              data-testid="expiry-marker"
              title={`Deleted at ${formatAbsoluteTime(expiresAt())} unless you keep it`}
            >
              <StatusIcon shape="warning" />
              {expiryLabel(ws, props.now)}
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
        <Show when={isExpiring(ws, props.now)}>
          <button
            type="button"
            class="button button-small"
            disabled={props.busy}
            onClick={() => props.onKeep(ws.id)}
            aria-label={`Keep ${ws.name}`}
            data-testid="keep-workspace"
          >
            Keep
          </button>
        </Show>
        <Show when={canStart(ws)}>
          <button
            type="button"
            class="button button-small"
            disabled={props.busy}
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
            disabled={props.busy}
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
            disabled={props.busy}
            onClick={() => props.onDelete(ws)}
            aria-label={`Delete ${ws.name}`}
          >
            Delete
          </button>
        </Show>
      </div>
      <WorkspaceNotes notes={workspaceNotes(ws)} />
    </li>
  );
}
