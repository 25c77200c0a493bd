import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** Vitest global setup: tests start `bin/outpost.js`, which runs dist/; rebuild it first when src/ is newer. */
export default function setup(): void {
  execFileSync(path.resolve(import.meta.dirname, '../../scripts/build-if-stale'), { stdio: 'inherit' });
}
