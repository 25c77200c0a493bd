import { seal, unseal } from '../secrets/seal.ts';

/** Seals and unseals one job's credentials under the master key; a blob opens only for the job it was sealed for. */
export interface Sealer {
  seal(jobId: string, plaintext: string): string;
  unseal(jobId: string, sealed: string): Buffer;
}

/** The job-credentials sealer: the job id is the associated data, so a sealed blob copied to another job does not open. */
export function createSealer(masterKey: Buffer): Sealer {
  const context = (jobId: string): string => `job-credentials:${jobId}`;
  return {
    seal: (jobId, plaintext) => seal(plaintext, masterKey, context(jobId)),
    unseal: (jobId, sealed) => unseal(sealed, masterKey, context(jobId)),
  };
}
