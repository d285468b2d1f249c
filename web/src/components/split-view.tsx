// Two panes side by side with a draggable (and keyboard-movable) divider; either pane can be
// collapsed, and the split is remembered across visits.
import { createSignal, type JSX, onCleanup, Show } from 'solid-js';

const storageKey = 'nixspace.split';

function loadRatio(): number {
  const saved = Number(localStorage.getItem(storageKey));
  // The editor gets most of the width unless the person moved the divider.
  return Number.isFinite(saved) && saved >= 0.15 && saved <= 0.85 ? saved : 0.7;
}

export function SplitView(props: {
  start: JSX.Element;
  end: JSX.Element;
  startLabel: string;
  endLabel: string;
  showStart: boolean;
  showEnd: boolean;
}) {
  const [ratio, setRatio] = createSignal(loadRatio());
  const [dragging, setDragging] = createSignal(false);
  let container!: HTMLDivElement;

  const apply = (value: number) => {
    const next = Math.min(0.85, Math.max(0.15, value));
    setRatio(next);
    localStorage.setItem(storageKey, String(next));
  };

  const onPointerMove = (event: PointerEvent) => {
    const box = container.getBoundingClientRect();
    apply((event.clientX - box.left) / box.width);
  };
  const stop = () => {
    setDragging(false);
    window.removeEventListener('pointermove', onPointerMove);
    window.removeEventListener('pointerup', stop);
  };
  onCleanup(stop);

  const both = () => props.showStart && props.showEnd;

  return (
    <div class="split-view" ref={container} data-dragging={dragging()} data-testid="split-view">
      <div
        class="split-pane"
        style={{ flex: both() ? `${ratio()} 1 0` : '1 1 0' }}
        hidden={!props.showStart}
        data-testid="split-start"
      >
        {props.start}
      </div>
      <Show when={both()}>
        {/* biome-ignore lint/a11y/useSemanticElements: a focusable, movable splitter has no native element. */}
        <div
          class="split-divider"
          role="separator"
          tabindex="0"
          aria-orientation="vertical"
          aria-label={`Resize ${props.startLabel} and ${props.endLabel}`}
          aria-valuemin={15}
          aria-valuemax={85}
          aria-valuenow={Math.round(ratio() * 100)}
          data-testid="split-divider"
          onPointerDown={(event) => {
            event.preventDefault();
            setDragging(true);
            window.addEventListener('pointermove', onPointerMove);
            window.addEventListener('pointerup', stop);
          }}
          onKeyDown={(event) => {
            if (event.key === 'ArrowLeft') apply(ratio() - 0.05);
            else if (event.key === 'ArrowRight') apply(ratio() + 0.05);
            else return;
            event.preventDefault();
          }}
        />
      </Show>
      <div
        class="split-pane"
        style={{ flex: both() ? `${1 - ratio()} 1 0` : '1 1 0' }}
        hidden={!props.showEnd}
        data-testid="split-end"
      >
        {props.end}
      </div>
    </div>
  );
}
