/**
 * Loss recovery and acknowledgement end to end (RFC 9000 §13.2, RFC 9002): ACK frequency and
 * delay, bounded ACK ranges, RTT estimation, PTO probes with back-off, persistent congestion,
 * and tolerance of reordering (a spurious loss is undone and widens the thresholds).
 */
import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { makePair, runHandshake, payload, transfer, type QuicPair, type PairOptions } from '../support/quic-pair.js';
import { craftPacket, deliver, F, inject, wireFrames, wirePackets, readStream } from '../support/quic-wire.js';
import { FrameType, type AckFrame, type Frame } from '../../src/transport/frame-types.js';
import type { LinkOptions } from '../support/sim-network.js';
import { TokenProtector } from '../../src/transport/token.js';
import { defaultCrypto } from '../../src/crypto/index.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function established(opts: PairOptions = {}): Promise<QuicPair> {
  const pair = await makePair(opts);
  expect(runHandshake(pair)).toBe(true);
  pair.net.run(() => false, 300);
  return pair;
}

type Ack = AckFrame;

/** ACK frames side 1 (the server) sends, with the time they leave. */
function serverAcks(pair: QuicPair): Array<{ t: number; ack: Ack }> {
  const out: Array<{ t: number; ack: Ack }> = [];
  pair.net.tap = (from, d) => {
    if (from === 1) for (const f of wireFrames(pair, 1, d)) if (f.type === FrameType.Ack) out.push({ t: pair.net.now, ack: f as Ack });
    return d;
  };
  return out;
}

describe('ACK generation (RFC 9000 §13.2)', () => {
  it('an ACK-only packet is never answered with an ACK-only packet (§13.2.1), also after NEW_TOKEN went out', async () => {
    const pair = await makePair({ server: { tokens: new TokenProtector(defaultCrypto, new Uint8Array(16).fill(5)) } });
    const log: Array<{ from: 0 | 1; t: number; ackOnly: boolean }> = [];
    pair.net.tap = (from, d) => {
      const frames = wireFrames(pair, from, d);
      const ackOnly = frames.length > 0 && frames.every((f) => f.type === FrameType.Ack || f.type === FrameType.Padding);
      log.push({ from, t: pair.net.now, ackOnly });
      return d;
    };
    expect(runHandshake(pair)).toBe(true);
    pair.net.run(() => false, 500);
    expect(pair.clientEvents.some((e) => e.type === 'newToken')).toBe(true);
    // The client acknowledges the server's last flight (HANDSHAKE_DONE, NEW_TOKEN, ...) with an
    // ACK-only packet; the server has nothing to say to it.
    const fromClient = log.filter((x) => x.from === 0 && x.ackOnly);
    expect(fromClient.length).toBeGreaterThan(0);
    for (const c of fromClient) {
      expect(log.some((x) => x.from === 1 && x.ackOnly && x.t === c.t + 10)).toBe(false);
    }
  });

  it('one ack-eliciting packet is acknowledged after max_ack_delay, with that delay reported', async () => {
    const pair = await established({ serverTransport: { maxAckDelay: 40 } });
    const acks = serverAcks(pair);
    const t0 = pair.net.now;
    const pn = pair.client.spaces[2].nextPn;
    inject(pair, 0, [F.ping()]);
    pair.net.run(() => acks.length > 0, 200);
    expect(acks[0]!.t - t0).toBe(40);
    expect(acks[0]!.ack.largestAcknowledged).toBe(pn);
    // ACK Delay is in units of 2^ack_delay_exponent µs (default 3): 40 ms = 5000 units.
    expect(acks[0]!.ack.ackDelay).toBe(5000);
  });

  it('a second ack-eliciting packet is acknowledged at once', async () => {
    const pair = await established({ serverTransport: { maxAckDelay: 40 } });
    const acks = serverAcks(pair);
    const t0 = pair.net.now;
    inject(pair, 0, [F.ping()]);
    pair.net.run(() => false, 5);
    inject(pair, 0, [F.ping()]);
    pair.net.run(() => acks.length > 0, 200);
    expect(acks[0]!.t - t0).toBe(5);
    expect(acks.length).toBe(1);
  });

  it('a packet arriving out of order is acknowledged at once', async () => {
    const pair = await established({ serverTransport: { maxAckDelay: 40 } });
    const acks = serverAcks(pair);
    const t0 = pair.net.now;
    const pn = pair.client.spaces[2].nextPn;
    pair.client.spaces[2].nextPn = pn + 3; // skip two numbers: a gap
    inject(pair, 0, [F.ping()]);
    pair.net.run(() => acks.length > 0, 200);
    expect(acks[0]!.t - t0).toBe(0);
    expect(acks[0]!.ack.largestAcknowledged).toBe(pn + 3);
  });

  it('packets with only ACK or PADDING are never acknowledged by themselves', async () => {
    const pair = await established();
    const acks = serverAcks(pair);
    inject(pair, 0, Uint8Array.of(0, 0, 0, 0, 0));
    pair.net.run(() => false, 500);
    expect(acks.length).toBe(0);
  });

  it('ACK ranges stay bounded however many gaps the peer creates', async () => {
    const pair = await established({ serverTransport: { maxAckRanges: 32 } });
    const client = pair.client;
    const server = pair.server.conn!;
    const acks = serverAcks(pair);
    const sizes: number[] = [];
    const tap = pair.net.tap!;
    pair.net.tap = (from, d) => {
      if (from === 1) for (const p of wirePackets(pair, 1, d)) if (p.frames?.some((f) => f.type === FrameType.Ack)) sizes.push(d.length);
      return tap(from, d);
    };
    const base = client.spaces[2].nextPn;
    for (let i = 0; i < 1000; i++) {
      deliver(pair, 1, craftPacket(client, [F.ping()], { pn: base + 2 * i }));
      if (i % 50 === 0) pair.net.run(() => false, 1);
    }
    client.spaces[2].nextPn = base + 2000;
    pair.net.run(() => false, 100);
    const tracker = server.spaces[2].tracker;
    expect(tracker.received.rangeCount).toBeLessThanOrEqual(32);
    expect(acks.length).toBeGreaterThan(10);
    // Every ACK frame fits its budget; the newest range is always reported.
    for (const { ack } of acks) expect(ack.ranges.length / 2).toBeLessThanOrEqual(32);
    expect(acks.at(-1)!.ack.largestAcknowledged).toBe(base + 1998);
    expect(Math.max(...sizes)).toBeLessThan(400);
    expect(server.state).toBe('established');
    expect(client.state).toBe('established');
  });
});

