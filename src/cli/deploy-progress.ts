import path from 'node:path';
import { createLogUpdate } from 'log-update';
import type { AnsibleEvent } from '../ansible/ansible-event.ts';
import type { JobRecord } from '../queue/job-record.ts';
import { describeVerdict, type ResultLine } from './describe-outcome.ts';
import { shorten } from './shorten.ts';

/** Options of {@link createDeployProgress}. */
export interface DeployProgressOptions {
  /** The hosts the deploy is for: one line each, no other (a proxy in the play's events is not shown). */
  hosts: string[];
  /** The proxy each host goes through, if any: its uplink's wait is shown on the host's line. */
  proxyOf: Map<string, string>;
  /** Redraw the lines in place (a terminal) instead of printing a line per change. */
  tty: boolean;
  /** Also print the task stream (the play's output). */
  verbose: boolean;
  stream: NodeJS.WriteStream;
}

/** Where a deploy is: what it shows for each host while it runs, then each host's verdict. */
export interface DeployProgress {
  event(event: AnsibleEvent): void;
  stdout(line: string): void;
  /** Ends the live lines with each host's outcome, then prints the verdicts and the job's status. */
  done(job: JobRecord): void;
}

const PHASES: Record<string, string> = {
  'check-uplink.yml': 'checking its uplink',
  'deploy-agent.yml': 'deploying',
};

/**
 * Per-host progress of `outpost deploy --follow`: in a terminal one live line per host (its phase and
 * task, then `reporting` or `failed: reason`), redrawn with log-update, which accounts for the
 * terminal's width; elsewhere one line per phase change. Then the verdicts, once per host.
 */
export function createDeployProgress(options: DeployProgressOptions): DeployProgress {
  const { hosts, stream } = options;
  const lines = new Map(hosts.map((host) => [host, 'queued']));
  const failed = new Set<string>();
  const width = Math.max(...hosts.map((host) => host.length), 4);
  let phase = 'starting';
  let playHosts: string[] = [];
  const live = options.tty ? createLogUpdate(stream) : undefined;
  const render = (): string => {
    const columns = (stream.columns || 80) - 1;
    return [...lines].map(([host, text]) => shorten(`${host.padEnd(width)}  ${text}`, columns)).join('\n');
  };
  const set = (host: string, text: string, plain = true): void => {
    const before = lines.get(host);
    if (before === undefined || before === text || failed.has(host)) return;
    lines.set(host, text);
    if (live) live(render());
    else if (plain) stream.write(`${host.padEnd(width)}  ${text}\n`);
  };
  live?.(render());

  return {
    event(event) {
      if (event.event === 'playbook_start')
        phase = PHASES[path.basename(event.playbook)] ?? path.basename(event.playbook);
      if (event.event === 'play_start') {
        playHosts = event.hosts.filter((host) => lines.has(host));
        for (const host of playHosts) set(host, phase);
      }
      // Task names change the live line only; printed, they would be the task stream again.
      if (event.event === 'task_start')
        for (const host of playHosts) set(host, `${phase}: ${event.task}`, false);
      if (
        event.event === 'host_result' &&
        (event.status === 'unreachable' || (event.status === 'failed' && !event.ignore_errors))
      ) {
        set(event.host, `failed: ${event.status} at "${event.task}": ${event.msg ?? ''}`);
        failed.add(event.host);
      }
      if (event.event === 'recap' && phase === PHASES['deploy-agent.yml'])
        for (const host of Object.keys(event.hosts))
          set(host, 'verifying: waiting for its first metrics in InfluxDB');
    },
    stdout(line) {
      const wait = /^outpost: waiting for the uplink of proxy (\S+):/.exec(line);
      const up = /^outpost: uplink of proxy (\S+) is up$/.exec(line);
      for (const [host, proxy] of options.proxyOf) {
        if (wait?.[1] === proxy) set(host, `waiting for the uplink of proxy ${proxy}`);
        if (up?.[1] === proxy) set(host, `uplink of proxy ${proxy} is up`);
      }
      if (!options.verbose) return;
      if (live) live.persist(line);
      else stream.write(`${line}\n`);
    },
    done(job) {
      failed.clear();
      const result = (job.result ?? {}) as Record<string, ResultLine>;
      for (const host of hosts) {
        const agent = result[host]?.agent;
        const text =
          agent?.state === 'reporting'
            ? 'reporting'
            : `failed: ${agent?.reason ?? job.reason ?? `job ${job.status}`}`;
        // Printed, the final lines would say again what the verdicts below say.
        set(host, text, false);
      }
      live?.done();
      if (live) stream.write('\n');
      for (const host of hosts) {
        const agent = result[host]?.agent;
        stream.write(
          `${host.padEnd(width)}  ${agent ? describeVerdict(agent) : 'no verdict: the deploy did not get to it'}\n`,
        );
      }
      stream.write(
        `job ${job.id} ${job.status}${job.reason && job.status !== 'failed' ? `: ${job.reason}` : ''}\n`,
      );
    },
  };
}
