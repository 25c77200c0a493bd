import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ANSIBLE_STRATEGIES, resolveStrategy, type AnsibleStrategy } from './ansible/ansible-strategy.ts';
import { ConfigError, quote } from './errors.ts';

/** Where InfluxDB is and which store the agents write to: the v1 API (database) or v2 (org/bucket/token). */
export type InfluxSettings =
  | { version: 1; database: string; username?: string; password?: string }
  | { version: 2; org: string; bucket: string; token: string };

/** How the agents' metrics get to InfluxDB and how a deploy proves they do. */
export interface AgentSettings {
  /** InfluxDB URL as VMs with a direct uplink reach it; undefined: no VM has a direct uplink. */
  influxAgentUrl: string | undefined;
  /** Address the embedded influxd binds (when OUTPOST_INFLUX_URL is unset). Default 127.0.0.1. */
  influxBind: string;
  /** HTTP port of the embedded influxd. Default 8086. */
  influxPort: number;
  /** Loopback port of the embedded influxd's backup/RPC service. Default 8088. */
  influxRpcPort: number;
  /** Port the uplink remote forward listens on, on every proxy's VPC address. Default 18086. */
  uplinkPort: number;
  /** How long a deploy waits for a proxy's uplink forward to be up. Default 30 s. */
  uplinkWaitSeconds: number;
  /** How long a deploy waits for a host's first metrics. Default 60 s. */
  verifySeconds: number;
  /**
   * A host whose newest point is younger than this is still reporting: the fast path's proof, and what a
   * deploy that could not finish on a host records about the agent left running there. Default 60 s.
   */
  freshSeconds: number;
  /** How Telegraf gets onto the VMs (role telegraf's telegraf_install_method). Default `repo`. */
  telegrafInstallMethod: 'repo' | 'url' | 'offline' | 'none';
  /** offline: absolute directory on this machine holding the telegraf package file(s). */
  telegrafPackageDir: string | undefined;
  /** url: http(s) URL of the package file the VMs download. */
  telegrafPackageUrl: string | undefined;
}

/** The agent watch: how often every deployed agent's last point is checked, and what follows a change. */
export interface WatchSettings {
  /** Seconds between two watch runs (OUTPOST_WATCH_INTERVAL_SECONDS); 0 turns the watch off on this node. Default 60. */
  intervalSeconds: number;
  /** A watched host without a point for this long is silent (OUTPOST_WATCH_SILENT_SECONDS). Default: the interval. */
  silentSeconds: number;
  /** Where transitions are POSTed (OUTPOST_WATCH_WEBHOOK_URL). It may carry a secret: never logged or echoed. */
  webhookUrl: string | undefined;
  /** Projects whose silent hosts are redeployed when their VM answers (OUTPOST_WATCH_HEAL: names, or `*`). Default none. */
  healProjects: readonly string[] | '*';
  /** Least time between two redeploys of one host, doubled after each that did not help (OUTPOST_WATCH_HEAL_SECONDS). Default 3600. */
  healSeconds: number;
}

/** A Redis run highly available by Sentinel: the master's name and where the sentinels listen. */
export interface RedisSentinel {
  master: string;
  sentinels: { host: string; port: number }[];
}

/** A Redis Cluster: the addresses of some of its nodes; ioredis learns the others and the slots from them. */
export interface RedisCluster {
  nodes: { host: string; port: number }[];
}

