/** A run of text with the SGR style it is shown in. */
export interface AnsiSpan {
  text: string;
  /** CSS classes: `fg-1`..`fg-15` (palette index), `b` (bold). Empty for plain text. */
  classes: string;
}

// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[([0-9;]*)m/g;
// eslint-disable-next-line no-control-regex
const OTHER_ESCAPES = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** Splits a line with ANSI colour codes into styled spans (other escape sequences are dropped). */
export function parseAnsi(line: string): AnsiSpan[] {
  if (!line.includes('\u001b')) return [{ text: line, classes: '' }];
  const spans: AnsiSpan[] = [];
  let fg: number | undefined;
  let bold = false;
  let at = 0;
  const push = (text: string): void => {
    const clean = text.replace(OTHER_ESCAPES, '');
    if (clean === '') return;
    const classes = [fg !== undefined ? `fg-${fg}` : '', bold ? 'b' : ''].filter(Boolean).join(' ');
    spans.push({ text: clean, classes });
  };
  for (const match of line.matchAll(SGR)) {
    push(line.slice(at, match.index));
    at = match.index + match[0].length;
    const codes = (match[1] || '0').split(';').map(Number);
    for (const code of codes) {
      if (code === 0) {
        fg = undefined;
        bold = false;
      } else if (code === 1) bold = true;
      else if (code === 22) bold = false;
      else if (code >= 30 && code <= 37) fg = code - 30;
      else if (code >= 90 && code <= 97) fg = code - 90 + 8;
      else if (code === 39) fg = undefined;
    }
  }
  push(line.slice(at));
  return spans;
}

/** The line without escape sequences: what search and filters look at. */
export function stripAnsi(line: string): string {
  return line.includes('\u001b') ? line.replace(SGR, '').replace(OTHER_ESCAPES, '') : line;
}
