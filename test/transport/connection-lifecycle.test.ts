/**
 * Connection lifecycle over the simulated network (RFC 9000 §5, §6, §8, §10, §17.2.5, §19;
 * RFC 9001 §6): idle and handshake timeouts, closing and draining, application close before
 * the handshake, stateless reset, Version Negotiation, Retry, NEW_TOKEN, connection ID
 * issuance and retirement, PING, PATH_CHALLENGE and key updates.
 */
import { describe, it, expect } from 'vitest';
import { makePair, runHandshake, payload, transfer, NOW0, ServerNode, TestCidSource, type QuicPair, type PairOptions } from '../support/quic-pair.js';
import { craftPacket, deliver, inject, wireFrames, wirePackets, F, readStream } from '../support/quic-wire.js';
import { Connection } from '../../src/transport/connection.js';
import type { ServerConnectionConfig } from '../../src/transport/connection-config.js';
import type { ConnectionCloseInfo, ConnectionEvent, PathAddress } from '../../src/transport/events.js';
import { TransportError } from '../../src/transport/errors.js';
import { FrameType, type Frame } from '../../src/transport/frame-types.js';
import { HeaderStatus, PacketHeader, PacketType, parsePacketHeader } from '../../src/transport/packet.js';
import { writeRetry, writeVersionNegotiation } from '../../src/transport/packet-header-writer.js';
import { computeRetryIntegrityTag } from '../../src/transport/retry-integrity.js';
import { TokenKind, TokenProtector } from '../../src/transport/token.js';
import { QUIC_V1, QUIC_V2, versionParameters } from '../../src/transport/version.js';
import { defaultCrypto } from '../../src/crypto/index.js';
import type { SimAddress, SimNode } from '../support/sim-network.js';

interface Timed {
  t: number;
  e: ConnectionEvent;
}

/** Records every event of both sides with the simulated time it was seen. */
function track(pair: QuicPair): { client: Timed[]; server: Timed[] } {
  const log = { client: [] as Timed[], server: [] as Timed[] };
  pair.net.afterStep = () => {
    const n0 = pair.clientEvents.length;
    const n1 = pair.serverEvents.length;
    pair.collect();
    for (let i = n0; i < pair.clientEvents.length; i++) log.client.push({ t: pair.net.now, e: pair.clientEvents[i]! });
    for (let i = n1; i < pair.serverEvents.length; i++) log.server.push({ t: pair.net.now, e: pair.serverEvents[i]! });
  };
  return log;
}

function closedAt(log: Timed[]): { t: number; info: ConnectionCloseInfo } | undefined {
  for (const x of log) if (x.e.type === 'closed') return { t: x.t, info: x.e.info };
  return undefined;
}

async function established(opts: PairOptions = {}): Promise<QuicPair> {
  const pair = await makePair(opts);
  expect(runHandshake(pair)).toBe(true);
  pair.net.run(() => false, 200);
  return pair;
}

/** Records the time of the last datagram each side sent (through the tap). */
function lastSend(pair: QuicPair): [number, number] {
  const last: [number, number] = [-1, -1];
  const prev = pair.net.tap;
  pair.net.tap = (from, d) => {
    last[from] = pair.net.now;
    return prev ? prev(from, d) : d;
  };
  return last;
}

describe('idle timeout (RFC 9000 §10.1)', () => {
  it('is the smaller of both sides, closes silently with idle-timeout', async () => {
    const pair = await established({ clientTransport: { maxIdleTimeout: 5000 }, serverTransport: { maxIdleTimeout: 2000 } });
    expect(pair.client.idleTimeout).toBe(2000);
    expect(pair.server.conn!.idleTimeout).toBe(2000);
    const log = track(pair);
    const last = lastSend(pair);
    const t0 = pair.net.now;
    expect(pair.net.run(() => pair.client.isClosed && pair.server.conn!.isClosed, 20_000)).toBe(true);
    const c = closedAt(log.client)!;
    const s = closedAt(log.server)!;
    expect(c.info.source).toBe('idle-timeout');
    expect(s.info.source).toBe('idle-timeout');
    // Nothing was sent after the handshake settled (no keep-alive) and nothing on closing.
    expect(last[0]).toBeLessThanOrEqual(t0);
    expect(last[1]).toBeLessThanOrEqual(t0);
    for (const x of [c, s]) {
      expect(x.t - t0).toBeGreaterThan(2000 - 300);
      expect(x.t - t0).toBeLessThan(2000 + 100);
    }
  });

  it('is never shorter than three PTOs', async () => {
    const pair = await established({ transport: { maxIdleTimeout: 100 }, link: { delay: 100 } });
    const log = track(pair);
    const t0 = pair.net.now;
    const pto = pair.client.recovery.ptoDuration();
    expect(pto).toBeGreaterThan(200);
    pair.net.run(() => pair.client.isClosed, 20_000);
    const c = closedAt(log.client)!;
    expect(c.info.source).toBe('idle-timeout');
    expect(c.t - t0).toBeGreaterThanOrEqual(3 * pto - 250);
  });

  it('keep-alive PINGs hold an idle connection open', async () => {
    const pair = await established({ transport: { maxIdleTimeout: 1000, keepAliveInterval: 300 } });
    let pings = 0;
    pair.net.tap = (from, d) => {
      if (wireFrames(pair, from, d).some((f) => f.type === FrameType.Ping)) pings++;
      return d;
    };
    pair.net.run(() => false, 10_000);
    expect(pair.client.state).toBe('established');
    expect(pair.server.conn!.state).toBe('established');
    expect(pings).toBeGreaterThan(10);
  });

  it('a handshake that cannot complete ends with handshake-timeout', async () => {
    const pair = await makePair({ transport: { handshakeIdleTimeout: 3000 }, links: [{ delay: 10, blackholes: [[0, Infinity]] }, { delay: 10 }] });
    const log = track(pair);
    expect(pair.net.run(() => pair.client.isClosed, 60_000)).toBe(true);
    const c = closedAt(log.client)!;
    expect(c.info.source).toBe('handshake-timeout');
    expect(c.t - NOW0).toBe(3000);
    expect(pair.server.conn).toBeUndefined();
  });
});