/** What Outpost runs as, read once from the environment by `main.ts`. */
export interface Config {
  /** Directory for state Outpost owns (embedded Redis data, master key, run dirs). Default `var/`. */
  varDir: string;
  /** Repository root: playbooks, roles, templates and inventories are found relative to it. */
  rootDir: string;
  /** Redis URL; undefined (and no `redisSentinel` or `redisCluster`) means start an embedded `redis-server` with data under `varDir`. */
  redisUrl: string | undefined;
  /** Redis through Sentinel (OUTPOST_REDIS_SENTINELS, OUTPOST_REDIS_SENTINEL_MASTER), instead of a URL. */
  redisSentinel: RedisSentinel | undefined;
  /** Redis Cluster (OUTPOST_REDIS_CLUSTER_NODES), instead of a URL or Sentinel; needs a hash-tagged prefix. */
  redisCluster: RedisCluster | undefined;
  /** HTTP listen address and port. Default 127.0.0.1:8740. */
  httpHost: string;
  httpPort: number;
  /** Bearer token for the API; undefined means generate one on first start into `varDir/api.token`. */
  apiToken: string | undefined;
  /** 32-byte master key (base64 or hex) sealing private keys; undefined means `varDir/master.key`. */
  masterKey: Buffer | undefined;
  /** Worker concurrency: jobs run at once by one worker. Default 4. */
  workerConcurrency: number;
  /** Strategy of every play (OUTPOST_ANSIBLE_STRATEGY). Default `linear`. */
  ansibleStrategy: AnsibleStrategy;
  /** Run dirs (`varDir/runs/<job>`) older than this many days are removed. Default 14. */
  runsKeepDays: number;
  /** At most this many run dirs are kept, the newest. Default 1000. */
  runsKeepCount: number;
  /** InfluxDB URL as this machine reaches it; undefined means start an embedded `influxd` when installed. */
  influxUrl: string | undefined;
  /** The store the agents write to and its credentials (OUTPOST_INFLUX_*). */
  influx: InfluxSettings;
  /** Uplinks, first-metrics verification and the Telegraf package source. */
  agent: AgentSettings;
  /** The periodic check that deployed agents still report, its webhook and heal. */
  watch: WatchSettings;
  /** Log level for pino. Default `info`. */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** Prefix of every Redis key Outpost writes (OUTPOST_REDIS_PREFIX). Default `outpost:`. */
  redisPrefix: string;
  /** Allows `hosts: ['localhost']` runs with a local connection (OUTPOST_ALLOW_LOCAL_RUNS). Default false. */
  allowLocalRuns: boolean;
  /** Worker heartbeat lifetime; a worker silent this long is dead (OUTPOST_WORKER_HEARTBEAT_MS). Default 30000. */
  workerHeartbeatMs: number;
  /** SIGTERM to SIGKILL grace of a cancelled run (OUTPOST_KILL_GRACE_MS). Default 5000. */
  killGraceMs: number;
  /**
   * How long a stopping worker lets running jobs finish before it stops them and re-queues those safe to
   * re-run (OUTPOST_SHUTDOWN_GRACE_SECONDS). Default 60.
   */
  shutdownGraceSeconds: number;
  /** Entries kept per job log (OUTPOST_LOG_MAX_ENTRIES). Default 100000. */
  logMaxEntries: number;
  /** How long a job log is kept after its last entry (OUTPOST_LOG_RETENTION_SECONDS). Default 7 days. */
  logRetentionSeconds: number;
  /** Interval of the SSE comment line that keeps idle streams open (OUTPOST_SSE_HEARTBEAT_MS). Default 15000. */
  sseHeartbeatMs: number;
  /** Lifetime of a web console session in seconds (OUTPOST_SESSION_HOURS, 1 to 2160). Default 12 h. */
  sessionTtlSeconds: number;
  /** How long audit entries are kept (OUTPOST_AUDIT_RETENTION_DAYS, 1 to 3650). Default 90 days. */
  auditRetentionSeconds: number;
  /** Audit entries kept at most, the oldest trimmed first (OUTPOST_AUDIT_MAX_ENTRIES). Default 100000. */
  auditMaxEntries: number;
}

/** What a client command (`outpost job list`, ...) needs: where the API is and the token. */
export interface ClientConfig {
  /** OUTPOST_URL; default `http://127.0.0.1:<OUTPOST_HTTP_PORT>`. */
  url: string;
  /** OUTPOST_API_TOKEN, else the one `outpost serve` wrote to `<varDir>/api.token`, read when first needed. */
  token: () => string | undefined;
}

type Env = Record<string, string | undefined>;

