/**
 * One line of at most `max` characters for a table cell or a live line: the first line of `text`,
 * ending in `…` when anything was left out (more lines, or the rest of a long line).
 */
export function shorten(text: string, max = 100): string {
  const trimmed = text.trim();
  const first = trimmed.split('\n')[0]?.trimEnd() ?? '';
  const cut = first.length > max ? first.slice(0, Math.max(1, max - 1)).trimEnd() : first;
  return cut !== trimmed ? `${cut} …` : cut;
}
