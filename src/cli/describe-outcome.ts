import { formatTime } from './format-time.ts';

/** A per-host line of a job's result, whatever its kind (the fields each kind adds are optional). */
export interface ResultLine {
  ok?: number;
  changed?: number;
  failed?: number;
  unreachable?: number;
  firstError?: { task: string; status: string; msg: string };
  agent?: { state: string; uplink?: string; url?: string; firstPointAt?: string; reason?: string };
  login?: { state: string; way?: string; reason?: string };
  probe?: { reach?: string; ways: Record<string, { ok: boolean; reason?: string; detail?: string }> };
  selfTest?: { ok: boolean; bindAddress?: string; port?: number; detail?: string };
  verified?: { ok: boolean; detail?: string };
  detail?: string;
}

/** What a job did to one host, in one line: the agent's verdict, the login and reach, or the first error. */
export function describeOutcome(line: ResultLine): string {
  if (line.agent) return describeVerdict(line.agent);
  const parts: string[] = [];
  if (line.login) parts.push(`login ${line.login.state}${line.login.way ? ` (${line.login.way})` : ''}`);
  if (line.probe) {
    parts.push(`reach ${line.probe.reach ?? 'none'}`);
    for (const [way, found] of Object.entries(line.probe.ways))
      parts.push(`${way}=${found.ok ? 'ok' : (found.reason ?? 'failed')}`);
  }
  if (line.verified)
    parts.push(`cloudroot ${line.verified.ok ? 'ok' : `failed: ${line.verified.detail ?? ''}`}`);
  if (line.selfTest)
    parts.push(
      line.selfTest.ok
        ? `self-test ok (${line.selfTest.bindAddress ?? ''}:${line.selfTest.port ?? ''})`
        : `self-test FAILED: ${line.selfTest.detail ?? ''}`,
    );
  if (parts.length > 0) return parts.join(', ');
  if (line.detail) return line.detail;
  if (line.firstError)
    return `${line.firstError.status} at "${line.firstError.task}": ${line.firstError.msg.trim()}`;
  return 'ok';
}

/** A deploy's verdict on a host: reporting since its first point and where it writes, or why not. */
export function describeVerdict(agent: NonNullable<ResultLine['agent']>): string {
  const where = agent.uplink ? `uplink ${agent.uplink}${agent.url ? `, writes to ${agent.url}` : ''}` : '';
  if (agent.state === 'reporting')
    return [`reporting, first point ${formatTime(agent.firstPointAt)}`, where].filter(Boolean).join(', ');
  return `${agent.state}: ${agent.reason ?? 'no reason recorded'}`;
}