/** makePair's default link delay. */
const ONE_WAY = 10;

describe('closing and draining (RFC 9000 §10.2)', () => {
  for (const application of [true, false]) {
    it(`${application ? 'application' : 'transport'} close: the peer drains with the code and reason`, async () => {
      const pair = await established();
      const log = track(pair);
      const frames: Frame[] = [];
      pair.net.tap = (from, d) => {
        if (from === 0) frames.push(...wireFrames(pair, 0, d));
        return d;
      };
      const t0 = pair.net.now;
      pair.client.close(application ? 42 : TransportError.PROTOCOL_VIOLATION, 'bye now', t0, { application });
      expect(pair.client.state).toBe('closing');
      pair.net.run(() => pair.client.isClosed && pair.server.conn!.isClosed, 10_000);
      const close = frames.find((f) => f.type === FrameType.ConnectionClose || f.type === FrameType.ApplicationClose)!;
      expect(close.type).toBe(application ? FrameType.ApplicationClose : FrameType.ConnectionClose);
      const s = closedAt(log.server)!;
      expect(s.info).toEqual({
        source: application ? 'peer-application' : 'peer-transport',
        code: application ? 42n : BigInt(TransportError.PROTOCOL_VIOLATION),
        frameType: 0,
        reason: 'bye now',
      });
      const c = closedAt(log.client)!;
      expect(c.info.source).toBe(application ? 'application' : 'transport');
      const shutdown = log.client.find((x) => x.e.type === 'shutdownInitiated')!;
      expect(shutdown.t).toBe(t0);
      // The server's answering CONNECTION_CLOSE ends the client's closing period when it arrives
      // (MsQuic's rule for a client whose close the peer acknowledged), one RTT after the close.
      expect(pair.client.peerAcknowledgedClose).toBe(true);
      const answered = log.server.find((x) => x.e.type === 'shutdownInitiated')!.t + ONE_WAY;
      expect(c.t).toBeGreaterThanOrEqual(answered - 1);
      expect(c.t).toBeLessThanOrEqual(answered + 1);
      expect(c.t - t0).toBeLessThan(pair.client.recovery.ptoDuration());
      expect(() => pair.client.openStream(true)).toThrow(TypeError);
    });
  }

  it('with no answer, closing lasts three PTOs', async () => {
    const pair = await established();
    const log = track(pair);
    pair.net.tap = (from, d) => (from === 1 ? undefined : d); // the server's answers are lost
    const t0 = pair.net.now;
    const pto = pair.client.recovery.ptoDuration();
    pair.client.close(0, 'bye', t0, { application: true });
    pair.net.run(() => pair.client.isClosed, 10_000);
    const c = closedAt(log.client)!;
    expect(pair.client.peerAcknowledgedClose).toBe(false);
    expect(c.t - t0).toBeGreaterThanOrEqual(3 * pto - 1);
    expect(c.t - t0).toBeLessThanOrEqual(3 * pto + 1);
  });

  it('a server whose close is answered lingers max(15 ms, 2×SRTT), the draining client three PTOs', async () => {
    const pair = await established();
    const log = track(pair);
    const server = pair.server.conn!;
    const t0 = pair.net.now;
    const srtt = server.rtt.smoothedRtt;
    const clientPto = pair.client.recovery.ptoDuration();
    server.close(7, 'server going away', t0, { application: true });
    pair.net.run(() => server.isClosed && pair.client.isClosed, 10_000);
    expect(server.peerAcknowledgedClose).toBe(true);
    const answerArrives = t0 + 2 * ONE_WAY;
    const s = closedAt(log.server)!;
    expect(s.t - answerArrives).toBeGreaterThanOrEqual(Math.max(15, 2 * srtt) - 1);
    expect(s.t - answerArrives).toBeLessThanOrEqual(Math.max(15, 2 * srtt) + 1);
    const c = closedAt(log.client)!;
    expect(c.info).toMatchObject({ source: 'peer-application', code: 7n, reason: 'server going away' });
    expect(c.t - (t0 + ONE_WAY)).toBeGreaterThanOrEqual(3 * clientPto - 1);
  });

  it('a client whose connection attempt the server refuses is closed at once, without answering', async () => {
    const pair = await makePair({ server: { tls: { alpn: ['other'] } } } as PairOptions);
    const log = track(pair);
    const fromClient: number[] = [];
    pair.net.tap = (from, d) => {
      if (from === 0) fromClient.push(pair.net.now);
      return d;
    };
    pair.net.run(() => pair.client.isClosed, 10_000);
    const shutdown = log.client.find((x) => x.e.type === 'shutdownInitiated')!;
    const c = closedAt(log.client)!;
    expect(c.info.source).toBe('peer-transport');
    expect(c.t).toBe(shutdown.t);
    expect(fromClient.filter((t) => t >= shutdown.t)).toEqual([]);
  });

  it('the closing side answers later packets with CONNECTION_CLOSE at a falling rate; the draining side answers once with NO_ERROR, then is silent', async () => {
    const pair = await established();
    const client = pair.client;
    const server = pair.server.conn!;
    const log = track(pair);
    let closes = 0;
    let passClose = false;
    let serverSentWhileDraining = 0;
    const drainReplies: Frame[] = [];
    pair.net.tap = (from, d) => {
      if (from === 0) {
        if (wireFrames(pair, 0, d).some((f) => f.type === FrameType.ApplicationClose)) closes++;
        return passClose ? d : undefined;
      }
      if (server.state === 'draining') {
        serverSentWhileDraining++;
        drainReplies.push(...wireFrames(pair, 1, d).filter((f) => f.type === FrameType.ConnectionClose));
      }
      return d;
    };
    client.close(7, 'done', pair.net.now);
    pair.net.run(() => false, 5);
    expect(closes).toBe(1);
    // Eight packets from the server arrive while the client is closing.
    for (let i = 0; i < 8; i++) {
      inject(pair, 1, [F.ping()]);
      pair.net.run(() => false, 1);
    }
    // Answers to packets 1, 2, 4 and 8: four more, fewer than the packets received.
    expect(closes).toBe(5);
    // Now let CONNECTION_CLOSE through: the next one goes out at the 16th packet received.
    passClose = true;
    for (let i = 9; i <= 16; i++) {
      expect(server.state).toBe('established');
      inject(pair, 1, [F.ping()]);
      pair.net.run(() => false, 1);
    }
    expect(closes).toBe(6);
    pair.net.run(() => server.state === 'draining', 1000);
    expect(server.state).toBe('draining');
    const drainStart = pair.net.now;
    // Packets keep arriving at the draining server: it sends nothing.
    for (let i = 0; i < 5; i++) {
      deliver(pair, 1, craftPacket(client, [F.ping()]));
      pair.net.run(() => false, 2);
    }
    expect(server.pollTransmit(pair.net.now)).toBeUndefined();
    pair.net.run(() => client.isClosed && server.isClosed, 10_000);
    // RFC 9000 §10.2.2: one CONNECTION_CLOSE (NO_ERROR) in answer, nothing after.
    expect(serverSentWhileDraining).toBe(1);
    expect(drainReplies).toMatchObject([{ type: FrameType.ConnectionClose, errorCode: 0n }]);
    const s = closedAt(log.server)!;
    expect(s.info).toMatchObject({ source: 'peer-application', code: 7n, reason: 'done' });
    expect(s.t - drainStart).toBeLessThanOrEqual(3 * server.recovery.ptoDuration() + 1);
    expect(closedAt(log.client)!.info).toMatchObject({ source: 'application', code: 7n });
  });

  it('a client application close before the handshake goes out as CONNECTION_CLOSE(APPLICATION_ERROR) in an Initial', async () => {
    const pair = await makePair();
    const log = track(pair);
    const seen: Array<{ type: PacketType; frames: Frame[] | undefined }> = [];
    pair.net.tap = (from, d) => {
      if (from === 0) seen.push(...wirePackets(pair, 0, d));
      return d;
    };
    // Deliver the first flight, then close before anything comes back.
    pair.net.run(() => pair.server.conn !== undefined, 100);
    pair.client.close(99, 'secret application reason', pair.net.now);
    pair.net.run(() => pair.client.isClosed && pair.server.conn!.isClosed, 10_000);
    const closing = seen.filter((p) => p.frames?.some((f) => f.type === FrameType.ConnectionClose || f.type === FrameType.ApplicationClose));
    expect(closing.length).toBeGreaterThan(0);
    for (const p of closing) {
      expect(p.type).toBe(PacketType.Initial);
      const f = p.frames!.find((x) => x.type === FrameType.ConnectionClose)!;
      expect(f).toMatchObject({ type: FrameType.ConnectionClose, errorCode: BigInt(TransportError.APPLICATION_ERROR), reason: new Uint8Array(0) });
    }
    const s = closedAt(log.server)!;
    expect(s.info).toMatchObject({ source: 'peer-transport', code: BigInt(TransportError.APPLICATION_ERROR), reason: '' });
  });

  it('a server application close during the handshake uses APPLICATION_ERROR in Initial/Handshake packets', async () => {
    const pair = await makePair();
    const log = track(pair);
    const seen: Array<{ type: PacketType; frames: Frame[] | undefined }> = [];
    pair.net.tap = (from, d) => {
      if (from === 1) seen.push(...wirePackets(pair, 1, d));
      return d;
    };
    // Run until the server has sent its first flight, then close it.
    pair.net.run(() => pair.server.conn !== undefined && pair.server.conn.stats.packetsSent > 0, 1000);
    const server = pair.server.conn!;
    expect(server.handshakeComplete).toBe(false);
    server.close(99, 'no', pair.net.now);
    pair.net.run(() => pair.client.isClosed && server.isClosed, 10_000);
    const closing = seen.filter((p) => p.frames?.some((f) => f.type === FrameType.ConnectionClose || f.type === FrameType.ApplicationClose));
    expect(closing.length).toBeGreaterThan(0);
    for (const p of closing) {
      const f = p.frames!.find((x) => x.type === FrameType.ConnectionClose || x.type === FrameType.ApplicationClose)!;
      if (p.type === PacketType.Initial || p.type === PacketType.Handshake) {
        expect(f).toMatchObject({ type: FrameType.ConnectionClose, errorCode: BigInt(TransportError.APPLICATION_ERROR) });
      } else {
        expect(f).toMatchObject({ type: FrameType.ApplicationClose, errorCode: 99n });
      }
    }
    const c = closedAt(log.client)!;
    expect(c.info.source === 'peer-transport' || c.info.source === 'peer-application').toBe(true);
    if (c.info.source === 'peer-transport') expect(c.info.code).toBe(BigInt(TransportError.APPLICATION_ERROR));
  });
});