describe('RTT estimation (RFC 9002 §5)', () => {
  for (const [name, links] of [
    ['symmetric 40+40 ms', [{ delay: 40 }, { delay: 40 }]],
    ['asymmetric 15+65 ms', [{ delay: 15 }, { delay: 65 }]],
  ] as Array<[string, [LinkOptions, LinkOptions]]>) {
    it(`converges to the path RTT (${name}) on both sides, ack delays excluded`, async () => {
      const pair = await makePair({ links });
      expect(runHandshake(pair)).toBe(true);
      const r = transfer(pair, payload(1 << 20));
      expect(r.ok).toBe(true);
      for (const c of [pair.client, pair.server.conn!]) {
        expect(c.rtt.minRtt).toBeCloseTo(80, 0);
        expect(Math.abs(c.rtt.smoothedRtt - 80)).toBeLessThan(4);
        expect(c.rtt.rttVar).toBeLessThan(10);
      }
    });
  }

  it('follows a path whose delay changes', async () => {
    const links: [LinkOptions, LinkOptions] = [{ delay: 10 }, { delay: 10 }];
    const pair = await makePair({ links });
    expect(runHandshake(pair)).toBe(true);
    expect(pair.client.rtt.smoothedRtt).toBeCloseTo(20, 0);
    links[0].delay = 60;
    links[1].delay = 60;
    transfer(pair, payload(1 << 20));
    expect(Math.abs(pair.client.rtt.smoothedRtt - 120)).toBeLessThan(6);
    expect(pair.client.rtt.minRtt).toBeCloseTo(20, 0);
  });
});

describe('probe timeout (RFC 9002 §6.2)', () => {
  it('a lost tail is resent by the PTO probe, which carries the data', async () => {
    const pair = await established();
    const client = pair.client;
    const server = pair.server.conn!;
    const sent: Array<{ t: number; frames: Frame[] }> = [];
    let dropNext = true;
    pair.net.tap = (from, d) => {
      if (from !== 0) return d;
      sent.push({ t: pair.net.now, frames: wireFrames(pair, 0, d) });
      if (dropNext) {
        dropNext = false;
        return undefined;
      }
      return d;
    };
    const t0 = pair.net.now;
    const pto = client.recovery.ptoDuration();
    const id = client.openStream(true)!;
    client.streamWrite(id, payload(1000), true);
    pair.net.run(() => server.streamReadable(id) === 1000, 5000);
    expect(readStream(server, id)).toEqual(payload(1000));
    expect(sent[0]!.frames.some((f) => f.type === FrameType.Stream)).toBe(true);
    const probe = sent[1]!;
    expect(probe.t - t0).toBeCloseTo(pto, 0);
    expect(probe.frames.some((f) => f.type === FrameType.Stream && f.offset === 0 && f.data.length === 1000 && f.fin)).toBe(true);
  });

  it('probes back off exponentially while the path is dead, and the connection recovers', async () => {
    const links: [LinkOptions, LinkOptions] = [{ delay: 10 }, { delay: 10 }];
    const pair = await established({ links });
    const client = pair.client;
    const server = pair.server.conn!;
    const start = pair.net.now;
    links[0].blackholes = [[start, start + 5000]];
    links[1].blackholes = [[start, start + 5000]];
    const times: number[] = [];
    pair.net.tap = (from, d) => {
      if (from === 0) times.push(pair.net.now - start);
      return d;
    };
    const id = client.openStream(true)!;
    client.streamWrite(id, payload(2000), true);
    pair.net.run(() => server.streamReadable(id) === 2000, 20_000);
    expect(server.streamReadable(id)).toBe(2000);
    // Probe rounds (two datagrams each) at PTO, 3·PTO, 7·PTO, …: the gaps double.
    const rounds = [...new Set(times.slice(1))].filter((t) => t < 5000);
    const gaps = rounds.slice(1).map((t, i) => t - rounds[i]!);
    expect(gaps.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]! / gaps[i - 1]!).toBeCloseTo(2, 1);
    expect(client.recovery.ptoCount).toBe(0);
  });
});

