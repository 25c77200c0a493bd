import type { JobRecord } from './job-record.ts';

/** One slice to run: its hosts, and the proxy they are behind (none: reached directly). */
export interface SliceSpec {
  hosts: string[];
  proxy?: string;
}

/** How a job runs as slices: its rolling batches in order, each a list of slices. */
export interface SlicePlan {
  /** Hosts of the whole job. */
  total: number;
  batches: SliceSpec[][];
}

/** Decides whether and how a job is sliced; undefined runs it whole, as one job. */
export type PlanSlices = (job: JobRecord) => Promise<SlicePlan | undefined>;
