import path from 'node:path';
import { ConfigError, quote } from './errors.ts';

/** What Outpost runs as, read once from the environment by `main.ts`. */
export interface Config {
  /** Directory for state Outpost owns (embedded Redis data, master key, run dirs). Default `var/`. */
  varDir: string;
  /** Repository root: playbooks, roles, templates and inventories are found relative to it. */
  rootDir: string;
  /** Redis URL; undefined means start an embedded `redis-server` with data under `varDir`. */
  redisUrl: string | undefined;
  /** HTTP listen address and port. Default 127.0.0.1:8740. */
  httpHost: string;
  httpPort: number;
  /** Bearer token for the API; undefined means generate one on first start into `varDir/api.token`. */
  apiToken: string | undefined;
  /** 32-byte master key (base64 or hex) sealing private keys; undefined means `varDir/master.key`. */
  masterKey: Buffer | undefined;
  /** Worker concurrency: jobs run at once by one worker. Default 4. */
  workerConcurrency: number;
  /** InfluxDB URL; undefined means start an embedded `influxd` when installed. */
  influxUrl: string | undefined;
  /** Log level for pino. Default `info`. */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
}

type Env = Record<string, string | undefined>;

/** Reads and validates configuration; throws a ConfigError naming the variable at the first bad value. */
export function loadConfig(env: Env = process.env, rootDir = process.cwd()): Config {
  const varDir = path.resolve(rootDir, env.OUTPOST_VAR_DIR ?? 'var');
  return {
    rootDir,
    varDir,
    redisUrl: optionalUrl(env, 'OUTPOST_REDIS_URL', ['redis:', 'rediss:']),
    httpHost: env.OUTPOST_HTTP_HOST ?? '127.0.0.1',
    httpPort: integer(env, 'OUTPOST_HTTP_PORT', 8740, 0, 65535),
    apiToken: token(env, 'OUTPOST_API_TOKEN'),
    masterKey: masterKey(env, 'OUTPOST_MASTER_KEY'),
    workerConcurrency: integer(env, 'OUTPOST_WORKER_CONCURRENCY', 4, 1, 256),
    influxUrl: optionalUrl(env, 'OUTPOST_INFLUX_URL', ['http:', 'https:']),
    logLevel: oneOf(env, 'OUTPOST_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace'], 'info'),
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

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got ${quote(raw)}`);
  }
  return raw as T;
}
