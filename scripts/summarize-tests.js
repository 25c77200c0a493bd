// Prints the closing line of a test run ("N passed, N failed, N skipped") from Vitest's JSON report,
// and exits non-zero when any test was skipped, todo, or failed.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2] ?? 'var/test-results.json', 'utf8'));
const passed = report.numPassedTests;
const failed = report.numFailedTests;
const skipped = report.numPendingTests + report.numTodoTests;
if (skipped > 0) {
  for (const file of report.testResults)
    for (const test of file.assertionResults)
      if (test.status !== 'passed' && test.status !== 'failed')
        console.log(`not run: ${test.fullName} (${file.name})`);
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 || skipped > 0 || !report.success ? 1 : 0;
