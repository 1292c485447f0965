export type Theme = 'light' | 'dark';

/** The theme the viewer chose last, or the system's. */
export function initialTheme(): Theme {
  const saved = localStorage.getItem('agentd.theme');
  if (saved === 'light' || saved === 'dark') return saved;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
  localStorage.setItem('agentd.theme', theme);
}
