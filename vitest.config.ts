import { defineConfig } from 'vitest/config';

// Three tiers (STYLE.md): unit is pure; integration and e2e use real sshd, Redis, InfluxDB and
// ansible-playbook inside the lab. Files run one at a time: labs, ports and CPU are shared on a 2-core machine.
export default defineConfig({
  test: {
    fileParallelism: false,
    // Tests start the compiled `bin/outpost.js`: dist/ is rebuilt first when src/ is newer.
    globalSetup: ['test/support/build-if-stale.ts'],
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/lab/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], testTimeout: 600_000, hookTimeout: 300_000 },
      },
      // Fault drills over a minute each: only with `npm run drills` (OUTPOST_DRILLS=1), never in `npm test`.
      ...(process.env.OUTPOST_DRILLS
        ? [
            {
              test: {
                name: 'drills',
                include: ['test/drills-long/**/*.test.ts'],
                testTimeout: 900_000,
                hookTimeout: 300_000,
              },
            },
          ]
        : []),
    ],
  },
});
