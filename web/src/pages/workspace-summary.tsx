// Name, source and state of a workspace, shared by the progress page and the workspace bar.
import { Show } from 'solid-js';
import type { Workspace } from '../api/types';
import { StatusBadge } from '../components/status-badge';
import { describeRevision, displayRepo, formatAbsoluteTime } from '../lib/format';

export function WorkspaceSummary(props: { workspace: Workspace; headingLevel: 1 | 2 }) {
  const heading = () => (
    <span class="summary-name" id="workspace-name">
      {props.workspace.name}
    </span>
  );
  return (
    <div class="summary">
      <div class="summary-title">
        <Show when={props.headingLevel === 1} fallback={<h2>{heading()}</h2>}>
          <h1>{heading()}</h1>
        </Show>
        <StatusBadge status={props.workspace.status} testId="workspace-status" />
      </div>
      <p class="summary-source">
        <span class="summary-repo" title={props.workspace.repoUrl}>
          {displayRepo(props.workspace.repoUrl)}
        </span>
        <span class="summary-sep" aria-hidden="true">
          ·
        </span>
        <span class="mono" title={props.workspace.commit ?? undefined}>
          {describeRevision(props.workspace)}
        </span>
        <Show when={props.workspace.sandbox}>
          {(sandbox) => (
            <>
              <span class="summary-sep" aria-hidden="true">
                ·
              </span>
              <span
                class="summary-sandbox"
                title={sandbox().isolated ? 'Runs in an isolated sandbox' : 'Runs without isolation'}
              >
                {sandbox().driver}
                {sandbox().isolated ? '' : ' (not isolated)'}
              </span>
              <Show when={sandbox().restarted}>
                {(restarted) => (
                  <>
                    <span class="summary-sep" aria-hidden="true">
                      ·
                    </span>
                    <span
                      class="summary-restarted"
                      data-testid="workspace-restarted"
                      title={`NixSpace restarted this workspace: ${restarted().reason}. Its processes were ended; its files were kept.`}
                    >
                      restarted {formatAbsoluteTime(restarted().at)}: {restarted().reason}
                    </span>
                  </>
                )}
              </Show>
            </>
          )}
        </Show>
        <Show when={props.workspace.lifetime.expiresAt ?? props.workspace.lifetime.keptAt}>
          <span class="summary-sep" aria-hidden="true">
            ·
          </span>
          <span class="summary-lifetime" data-testid="workspace-lifetime">
            {props.workspace.lifetime.expiresAt
              ? `deleted ${formatAbsoluteTime(props.workspace.lifetime.expiresAt)}`
              : 'kept'}
          </span>
        </Show>
      </p>
    </div>
  );
}
