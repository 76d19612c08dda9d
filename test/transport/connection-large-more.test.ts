/** 50 MB transfers under reordering, duplication, corruption, long RTT and a blackhole (see connection-large.test.ts). */
import { describe, it } from 'vitest';
import { MB, TRANSFER_CASES, transferCase } from '../support/transfer-cases.js';

describe('50 MB transfers (other impairments)', () => {
  for (const [name, link] of TRANSFER_CASES.slice(3)) it(`arrive byte-exact with ${name}`, transferCase(name, link, 50 * MB), 60_000);
});
