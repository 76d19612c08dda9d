/**
 * Path validation and connection migration (RFC 9000 §8.2, §9) through the simulated network:
 * NAT rebinding mid-transfer, a move to a new IP address, a packet replayed from a spoofed
 * address, validation failure and the return to the last validated path, the
 * anti-amplification limit on an unvalidated path, PATH_RESPONSE on the challenge's path,
 * and a client that ignores server packets from unknown addresses.
 *
 * The simulator delivers every datagram to the other node whatever its destination; a routing
 * wrapper here delivers only those addressed to the other node's current address and keeps
 * the rest (sent to an old NAT mapping or to a spoofed address) for inspection.
 */
import { describe, it, expect } from 'vitest';
import type { ConnectionEvent, PathAddress } from '../../src/transport/events.js';
import { FrameType, type Frame } from '../../src/transport/frame-types.js';
import { makePair, payload, runHandshake, transfer, type PairOptions, type QuicPair } from '../support/quic-pair.js';
import { craftPacket, deliver, wirePackets } from '../support/quic-wire.js';
import type { SimAddress, SimNetwork, SimNode } from '../support/sim-network.js';

const CLIENT_A: PathAddress = { address: '10.0.0.1', port: 50000, family: 'IPv4' };
const SERVER: PathAddress = { address: '10.0.0.2', port: 443, family: 'IPv4' };

interface Sent {
  to: PathAddress;
  data: Uint8Array;
  at: number;
  /** Its frames, decoded when it was sent (later the keys or packet-number context may differ). */
  frames: Frame[];
}

/** Delivers a node's datagrams only when addressed to the other node's current address. */
class RoutedNode implements SimNode {
  /** Every datagram the node sent, with its destination. */
  readonly sent: Sent[] = [];
  /** Those that went to an address where the other node is not. */
  readonly misrouted: Sent[] = [];
  /** Decodes a datagram's frames as it is sent. */
  decode: (data: Uint8Array) => Frame[] = () => [];
  constructor(
    private readonly inner: SimNode,
    private readonly net: SimNetwork,
    private readonly peer: 0 | 1,
  ) {}
  receive(datagram: Uint8Array, from: SimAddress, now: number): void {
    this.inner.receive(datagram, from, now);
  }
  pollTransmit(now: number): { data: Uint8Array; to?: SimAddress } | undefined {
    for (;;) {
      const out = this.inner.pollTransmit(now);
      if (out === undefined) return undefined;
      const to = out.to!;
      const s: Sent = { to: { ...to }, data: out.data.slice(), at: now, frames: this.decode(out.data) };
      this.sent.push(s);
      const dest = this.net.addresses[this.peer];
      if (to.address === dest.address && to.port === dest.port) return out;
      this.misrouted.push(s);
    }
  }
  nextDeadline(): number | undefined {
    return this.inner.nextDeadline();
  }
  handleTimeout(now: number): void {
    this.inner.handleTimeout(now);
  }
}

interface RoutedPair extends QuicPair {
  serverRoute: RoutedNode;
  clientRoute: RoutedNode;
}

