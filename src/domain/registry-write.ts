/** What the registry reports after each successful write; the event stream publishes it. */
export interface RegistryWrite {
  kind: 'project' | 'proxy' | 'host';
  action: 'created' | 'updated' | 'deleted';
  id: string;
  /** The entity before the write (updates and deletes). */
  before?: object;
  /** The entity after the write (creates and updates). */
  after?: object;
}
