import { createHash } from 'node:crypto';
import path from 'node:path';
import { INTERPRETER_PATH, type Host } from '../../domain/host.ts';
import type { Proxy } from '../../domain/proxy.ts';
import { hostAlias } from '../../inventory/aliases.ts';
import { classifySshFailure } from '../../ssh/classify-ssh-failure.ts';
import { runSsh } from '../../ssh/run-ssh.ts';
import { mapLimit } from '../runtime/map-limit.ts';

/** What role telegraf writes, at its default paths (roles/telegraf/defaults/main.yml). */
export const AGENT_FILES = {
  stamp: '/etc/telegraf/outpost-stamp.json',
  config: '/etc/telegraf/telegraf.conf',
  binary: '/usr/bin/telegraf',
} as const;

/** The deploy stamp the play writes at its end (role telegraf, tasks/run.yml). */
export interface AgentStamp {
  config_id: string;
  telegraf_version: string;
  /** sha256 of each configuration file written, by path. */
  files: Record<string, string>;
}

/** What one SSH command found on a host: its agent as the last play left it, and its way to InfluxDB. */
export type AgentProbe =
  | { reachable: false; detail: string }
  | {
      reachable: true;
      /** Absent when no play of Outpost ever finished on the host (or the stamp does not parse). */
      stamp?: AgentStamp;
      /** sha256 of each file of {@link AGENT_FILES} now (absent: no such file). */
      files: Record<string, string>;
      /** First line of `telegraf --version` now. */
      version?: string;
      running: boolean;
      /** Whether the VM got 204 from the agent-facing InfluxDB URL's /ping; undefined when there is none. */
      direct?: boolean;
    };

// A URL goes inside double quotes of a shell word and a Python string: nothing that could end either.
const SAFE_URL = /^https?:\/\/[A-Za-z0-9.:[\]_~/%-]+$/;

/**
 * The command the probe runs over SSH (as cloudroot, root through sudo): the stamp, the sha256 of the
 * configuration, the running Telegraf's version, whether the service runs, and a /ping of InfluxDB at
 * `agentUrl` from the VM. Every value is a constant of ours or checked here; sections are marked
 * `@@name` so one reply carries all.
 */
export function buildProbeCommand(input: { agentUrl?: string; python?: string }): string {
  const python = input.python !== undefined && INTERPRETER_PATH.test(input.python) ? input.python : 'python3';
  const url = input.agentUrl?.replace(/\/+$/, '');
  const ping =
    url !== undefined && SAFE_URL.test(url)
      ? `${python} -c "import urllib.request as u
try: print(u.urlopen(\\"${url}/ping\\", timeout=3).status)
except Exception as e: print(getattr(e, \\"code\\", 0))" 2>/dev/null </dev/null || echo 0`
      : 'echo none';
  const script = [
    `echo @@stamp; cat ${AGENT_FILES.stamp} 2>/dev/null; echo`,
    `echo @@files; sha256sum ${AGENT_FILES.config} 2>/dev/null`,
    `echo @@version; ${AGENT_FILES.binary} --version 2>/dev/null </dev/null | head -n 1`,
    // systemd where it runs, the init script elsewhere (the service module does the same).
    'echo @@service; if (systemctl is-active --quiet telegraf || service telegraf status) >/dev/null 2>&1 </dev/null; then echo running; else echo stopped; fi',
    `echo @@direct; ${ping}`,
    'echo @@end',
  ].join('\n');
  return `sudo -n sh -c '${script}'`;
}

