/**
 * Bulk transfers over the simulated network arrive byte-exact (SHA-256) under loss,
 * reordering, duplication, corruption, long RTT and a 3-second blackhole, at 1 MB and 50 MB.
 * The 50 MB cases are split with connection-large-more.test.ts so both files run in parallel.
 */
import { describe, it } from 'vitest';
import { MB, TRANSFER_CASES, transferCase } from '../support/transfer-cases.js';

describe('1 MB transfers', () => {
  for (const [name, link] of TRANSFER_CASES) it(`arrive byte-exact with ${name}`, transferCase(name, link, MB));
});

describe('50 MB transfers (loss)', () => {
  for (const [name, link] of TRANSFER_CASES.slice(0, 3)) it(`arrive byte-exact with ${name}`, transferCase(name, link, 50 * MB), 60_000);
});
