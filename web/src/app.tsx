import { useEffect, useState } from 'preact/hooks';
import { onUnauthorized } from './api.ts';
import { NavBar } from './components/nav-bar.tsx';
import { DeployPage } from './pages/deploy-page.tsx';
import { EnrollPage } from './pages/enroll-page.tsx';
import { FleetPage } from './pages/fleet-page.tsx';
import { HostPage } from './pages/host-page.tsx';
import { JobPage } from './pages/job-page.tsx';
import { JobsPage } from './pages/jobs-page.tsx';
import { ProxiesPage } from './pages/proxies-page.tsx';
import { SignInPage } from './pages/sign-in-page.tsx';
import { navigate, useLocation, type Location } from './router.ts';
import { loadSession } from './session.ts';
import { PrincipalContext, useCan } from './use-can.ts';
import type { Principal } from './types.ts';

/** The console: the session, the navigation, and the page of the URL. */
export function App() {
  const location = useLocation();
  const [principal, setPrincipal] = useState<Principal | null | undefined>(undefined);

  useEffect(() => {
    onUnauthorized(() => setPrincipal(null));
    void loadSession().then((found) => setPrincipal(found ?? null));
  }, []);

  useEffect(() => {
    if (principal === null && location.path !== '/sign-in') {
      const next = `${location.path}${location.query.size > 0 ? `?${location.query.toString()}` : ''}`;
      navigate(`/sign-in?next=${encodeURIComponent(next)}`, { replace: true });
    }
  }, [principal, location.path]);

  if (principal === undefined) return <p class="loading">Loading…</p>;
  if (principal === null || location.path === '/sign-in') {
    return (
      <SignInPage
        onSignedIn={(signedIn) => {
          setPrincipal(signedIn);
          const next = location.query.get('next');
          navigate(next?.startsWith('/') && !next.startsWith('//') ? next : '/fleet', { replace: true });
        }}
      />
    );
  }
  return (
    <PrincipalContext.Provider value={principal}>
      <NavBar path={location.path} principal={principal} onSignedOut={() => setPrincipal(null)} />
      <main id="main">
        <Page location={location} />
      </main>
    </PrincipalContext.Provider>
  );
}

function Page({ location }: { location: Location }) {
  const operates = useCan('operator');
  const { path } = location;
  const host = /^\/hosts\/([^/]+)$/.exec(path);
  if (host?.[1]) return <HostPage key={host[1]} id={host[1]} />;
  const job = /^\/jobs\/([^/]+)$/.exec(path);
  if (job?.[1]) return <JobPage key={job[1]} id={job[1]} />;
  switch (path) {
    case '/':
    case '/fleet':
      return <FleetPage />;
    case '/proxies':
      return <ProxiesPage />;
    case '/enroll':
    case '/deploy':
      if (!operates) return <p role="alert">This token is a viewer: it cannot submit jobs.</p>;
      return path === '/enroll' ? <EnrollPage /> : <DeployPage />;
    case '/jobs':
      return <JobsPage />;
    default:
      return <p role="alert">No page at {path}.</p>;
  }
}
