import type { AnsibleStrategy } from '../../ansible/ansible-strategy.ts';
import type { runPlaybook } from '../../ansible/run-playbook.ts';
import type { JobRecord } from '../../queue/job-record.ts';
import type { AgentDeps } from '../agent/agent-deps.ts';
import type { Registry } from '../../registry/registry.ts';
import type { KeyStore } from '../../secrets/key-store.ts';
import type { TunnelKeeper } from '../../tunnels/index.ts';

/** The inventory of one run, written into its run dir. */
export interface PreparedInventory {
  /** Path of hosts.yml. */
  inventory: string;
  /**
   * Path of the ssh_config hosts.yml points at (`-F`), for commands outside the play: the fast path's
   * probe, and asking again why a host was unreachable when Ansible did not say.
   */
  sshConfig?: string;
  /** Files holding secrets (private keys): removed when the run ends. */
  secretFiles: string[];
  /** ssh control-socket dirs outside the run dir (a short path for long run dirs): masters stopped, dirs removed when the run ends. */
  controlDirs?: string[];
}

/** Writes the inventory of `job` (its hosts, their proxies, keys 0600) into `dir`. */
export type PrepareInventory = (dir: string, job: JobRecord) => Promise<PreparedInventory>;

/** Everything an orchestrator needs, given by main.ts (or a test). */
export interface JobDeps {
  /** Repository root (ansible.cfg, playbooks/). */
  rootDir: string;
  /** Parent of the private run dirs: `var/runs`. */
  runsDir: string;
  /** Inventory from the registry; absent until the reach part is wired. */
  prepareInventory?: PrepareInventory;
  /** Allows `hosts: ['localhost']` runs with a local connection (tests, the control plane itself). */
  allowLocal?: boolean;
  /** The runner; a parameter so a test can observe it. */
  runPlaybook: typeof runPlaybook;
  /** SIGTERM to SIGKILL grace of a cancelled run. Default 5000 ms. */
  killGraceMs?: number;
  /** Strategy of every play (OUTPOST_ANSIBLE_STRATEGY); Ansible's default (linear) when absent. */
  ansibleStrategy?: AnsibleStrategy;
  /** The live registry: enroll, probe and prepare-proxy record login, reach, keys and facts in it. */
  registry?: Registry;
  /** Project and admin keys (public keys for cloudroot, the project private key for logins). */
  keys?: KeyStore;
  /** This node's tunnel keeper, when it runs one: probe tries the `forward` way through it. */
  tunnels?: TunnelKeeper;
  /** InfluxDB, uplinks and verification for deploy-agent and remove-agent; absent on a worker without InfluxDB. */
  agent?: AgentDeps;
}
