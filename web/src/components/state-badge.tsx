/** A state word in a coloured pill (colour and word both carry it, so it reads without colour too). */
export function StateBadge(props: { state: string | undefined; title?: string }) {
  const state = props.state ?? 'unknown';
  return (
    <span class={`badge s-${state}`} title={props.title}>
      {state}
    </span>
  );
}