async function established(opts: PairOptions = {}): Promise<RoutedPair> {
  const pair = await makePair(opts);
  const net = pair.net;
  const clientRoute = new RoutedNode(net.nodes[0], net, 1);
  const serverRoute = new RoutedNode(net.nodes[1], net, 0);
  net.nodes[0] = clientRoute;
  net.nodes[1] = serverRoute;
  clientRoute.decode = (d) => framesOf(pair, 0, d);
  serverRoute.decode = (d) => framesOf(pair, 1, d);
  expect(runHandshake(pair)).toBe(true);
  net.run(() => false, 200);
  return Object.assign(pair, { serverRoute, clientRoute });
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const same = (a: PathAddress, b: PathAddress) => a.address === b.address && a.port === b.port;
const addressEvents = (events: ConnectionEvent[]) =>
  events.filter((e): e is Extract<ConnectionEvent, { type: 'peerAddressChanged' }> => e.type === 'peerAddressChanged').map((e) => e.address);
const bytesTo = (sent: Sent[], to: PathAddress) => sent.filter((s) => same(s.to, to)).reduce((n, s) => n + s.data.length, 0);
const framesOf = (pair: QuicPair, from: 0 | 1, data: Uint8Array): Frame[] => wirePackets(pair, from, data).flatMap((p) => p.frames ?? []);

/** Runs a client-to-server transfer of `size` bytes, calling `during(n)` on the n-th client datagram. */
function transferWith(pair: QuicPair, size: number, during: (n: number) => void): ReturnType<typeof transfer> {
  let n = 0;
  pair.net.tap = (from, d) => {
    if (from === 0) during(++n);
    return d;
  };
  const data = payload(size);
  const r = transfer(pair, data, 120_000);
  expect(r.ok).toBe(true);
  expect(Buffer.from(r.received).equals(Buffer.from(data))).toBe(true);
  return r;
}

describe('NAT rebinding (RFC 9000 §9.3, §9.4)', () => {
  it('a port change mid-transfer: data keeps flowing, the new address is validated, congestion state is kept', async () => {
    const pair = await established();
    const server = pair.server.conn!;
    const ccBefore = server.cc;
    const rebound: PathAddress = { address: '10.0.0.1', port: 50001, family: 'IPv4' };
    transferWith(pair, 1_000_000, (n) => {
      if (n === 200) pair.net.addresses[0] = rebound;
    });
    expect(same(server.peerAddress, rebound)).toBe(true);
    expect(server.addressValidated).toBe(true);
    expect(addressEvents(pair.serverEvents)).toEqual([rebound]);
    // A port-only change may keep the congestion controller and RTT estimate (§9.4).
    expect(server.cc).toBe(ccBefore);
    // Everything after the switch went to the new address; nothing to the old one after the event.
    const sentToNew = pair.serverRoute.sent.filter((s) => same(s.to, rebound));
    expect(sentToNew.length).toBeGreaterThan(10);
    const firstNew = sentToNew[0]!.at;
    expect(pair.serverRoute.sent.filter((s) => s.at > firstNew && same(s.to, CLIENT_A) && s.frames.some((f) => f.type === FrameType.Ack))).toEqual([]);
  });

  it('a server that advertised disable_active_migration still follows a NAT rebinding', async () => {
    const pair = await established({ serverTransport: { disableActiveMigration: true } });
    expect(pair.client.peerParams?.disableActiveMigration).toBe(true);
    const rebound: PathAddress = { address: '10.0.0.1', port: 61000, family: 'IPv4' };
    transferWith(pair, 300_000, (n) => {
      if (n === 50) pair.net.addresses[0] = rebound;
    });
    expect(same(pair.server.conn!.peerAddress, rebound)).toBe(true);
    expect(addressEvents(pair.serverEvents)).toEqual([rebound]);
  });
});

describe('migration to a new address (RFC 9000 §9.3, §9.4, §9.5)', () => {
  it('a new IP address: validated with PATH_CHALLENGE, fresh congestion state, a fresh connection ID', async () => {
    const pair = await established();
    const server = pair.server.conn!;
    const ccBefore = server.cc;
    const dcidBefore = server.peerCids.active.slice();
    const moved: PathAddress = { address: '10.0.7.7', port: 40000, family: 'IPv4' };
    let challenges = 0;
    transferWith(pair, 500_000, (n) => {
      if (n === 100) pair.net.addresses[0] = moved;
    });
    expect(same(server.peerAddress, moved)).toBe(true);
    expect(addressEvents(pair.serverEvents)).toEqual([moved]);
    expect(server.cc).not.toBe(ccBefore);
    // PATH_CHALLENGE frames went to the new address; the client answered each on its path.
    for (const s of pair.serverRoute.sent) if (same(s.to, moved)) challenges += s.frames.filter((f) => f.type === FrameType.PathChallenge).length;
    expect(challenges).toBeGreaterThanOrEqual(1);
    // §9.5: the client had issued spare connection IDs, so the server switched to another one.
    expect(hex(server.peerCids.active)).not.toBe(hex(dcidBefore));
    const toNew = pair.serverRoute.sent.filter((s) => same(s.to, moved));
    expect(hex(wirePackets(pair, 1, toNew[toNew.length - 1]!.data)[0]!.dcid)).toBe(hex(server.peerCids.active));
  });
});

describe('spoofed and replayed packets (RFC 9000 §9.3.1–9.3.3)', () => {
  it('a copy replayed from a fake address after the original is a duplicate: nothing is sent there', async () => {
    const pair = await established();
    const fake: PathAddress = { address: '192.0.2.66', port: 4444, family: 'IPv4' };
    transferWith(pair, 200_000, (n) => {
      if (n === 40) {
        const tap = pair.net.tap!;
        pair.net.tap = (from, d) => {
          // Let the original go first, then replay it from the fake address a little later.
          if (from === 0 && d.length > 100) {
            const copy = d.slice();
            const at = pair.net.now + 15;
            const replay = () => {
              if (pair.net.now >= at) {
                deliver(pair, 1, copy, fake);
                pair.net.afterStep = inner;
              }
              inner?.();
            };
            const inner = pair.net.afterStep;
            pair.net.afterStep = replay;
            pair.net.tap = tap;
          }
          return tap(from, d);
        };
      }
    });
    expect(bytesTo(pair.serverRoute.sent, fake)).toBe(0);
    expect(same(pair.server.conn!.peerAddress, CLIENT_A)).toBe(true);
    expect(addressEvents(pair.serverEvents)).toEqual([]);
  });

  it('a copy from a fake address arriving first moves nothing for long: at most 3× its size goes there, and the genuine peer brings the connection back', async () => {
    const pair = await established();
    const server = pair.server.conn!;
    const fake: PathAddress = { address: '192.0.2.66', port: 4444, family: 'IPv4' };
    let copyBytes = 0;
    transferWith(pair, 400_000, (n) => {
      if (n === 60) {
        const tap = pair.net.tap!;
        pair.net.tap = (from, d) => {
          if (from === 0 && copyBytes === 0) {
            // The attacker is faster: its copy arrives before the original (then a duplicate).
            copyBytes = d.length;
            deliver(pair, 1, d.slice(), fake);
            pair.net.tap = tap;
          }
          return tap(from, d);
        };
      }
    });
    expect(copyBytes).toBeGreaterThan(0);
    const toFake = bytesTo(pair.serverRoute.sent, fake);
    expect(toFake).toBeGreaterThan(0); // it did try the new address (with a PATH_CHALLENGE)
    expect(toFake).toBeLessThanOrEqual(3 * copyBytes); // §8.1 / §9.3: the anti-amplification limit
    const fakeFrames = pair.serverRoute.sent.filter((s) => same(s.to, fake)).flatMap((s) => s.frames);
    expect(fakeFrames.some((f) => f.type === FrameType.PathChallenge)).toBe(true);
    expect(same(server.peerAddress, CLIENT_A)).toBe(true);
    expect(server.addressValidated).toBe(true);
    expect(addressEvents(pair.serverEvents)).toEqual([]); // the spoofed address was never validated
  });

  it('while the new path is unvalidated a server with much to send sends no more than 3× what arrived from it', async () => {
    const pair = await established();
    const server = pair.server.conn!;
    const client = pair.client;
    // The server has a large response queued.
    const id = client.openStream(true)!;
    client.streamWrite(id, new Uint8Array([1]), true);
    pair.net.run(() => server.streamReadable(id) > 0, 1000);
    server.streamWrite(id, payload(2_000_000), true);
    pair.net.run(() => false, 50);
    // Cut the client off from the server for a while, and replay one of its packets from a fake address.
    const fake: PathAddress = { address: '198.51.100.9', port: 999, family: 'IPv4' };
    const spoofed = craftPacket(client, [{ type: FrameType.Ping }]);
    pair.net.links[0].blackholes = [[pair.net.now, pair.net.now + 5000]];
    pair.net.links[1].blackholes = [[pair.net.now, pair.net.now + 5000]];
    deliver(pair, 1, spoofed, fake);
    expect(same(server.peerAddress, fake)).toBe(true);
    expect(server.addressValidated).toBe(false);
    pair.net.run(() => false, 2000);
    const toFake = bytesTo(pair.serverRoute.sent, fake);
    expect(toFake).toBeGreaterThan(0);
    expect(toFake).toBeLessThanOrEqual(3 * spoofed.length);
  });
});

describe('failed validation (RFC 9000 §8.2.4, §9.3.2)', () => {
  it('is abandoned after 3 PTOs: the connection returns to the last validated address and data flows again', async () => {
    const pair = await established();
    const server = pair.server.conn!;
    const client = pair.client;
    const ccBefore = server.cc;
    const fake: PathAddress = { address: '203.0.113.5', port: 7777, family: 'IPv4' };
    // Nothing gets through either way for 6 s, except the spoofed packet.
    const t0 = pair.net.now;
    pair.net.links[0].blackholes = [[t0, t0 + 6000]];
    pair.net.links[1].blackholes = [[t0, t0 + 6000]];
    // A full-size copy: room under the anti-amplification limit to resend challenges.
    const spoofed = craftPacket(client, concat(Uint8Array.of(FrameType.Ping), new Uint8Array(1200)));
    deliver(pair, 1, spoofed, fake);
    expect(same(server.peerAddress, fake)).toBe(true);
    expect(server.cc).not.toBe(ccBefore);
    // Challenges are resent (the first, then after a PTO), then validation is abandoned.
    let revertedAt = -1;
    pair.net.run(() => {
      if (revertedAt < 0 && same(server.peerAddress, CLIENT_A)) revertedAt = pair.net.now;
      return revertedAt >= 0;
    }, 5500);
    expect(revertedAt).toBeGreaterThan(t0);
    // 3 × max(PTO, initial PTO) with kInitialRtt = 333 ms: about 3 s.
    expect(revertedAt - t0).toBeGreaterThanOrEqual(2900);
    expect(revertedAt - t0).toBeLessThan(5000);
    const challenges = pair.serverRoute.sent
      .filter((s) => same(s.to, fake))
      .flatMap((s) => s.frames)
      .filter((f) => f.type === FrameType.PathChallenge);
    expect(challenges.length).toBeGreaterThanOrEqual(2);
    expect(new Set(challenges.map((f) => (f.type === FrameType.PathChallenge ? hex(f.data) : ''))).size).toBe(challenges.length);
    expect(bytesTo(pair.serverRoute.sent, fake)).toBeLessThanOrEqual(3 * spoofed.length);
    // The old path's congestion state is back, and no address change was ever reported.
    expect(server.cc).toBe(ccBefore);
    expect(server.addressValidated).toBe(true);
    expect(addressEvents(pair.serverEvents)).toEqual([]);
    // Once the network heals, data flows on the old path.
    pair.net.run(() => pair.net.now > t0 + 6000, 7000);
    const r = transfer(pair, payload(50_000), 30_000);
    expect(r.ok).toBe(true);
    expect(server.state).toBe('established');
  });

  it('a PATH_RESPONSE that matches no challenge is ignored: the path stays unvalidated', async () => {
    const pair = await established();
    const server = pair.server.conn!;
    const client = pair.client;
    const fake: PathAddress = { address: '203.0.113.5', port: 7777, family: 'IPv4' };
    pair.net.links[0].blackholes = [[pair.net.now, pair.net.now + 1000]];
    pair.net.links[1].blackholes = [[pair.net.now, pair.net.now + 1000]];
    deliver(pair, 1, craftPacket(client, [{ type: FrameType.Ping }]), fake);
    expect(server.addressValidated).toBe(false);
    pair.net.run(() => false, 10);
    deliver(pair, 1, craftPacket(client, [{ type: FrameType.PathResponse, data: Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9) }]), fake);
    expect(same(server.peerAddress, fake)).toBe(true);
    expect(server.addressValidated).toBe(false);
    expect(server.state).toBe('established');
    // The right data, echoed by the genuine client from its own address, validates the path
    // the challenge was sent on (§8.2.3: a response on any path counts).
    const challenge = pair.serverRoute.sent
      .filter((s) => same(s.to, fake))
      .flatMap((s) => s.frames)
      .find((f) => f.type === FrameType.PathChallenge);
    expect(challenge?.type).toBe(FrameType.PathChallenge);
    if (challenge?.type !== FrameType.PathChallenge) return;
    deliver(pair, 1, craftPacket(client, [{ type: FrameType.PathResponse, data: challenge.data }]), CLIENT_A);
    expect(same(server.peerAddress, fake)).toBe(true);
    expect(server.addressValidated).toBe(true);
    pair.collect();
    expect(addressEvents(pair.serverEvents)).toEqual([fake]);
  });
});

