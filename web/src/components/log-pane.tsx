// The latest output of the running step. It follows new lines unless the reader has scrolled up.
import { createEffect, createSignal, For, on, Show } from 'solid-js';
import type { LogLine } from '../primitives/create-workspace-events';

export function LogPane(props: { lines: readonly LogLine[]; open?: boolean }) {
  let scroller: HTMLDivElement | undefined;
  const [following, setFollowing] = createSignal(true);

  createEffect(
    on(
      () => props.lines,
      () => {
        if (scroller && following()) scroller.scrollTop = scroller.scrollHeight;
      },
    ),
  );

  const onScroll = () => {
    if (!scroller) return;
    setFollowing(scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 24);
  };

  return (
    <details class="log-pane" open={props.open ?? true} data-testid="log-pane">
      <summary>
        Output <span class="log-count">({props.lines.length} lines)</span>
      </summary>
      <div
        class="log-scroll"
        ref={scroller}
        onScroll={onScroll}
        tabindex="0"
        aria-label="Step output"
        role="log"
      >
        <Show when={props.lines.length > 0} fallback={<p class="log-empty">No output yet.</p>}>
          <For each={props.lines}>
            {(entry) => (
              <div class="log-line" data-step={entry.step}>
                <span class="log-step" aria-hidden="true">
                  {entry.step}
                </span>
                <span class="log-text">{entry.line}</span>
              </div>
            )}
          </For>
        </Show>
      </div>
    </details>
  );
}