/** Reads the reply of {@link buildProbeCommand}; undefined when it is cut short (the command did not finish). */
export function parseProbeReply(stdout: string): Extract<AgentProbe, { reachable: true }> | undefined {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of stdout.split('\n')) {
    const marker = /^@@(\w+)$/.exec(line.trim());
    if (marker?.[1]) sections.set(marker[1], (current = []));
    else current?.push(line);
  }
  if (!sections.has('end')) return undefined;
  const text = (name: string): string => (sections.get(name) ?? []).join('\n').trim();
  const files: Record<string, string> = {};
  for (const line of sections.get('files') ?? []) {
    const match = /^([0-9a-f]{64})\s+\*?(\/\S+)$/.exec(line.trim());
    if (match?.[1] && match[2]) files[match[2]] = match[1];
  }
  const version = text('version');
  const direct = text('direct');
  return {
    reachable: true,
    ...(parseStamp(text('stamp')) ?? {}),
    files,
    ...(version ? { version } : {}),
    running: text('service') === 'running',
    ...(direct === 'none' || direct === '' ? {} : { direct: direct === '204' }),
  };
}

function parseStamp(text: string): { stamp: AgentStamp } | undefined {
  if (text === '') return undefined;
  try {
    const value = JSON.parse(text) as Partial<AgentStamp>;
    if (typeof value.config_id !== 'string' || typeof value.telegraf_version !== 'string') return undefined;
    const files = Object.fromEntries(
      Object.entries(value.files ?? {}).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string',
      ),
    );
    return { stamp: { config_id: value.config_id, telegraf_version: value.telegraf_version, files } };
  } catch {
    return undefined;
  }
}

/**
 * The ControlPath ansible-playbook gives a host (its ssh connection plugin: sha1 of `host-port-user`,
 * 10 hex digits, in the control path dir), so the play that follows reuses the probe's connection.
 */
export function ansibleControlPath(controlDir: string, host: Pick<Host, 'id' | 'sshPort'>): string {
  const digest = createHash('sha1')
    .update(`${hostAlias(host.id)}-${host.sshPort}-cloudroot`)
    .digest('hex');
  return path.join(controlDir, digest.slice(0, 10));
}

/** Options of {@link probeAgents}. */
export interface ProbeAgentsInput {
  /** ssh_config of the run's inventory. */
  sshConfig: string;
  /** The run's ANSIBLE_SSH_CONTROL_PATH_DIR: connections stay open there for the play (60 s). */
  controlDir: string;
  hosts: Host[];
  /** Proxy of each host behind one, to name it when the way to it fails. */
  proxyOf: (host: Host) => Proxy | undefined;
  /** InfluxDB as VMs with a direct uplink address it; undefined: no direct check. */
  agentUrl: string | undefined;
  /** SSH commands at once. */
  concurrency: number;
  /** Extra tries of a host whose connection failed (ssh exit 255). */
  retries: number;
  retryDelayMs: number;
  signal: AbortSignal;
}

/** One SSH command per host, `concurrency` at a time: what {@link buildProbeCommand} finds there. */
export async function probeAgents(input: ProbeAgentsInput): Promise<Map<string, AgentProbe>> {
  const probes = new Map<string, AgentProbe>();
  await mapLimit(input.hosts, input.concurrency, async (host) => {
    const command = buildProbeCommand({
      ...(input.agentUrl !== undefined ? { agentUrl: input.agentUrl } : {}),
      ...(host.facts?.interpreter !== undefined ? { python: host.facts.interpreter } : {}),
    });
    for (let attempt = 0; ; attempt += 1) {
      const result = await runSsh(input.sshConfig, hostAlias(host.id), command, {
        signal: input.signal,
        timeoutMs: 60_000,
        sshOptions: [
          'ControlMaster=auto',
          'ControlPersist=60s',
          `ControlPath=${ansibleControlPath(input.controlDir, host)}`,
        ],
      });
      const reply = parseProbeReply(result.stdout);
      if (reply) {
        probes.set(host.id, reply);
        return;
      }
      const retry = result.exitCode === 255 && attempt < input.retries && !input.signal.aborted;
      if (!retry) {
        const proxy = input.proxyOf(host);
        const detail =
          result.exitCode === 255
            ? classifySshFailure(result.stderr, proxy).detail
            : `the probe failed (exit ${result.exitCode}): ${result.stderr.trim().split('\n').slice(-2).join('; ') || 'no output'}`;
        probes.set(host.id, { reachable: false, detail });
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, input.retryDelayMs));
    }
  });
  return probes;
}
