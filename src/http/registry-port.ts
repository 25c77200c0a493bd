/**
 * The part of the Registry (src/registry/registry.ts) the API calls.
 * create* validate their input and throw ValidationError / ConflictError; get* throw NotFoundError.
 */
export interface RegistryPort {
  createProject(input: unknown): Promise<unknown>;
  listProjects(): Promise<unknown[]>;
  getProject(id: string): Promise<unknown>;
  deleteProject(id: string): Promise<unknown>;
  createProxy(input: unknown): Promise<unknown>;
  listProxies(filter?: { project?: string }): Promise<unknown[]>;
  getProxy(id: string): Promise<unknown>;
  deleteProxy(id: string): Promise<unknown>;
  createHost(input: unknown): Promise<unknown>;
  listHosts(filter?: { project?: string; network?: string; proxy?: string }): Promise<unknown[]>;
  getHost(id: string): Promise<unknown>;
  deleteHost(id: string): Promise<unknown>;
}
