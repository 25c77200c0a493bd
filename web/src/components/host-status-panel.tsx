import type { HostSummary } from '../types.ts';

/** Per-host status of a job (live while it runs): counts, first error; a row filters the log to its host. */
export function HostStatusPanel(props: {
  summaries: Map<string, HostSummary>;
  selected: string;
  onSelect(host: string): void;
}) {
  if (props.summaries.size === 0) return null;
  return (
    <table class="list host-status" aria-label="Per-host status">
      <thead>
        <tr>
          <th scope="col">Host</th>
          <th scope="col">Status</th>
          <th scope="col">ok</th>
          <th scope="col">changed</th>
          <th scope="col">failed</th>
          <th scope="col">unreachable</th>
          <th scope="col">First error</th>
        </tr>
      </thead>
      <tbody>
        {[...props.summaries].map(([host, s]) => {
          const state =
            s.unreachable > 0
              ? 'unreachable'
              : s.failed > 0
                ? 'failed'
                : s.changed > 0
                  ? 'changed'
                  : s.ok > 0
                    ? 'ok'
                    : 'pending';
          return (
            <tr key={host} data-host={host} aria-selected={props.selected === host}>
              <th scope="row">
                <button
                  type="button"
                  class="link"
                  onClick={() => props.onSelect(host)}
                  aria-pressed={props.selected === host}
                >
                  {host}
                </button>
              </th>
              <td>
                <span class={`badge s-${state}`}>{state}</span>
              </td>
              <td>{s.ok}</td>
              <td>{s.changed}</td>
              <td>{s.failed}</td>
              <td>{s.unreachable}</td>
              <td class="reason">{s.firstError ? `${s.firstError.task}: ${s.firstError.msg}` : ''}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