/** Reads and validates configuration; throws a ConfigError naming the variable at the first bad value. */
export function loadConfig(env: Env = process.env, rootDir = process.cwd()): Config {
  const varDir = path.resolve(rootDir, env.OUTPOST_VAR_DIR ?? 'var');
  const redisPrefix =
    env.OUTPOST_REDIS_PREFIX === undefined
      ? 'outpost:'
      : matching(
          env,
          'OUTPOST_REDIS_PREFIX',
          /^(?=.{1,40}$)(\{[a-z0-9_-]+\})?[a-z0-9:_-]*$/,
          '1 to 40 characters of a-z 0-9 : _ -, optionally starting with a {hash tag} for Redis Cluster, e.g. {outpost}:',
        );
  return {
    rootDir,
    varDir,
    redisUrl: optionalUrl(env, 'OUTPOST_REDIS_URL', ['redis:', 'rediss:']),
    redisSentinel: redisSentinel(env),
    redisCluster: redisCluster(env, redisPrefix),
    httpHost: env.OUTPOST_HTTP_HOST ?? '127.0.0.1',
    httpPort: integer(env, 'OUTPOST_HTTP_PORT', 8740, 0, 65535),
    apiToken: token(env, 'OUTPOST_API_TOKEN'),
    masterKey: masterKey(env, 'OUTPOST_MASTER_KEY'),
    workerConcurrency: integer(env, 'OUTPOST_WORKER_CONCURRENCY', 4, 1, 256),
    ansibleStrategy: ansibleStrategy(env, 'OUTPOST_ANSIBLE_STRATEGY'),
    runsKeepDays: integer(env, 'OUTPOST_RUNS_KEEP_DAYS', 14, 1, 3650),
    runsKeepCount: integer(env, 'OUTPOST_RUNS_KEEP_COUNT', 1000, 1, 1_000_000),
    influxUrl: optionalUrl(env, 'OUTPOST_INFLUX_URL', ['http:', 'https:']),
    influx: influxSettings(env),
    agent: agentSettings(env),
    watch: watchSettings(env),
    logLevel: oneOf(env, 'OUTPOST_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace'], 'info'),
    redisPrefix,
    allowLocalRuns: ['1', 'true', 'yes'].includes(env.OUTPOST_ALLOW_LOCAL_RUNS ?? ''),
    workerHeartbeatMs: integer(env, 'OUTPOST_WORKER_HEARTBEAT_MS', 30_000, 500, 600_000),
    killGraceMs: integer(env, 'OUTPOST_KILL_GRACE_MS', 5000, 0, 600_000),
    shutdownGraceSeconds: integer(env, 'OUTPOST_SHUTDOWN_GRACE_SECONDS', 60, 0, 24 * 3600),
    logMaxEntries: integer(env, 'OUTPOST_LOG_MAX_ENTRIES', 100_000, 100, 100_000_000),
    logRetentionSeconds: integer(env, 'OUTPOST_LOG_RETENTION_SECONDS', 7 * 24 * 3600, 60, 365 * 24 * 3600),
    sseHeartbeatMs: integer(env, 'OUTPOST_SSE_HEARTBEAT_MS', 15_000, 100, 600_000),
    sessionTtlSeconds: integer(env, 'OUTPOST_SESSION_HOURS', 12, 1, 24 * 90) * 3600,
    auditRetentionSeconds: integer(env, 'OUTPOST_AUDIT_RETENTION_DAYS', 90, 1, 3650) * 86_400,
    auditMaxEntries: integer(env, 'OUTPOST_AUDIT_MAX_ENTRIES', 100_000, 1000, 100_000_000),
  };
}

/**
 * The few variables of the same schema that a client command reads (OUTPOST_URL, OUTPOST_HTTP_PORT,
 * OUTPOST_API_TOKEN, OUTPOST_VAR_DIR): a client never needs the server's Redis, InfluxDB or keys.
 */
