// Quotes one word for /bin/sh. The sandbox wrappers are small shell scripts, and every path or id
// that goes into them passes through here so that no value is ever parsed as shell syntax.

export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