describe('stateless reset (RFC 9000 §10.3)', () => {
  function resetDatagram(token: Uint8Array, length = 43): Uint8Array {
    const d = new Uint8Array(length);
    for (let i = 0; i < d.length; i++) d[i] = (i * 37 + 11) & 0xff;
    d[0] = 0x40 | (d[0]! & 0x3f);
    d.set(token, d.length - 16);
    return d;
  }

  it('a datagram ending with the token from the transport parameters closes with stateless-reset', async () => {
    const pair = await established();
    const log = track(pair);
    const token = pair.server.conn!.localCids.all[0]!.resetToken;
    let sentAfter = 0;
    pair.net.tap = (from, d) => {
      if (from === 0) sentAfter++;
      return d;
    };
    deliver(pair, 0, resetDatagram(token));
    expect(pair.client.isClosed).toBe(true);
    pair.net.run(() => false, 1000);
    expect(sentAfter).toBe(0);
    expect(closedAt(log.client)!.info).toMatchObject({ source: 'stateless-reset' });
  });

  it('a token of a NEW_CONNECTION_ID works too; a wrong token or a too-short datagram does nothing', async () => {
    const pair = await established();
    const server = pair.server.conn!;
    expect(server.localCids.all.length).toBeGreaterThan(1);
    const token = server.localCids.all[2]!.resetToken;
    deliver(pair, 0, resetDatagram(new Uint8Array(16).fill(3)));
    deliver(pair, 0, resetDatagram(token, 20));
    expect(pair.client.state).toBe('established');
    deliver(pair, 0, resetDatagram(token, 21));
    expect(pair.client.isClosed).toBe(true);
    expect(pair.client.closeInfo?.source).toBe('stateless-reset');
  });

  it('the server recognises the client’s reset tokens', async () => {
    const pair = await established();
    const token = pair.client.localCids.all[1]!.resetToken;
    deliver(pair, 1, resetDatagram(token));
    expect(pair.server.conn!.closeInfo?.source).toBe('stateless-reset');
  });
});

