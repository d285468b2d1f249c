// ANSI SGR escapes (colours, bold, underline) to styled text segments, without a terminal
// emulator: job output is a log to read, not a screen to redraw. Other escapes are dropped.

export interface AnsiStyle {
  fg?: string;
  bg?: string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
}

export interface AnsiSegment {
  text: string;
  style: AnsiStyle;
}

const basic = ['#4d4d4d', '#e5534b', '#57ab5a', '#c69026', '#539bf5', '#b083f0', '#39c5cf', '#d0d7de'];
const bright = ['#768390', '#ff938a', '#6bc46d', '#daaa3f', '#6cb6ff', '#dcbdfb', '#56d4dd', '#f0f6fc'];

function color256(n: number): string {
  if (n < 8) return basic[n]!;
  if (n < 16) return bright[n - 8]!;
  if (n < 232) {
    const i = n - 16;
    const level = (v: number) => (v === 0 ? 0 : 55 + v * 40);
    return `rgb(${level(Math.floor(i / 36))} ${level(Math.floor(i / 6) % 6)} ${level(i % 6)})`;
  }
  const gray = 8 + (n - 232) * 10;
  return `rgb(${gray} ${gray} ${gray})`;
}

function applySgr(style: AnsiStyle, params: number[]): AnsiStyle {
  const next = { ...style };
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    if (p === 0) for (const k of Object.keys(next)) delete next[k as keyof AnsiStyle];
    else if (p === 1) next.bold = true;
    else if (p === 2) next.dim = true;
    else if (p === 3) next.italic = true;
    else if (p === 4) next.underline = true;
    else if (p === 22) {
      delete next.bold;
      delete next.dim;
    } else if (p === 23) delete next.italic;
    else if (p === 24) delete next.underline;
    else if (p >= 30 && p <= 37) next.fg = basic[p - 30]!;
    else if (p === 39) delete next.fg;
    else if (p >= 40 && p <= 47) next.bg = basic[p - 40]!;
    else if (p === 49) delete next.bg;
    else if (p >= 90 && p <= 97) next.fg = bright[p - 90]!;
    else if (p >= 100 && p <= 107) next.bg = bright[p - 100]!;
    else if (p === 38 || p === 48) {
      const target = p === 38 ? 'fg' : 'bg';
      if (params[i + 1] === 5 && params[i + 2] !== undefined) {
        next[target] = color256(params[i + 2]!);
        i += 2;
      } else if (params[i + 1] === 2 && params[i + 4] !== undefined) {
        next[target] = `rgb(${params[i + 2]} ${params[i + 3]} ${params[i + 4]})`;
        i += 4;
      }
    }
  }
  return next;
}

// CSI sequences (SGR among them), OSC strings, charset selections, and carriage returns.
const escapes =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching terminal escapes is the point.
  /\u001b\[([0-9;?]*)([A-Za-z])|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[()][A-Za-z0-9]|\r/g;

/** Splits one line into styled segments; `start` is the style carried over from the line before. */
export function parseAnsi(line: string, start: AnsiStyle = {}): { segments: AnsiSegment[]; end: AnsiStyle } {
  const segments: AnsiSegment[] = [];
  let style = start;
  let last = 0;
  for (const match of line.matchAll(escapes)) {
    const index = match.index ?? 0;
    if (index > last) segments.push({ text: line.slice(last, index), style });
    last = index + match[0].length;
    if (match[2] === 'm') {
      const params = (match[1] ?? '').split(';').map((p) => (p === '' ? 0 : Number(p)));
      style = applySgr(style, params);
    }
  }
  if (last < line.length) segments.push({ text: line.slice(last), style });
  return { segments, end: style };
}
