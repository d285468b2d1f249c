// The sentence to show for a failure: the server's message when it sent one.
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : 'Something went wrong';
}