describe('PATH_CHALLENGE and PATH_RESPONSE (RFC 9000 §8.2.2, §9.1)', () => {
  it('a probing packet from another address gets its PATH_RESPONSE there, once, and does not move the connection', async () => {
    const pair = await established();
    const server = pair.server.conn!;
    const client = pair.client;
    const probe: PathAddress = { address: '10.0.0.1', port: 50123, family: 'IPv4' };
    const data = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    // A full-size probing packet: PATH_CHALLENGE and PADDING.
    const packet = craftPacket(client, concat(Uint8Array.of(FrameType.PathChallenge, ...data), new Uint8Array(1200)));
    deliver(pair, 1, packet, probe);
    pair.net.run(() => false, 100);
    expect(same(server.peerAddress, CLIENT_A)).toBe(true);
    const toProbe = pair.serverRoute.sent.filter((s) => same(s.to, probe));
    expect(toProbe.length).toBe(1);
    const frames = toProbe[0]!.frames;
    const responses = frames.filter((f) => f.type === FrameType.PathResponse);
    expect(responses).toEqual([{ type: FrameType.PathResponse, data }]);
    // Only probing frames went there, in a datagram expanded to 1200 bytes.
    expect(frames.every((f) => f.type === FrameType.PathResponse || f.type === FrameType.Padding)).toBe(true);
    expect(toProbe[0]!.data.length).toBe(1200);
    expect(addressEvents(pair.serverEvents)).toEqual([]);
  });

  it('a small probe from another address gets a response within 3× its size', async () => {
    const pair = await established();
    const client = pair.client;
    const probe: PathAddress = { address: '10.9.9.9', port: 1234, family: 'IPv4' };
    const packet = craftPacket(client, [{ type: FrameType.PathChallenge, data: Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1) }]);
    deliver(pair, 1, packet, probe);
    pair.net.run(() => false, 100);
    const toProbe = pair.serverRoute.sent.filter((s) => same(s.to, probe));
    expect(toProbe.length).toBe(1);
    expect(toProbe[0]!.data.length).toBeLessThanOrEqual(3 * packet.length);
    expect(toProbe[0]!.frames.filter((f) => f.type === FrameType.PathResponse).length).toBe(1);
  });

  it('a challenge on the current path is answered there with a non-probing packet', async () => {
    const pair = await established();
    const client = pair.client;
    const data = Uint8Array.of(5, 5, 5, 5, 1, 1, 1, 1);
    deliver(pair, 1, craftPacket(client, [{ type: FrameType.PathChallenge, data }]), CLIENT_A);
    pair.net.run(() => false, 50);
    const answers = pair.serverRoute.sent.filter((s) => s.frames.some((f) => f.type === FrameType.PathResponse));
    expect(answers.length).toBe(1);
    expect(same(answers[0]!.to, CLIENT_A)).toBe(true);
    const frames = answers[0]!.frames;
    expect(frames.find((f) => f.type === FrameType.PathResponse)).toEqual({ type: FrameType.PathResponse, data });
    expect(frames.some((f) => f.type === FrameType.Ping)).toBe(true);
    expect(answers[0]!.data.length).toBeGreaterThanOrEqual(1200);
  });
});

describe('the client side (RFC 9000 §9)', () => {
  it('discards server packets from an address it does not know, and never moves', async () => {
    const pair = await established();
    const client = pair.client;
    const server = pair.server.conn!;
    const received = client.stats.packetsReceived;
    const dropped = client.stats.packetsDropped;
    const elsewhere: PathAddress = { address: '10.0.0.99', port: 443, family: 'IPv4' };
    deliver(pair, 0, craftPacket(server, [{ type: FrameType.Ping }]), elsewhere);
    expect(client.stats.packetsReceived).toBe(received);
    expect(client.stats.packetsDropped).toBe(dropped + 1);
    expect(same(client.peerAddress, SERVER)).toBe(true);
    // The same packet from the server's address is processed.
    deliver(pair, 0, craftPacket(server, [{ type: FrameType.Ping }]), SERVER);
    expect(client.stats.packetsReceived).toBe(received + 1);
  });
});

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

