/** Shapes the API answers with (see src/domain and src/queue/job-record.ts), as the console reads them. */

export type Reach = 'direct' | 'jump' | 'forward';
export type AgentState = 'none' | 'deployed' | 'reporting' | 'not-reporting' | 'removed';

export interface WayResult {
  ok: boolean;
  reason?: string;
  detail?: string;
}

export interface Host {
  id: string;
  project: string;
  address: string;
  sshPort: number;
  network?: string;
  proxy?: string;
  reach?: Reach;
  login: { state: 'unknown' | 'enrolled' | 'failed'; way?: string; at?: string; reason?: string };
  agent: { state: AgentState; uplink?: 'direct' | 'proxy'; lastSeen?: string; reason?: string };
  facts?: { os?: string; arch?: string; python?: string; interpreter?: string };
  probe?: { at: string; ways: Partial<Record<Reach, WayResult>>; reach?: Reach };
  metrics?: { lastSeen: string | null; error?: string };
}

export interface Proxy {
  id: string;
  project: string;
  publicAddress: string;
  sshPort: number;
  vpcAddress: string;
  networks: string[];
  user: string;
  hostKey?: string;
}

export interface Project {
  id: string;
  createdAt: string;
}

export const JOB_KINDS = [
  'enroll',
  'probe',
  'prepare-proxy',
  'deploy-agent',
  'remove-agent',
  'run-playbook',
  'rotate-key',
] as const;
export const JOB_STATUSES = ['queued', 'running', 'successful', 'failed', 'timeout', 'canceled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const FINAL_STATUSES: readonly string[] = ['successful', 'failed', 'timeout', 'canceled'];

export interface HostSummary {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: number;
  firstError?: { task: string; status: 'failed' | 'unreachable'; msg: string };
}

export interface Job {
  id: string;
  kind: string;
  project?: string;
  hosts?: string[];
  selector?: { network?: string; proxy?: string };
  playbook?: string;
  options?: Record<string, unknown>;
  status: JobStatus;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  reason?: string;
  result?: Record<string, HostSummary>;
  cancelRequested?: boolean;
}

export interface Principal {
  tokenId: string;
  name: string;
  scope: string;
  role: 'viewer' | 'operator' | 'admin';
}

export interface ForwardStatus {
  id: string;
  kind: 'local' | 'remote';
  bindAddress: string;
  port: number;
  targetHost: string;
  targetPort: number;
  state: 'pending' | 'up' | 'down';
  lastSeen?: string;
  lastCheck?: { at: string; ok: boolean; error?: string };
}

export interface TunnelStatus {
  proxy: string;
  state: 'connecting' | 'ready' | 'backoff' | 'failed' | 'closed';
  since: string;
  attempts: number;
  lastError?: string;
  forwards: ForwardStatus[];
  node: string;
  at: string;
}

export interface SeriesLine {
  metric: 'cpu' | 'mem' | 'load' | 'disk' | 'net';
  name: string;
  unit: '%' | '' | 'B/s';
  points: [number, number][];
}