export function loadClientConfig(env: Env = process.env, rootDir = process.cwd()): ClientConfig {
  const url =
    optionalUrl(env, 'OUTPOST_URL', ['http:', 'https:']) ??
    `http://127.0.0.1:${integer(env, 'OUTPOST_HTTP_PORT', 8740, 0, 65535)}`;
  const configured = token(env, 'OUTPOST_API_TOKEN');
  const file = path.join(path.resolve(rootDir, env.OUTPOST_VAR_DIR ?? 'var'), 'api.token');
  return {
    url,
    token: () => {
      if (configured) return configured;
      try {
        return readFileSync(file, 'utf8').trim() || undefined;
      } catch {
        // No token file: the API answers 401 and the client says so.
        return undefined;
      }
    },
  };
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got ${quote(raw)}`);
  }
  return value;
}

function optionalUrl(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    throw Object.assign(new ConfigError(name, `not a URL: ${quote(raw)}`), { cause });
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(name, `expected a ${protocols.join(' or ')} URL, got ${quote(url.protocol)}`);
  }
  return raw;
}

const SENTINELS = 'OUTPOST_REDIS_SENTINELS';
const SENTINEL_MASTER = 'OUTPOST_REDIS_SENTINEL_MASTER';

/** `host:port,host:port` and a master name, both or neither, and never with OUTPOST_REDIS_URL. */
function redisSentinel(env: Env): RedisSentinel | undefined {
  const list = env[SENTINELS] ?? '';
  const master = env[SENTINEL_MASTER] ?? '';
  if (list === '' && master === '') return undefined;
  if (list === '')
    throw new ConfigError(
      SENTINELS,
      `required with ${SENTINEL_MASTER}: host:port of each sentinel, comma-separated`,
    );
  if (master === '')
    throw new ConfigError(
      SENTINEL_MASTER,
      `required with ${SENTINELS}: the name the sentinels monitor the master by`,
    );
  if (env.OUTPOST_REDIS_URL)
    throw new ConfigError(SENTINELS, 'set either OUTPOST_REDIS_URL or the sentinels, not both');
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(master))
    throw new ConfigError(
      SENTINEL_MASTER,
      `expected 1 to 64 characters of A-Z a-z 0-9 . _ -, got ${quote(master)}`,
    );
  return { master, sentinels: hostPorts(SENTINELS, list, 'sentinel') };
}

const CLUSTER_NODES = 'OUTPOST_REDIS_CLUSTER_NODES';

/** `host:port,...` of cluster nodes, never with OUTPOST_REDIS_URL or Sentinel, and only with a hash-tagged prefix. */
function redisCluster(env: Env, prefix: string): RedisCluster | undefined {
  const list = env[CLUSTER_NODES] ?? '';
  if (list === '') return undefined;
  if (env.OUTPOST_REDIS_URL)
    throw new ConfigError(CLUSTER_NODES, 'set either OUTPOST_REDIS_URL or the cluster nodes, not both');
  if (env[SENTINELS] || env[SENTINEL_MASTER])
    throw new ConfigError(CLUSTER_NODES, `set either ${SENTINELS} or the cluster nodes, not both`);
  // Transactions and scripts (Outpost's and BullMQ's) touch several keys: a cluster runs them only in one slot.
  if (!prefix.startsWith('{'))
    throw new ConfigError(
      'OUTPOST_REDIS_PREFIX',
      `with ${CLUSTER_NODES} the prefix must start with a hash tag, e.g. "{outpost}:", so every key shares one slot; got ${quote(prefix)}`,
    );
  return { nodes: hostPorts(CLUSTER_NODES, list, 'node') };
}

/** `host:port,host:port` (a host name, IPv4, or [IPv6]), at most 16 of them. */
function hostPorts(name: string, list: string, what: string): { host: string; port: number }[] {
  const entries = list.split(',').map((entry) => {
    const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry.trim());
    const port = Number(match?.[2]);
    if (!match?.[1] || !(port >= 1 && port <= 65535))
      throw new ConfigError(
        name,
        `expected host:port (port 1 to 65535) for each ${what}, got ${quote(entry)}`,
      );
    return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
  });
  if (entries.length > 16) throw new ConfigError(name, `expected at most 16 ${what}s, got ${entries.length}`);
  return entries;
}

function token(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  // Never quote a token back: it is a secret even when it is malformed.
  if (!/^[A-Za-z0-9._~+/=-]{24,256}$/.test(raw)) {
    throw new ConfigError(name, 'expected 24 to 256 characters of [A-Za-z0-9._~+/=-]');
  }
  return raw;
}

function masterKey(env: Env, name: string): Buffer | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (key.length !== 32) throw new ConfigError(name, 'expected 32 bytes as 64 hex digits or base64');
  return key;
}

function ansibleStrategy(env: Env, name: string): AnsibleStrategy {
  const chosen = oneOf(env, name, ANSIBLE_STRATEGIES, 'linear');
  const strategy = resolveStrategy(chosen);
  if (!strategy)
    throw new ConfigError(
      name,
      `${quote(chosen)} needs ansible-mitogen: install the Debian package ansible-mitogen`,
    );
  return strategy;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got ${quote(raw)}`);
  }
  return raw as T;
}