/** Sends a Version Negotiation packet to the client in answer to its first Initial. */
class VersionNegotiatingNode implements SimNode {
  private out: Uint8Array[] = [];
  private readonly h = new PacketHeader();
  constructor(private readonly versions: number[]) {}
  receive(d: Uint8Array): void {
    if (parsePacketHeader(d, 0, 8, this.h) !== HeaderStatus.Ok || this.h.type !== PacketType.Initial) return;
    const buf = new Uint8Array(256);
    const n = writeVersionNegotiation(buf, 0, this.h.scid, this.h.dcid, this.versions, 0x35);
    this.out.push(buf.slice(0, n));
  }
  pollTransmit() {
    const d = this.out.shift();
    return d ? { data: d } : undefined;
  }
  nextDeadline() {
    return undefined;
  }
  handleTimeout() {}
}

describe('Version Negotiation (RFC 9000 §6)', () => {
  it('a client whose version is not listed fails with version-negotiation', async () => {
    const pair = await makePair();
    const vn = new VersionNegotiatingNode([QUIC_V2, 0x1a2a3a4a]);
    pair.net.nodes[1] = vn;
    const log = track(pair);
    pair.net.run(() => pair.client.isClosed, 5000);
    const c = closedAt(log.client)!;
    expect(c.info.source).toBe('version-negotiation');
    expect(c.info.code).toBe(BigInt(TransportError.VERSION_NEGOTIATION_ERROR));
    expect(c.info.reason).toContain('0x6b3343cf');
    expect(c.t - NOW0).toBe(20); // one round trip
  });

  it('a Version Negotiation listing our version is ignored, and so is one after other packets', async () => {
    const pair = await makePair();
    const client = pair.client;
    const buf = new Uint8Array(256);
    const n = writeVersionNegotiation(buf, 0, client.localCids.initial!, client.originalDcid, [QUIC_V1, QUIC_V2]);
    deliver(pair, 0, buf.slice(0, n));
    expect(client.state).toBe('handshake');
    expect(runHandshake(pair)).toBe(true);
    // After the handshake a VN without our version is ignored too.
    const m = writeVersionNegotiation(buf, 0, client.localCids.initial!, client.originalDcid, [QUIC_V2]);
    deliver(pair, 0, buf.slice(0, m));
    expect(client.state).toBe('established');
  });
});

