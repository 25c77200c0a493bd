import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import {
  isRunning,
  parseProcessIdentity,
  readProcessIdentity,
  type ProcessIdentity,
} from '../process-identity.ts';

/** A pid file's content: the embedded server, and the `outpost serve` that stops it when it exits. */
export interface ServerPidRecord {
  server: ProcessIdentity;
  owner: ProcessIdentity;
}

/** A server an earlier `outpost serve` started that still runs, by its pid file. */
export interface LeftServer {
  server: ProcessIdentity;
  /** Whether the serve that owns it still runs (false: it died without stopping it). */
  ownerRunning: boolean;
}

/**
 * The server recorded in `file` when that very process still runs (pid, start time, executable and
 * command line all match); a stale file is removed.
 */
export async function findLeftServer(file: string): Promise<LeftServer | undefined> {
  const record = await readServerPidFile(file);
  if (!record) return undefined;
  if (!(await isRunning(record.server))) {
    await rm(file, { force: true });
    return undefined;
  }
  return { server: record.server, ownerRunning: await isRunning(record.owner) };
}

/** Records in `file` (0600, replaced atomically) that the server `pid` is owned by this process. */
export async function writeServerPidFile(file: string, pid: number): Promise<ProcessIdentity> {
  const [server, owner] = await Promise.all([readProcessIdentity(pid), readProcessIdentity(process.pid)]);
  if (!server || !owner) throw new Error(`process ${pid} ended before it could be recorded in ${file}`);
  const scratch = `${file}.${process.pid}.tmp`;
  await writeFile(scratch, `${JSON.stringify({ server, owner } satisfies ServerPidRecord)}\n`, {
    mode: 0o600,
  });
  await rename(scratch, file);
  return server;
}

/** Removes `file` if it still records `server` (a later serve may have taken it over). */
export async function removeServerPidFile(file: string, server: ProcessIdentity): Promise<void> {
  const record = await readServerPidFile(file);
  if (record && record.server.pid === server.pid && record.server.startTicks === server.startTicks)
    await rm(file, { force: true });
}

async function readServerPidFile(file: string): Promise<ServerPidRecord | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const server = parseProcessIdentity(parsed.server);
    const owner = parseProcessIdentity(parsed.owner);
    return server && owner ? { server, owner } : undefined;
  } catch {
    return undefined; // A torn or foreign file names no process we could safely stop.
  }
}
