import { useState } from 'preact/hooks';
import { get, post } from '../api.ts';
import { CredentialsFields, toJobCredentials, type Credentials } from '../components/credentials-fields.tsx';
import { ErrorNote } from '../components/error-note.tsx';
import { Link } from '../components/link.tsx';
import { StateBadge } from '../components/state-badge.tsx';
import { formatAgo } from '../format.ts';
import { proxyOf } from '../host-facts.ts';
import { navigate } from '../router.ts';
import type { Host, Proxy, TunnelStatus } from '../types.ts';
import { useCan } from '../use-can.ts';
import { usePoll } from '../use-poll.ts';

interface ProxiesView {
  proxies: Proxy[];
  tunnels: { proxy: string; status: TunnelStatus | null }[];
  hosts: Host[];
}

/** up / reconnecting / down of a proxy's tunnels, from what its holding node last published. */
function tunnelState(status: TunnelStatus | null): 'up' | 'reconnecting' | 'down' {
  if (!status) return 'down';
  if (status.state === 'ready')
    return status.forwards.every((forward) => forward.state === 'up') ? 'up' : 'reconnecting';
  if (status.state === 'connecting' || status.state === 'backoff') return 'reconnecting';
  return 'down';
}

/** Proxies: their tunnels (remote uplink forward, local forwards), state, lease holder, last error, hosts behind. */
export function ProxiesPage() {
  // Preparing a proxy is an admin's job (it installs the project's keys there).
  const administers = useCan('admin');
  const view = usePoll(async (): Promise<ProxiesView> => {
    const [proxies, tunnels, hosts] = await Promise.all([
      get<Proxy[]>('/v1/proxies'),
      get<{ proxy: string; status: TunnelStatus | null }[]>('/v1/tunnels'),
      get<Host[]>('/v1/hosts'),
    ]);
    return { proxies, tunnels, hosts };
  }, 5000);
  const [preparing, setPreparing] = useState<string | undefined>();
  const [credentials, setCredentials] = useState<Credentials>({ user: '', way: 'password', secret: '' });
  const [error, setError] = useState<string | undefined>();

  const prepare = async (proxy: Proxy): Promise<void> => {
    try {
      const job = await post<{ id: string }>('/v1/jobs', {
        kind: 'prepare-proxy',
        project: proxy.project,
        hosts: [proxy.id],
        ...(credentials.secret ? { credentials: toJobCredentials(credentials) } : {}),
      });
      navigate(`/jobs/${job.id}`);
    } catch (caught) {
      setError((caught as Error).message);
    } finally {
      setCredentials((current) => ({ ...current, secret: '' }));
    }
  };

  const data = view.value;
  return (
    <section aria-labelledby="proxies-title">
      <h1 id="proxies-title">Proxies and tunnels</h1>
      <ErrorNote error={error ?? view.error} />
      {data?.proxies.length === 0 && <p class="empty">No proxy is registered.</p>}
      {data?.proxies.map((proxy) => {
        const status = data.tunnels.find((t) => t.proxy === proxy.id)?.status ?? null;
        const state = tunnelState(status);
        const behind = data.hosts.filter((host) => proxyOf(host, data.proxies) === proxy.id);
        return (
          <article
            class="card proxy"
            key={proxy.id}
            data-proxy={proxy.id}
            aria-labelledby={`proxy-${proxy.id}`}
          >
            <h2 id={`proxy-${proxy.id}`}>
              {proxy.id}{' '}
              <StateBadge
                state={state}
                title={
                  status ? `connection ${status.state} since ${status.since}` : 'no node holds its tunnels'
                }
              />
            </h2>
            <dl class="inline">
              <dt>Project</dt>
              <dd>{proxy.project}</dd>
              <dt>Public</dt>
              <dd class="mono">
                {proxy.publicAddress}:{proxy.sshPort}
              </dd>
              <dt>VPC</dt>
              <dd class="mono">{proxy.vpcAddress}</dd>
              <dt>Networks</dt>
              <dd class="mono">{proxy.networks.join(', ')}</dd>
              <dt>Lease held by</dt>
              <dd>{status?.node ?? 'nobody'}</dd>
              <dt>Last error</dt>
              <dd class="reason">{status?.lastError ?? '—'}</dd>
            </dl>
            <table class="list" aria-label={`Tunnels of ${proxy.id}`}>
              <thead>
                <tr>
                  <th scope="col">Forward</th>
                  <th scope="col">Listens on</th>
                  <th scope="col">To</th>
                  <th scope="col">State</th>
                  <th scope="col">Last through</th>
                  <th scope="col">Last check</th>
                </tr>
              </thead>
              <tbody>
                {(status?.forwards ?? []).map((forward) => (
                  <tr key={forward.id}>
                    <th scope="row">{forward.kind === 'remote' ? 'uplink (remote)' : 'local'}</th>
                    <td class="mono">
                      {forward.bindAddress}:{forward.port}
                    </td>
                    <td class="mono">
                      {forward.targetHost}:{forward.targetPort}
                    </td>
                    <td>
                      <StateBadge state={forward.state} />
                    </td>
                    <td>{formatAgo(forward.lastSeen)}</td>
                    <td class="reason">
                      {forward.lastCheck
                        ? forward.lastCheck.ok
                          ? 'ok'
                          : (forward.lastCheck.error ?? 'failed')
                        : '—'}
                    </td>
                  </tr>
                ))}
                {(status?.forwards ?? []).length === 0 && (
                  <tr>
                    <td colSpan={6}>No forward held (no monitored host uses this proxy's uplink yet).</td>
                  </tr>
                )}
              </tbody>
            </table>
            <p>
              Hosts behind it ({behind.length}):{' '}
              {behind.map((host, i) => (
                <span key={host.id}>
                  {i > 0 ? ', ' : ''}
                  <Link href={`/hosts/${host.id}`}>{host.id}</Link>
                </span>
              ))}
            </p>
            {!administers ? null : preparing === proxy.id ? (
              <form
                onSubmit={(event) => {
                  event.preventDefault();
                  void prepare(proxy);
                }}
              >
                <CredentialsFields
                  idPrefix={`prepare-${proxy.id}`}
                  value={credentials}
                  onChange={setCredentials}
                />
                <p class="hint">Leave the password empty when cloudroot already logs in to this proxy.</p>
                <button type="submit">Prepare {proxy.id}</button>
                <button type="button" class="quiet" onClick={() => setPreparing(undefined)}>
                  Close
                </button>
              </form>
            ) : (
              <button type="button" onClick={() => setPreparing(proxy.id)}>
                Prepare proxy…
              </button>
            )}
          </article>
        );
      })}
    </section>
  );
}