/** A server node that answers the first Initial with a Retry, like an endpoint under load. */
class RetryServerNode implements SimNode {
  inner: ServerNode;
  conn: Connection | undefined;
  retryScid = Uint8Array.of(0x52, 0x45, 0x54, 0x52, 0x59, 1, 2, 3);
  odcid: Uint8Array | undefined;
  retries = 0;
  private out: Uint8Array[] = [];
  private readonly h = new PacketHeader();
  constructor(
    private readonly config: ServerConnectionConfig,
    private readonly cids: TestCidSource,
    private readonly opts: { badTag?: boolean; wrongRetrySourceParam?: boolean; retryCount?: number } = {},
  ) {
    this.inner = new ServerNode(config, cids);
  }
  receive(d: Uint8Array, from: SimAddress, now: number): void {
    if (this.conn === undefined) {
      if (parsePacketHeader(d, 0, 8, this.h) !== HeaderStatus.Ok || this.h.type !== PacketType.Initial) return;
      if (this.h.tokenLength === 0 || this.retries < (this.opts.retryCount ?? 1)) {
        // Stateless Retry.
        this.odcid ??= this.h.dcid.slice();
        this.retries++;
        const version = versionParameters(this.h.version)!;
        const buf = new Uint8Array(512);
        const token = Uint8Array.of(0x70, 0x71, this.retries);
        const scid = this.retryScid.slice();
        scid[7] = this.retries;
        const tagAt = writeRetry(buf, 0, this.h.version, this.h.scid, scid, token);
        computeRetryIntegrityTag(defaultCrypto, version, this.h.dcid, buf.subarray(0, tagAt), buf.subarray(tagAt, tagAt + 16));
        if (this.opts.badTag) buf[tagAt + 3]! ^= 1;
        this.out.push(buf.slice(0, tagAt + 16));
        return;
      }
      const dcid = this.h.dcid.slice();
      this.conn = Connection.accept(
        this.config,
        {
          originalDcid: this.odcid!,
          initialDcid: dcid,
          retrySourceCid: this.opts.wrongRetrySourceParam ? Uint8Array.of(9, 9, 9, 9) : dcid,
          addressValidated: true,
          localCid: this.cids.generate(),
          version: this.h.version,
        },
        from as PathAddress,
        now,
      );
    }
    this.conn.receive(d, from as PathAddress, now);
  }
  pollTransmit(now: number) {
    const d = this.out.shift();
    if (d) return { data: d };
    return this.conn?.pollTransmit(now);
  }
  nextDeadline() {
    return this.conn?.nextDeadline();
  }
  handleTimeout(now: number) {
    this.conn?.handleTimeout(now);
  }
}

async function retryPair(opts: ConstructorParameters<typeof RetryServerNode>[2] = {}): Promise<{ pair: QuicPair; node: RetryServerNode }> {
  const pair = await makePair();
  // Reuse the server configuration the pair built, behind a Retry-sending front.
  const cfg = (pair.server as unknown as { config: ServerConnectionConfig }).config;
  const node = new RetryServerNode(cfg, new TestCidSource(), opts);
  pair.net.nodes[1] = node;
  // Let the pair's helpers see the real server connection.
  Object.defineProperty(pair.server, 'conn', { get: () => node.conn });
  return { pair, node };
}

