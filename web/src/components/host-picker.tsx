import type { Host } from '../types.ts';
import { StateBadge } from './state-badge.tsx';

/** Checkboxes of hosts with their login and agent state; "all" and "none" shortcuts. */
export function HostPicker(props: {
  hosts: Host[];
  selected: Set<string>;
  onChange(selected: Set<string>): void;
  legend: string;
}) {
  const toggle = (id: string, on: boolean): void => {
    const next = new Set(props.selected);
    if (on) next.add(id);
    else next.delete(id);
    props.onChange(next);
  };
  return (
    <fieldset class="picker">
      <legend>{props.legend}</legend>
      <div class="actions">
        <button
          type="button"
          class="quiet"
          onClick={() => props.onChange(new Set(props.hosts.map((host) => host.id)))}
        >
          All
        </button>
        <button type="button" class="quiet" onClick={() => props.onChange(new Set())}>
          None
        </button>
      </div>
      {props.hosts.length === 0 && <p class="empty">This project has no hosts.</p>}
      <ul>
        {props.hosts.map((host) => (
          <li key={host.id}>
            <label class="check">
              <input
                type="checkbox"
                checked={props.selected.has(host.id)}
                onChange={(event) => toggle(host.id, event.currentTarget.checked)}
              />
              <span class="mono">{host.id}</span> <span class="dim">{host.address}</span> login{' '}
              <StateBadge state={host.login.state} /> agent <StateBadge state={host.agent.state} />
            </label>
          </li>
        ))}
      </ul>
    </fieldset>
  );
}
