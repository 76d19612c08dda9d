/**
 * Transport behaviour behind quicer's settings: disconnect timeout, restart after send
 * idleness, keep-alive changed at runtime, a held server handshake with the ClientHello's
 * details, the TLS send buffer bound, acknowledged-prefix notifications and is_peer_acked.
 */
import { describe, it, expect } from 'vitest';
import { makePair, payload, runHandshake, NOW0 } from '../support/quic-pair.js';
import { FrameType } from '../../src/transport/frame-types.js';
import { decodeFrames } from '../../src/transport/frame.js';
import { wirePackets } from '../support/quic-wire.js';

describe('settings machinery in the transport', () => {
  it('declares the path dead after the disconnect timeout when nothing is acknowledged', async () => {
    const pair = await makePair({ transport: { disconnectTimeout: 2000, maxIdleTimeout: 60_000 } });
    expect(runHandshake(pair)).toBe(true);
    const c = pair.client;
    // From now on nothing reaches the client's peer.
    pair.net.links[0].blackholes = [[pair.net.now, Infinity]];
    const t0 = pair.net.now;
    const id = c.openStream(true)!;
    c.streamWrite(id, payload(5000), false);
    pair.net.run(() => c.isClosed, 30_000);
    const closed = pair.clientEvents.find((e) => e.type === 'closed');
    expect(closed?.type === 'closed' && closed.info.source).toBe('disconnect-timeout');
    const elapsed = pair.net.now - t0;
    expect(elapsed).toBeGreaterThanOrEqual(2000);
    expect(elapsed).toBeLessThan(2600);
  });

  it('keeps a connection with outstanding data open while ACKs keep coming', async () => {
    const pair = await makePair({ transport: { disconnectTimeout: 300 }, link: { delay: 50 } });
    expect(runHandshake(pair)).toBe(true);
    const c = pair.client;
    const id = c.openStream(true)!;
    c.streamWrite(id, payload(300_000), true);
    const s = pair.server.conn!;
    let got = 0;
    pair.net.afterStep = () => {
      pair.collect();
      for (let r = s.streamRead(id); r && r.data.length > 0; r = s.streamRead(id)) got += r.data.length;
    };
    pair.net.run(() => got === 300_000, 20_000);
    expect(got).toBe(300_000);
    expect(c.isClosed).toBe(false);
  });

  it('restarts from the initial window after sending was idle for the send idle timeout', async () => {
    const pair = await makePair({ transport: { sendIdleTimeout: 1000, maxIdleTimeout: 60_000 } });
    expect(runHandshake(pair)).toBe(true);
    const c = pair.client;
    const s = pair.server.conn!;
    const id = c.openStream(true)!;
    c.streamWrite(id, payload(2_000_000), false);
    pair.net.afterStep = () => {
      pair.collect();
      for (let r = s.streamRead(id); r && r.data.length > 0; r = s.streamRead(id));
    };
    pair.net.run(() => c.streamUnacked(id) === 0, 60_000);
    const grown = c.cc.congestionWindow;
    expect(grown).toBeGreaterThan(100_000);
    // Quiet for longer than the send idle timeout, then more data.
    pair.net.run(() => false, 1500);
    c.streamWrite(id, payload(1000), false);
    pair.net.run(() => c.streamUnacked(id) === 0, 10_000);
    expect(c.cc.congestionWindow).toBeLessThan(grown / 4);
  });

  it('sends PINGs at a keep-alive interval set at runtime, and stops when it is set to 0', async () => {
    const pair = await makePair({ transport: { maxIdleTimeout: 60_000 } });
    expect(runHandshake(pair)).toBe(true);
    const pings: number[] = [];
    pair.net.tap = (from, d) => {
      if (from === 0) for (const p of wirePackets(pair, 0, d)) if (p.frames?.some((f) => f.type === FrameType.Ping)) pings.push(pair.net.now);
      return d;
    };
    pair.client.setKeepAliveInterval(500, pair.net.now);
    pair.net.run(() => false, 2600);
    expect(pings.length).toBeGreaterThanOrEqual(4);
    pair.client.setKeepAliveInterval(0, pair.net.now);
    const before = pings.length;
    pair.net.run(() => false, 3000);
    expect(pings.length).toBeLessThanOrEqual(before + 1);
  });

  it('holds a server handshake until released, with the ClientHello details available', async () => {
    const pair = await makePair({ serverAccept: { holdHandshake: true }, alpn: ['h3', 'perf'] });
    pair.net.afterStep = () => pair.collect();
    pair.net.run(() => pair.server.conn?.clientHelloInfo !== undefined, 1000);
    const s = pair.server.conn!;
    expect(s.clientHelloInfo?.serverName).toBe('localhost');
    expect(s.clientHelloInfo?.alpn).toEqual(['h3', 'perf']);
    const raw = Buffer.concat(s.clientHelloBytes);
    expect(raw[0]).toBe(1); // HandshakeType client_hello
    const sentBefore = pair.net.stats.sent[1];
    pair.net.run(() => false, 500);
    expect(pair.net.stats.sent[1]).toBe(sentBefore); // nothing leaves while held
    s.releaseHandshake();
    expect(runHandshake(pair)).toBe(true);
  });

  it('fails the handshake when a TLS flight exceeds the TLS send buffer limit', async () => {
    const pair = await makePair({ serverTransport: { maxTlsSendBuffer: 200 } });
    expect(runHandshake(pair, 3000)).toBe(false);
    const shut = pair.serverEvents.find((e) => e.type === 'shutdownInitiated');
    expect(shut?.type === 'shutdownInitiated' && shut.info.code).toBe(1n);
    expect(shut?.type === 'shutdownInitiated' && shut.info.reason).toMatch(/TLS send buffer limit of 200 bytes/);
  });

  it('reports the acknowledged prefix of a stream when asked', async () => {
    const pair = await makePair();
    expect(runHandshake(pair)).toBe(true);
    const c = pair.client;
    const id = c.openStream(true)!;
    c.streamNotifyAcked(id);
    c.streamWrite(id, payload(50_000), false);
    pair.net.run(() => c.streamAckedOffset(id) === 50_000, 10_000);
    pair.collect();
    const acks = pair.clientEvents.filter((e) => e.type === 'streamDataAcked');
    expect(acks.length).toBeGreaterThan(0);
    const last = acks[acks.length - 1]!;
    expect(last.type === 'streamDataAcked' && last.offset).toBe(50_000);
  });

  it('is_peer_acked: true when the peer answered our CONNECTION_CLOSE, false for a silent close', async () => {
    const a = await makePair();
    expect(runHandshake(a)).toBe(true);
    a.client.close(7, 'bye', a.net.now);
    a.net.run(() => a.client.isClosed && a.server.conn!.isClosed, 20_000);
    expect(a.client.peerAcknowledgedClose).toBe(true);
    const frames = decodeFrames(new Uint8Array([FrameType.Ping]));
    expect(frames.length).toBe(1);
    const b = await makePair();
    expect(runHandshake(b)).toBe(true);
    b.client.close(7, '', b.net.now, { silent: true });
    expect(b.client.isClosed).toBe(true);
    expect(b.client.peerAcknowledgedClose).toBe(false);
    void NOW0;
  });
});
