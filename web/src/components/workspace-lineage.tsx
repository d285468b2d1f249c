// Where a workspace sits in its family: the workspace it was branched from, and the branches made
// from it, each a link with its status and commit.
import { createResource, For, Show } from 'solid-js';
import { getLineage } from '../api/client';
import type { Workspace } from '../api/types';
import { errorMessage } from '../lib/error-message';
import { describeRevision } from '../lib/format';
import { Link } from '../lib/router';

function Member(props: { workspace: Workspace }) {
  return (
    <Link href={`/w/${props.workspace.id}`} class="lineage-link" data-testid="lineage-link">
      <span>{props.workspace.name}</span>
      <span class="muted">
        {describeRevision(props.workspace)} · {props.workspace.status}
      </span>
    </Link>
  );
}

export function WorkspaceLineageSection(props: { workspaceId: string; headingId: string }) {
  const [lineage] = createResource(
    () => props.workspaceId,
    (id) => getLineage(id),
  );
  const empty = () => {
    const l = lineage();
    return l !== undefined && l.parent === null && l.children.length === 0;
  };
  return (
    <section class="env-section" aria-labelledby={props.headingId} data-testid="workspace-lineage">
      <h3 id={props.headingId}>Lineage</h3>
      <Show when={lineage.error}>
        <p class="muted">Could not load the lineage: {errorMessage(lineage.error)}</p>
      </Show>
      <Show when={empty()}>
        <p class="muted">Not branched from another workspace, and no branches yet.</p>
      </Show>
      <Show when={lineage()?.parent}>
        {(parent) => (
          <p class="lineage-row">
            Branched from <Member workspace={parent()} />
          </p>
        )}
      </Show>
      <Show when={(lineage()?.children.length ?? 0) > 0}>
        <p class="lineage-row">Branches</p>
        <ul class="lineage-list">
          <For each={lineage()?.children}>
            {(child) => (
              <li>
                <Member workspace={child} />
              </li>
            )}
          </For>
        </ul>
      </Show>
    </section>
  );
}