describe('Retry (RFC 9000 §8.1.2, §17.2.5; RFC 9001 §5.8)', () => {
  it('the client validates the tag, retries with the token, and checks retry_source_connection_id', async () => {
    const { pair, node } = await retryPair();
    const tokens: Uint8Array[] = [];
    pair.net.tap = (from, d) => {
      if (from === 0) {
        const h = new PacketHeader();
        if (parsePacketHeader(d, 0, 8, h) === HeaderStatus.Ok && h.type === PacketType.Initial) tokens.push(h.token.slice());
      }
      return d;
    };
    expect(runHandshake(pair)).toBe(true);
    expect(node.retries).toBe(1);
    expect(tokens[0]!.length).toBe(0);
    expect(tokens.slice(1).every((t) => t.length === 3 && t[0] === 0x70)).toBe(true);
    expect(pair.client.retrySourceCid).toEqual(node.conn!.retrySourceCid);
    expect(pair.client.peerParams!.retrySourceConnectionId).toEqual(pair.client.retrySourceCid);
    expect(pair.client.peerParams!.originalDestinationConnectionId).toEqual(node.odcid);
    // Data flows after a Retry.
    const id = pair.client.openStream(true)!;
    pair.client.streamWrite(id, payload(5000), true);
    pair.net.run(() => node.conn!.streamReadable(id) === 5000, 2000);
    expect(readStream(node.conn!, id)).toEqual(payload(5000));
  });

  it('a Retry with a bad integrity tag is ignored', async () => {
    const { pair, node } = await retryPair({ badTag: true });
    pair.net.afterStep = () => pair.collect();
    pair.net.run(() => pair.client.isClosed, 2000);
    // The client ignored the Retry: it never sent a token and keeps probing without one.
    expect(pair.client.retrySourceCid).toBeUndefined();
    expect(pair.client.initialToken.length).toBe(0);
    expect(node.conn).toBeUndefined();
    expect(node.retries).toBeGreaterThan(1);
  });

  it('a second Retry is ignored', async () => {
    const { pair, node } = await retryPair({ retryCount: 2 });
    pair.net.afterStep = () => pair.collect();
    pair.net.run(() => node.retries >= 2 && pair.client.stats.packetsSent > 3, 3000);
    expect(node.retries).toBe(2);
    // The client kept the first Retry's connection ID and token.
    expect(pair.client.retrySourceCid![7]).toBe(1);
    expect(pair.client.initialToken[2]).toBe(1);
  });

  it('a server whose retry_source_connection_id does not match fails the handshake with TRANSPORT_PARAMETER_ERROR', async () => {
    const { pair } = await retryPair({ wrongRetrySourceParam: true });
    const log = track(pair);
    pair.net.run(() => pair.client.isClosed, 10_000);
    const c = closedAt(log.client)!;
    expect(c.info.source).toBe('transport');
    expect(c.info.code).toBe(BigInt(TransportError.TRANSPORT_PARAMETER_ERROR));
    expect(c.info.reason).toContain('retry_source_connection_id');
  });
});

describe('NEW_TOKEN (RFC 9000 §8.1.3)', () => {
  it('the client receives a token that opens for its address', async () => {
    const tokens = new TokenProtector(defaultCrypto, new Uint8Array(16).fill(5));
    const pair = await established({ server: { tokens } });
    const ev = pair.clientEvents.find((e) => e.type === 'newToken');
    expect(ev).toBeDefined();
    const token = (ev as { token: Uint8Array }).token;
    const opened = tokens.open(token, pair.net.addresses[0].address, pair.net.now, 60_000);
    expect(opened?.kind).toBe(TokenKind.NewToken);
    expect(pair.clientEvents.filter((e) => e.type === 'newToken').length).toBe(1);
  });

  it('a lost NEW_TOKEN is sent again', async () => {
    const tokens = new TokenProtector(defaultCrypto, new Uint8Array(16).fill(5));
    const pair = await makePair({ server: { tokens } });
    let dropped = 0;
    pair.net.tap = (from, d) => {
      if (from === 1 && dropped === 0 && wireFrames(pair, 1, d).some((f) => f.type === FrameType.NewToken)) {
        dropped++;
        return undefined;
      }
      return d;
    };
    expect(runHandshake(pair)).toBe(true);
    pair.net.run(() => pair.clientEvents.some((e) => e.type === 'newToken'), 5000);
    expect(dropped).toBe(1);
    expect(pair.clientEvents.filter((e) => e.type === 'newToken').length).toBe(1);
  });
});

