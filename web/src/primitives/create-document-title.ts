// Keeps the tab title in step with the page, so history and tab lists stay readable.
import { createEffect } from 'solid-js';

export function createDocumentTitle(title: () => string | undefined): void {
  createEffect(() => {
    const current = title();
    document.title = current ? `${current} · NixSpace` : 'NixSpace';
  });
}
