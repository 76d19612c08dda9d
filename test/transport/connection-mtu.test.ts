/**
 * Path MTU discovery (DPLPMTUD, RFC 8899; RFC 9000 §14.3) end to end over the simulated
 * network: the search finds what the path carries, probe losses are not congestion, and a
 * probe never takes the congestion window from the traffic around it.
 */
import { describe, it, expect } from 'vitest';
import { makePair, runHandshake, payload, transfer, type QuicPair } from '../support/quic-pair.js';
import { wireFrames } from '../support/quic-wire.js';
import { FrameType } from '../../src/transport/frame-types.js';

/** Datagrams of one side, with what the connection's window looked like as each left. */
function record(pair: QuicPair, side: 0 | 1) {
  const sent: Array<{ t: number; size: number; inFlight: number; cwnd: number; maxDatagram: number; frames: number[] }> = [];
  pair.net.tap = (from, d) => {
    const conn = from === 0 ? pair.client : pair.server.conn;
    if (from === side && conn !== undefined) {
      sent.push({
        t: pair.net.now,
        size: d.length,
        inFlight: conn.recovery.bytesInFlight,
        cwnd: conn.cc.congestionWindow,
        maxDatagram: conn.maxDatagramSize,
        frames: wireFrames(pair, from, d).map((f) => f.type),
      });
    }
    return d;
  };
  return sent;
}

describe('path MTU discovery', () => {
  it('finds a 1400-byte path by probing the ceiling, then bisecting; the lost probes cost no window', async () => {
    const pair = await makePair({ transport: { mtuDiscoveryMax: 9000 }, link: { delay: 10, mtu: 1400 } });
    const sent = record(pair, 0);
    expect(runHandshake(pair)).toBe(true);
    const data = payload(3_000_000);
    const r = transfer(pair, data);
    expect(r.ok).toBe(true);
    pair.net.run(() => false, 2000); // the search goes on while the window holds a probe
    const probes = sent.filter((s) => s.size > s.maxDatagram);
    expect(probes.every((p) => p.frames.every((f) => f === FrameType.Ping || f === FrameType.Padding))).toBe(true);
    expect(probes[0]!.size).toBe(9000); // the ceiling first
    const size = pair.client.maxDatagramSize;
    expect(size).toBeLessThanOrEqual(1400);
    expect(size).toBeGreaterThan(1400 - 16);
    const changes = pair.clientEvents.filter((e) => e.type === 'pathMtuChanged');
    expect(changes.length).toBeGreaterThan(0);
    expect(changes.at(-1)).toEqual({ type: 'pathMtuChanged', maxDatagramSize: size });
    // Nothing but probes was lost on this path, and lost probes are not congestion signals.
    expect(pair.client.recovery.packetsLost).toBeGreaterThan(0);
    expect(pair.client.cc.slowStartThreshold).toBe(Infinity);
  });

  it('a probe takes only the room the congestion window has: the handshake flight is not held behind a 64 KB probe', async () => {
    const pair = await makePair({ transport: { mtuDiscoveryMax: 65507 } });
    const server = record(pair, 1);
    expect(runHandshake(pair)).toBe(true);
    pair.net.run(() => false, 1000);
    const s = pair.server.conn!;
    // HANDSHAKE_DONE went out in the server's first 1-RTT datagram after the client's Finished,
    // ahead of any probe.
    const done = server.find((x) => x.frames.includes(FrameType.HandshakeDone))!;
    expect(done).toBeDefined();
    expect(server.slice(0, server.indexOf(done) + 1).filter((x) => x.size > 1200)).toEqual([]);
    // Idle, the server probed with what its window held (12 KB at first), each acknowledged
    // size growing the initial window, until the ceiling.
    const probes = server.filter((x) => x.size > x.maxDatagram);
    expect(probes.length).toBeGreaterThan(1);
    expect(probes[0]!.size).toBeLessThanOrEqual(12000);
    for (const p of probes) expect(p.inFlight).toBeLessThanOrEqual(p.cwnd);
    expect(s.maxDatagramSize).toBe(65507);

    // A transfer: the client's probes never overdraw its window either.
    const client = record(pair, 0);
    const r = transfer(pair, payload(8_000_000));
    expect(r.ok).toBe(true);
    expect(pair.client.maxDatagramSize).toBe(65507);
    for (const p of client.filter((x) => x.size > x.maxDatagram)) expect(p.inFlight).toBeLessThanOrEqual(p.cwnd);
  });
});