describe('connection IDs (RFC 9000 §5.1)', () => {
  it('each side issues IDs up to the peer limit, announced in NEW_CONNECTION_ID and connectionIdAdded', async () => {
    const pair = await makePair({ clientTransport: { activeConnectionIdLimit: 3 }, serverTransport: { activeConnectionIdLimit: 5 } });
    const ncid: Array<[number, number]> = [];
    pair.net.tap = (from, d) => {
      for (const f of wireFrames(pair, from, d)) if (f.type === FrameType.NewConnectionId) ncid.push([from, f.sequenceNumber]);
      return d;
    };
    expect(runHandshake(pair)).toBe(true);
    pair.net.run(() => false, 200);
    const server = pair.server.conn!;
    // The server issues up to the client's limit 3; the client up to the server's 5.
    expect(server.localCids.all.map((c) => c.sequence)).toEqual([0, 1, 2]);
    expect(pair.client.localCids.all.map((c) => c.sequence)).toEqual([0, 1, 2, 3, 4]);
    expect(ncid.filter(([s]) => s === 1).map(([, q]) => q).sort()).toEqual([1, 2]);
    expect(ncid.filter(([s]) => s === 0).map(([, q]) => q).sort()).toEqual([1, 2, 3, 4]);
    expect(pair.serverEvents.filter((e) => e.type === 'connectionIdAdded').length).toBe(3);
    expect(pair.clientEvents.filter((e) => e.type === 'connectionIdAdded').length).toBe(5);
    expect(pair.client.peerCids.count).toBe(3);
  });

  it('retire_prior_to makes the peer retire old IDs, switch to a new one, and get replacements', async () => {
    const pair = await established();
    const server = pair.server.conn!;
    const client = pair.client;
    // The server adds sequence 4 (registering it locally so packets to it arrive) with retire_prior_to 2.
    const cid = Uint8Array.of(0xc1, 0xd4, 0, 0, 0, 0, 0, 4);
    const internals = server.localCids as unknown as { issued: Array<{ sequence: number; cid: Uint8Array; resetToken: Uint8Array }>; nextSequence: number };
    internals.issued.push({ sequence: 4, cid, resetToken: new Uint8Array(16).fill(4) });
    internals.nextSequence = 5;
    const retired: number[] = [];
    const dcids: Uint8Array[] = [];
    pair.net.tap = (from, d) => {
      if (from === 0) {
        for (const p of wirePackets(pair, 0, d)) {
          dcids.push(p.dcid);
          for (const f of p.frames ?? []) if (f.type === FrameType.RetireConnectionId) retired.push(f.sequenceNumber);
        }
      }
      return d;
    };
    inject(pair, 1, [{ type: FrameType.NewConnectionId, sequenceNumber: 4, retirePriorTo: 2, connectionId: cid, statelessResetToken: new Uint8Array(16).fill(4) }]);
    expect(client.peerCids.activeSequence).toBe(2);
    pair.net.run(() => false, 500);
    expect(retired.sort()).toEqual([0, 1]);
    expect(dcids.at(-1)).toEqual(server.localCids.all.find((c) => c.sequence === 2)!.cid);
    const retiredEvents = pair.serverEvents.filter((e) => e.type === 'connectionIdRetired');
    expect(retiredEvents.length).toBe(2);
    // The server replaced the two retired IDs (client limit 4: sequences 2, 3, 4, 5).
    expect(server.localCids.all.map((c) => c.sequence).sort()).toEqual([2, 3, 4, 5]);
    expect(client.peerCids.count).toBe(4);
    // And data still flows.
    const id = client.openStream(true)!;
    client.streamWrite(id, payload(3000), true);
    pair.net.run(() => server.streamReadable(id) === 3000, 1000);
    expect(readStream(server, id)).toEqual(payload(3000));
  });
});

describe('PING and PATH_CHALLENGE', () => {
  it('a PING is acknowledged', async () => {
    const pair = await established();
    const acks: number[] = [];
    pair.net.tap = (from, d) => {
      if (from === 1) for (const f of wireFrames(pair, 1, d)) if (f.type === FrameType.Ack) acks.push(f.largestAcknowledged);
      return d;
    };
    const pn = pair.client.spaces[2].nextPn;
    inject(pair, 0, [F.ping()]);
    pair.net.run(() => acks.includes(pn), 100);
    expect(acks).toContain(pn);
    // Within max_ack_delay (a single ack-eliciting packet waits for the delayed-ACK timer).
    expect(pair.client.state).toBe('established');
  });

  it('a PATH_CHALLENGE is answered with a PATH_RESPONSE carrying the same data', async () => {
    const pair = await established();
    const responses: Uint8Array[] = [];
    pair.net.tap = (from, d) => {
      if (from === 1) for (const f of wireFrames(pair, 1, d)) if (f.type === FrameType.PathResponse) responses.push(f.data.slice());
      return d;
    };
    const data = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    inject(pair, 0, [{ type: FrameType.PathChallenge, data }]);
    pair.net.run(() => responses.length > 0, 100);
    expect(responses).toEqual([data]);
  });
});

