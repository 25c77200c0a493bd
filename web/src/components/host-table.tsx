import { useRef, useState } from 'preact/hooks';
import { formatAgo } from '../format.ts';
import { lastSeenOf, proxyOf, silentReason } from '../host-facts.ts';
import type { Host, Proxy } from '../types.ts';
import { Link } from './link.tsx';
import { StateBadge } from './state-badge.tsx';

/** A column to sort by; a leading `-` sorts descending. */
export type SortKey = string;

const COLUMNS: [key: string, label: string][] = [
  ['id', 'Host'],
  ['project', 'Project'],
  ['address', 'Address'],
  ['proxy', 'Proxy'],
  ['login', 'Login'],
  ['reach', 'Reach'],
  ['uplink', 'Uplink'],
  ['agent', 'Agent'],
  ['seen', 'Last seen'],
];
const ROW_HEIGHT = 36;
const OVERSCAN = 15;

/**
 * The fleet's table, windowed: only the rows in view (and a few around) are in the page, so 5,000 hosts
 * render and filter as fast as 50. Column headers are sort buttons.
 */
export function HostTable(props: {
  hosts: Host[];
  proxies: Proxy[];
  sort: SortKey;
  onSort(key: SortKey): void;
  /** Selection for actions; without it (a viewer has none to take) no checkbox is shown. */
  selection?: { selected: Set<string>; onSelect(selected: Set<string>): void };
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  const [height, setHeight] = useState(600);
  const frame = useRef(0);
  const onScroll = (): void => {
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(() => {
      setTop(scroller.current?.scrollTop ?? 0);
      setHeight(scroller.current?.clientHeight ?? 600);
    });
  };
  const { hosts, selection } = props;
  const selected = selection?.selected ?? new Set<string>();
  const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(hosts.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
  const allShownSelected = hosts.length > 0 && hosts.every((host) => selected.has(host.id));
  const toggle = (id: string, on: boolean): void => {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    selection?.onSelect(next);
  };
  const now = Date.now();
  return (
    <div class="table-scroll" ref={scroller} onScroll={onScroll} tabIndex={-1}>
      <table class="hosts" aria-rowcount={hosts.length + 1}>
        <thead>
          <tr>
            {selection && (
              <th scope="col" class="pick">
                <input
                  type="checkbox"
                  aria-label="Select every host shown"
                  checked={allShownSelected}
                  onChange={(event) =>
                    selection.onSelect(
                      event.currentTarget.checked ? new Set(hosts.map((host) => host.id)) : new Set(),
                    )
                  }
                />
              </th>
            )}
            {COLUMNS.map(([key, label]) => {
              const active = props.sort === key || props.sort === `-${key}`;
              const descending = props.sort === `-${key}`;
              return (
                <th
                  scope="col"
                  key={key}
                  aria-sort={active ? (descending ? 'descending' : 'ascending') : 'none'}
                >
                  <button
                    type="button"
                    class="sort"
                    onClick={() => props.onSort(active && !descending ? `-${key}` : key)}
                  >
                    {label}
                    <span aria-hidden="true">{active ? (descending ? ' ▼' : ' ▲') : ''}</span>
                  </button>
                </th>
              );
            })}
            <th scope="col">Why silent</th>
          </tr>
        </thead>
        <tbody>
          {first > 0 && (
            <tr class="spacer" aria-hidden="true" style={{ height: `${first * ROW_HEIGHT}px` }}>
              <td colSpan={selection ? 11 : 10} />
            </tr>
          )}
          {hosts.slice(first, last).map((host, i) => (
            <tr key={host.id} data-host={host.id} aria-rowindex={first + i + 2}>
              {selection && (
                <td class="pick">
                  <input
                    type="checkbox"
                    aria-label={`Select ${host.id}`}
                    checked={selected.has(host.id)}
                    onChange={(event) => toggle(host.id, event.currentTarget.checked)}
                  />
                </td>
              )}
              <th scope="row">
                <Link href={`/hosts/${host.id}`}>{host.id}</Link>
              </th>
              <td>{host.project}</td>
              <td class="mono">{host.address}</td>
              <td>{proxyOf(host, props.proxies) ?? '—'}</td>
              <td>
                <StateBadge state={host.login.state} />
              </td>
              <td>{host.reach ?? '—'}</td>
              <td>{host.agent.uplink ?? '—'}</td>
              <td data-agent-state={host.agent.state}>
                <StateBadge state={host.agent.state} />
              </td>
              <td title={lastSeenOf(host) ?? ''}>{formatAgo(lastSeenOf(host), now)}</td>
              <td class="reason">{silentReason(host) ?? ''}</td>
            </tr>
          ))}
          {last < hosts.length && (
            <tr
              class="spacer"
              aria-hidden="true"
              style={{ height: `${(hosts.length - last) * ROW_HEIGHT}px` }}
            >
              <td colSpan={selection ? 11 : 10} />
            </tr>
          )}
        </tbody>
      </table>
      {hosts.length === 0 && <p class="empty">No host matches.</p>}
    </div>
  );
}
