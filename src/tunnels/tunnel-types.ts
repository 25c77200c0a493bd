/**
 * The part of a proxy record the tunnel keeper needs. Structurally a subset of the registry's
 * `Proxy` (src/domain/proxy.ts), so a registry proxy can be passed as is.
 */
export interface TunnelProxy {
  /** Proxy name (the rule of src/domain/name.ts). */
  id: string;
  /** Address the control plane reaches the proxy's sshd on. */
  publicAddress: string;
  /** Port of the proxy's sshd. */
  sshPort: number;
  /** The proxy's address inside its VPC: remote forwards bind here by default. */
  vpcAddress: string;
  /** Login user on the proxy (normally `cloudroot`). */
  user: string;
  /** Pinned host key, `ssh-ed25519 AAAA...`; a connection to a proxy without one is refused. */
  hostKey?: string | undefined;
}

/** How a forward's health check proves the path end to end. */
export type ForwardProbe =
  /** The SSH channel to the far end opened: sshd only confirms after its TCP connect succeeded. */
  | { kind: 'connect' }
  /** The far end speaks first (SSH, SMTP...): wait for its first bytes. */
  | { kind: 'banner' }
  /** Send `GET <path>` and wait for an HTTP status line (InfluxDB: `/ping`). */
  | { kind: 'http'; path: string };

/** A listener on this machine whose connections are carried through the proxy to a target. */
export interface LocalForwardSpec {
  targetHost: string;
  targetPort: number;
  /** Health check; default `connect`. */
  probe?: ForwardProbe | undefined;
}

/** A listener on the proxy whose connections are carried back to a target reachable from this machine. */
export interface RemoteForwardSpec {
  /** Address the proxy's sshd listens on; default the proxy's `vpcAddress`. Needs `GatewayPorts clientspecified`. */
  bindAddress?: string | undefined;
  /** Port on the proxy; 0 or absent lets sshd pick one, which is then kept across reconnects. */
  bindPort?: number | undefined;
  targetHost: string;
  targetPort: number;
  /** Health check; default `connect`. */
  probe?: ForwardProbe | undefined;
}

/** The state of one forward, as shown by `status()` and `/metrics`. */
export interface ForwardStatus {
  /** Stable id within its proxy, e.g. `local:198.51.100.5:22` or `remote:198.51.100.2:18086`. */
  id: string;
  kind: 'local' | 'remote';
  /** Where clients connect: this machine's listener (local) or the proxy's listener (remote). */
  bindAddress: string;
  /** 0 until a remote forward's port is known. */
  port: number;
  targetHost: string;
  targetPort: number;
  /** `up` once established on the current connection and the last health check (if any) passed. */
  state: 'pending' | 'up' | 'down';
  /** Last time traffic or a health check went through the forward end to end (ISO-8601). */
  lastSeen?: string | undefined;
  lastCheck?: { at: string; ok: boolean; error?: string | undefined } | undefined;
  /** Client connections being carried right now. */
  activeConnections: number;
}

/** The state of one proxy connection and its forwards. */
export interface ProxyStatus {
  proxy: string;
  state: 'connecting' | 'ready' | 'backoff' | 'failed' | 'closed';
  /** When the connection entered this state (ISO-8601). */
  since: string;
  /** Failed attempts since the last ready connection. */
  attempts: number;
  /** How many times the connection became ready. */
  connects: number;
  lastError?: string | undefined;
  forwards: ForwardStatus[];
}

/** The logging surface the keeper uses: a pino logger fits. */
export interface TunnelLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A logger that drops everything: the default when none is given. */
export const silentLogger: TunnelLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
