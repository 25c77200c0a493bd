import { applyTheme, readTheme } from '../theme.ts';
import { followLink } from '../router.ts';
import { signOut } from '../session.ts';
import type { Principal } from '../types.ts';
import { useCan } from '../use-can.ts';
import { useState } from 'preact/hooks';

/** Pages, and whether a viewer has a use for them (Enroll and Deploy only submit jobs). */
const LINKS = [
  ['/fleet', 'Fleet', true],
  ['/proxies', 'Proxies', true],
  ['/enroll', 'Enroll', false],
  ['/deploy', 'Deploy', false],
  ['/jobs', 'Jobs', true],
] as const;

/** The top bar: pages, theme switch, who is signed in, sign-out. */
export function NavBar(props: { path: string; principal: Principal; onSignedOut(): void }) {
  const [theme, setTheme] = useState(readTheme);
  const operates = useCan('operator');
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
        {LINKS.filter(([, , viewers]) => viewers || operates).map(([href, label]) => (
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
        {props.principal.name}{' '}
        <small data-role={props.principal.role}>
          {props.principal.role} · {props.principal.scope === '*' ? 'all projects' : props.principal.scope}
        </small>
      </span>
      <button type="button" class="quiet" onClick={() => void signOut().finally(() => props.onSignedOut())}>
        Sign out
      </button>
    </header>
  );
}
