#!/usr/bin/env node
// Runs the whole vitest suite and ends with one plain summary line, `N passed, M failed`,
// which CI reads. The exit code is vitest's (non-zero when anything failed or errored).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { ensurePeers } from './ensure-peers.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The interop tests need real peers: install them first when the run includes those tests.
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
if (filters.length === 0 || filters.some((f) => f.includes('interop'))) ensurePeers(root);
const report = join(root, '.vitest-report.json');
rmSync(report, { force: true });

const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const run = spawnSync(
  process.execPath,
  [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit' },
);

let passed = 0;
let failed = 0;
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed = r.numPassedTests ?? 0;
  failed = (r.numFailedTests ?? 0) + (r.numRuntimeErrorTestSuites ?? 0);
  // A test file that fails to load counts as a failure even if vitest reports no test in it.
  for (const file of r.testResults ?? []) {
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) failed += 1;
  }
} catch {
  failed = Math.max(failed, 1);
}
const code = run.status ?? 1;
if (code !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(code);
