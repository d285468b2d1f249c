// Quotes one word for /bin/sh. The sandbox wrappers are small shell scripts, and every path or id
// that goes into them passes through here so that no value is ever parsed as shell syntax.

export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Like shellQuote, but leaves a word that has nothing sh would read specially as it is. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : shellQuote(word);
}
