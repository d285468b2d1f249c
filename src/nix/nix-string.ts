// Quoting for values that come from a repository (an .env.example value, a variable name) on
// their way into generated Nix code. Nothing from a repository is spliced in unquoted.

/**
 * A Nix double-quoted string literal. Besides `\` and `"`, `${` must be escaped: inside a string
 * it starts an antiquotation, which would evaluate repository-controlled Nix code.
 */
export function nixString(value: string): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '\\') out += '\\\\';
    else if (c === '"') out += '\\"';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (c === '$' && value[i + 1] === '{') out += '\\$';
    else out += c;
  }
  return `${out}"`;
}

/** An attribute name: bare when it is a plain identifier, otherwise a quoted string. */
export function nixAttributeName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_'-]*$/.test(name) && !nixKeywords.has(name) ? name : nixString(name);
}

const nixKeywords = new Set(['if', 'then', 'else', 'assert', 'with', 'let', 'in', 'rec', 'inherit', 'or']);
