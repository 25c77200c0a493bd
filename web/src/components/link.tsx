import type { ComponentChildren } from 'preact';
import { followLink } from '../router.ts';

/** A link to a console page: navigates without a reload, still a real URL to copy or open in a tab. */
export function Link(props: { href: string; children: ComponentChildren; class?: string }) {
  return (
    <a href={props.href} class={props.class} onClick={followLink}>
      {props.children}
    </a>
  );
}
