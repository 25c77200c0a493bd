/** The console's colour theme: the system's by default, or what the person picked (kept in localStorage). */
export type Theme = 'light' | 'dark';

const KEY = 'outpost-theme';

/** The theme in force: the saved choice, else the system's preference. */
export function readTheme(): Theme {
  const saved = window.localStorage.getItem(KEY);
  if (saved === 'light' || saved === 'dark') return saved;
  return window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** Shows `theme` and remembers it. */
export function applyTheme(theme: Theme, save = false): void {
  document.documentElement.dataset.theme = theme;
  if (save) window.localStorage.setItem(KEY, theme);
}