const STORE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
// Telegraf's output URL check (roles/telegraf preflight): scheme, host, optional port and path only.
const AGENT_URL = /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[A-Za-z0-9._~/-]*)?$/;

function influxSettings(env: Env): InfluxSettings {
  const v2 = ['OUTPOST_INFLUX_ORG', 'OUTPOST_INFLUX_BUCKET', 'OUTPOST_INFLUX_TOKEN'];
  if (v2.some((name) => (env[name] ?? '') !== '')) {
    const missing = v2.filter((name) => (env[name] ?? '') === '');
    if (missing.length > 0)
      throw new ConfigError(
        missing[0] ?? '',
        `InfluxDB v2 needs ${v2.join(', ')}; ${missing.join(', ')} unset`,
      );
    const token = env.OUTPOST_INFLUX_TOKEN ?? '';
    // Never quote a token back.
    if (!/^[A-Za-z0-9._~+/=-]{1,512}$/.test(token))
      throw new ConfigError('OUTPOST_INFLUX_TOKEN', 'expected 1 to 512 characters of [A-Za-z0-9._~+/=-]');
    return {
      version: 2,
      org: matching(env, 'OUTPOST_INFLUX_ORG', STORE_NAME, 'an organization name'),
      bucket: matching(env, 'OUTPOST_INFLUX_BUCKET', STORE_NAME, 'a bucket name'),
      token,
    };
  }
  const username = env.OUTPOST_INFLUX_USERNAME ?? '';
  const password = env.OUTPOST_INFLUX_PASSWORD ?? '';
  if (password !== '' && username === '')
    throw new ConfigError('OUTPOST_INFLUX_USERNAME', 'required when OUTPOST_INFLUX_PASSWORD is set');
  if (password.length > 256 || /[\n\r]/.test(password))
    throw new ConfigError('OUTPOST_INFLUX_PASSWORD', 'expected up to 256 characters on one line');
  return {
    version: 1,
    database:
      (env.OUTPOST_INFLUX_DATABASE ?? '') === ''
        ? 'telegraf'
        : matching(env, 'OUTPOST_INFLUX_DATABASE', STORE_NAME, 'a database name'),
    ...(username !== ''
      ? {
          username: matching(env, 'OUTPOST_INFLUX_USERNAME', /^[A-Za-z0-9_.@-]{1,64}$/, 'a user name'),
          password,
        }
      : {}),
  };
}

