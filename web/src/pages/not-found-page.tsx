import { Link } from '../lib/router';
import { createDocumentTitle } from '../primitives/create-document-title';

export function NotFoundPage() {
  createDocumentTitle(() => 'Not found');
  return (
    <div class="page page-narrow">
      <h1>Page not found</h1>
      <p class="muted">There is nothing at this address.</p>
      <Link href="/" class="button">
        Back to workspaces
      </Link>
    </div>
  );
}
