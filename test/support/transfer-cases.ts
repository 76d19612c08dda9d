/**
 * The bulk-transfer matrix shared by connection-large*.test.ts: each case moves `size` bytes
 * client → server over an impaired simulated link and checks SHA-256, printing real and
 * simulated time.
 */
import { expect } from 'vitest';
import { createHash } from 'node:crypto';
import { makePair, payload, transfer } from './quic-pair.js';
import type { LinkOptions } from './sim-network.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Both directions dead for 3 s, 150 ms (simulated) after the transfer starts. */
export const BLACKHOLE = 'blackhole';

export const TRANSFER_CASES: ReadonlyArray<readonly [string, LinkOptions | typeof BLACKHOLE]> = [
  ['0% loss', { delay: 10 }],
  ['5% loss', { delay: 10, loss: 0.05 }],
  ['30% loss', { delay: 10, loss: 0.3 }],
  ['reordering and duplication', { delay: 10, jitter: 8, duplicate: 0.05, reorder: 0.05, reorderDelay: 15 }],
  ['1% corruption', { delay: 10, corrupt: 0.01 }],
  ['200 ms RTT and 1% loss', { delay: 100, loss: 0.01 }],
  ['a 3 s blackhole', BLACKHOLE],
];

export const MB = 1 << 20;

const payloads = new Map<number, { data: Uint8Array; hash: string }>();
function data(size: number): { data: Uint8Array; hash: string } {
  let p = payloads.get(size);
  if (p === undefined) {
    const d = payload(size, 11);
    p = { data: d, hash: sha(d) };
    payloads.set(size, p);
  }
  return p;
}

/** A test body transferring `size` bytes over `link` (50 MB cases write 4 MB chunks). */
export function transferCase(name: string, link: LinkOptions | typeof BLACKHOLE, size: number): () => Promise<void> {
  return async () => {
    const links: [LinkOptions, LinkOptions] = link === BLACKHOLE ? [{ delay: 10 }, { delay: 10 }] : [{ ...link }, { ...link }];
    const pair = await makePair({ links, seed: 42 });
    if (link === BLACKHOLE) {
      const t = pair.net.now + 150;
      links[0].blackholes = [[t, t + 3000]];
      links[1].blackholes = [[t, t + 3000]];
    }
    const { data: d, hash } = data(size);
    const t0 = performance.now();
    const r = transfer(pair, d, 10_000_000, size >= 8 * MB ? 4 * MB : 64 * 1024);
    const real = performance.now() - t0;
    console.log(
      `${size / MB} MB, ${name}: ${real.toFixed(0)} ms real, ${r.simulatedMs.toFixed(0)} ms simulated, ` +
        `datagrams ${pair.net.stats.sent.join('/')}, dropped ${pair.net.stats.dropped.join('/')}`,
    );
    expect(r.ok).toBe(true);
    expect(r.received.length).toBe(size);
    expect(sha(r.received)).toBe(hash);
    if (link === BLACKHOLE) expect(r.simulatedMs).toBeGreaterThan(3000);
    expect(pair.client.state).toBe('established');
    expect(pair.server.conn!.state).toBe('established');
  };
}
