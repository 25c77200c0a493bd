/** The tunnel keeper's public surface: what `jobs/` and `main.ts` import. */
export { TunnelKeeper, type TunnelKeeperOptions } from './tunnel-keeper.ts';
export {
  runTunnelNode,
  type TunnelNode,
  type TunnelNodeOptions,
  type WantedTunnels,
} from './run-tunnel-node.ts';
export { readTunnelStatus, type PublishedTunnelStatus } from './read-tunnel-status.ts';
export { tunnelKeys } from './tunnel-lease.ts';
export { TunnelUnavailableError } from './tunnel-errors.ts';
export type {
  ForwardProbe,
  ForwardStatus,
  LocalForwardSpec,
  ProxyStatus,
  RemoteForwardSpec,
  TunnelLogger,
  TunnelProxy,
} from './tunnel-types.ts';
