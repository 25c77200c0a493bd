import { applyTheme, readTheme } from '../theme.ts';
import { followLink } from '../router.ts';
import { signOut } from '../session.ts';
import type { Principal } from '../types.ts';
import { useState } from 'preact/hooks';

const LINKS = [
  ['/fleet', 'Fleet'],
  ['/proxies', 'Proxies'],
  ['/enroll', 'Enroll'],
  ['/deploy', 'Deploy'],
  ['/jobs', 'Jobs'],
] as const;

/** The top bar: pages, theme switch, who is signed in, sign-out. */
export function NavBar(props: { path: string; principal: Principal; onSignedOut(): void }) {
  const [theme, setTheme] = useState(readTheme);
  const current = (href: string): boolean =>
    props.path === href ||
    (href === '/fleet' && (props.path === '/' || props.path.startsWith('/hosts/'))) ||
    (href === '/jobs' && props.path.startsWith('/jobs/'));
  return (
    <header class="top">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <span class="brand">Outpost</span>
      <nav aria-label="Pages">
        {LINKS.map(([href, label]) => (
          <a key={href} href={href} onClick={followLink} aria-current={current(href) ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      <span class="spacer" />
      <button
        type="button"
        class="quiet"
        aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
        onClick={() => {
          const next = theme === 'dark' ? 'light' : 'dark';
          applyTheme(next, true);
          setTheme(next);
        }}
      >
        {theme === 'dark' ? '☀ Light' : '☾ Dark'}
      </button>
      <span class="who" title={`scope ${props.principal.scope}, role ${props.principal.role}`}>
        {props.principal.name}
      </span>
      <button type="button" class="quiet" onClick={() => void signOut().finally(() => props.onSignedOut())}>
        Sign out
      </button>
    </header>
  );
}
