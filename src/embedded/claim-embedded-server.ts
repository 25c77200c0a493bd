import { stopProcess } from '../process-identity.ts';
import { findLeftServer, removeServerPidFile, writeServerPidFile } from './server-pid-file.ts';

/**
 * How `outpost serve` came by an embedded server: `started` it, `adopted` one a dead serve left running
 * (found by its pid file and identity), or `shared` one that another live serve owns (or that is not
 * Outpost's at all). It stops the first two when it stops, never a shared one.
 */
export type EmbeddedOrigin = 'started' | 'adopted' | 'shared';

/** An embedded server in use by this process. */
export interface ClaimedServer {
  origin: EmbeddedOrigin;
  /** Its pid, when known (started or adopted). */
  pid: number | undefined;
  /** Stops it unless shared, and removes its pid file. */
  stop: () => Promise<void>;
}

/** What {@link claimEmbeddedServer} needs to know about one kind of server. */
export interface EmbeddedServerSpec {
  /** Where the owner records the server (in the server's own private directory). */
  pidFile: string;
  /** Whether a server answers at the address this one would use. */
  answers(): Promise<boolean>;
  /** Starts a new one and resolves once it answers. */
  start(): Promise<{ pid: number; stop(): Promise<void> }>;
  /** SIGTERM to SIGKILL grace when stopping a server that is not our child. Default 10 s. */
  graceMs?: number;
}

/**
 * Uses the embedded server of `spec`: adopts one left running by a serve that died (kill -9, crash),
 * replaces one of ours that no longer answers, shares one a live serve owns, else starts one; identity
 * comes from the pid file checked against /proc, never from a process name.
 */
export async function claimEmbeddedServer(spec: EmbeddedServerSpec): Promise<ClaimedServer> {
  const left = await findLeftServer(spec.pidFile);
  if (left && (await spec.answers())) {
    if (left.ownerRunning) return { origin: 'shared', pid: left.server.pid, stop: () => Promise.resolve() };
    await writeServerPidFile(spec.pidFile, left.server.pid);
    return {
      origin: 'adopted',
      pid: left.server.pid,
      stop: async () => {
        await stopProcess(left.server, spec.graceMs);
        await removeServerPidFile(spec.pidFile, left.server);
      },
    };
  }
  // One of ours that does not answer is hung: stop it, or the new one would share its data directory.
  if (left) await stopProcess(left.server, spec.graceMs);
  if (await spec.answers()) return { origin: 'shared', pid: undefined, stop: () => Promise.resolve() };
  const started = await spec.start();
  const server = await writeServerPidFile(spec.pidFile, started.pid).catch(async (error: unknown) => {
    await started.stop();
    throw error;
  });
  return {
    origin: 'started',
    pid: started.pid,
    stop: async () => {
      await started.stop();
      await removeServerPidFile(spec.pidFile, server);
    },
  };
}