describe('key update (RFC 9001 §6)', () => {
  for (const side of ['client', 'server'] as const) {
    it(`initiated by the ${side}: both sides move to the next keys and data keeps flowing`, async () => {
      const pair = await established();
      const client = pair.client;
      const server = pair.server.conn!;
      const initiator = side === 'client' ? client : server;
      const responder = side === 'client' ? server : client;
      const phases: Array<[number, number]> = [];
      pair.net.tap = (from, d) => {
        for (const p of wirePackets(pair, from, d)) if (p.type === PacketType.OneRtt) phases.push([from, p.keyPhase]);
        return d;
      };
      const id = client.openStream(true)!;
      const data = payload(300_000);
      client.streamWrite(id, data.subarray(0, 100_000));
      pair.net.run(() => server.streamReadable(id) > 50_000, 2000);
      expect(initiator.initiateKeyUpdate(pair.net.now)).toBe(true);
      // A second update before the first is done is refused.
      expect(initiator.initiateKeyUpdate(pair.net.now)).toBe(false);
      client.streamWrite(id, data.subarray(100_000), true);
      const got: Uint8Array[] = [];
      pair.net.afterStep = () => {
        for (let r = server.streamRead(id); r && r.data.length > 0; r = server.streamRead(id)) got.push(r.data);
      };
      pair.net.run(() => server.streamReadable(id) === 0 && got.reduce((n, c) => n + c.length, 0) === 300_000 - 0, 5000);
      expect(initiator.oneRtt!.generation).toBe(1);
      expect(responder.oneRtt!.generation).toBe(1);
      expect(phases.some(([f, k]) => f === 0 && k === 1)).toBe(true);
      expect(phases.some(([f, k]) => f === 1 && k === 1)).toBe(true);
      expect(client.state).toBe('established');
      expect(server.state).toBe('established');
      // After the old keys are dropped (3 PTO) a second update is possible.
      pair.net.run(() => false, 2000);
      expect(initiator.initiateKeyUpdate(pair.net.now)).toBe(true);
      const id2 = (side === 'client' ? client : server).openStream(true)!;
      initiator.streamWrite(id2, payload(10_000), true);
      pair.net.run(() => responder.streamReadable(id2) === 10_000, 1000);
      expect(readStream(responder, id2)).toEqual(payload(10_000));
      expect(responder.oneRtt!.generation).toBe(2);
      expect(client.state).toBe('established');
    });
  }

  it('a second update waits until a packet under the current keys was acknowledged', async () => {
    const pair = await established();
    const client = pair.client;
    const server = pair.server.conn!;
    expect(client.initiateKeyUpdate(pair.net.now)).toBe(true);
    // Nothing is sent under the new keys while the connection is idle...
    pair.net.run(() => false, 2000);
    // ...so another update would leave the peer two generations behind: refused.
    expect(client.initiateKeyUpdate(pair.net.now)).toBe(false);
    const id = client.openStream(true)!;
    client.streamWrite(id, payload(5000), true);
    pair.net.run(() => server.streamReadable(id) === 5000, 3000);
    expect(readStream(server, id)).toEqual(payload(5000));
    expect(server.oneRtt!.generation).toBe(1);
    pair.net.run(() => false, 2000);
    expect(client.initiateKeyUpdate(pair.net.now)).toBe(true);
    expect(client.oneRtt!.generation).toBe(2);
  });

  it('keys are updated automatically before the confidentiality limit (RFC 9001 §6.6)', async () => {
    const pair = await established({ link: { delay: 10, rate: 10_000, queueBytes: 200_000 } });
    const client = pair.client;
    const server = pair.server.conn!;
    // Lower the AES-GCM limit of 2^23 packets to 3000 so a short transfer crosses it.
    const limits = { confidentiality: 3000, integrity: 2 ** 52 };
    (client.oneRtt as unknown as { limits: typeof limits }).limits = limits;
    let worst = 0;
    pair.net.tap = (from, d) => {
      if (from === 0) worst = Math.max(worst, client.oneRtt!.sendKeys.sealedPackets);
      return d;
    };
    const data = payload(8 << 20);
    const r = transfer(pair, data, 60_000, 1 << 20);
    expect(r.ok).toBe(true);
    expect(Buffer.compare(r.received, data)).toBe(0);
    expect(client.oneRtt!.generation).toBeGreaterThanOrEqual(2);
    expect(server.oneRtt!.generation).toBe(client.oneRtt!.generation);
    expect(worst).toBeLessThanOrEqual(3000);
    expect(client.state).toBe('established');
  });

  it('too many packets failing authentication close the connection with AEAD_LIMIT_REACHED', async () => {
    const pair = await established();
    const server = pair.server.conn!;
    (server.oneRtt as unknown as { limits: { confidentiality: number; integrity: number } }).limits = { confidentiality: 2 ** 23, integrity: 5 };
    const forged = (): Uint8Array => {
      const d = craftPacket(pair.client, [F.ping()]);
      d[d.length - 1]! ^= 1; // break the tag
      return d;
    };
    for (let i = 0; i < 5; i++) deliver(pair, 1, forged());
    expect(server.state).toBe('established');
    deliver(pair, 1, forged());
    expect(server.closeInfo).toMatchObject({ source: 'transport', code: BigInt(TransportError.AEAD_LIMIT_REACHED) });
  });

  it('an update before the handshake is confirmed is a KEY_UPDATE_ERROR', async () => {
    const pair = await makePair();
    pair.net.afterStep = () => pair.collect();
    // Hold back the server's HANDSHAKE_DONE so that the client cannot confirm the handshake.
    let hold = true;
    pair.net.tap = (from, d) => (hold && from === 1 && wireFrames(pair, 1, d).some((f) => f.type === FrameType.HandshakeDone) ? undefined : d);
    expect(pair.net.run(() => pair.server.conn?.handshakeComplete === true)).toBe(true);
    expect(pair.client.handshakeConfirmed).toBe(false);
    expect(pair.client.initiateKeyUpdate(pair.net.now)).toBe(false);
    hold = false;
    pair.server.conn!.oneRtt!.initiateKeyUpdate(); // a server breaking the rule
    pair.net.run(() => pair.client.state !== 'established' && pair.client.state !== 'handshake', 1000);
    expect(pair.client.closeInfo?.code).toBe(BigInt(TransportError.KEY_UPDATE_ERROR));
    pair.net.run(() => pair.server.conn!.isClosed, 5000);
    expect(pair.serverEvents.find((e) => e.type === 'closed')).toMatchObject({ info: { source: 'peer-transport', code: BigInt(TransportError.KEY_UPDATE_ERROR) } });
  });
});