describe('congestion response', () => {
  /** Records every congestion event of the client: (persistent?, window right after). */
  function congestionEvents(pair: QuicPair): Array<{ persistent: boolean; cwnd: number }> {
    const out: Array<{ persistent: boolean; cwnd: number }> = [];
    const cc = pair.client.cc;
    const lost = cc.onPacketsLost.bind(cc);
    cc.onPacketsLost = (now, bytes, sentTime, persistent) => {
      lost(now, bytes, sentTime, persistent);
      out.push({ persistent, cwnd: cc.congestionWindow });
    };
    return out;
  }

  it('persistent congestion (a long blackhole) collapses the window to the minimum; the transfer still completes', async () => {
    const links: [LinkOptions, LinkOptions] = [{ delay: 10 }, { delay: 10 }];
    const pair = await makePair({ links });
    expect(runHandshake(pair)).toBe(true);
    const t = pair.net.now + 100;
    links[0].blackholes = [[t, t + 3000]];
    links[1].blackholes = [[t, t + 3000]];
    const events = congestionEvents(pair);
    const data = payload(4 << 20);
    let beforeBlackhole = 0;
    const r = transferWith(pair, data, () => {
      if (pair.net.now < t) beforeBlackhole = pair.client.cc.congestionWindow;
    });
    expect(r.ok).toBe(true);
    expect(sha(r.received)).toBe(sha(data));
    expect(beforeBlackhole).toBeGreaterThan(20 * 1452);
    expect(events).toEqual([{ persistent: true, cwnd: pair.client.cc.minimumWindow }]);
  });

  it('a short outage (below the persistent congestion duration) reduces the window but does not collapse it', async () => {
    const links: [LinkOptions, LinkOptions] = [{ delay: 10 }, { delay: 10 }];
    const pair = await makePair({ links });
    expect(runHandshake(pair)).toBe(true);
    const t = pair.net.now + 100;
    links[0].blackholes = [[t, t + 15]];
    const events = congestionEvents(pair);
    const data = payload(4 << 20);
    const r = transfer(pair, data);
    expect(r.ok).toBe(true);
    expect(sha(r.received)).toBe(sha(data));
    // Losses, possibly reported in several batches within one recovery period: one reduction.
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => !e.persistent && e.cwnd > 10 * pair.client.cc.minimumWindow)).toBe(true);
    expect(new Set(events.map((e) => e.cwnd)).size).toBe(1);
  });

  it('reordering is not congestion: spurious losses are undone, unlike the same rate of real loss', async () => {
    const run = async (link: LinkOptions) => {
      const pair = await makePair({ link, seed: 3 });
      expect(runHandshake(pair)).toBe(true);
      const data = payload(5 << 20);
      const r = transfer(pair, data);
      expect(sha(r.received)).toBe(sha(data));
      return { ms: r.simulatedMs, cwnd: pair.client.cc.congestionWindow, rec: pair.client.recovery };
    };
    const clean = await run({ delay: 10 });
    const reordered = await run({ delay: 10, reorder: 0.02, reorderDelay: 8 });
    const lossy = await run({ delay: 10, loss: 0.02 });
    console.log(`5 MB: clean ${clean.ms} ms, 2% reordered ${reordered.ms} ms (cwnd ${reordered.cwnd}), 2% lost ${lossy.ms} ms (cwnd ${lossy.cwnd})`);
    expect(reordered.rec.spuriousLosses).toBeGreaterThan(10);
    expect(reordered.rec.packetThreshold).toBeGreaterThan(3);
    expect(reordered.rec.timeThreshold).toBeGreaterThan(9 / 8);
    expect(reordered.ms).toBeLessThan(2 * clean.ms);
    expect(reordered.cwnd).toBeGreaterThan(10 * lossy.cwnd);
    expect(lossy.rec.spuriousLosses).toBe(0);
  });
});

/** Like `transfer`, also calling `each` after every simulation step. */
function transferWith(pair: QuicPair, data: Uint8Array, each: () => void) {
  const net = pair.net;
  const run = net.run.bind(net);
  net.run = (until, maxTime, maxSteps) => {
    const step = net.afterStep;
    net.afterStep = () => {
      step?.();
      each();
    };
    return run(until, maxTime, maxSteps);
  };
  return transfer(pair, data);
}
