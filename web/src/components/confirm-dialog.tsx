// A modal question built on <dialog>: focus is trapped and Escape cancels, as browsers do natively.
import { createEffect, type JSX } from 'solid-js';

export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  children: JSX.Element;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  let dialog!: HTMLDialogElement;
  createEffect(() => {
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  });
  return (
    <dialog
      ref={dialog}
      class="dialog"
      aria-labelledby="confirm-title"
      data-testid="confirm-dialog"
      onClose={() => props.open && props.onCancel()}
    >
      <form
        method="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          props.onConfirm();
        }}
      >
        <h2 id="confirm-title">{props.title}</h2>
        <div class="dialog-body">{props.children}</div>
        <div class="dialog-actions">
          <button type="button" class="button" onClick={() => props.onCancel()} autofocus>
            Cancel
          </button>
          <button type="submit" class="button button-danger" data-testid="confirm">
            {props.confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