function agentSettings(env: Env): AgentSettings {
  const influxBind = env.OUTPOST_INFLUX_BIND ?? '';
  if (influxBind !== '' && net.isIP(influxBind) === 0)
    throw new ConfigError('OUTPOST_INFLUX_BIND', `expected an IP address, got ${quote(influxBind)}`);
  const influxPort = integer(env, 'OUTPOST_INFLUX_PORT', 8086, 1, 65535);
  const agentUrl = env.OUTPOST_INFLUX_AGENT_URL ?? '';
  if (agentUrl !== '' && !AGENT_URL.test(agentUrl))
    throw new ConfigError(
      'OUTPOST_INFLUX_AGENT_URL',
      `expected http(s)://host[:port][/path] without credentials or query, got ${quote(agentUrl)}`,
    );
  const method = oneOf(env, 'OUTPOST_TELEGRAF_INSTALL_METHOD', ['repo', 'url', 'offline', 'none'], 'repo');
  const packageDir = env.OUTPOST_TELEGRAF_PACKAGE_DIR ?? '';
  if (packageDir !== '' && !/^\/[A-Za-z0-9._/-]*$/.test(packageDir))
    throw new ConfigError(
      'OUTPOST_TELEGRAF_PACKAGE_DIR',
      `expected an absolute path of A-Z a-z 0-9 . _ / -, got ${quote(packageDir)}`,
    );
  if (method === 'offline' && packageDir === '')
    throw new ConfigError(
      'OUTPOST_TELEGRAF_PACKAGE_DIR',
      'required by OUTPOST_TELEGRAF_INSTALL_METHOD=offline',
    );
  const packageUrl = env.OUTPOST_TELEGRAF_PACKAGE_URL ?? '';
  if (packageUrl !== '' && !/^https?:\/\/[^\s?#'"{}]+\.(deb|rpm)$/.test(packageUrl))
    throw new ConfigError(
      'OUTPOST_TELEGRAF_PACKAGE_URL',
      `expected an http(s) URL of a .deb or .rpm file, got ${quote(packageUrl)}`,
    );
  if (method === 'url' && packageUrl === '')
    throw new ConfigError('OUTPOST_TELEGRAF_PACKAGE_URL', 'required by OUTPOST_TELEGRAF_INSTALL_METHOD=url');
  return {
    influxAgentUrl:
      agentUrl === '' ? defaultAgentUrl(env, influxBind, influxPort) : agentUrl.replace(/\/+$/, ''),
    influxBind: influxBind === '' ? '127.0.0.1' : influxBind,
    influxPort,
    influxRpcPort: integer(env, 'OUTPOST_INFLUX_RPC_PORT', 8088, 1, 65535),
    uplinkPort: integer(env, 'OUTPOST_UPLINK_PORT', 18086, 1, 65535),
    uplinkWaitSeconds: integer(env, 'OUTPOST_UPLINK_WAIT_SECONDS', 30, 1, 3600),
    verifySeconds: integer(env, 'OUTPOST_VERIFY_SECONDS', 60, 1, 3600),
    freshSeconds: integer(env, 'OUTPOST_AGENT_FRESH_SECONDS', 60, 5, 3600),
    telegrafInstallMethod: method,
    telegrafPackageDir: packageDir === '' ? undefined : packageDir,
    telegrafPackageUrl: packageUrl === '' ? undefined : packageUrl,
  };
}

/**
 * Without OUTPOST_INFLUX_AGENT_URL, VMs can use the configured InfluxDB URL, or the embedded one's bind
 * address, unless that is loopback (which no VM reaches).
 */
function defaultAgentUrl(env: Env, influxBind: string, influxPort: number): string | undefined {
  const configured = env.OUTPOST_INFLUX_URL ?? '';
  const candidate =
    configured !== ''
      ? configured.replace(/\/+$/, '')
      : influxBind !== '' && net.isIPv4(influxBind)
        ? `http://${influxBind}:${influxPort}`
        : undefined;
  if (candidate === undefined || !AGENT_URL.test(candidate)) return undefined;
  const host = new URL(candidate).hostname;
  return host === 'localhost' || host.startsWith('127.') || host === '0.0.0.0' ? undefined : candidate;
}

function watchSettings(env: Env): WatchSettings {
  const intervalSeconds = integer(env, 'OUTPOST_WATCH_INTERVAL_SECONDS', 60, 0, 86_400);
  const raw = env.OUTPOST_WATCH_WEBHOOK_URL ?? '';
  let webhookUrl: string | undefined;
  if (raw !== '') {
    // Never quote the URL back: its path or user part is often the receiver's secret.
    const url = URL.canParse(raw) ? new URL(raw) : undefined;
    if (!url || !['http:', 'https:'].includes(url.protocol) || url.hostname === '' || /\s/.test(raw))
      throw new ConfigError('OUTPOST_WATCH_WEBHOOK_URL', 'expected an http(s) URL with a host and no spaces');
    webhookUrl = raw;
  }
  const heal = (env.OUTPOST_WATCH_HEAL ?? '').trim();
  const healProjects = heal === '*' ? '*' : heal === '' ? [] : heal.split(',').map((name) => name.trim());
  for (const name of healProjects === '*' ? [] : healProjects)
    // The rule of domain/name.ts, whose zod import must stay off the CLI's start path.
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(name))
      throw new ConfigError(
        'OUTPOST_WATCH_HEAL',
        `expected project names separated by commas, or *, got ${quote(name)}`,
      );
  return {
    intervalSeconds,
    silentSeconds: integer(env, 'OUTPOST_WATCH_SILENT_SECONDS', Math.max(1, intervalSeconds), 1, 86_400),
    webhookUrl,
    healProjects,
    healSeconds: integer(env, 'OUTPOST_WATCH_HEAL_SECONDS', 3600, 1, 7 * 86_400),
  };
}

function matching(env: Env, name: string, pattern: RegExp, what: string): string {
  const raw = env[name] ?? '';
  if (!pattern.test(raw)) throw new ConfigError(name, `expected ${what}, got ${quote(raw)}`);
  return raw;
}
