/**
 * Flow control, stream limits and sending settings take effect, observed over UDP loopback
 * between purequic's quicer client and server (transport parameters as the peer received
 * them, bytes a peer managed to send, datagrams counted and timed by a relay):
 * stream_recv_window_default, stream_recv_buffer_default, conn_flow_control_window,
 * peer_bidi_stream_count, peer_unidi_stream_count, local_bidi_stream_count,
 * local_peer_unidi_stream_count, initial_window_packets, send_idle_timeout_ms, pacing_enabled,
 * send_buffering_enabled, congestion_control_algorithm.
 */
import { describe, it, expect } from 'vitest';
import * as quicer from '../../src/quicer/quicer.js';
import type { Inbox } from '../../src/quicer/process.js';
import type { QuicConn } from '../../src/quicer/conn-handle.js';
import type { QuicStrm } from '../../src/quicer/stream-handle.js';
import { CubicController } from '../../src/congestion/cubic.js';
import { UdpRelay, delay, quicEvent, type TestServer, perTest } from './options-harness.js';

const { server, client, relayTo } = perTest();




function stream(conn: QuicConn, owner: Inbox, opts: Record<string, unknown> = {}): QuicStrm {
  const r = quicer.startStream(conn, opts, owner);
  if (r[0] !== 'ok') throw new Error(`startStream: ${JSON.stringify(r)}`);
  return r[1];
}

/** Bytes a passive stream holds now (recv(S, 0) takes what is there). */
async function drain(s: QuicStrm): Promise<number> {
  const r = await quicer.recv(s, 0);
  return r[0] === 'ok' ? (r[1] as Uint8Array).length : 0;
}

/** The next peer stream at the server (passive orphan). */
async function serverStream(s: TestServer): Promise<QuicStrm> {
  return (await quicEvent(s.events, 'new_stream'))[2] as QuicStrm;
}

describe('receive windows', () => {
  it('stream_recv_window_default is the per-stream window the peer sees, and it cannot send more until we read', async () => {
    const s = await server({ stream_recv_window_default: 16384 }, { echo: false });
    const c = await client(s.port, { stream_recv_window_default: 8192 });
    const tp = c.conn.ec!.conn.peerParams!;
    expect([tp.initialMaxStreamDataBidiLocal, tp.initialMaxStreamDataBidiRemote, tp.initialMaxStreamDataUni]).toEqual([16384, 16384, 16384]);
    expect(s.conns[0]!.ec!.conn.peerParams!.initialMaxStreamDataBidiRemote).toBe(8192);
    const st = stream(c.conn, c.events);
    quicer.asyncSend(st, new Uint8Array(100_000));
    const ss = await serverStream(s);
    await delay(150);
    expect(await drain(ss)).toBe(16384);
    // Reading gave credit back: more arrives.
    await delay(100);
    expect(await drain(ss)).toBeGreaterThan(0);
  });

  it('conn_flow_control_window is initial_max_data: all streams together stay within it until we read', async () => {
    const s = await server({ conn_flow_control_window: 20_000, peer_bidi_stream_count: 10 }, { echo: false });
    const c = await client(s.port, { conn_flow_control_window: 123_456 });
    expect(c.conn.ec!.conn.peerParams!.initialMaxData).toBe(20_000);
    expect(s.conns[0]!.ec!.conn.peerParams!.initialMaxData).toBe(123_456);
    for (let i = 0; i < 3; i++) quicer.asyncSend(stream(c.conn, c.events), new Uint8Array(16_000));
    const streams = [await serverStream(s), await serverStream(s)];
    await delay(150);
    let third: QuicStrm | undefined;
    const m = s.events.pending.find((x) => Array.isArray(x) && x[1] === 'new_stream');
    if (m) third = (m as unknown[])[2] as QuicStrm;
    let total = 0;
    for (const x of [...streams, ...(third ? [third] : [])]) total += await drain(x);
    expect(total).toBe(20_000);
  });

  it('stream_recv_buffer_default is validated and reported, and changes nothing on the wire', async () => {
    const s = await server({}, { echo: false });
    const a = await client(s.port, { stream_recv_buffer_default: 1 << 20 });
    const b = await client(s.port);
    expect(quicer.getopt(a.conn, 'settings')).toMatchObject(['ok', { stream_recv_buffer_default: 1 << 20 }]);
    expect(quicer.getopt(b.conn, 'stream_recv_buffer_default')).toEqual(['ok', 4096]);
    const pa = { ...s.conns[0]!.ec!.conn.peerParams! } as Record<string, unknown>;
    const pb = { ...s.conns[1]!.ec!.conn.peerParams! } as Record<string, unknown>;
    for (const p of [pa, pb]) {
      delete p.initialSourceConnectionId;
      delete p.statelessResetToken;
    }
    expect(pa).toEqual(pb);
  });
});

describe('stream counts', () => {
  it('peer_bidi_stream_count / peer_unidi_stream_count: the peer may open that many; the next waits for MAX_STREAMS', async () => {
    const s = await server({ peer_bidi_stream_count: 2, peer_unidi_stream_count: 1 }, { echo: false });
    const c = await client(s.port, { peer_bidi_stream_count: 3, peer_unidi_stream_count: 4 });
    expect(c.conn.ec!.conn.peerParams!.initialMaxStreamsBidi).toBe(2);
    expect(c.conn.ec!.conn.peerParams!.initialMaxStreamsUni).toBe(1);
    const sc = s.conns[0]!;
    expect(sc.ec!.conn.peerParams!.initialMaxStreamsBidi).toBe(3);
    expect(sc.ec!.conn.peerParams!.initialMaxStreamsUni).toBe(4);
    // What each side may open: the peer's limit (getopt's read-only counters).
    expect(quicer.getopt(c.conn, 'local_bidi_stream_count')).toEqual(['ok', 2]);
    expect(quicer.getopt(c.conn, 'local_peer_unidi_stream_count')).toEqual(['ok', 1]);
    expect(quicer.getopt(c.conn, 'local_unidi_stream_count')).toEqual(['ok', 1]);
    expect(quicer.getopt(sc, 'local_bidi_stream_count')).toEqual(['ok', 3]);
    expect(quicer.getopt(sc, 'local_unidi_stream_count')).toEqual(['ok', 4]);
    const a = stream(c.conn, c.events);
    stream(c.conn, c.events);
    expect(quicer.getopt(c.conn, 'local_bidi_stream_count')).toEqual(['ok', 0]);
    expect(quicer.startStream(c.conn, { start_flag: 2 }, c.events)).toEqual(['error', 'stm_start_error', 'stream_limit_reached']);
    expect(quicer.startStream(c.conn, { open_flag: 1 }, c.events)[0]).toBe('ok');
    expect(quicer.startStream(c.conn, { open_flag: 1, start_flag: 2 }, c.events)).toEqual(['error', 'stm_start_error', 'stream_limit_reached']);
    quicer.asyncSend(a, new Uint8Array([1]), 4);
    await serverStream(s);
  });

  it("quicer's client default lets the server open one stream of each kind; MsQuic's server default none", async () => {
    const s = await server({}, { echo: false });
    const c = await client(s.port);
    expect(quicer.getopt(s.conns[0]!, 'local_bidi_stream_count')).toEqual(['ok', 1]);
    expect(quicer.getopt(s.conns[0]!, 'local_unidi_stream_count')).toEqual(['ok', 1]);
    const s0 = await server({ peer_bidi_stream_count: 0 });
    const c0 = await client(s0.port);
    expect(quicer.getopt(c0.conn, 'local_bidi_stream_count')).toEqual(['ok', 0]);
    expect(quicer.getopt(c0.conn, 'local_unidi_stream_count')).toEqual(['ok', 0]);
    void c;
  });

  it('raising peer_bidi_stream_count at runtime sends MAX_STREAMS: the peer gets streams_available and its waiting stream starts', async () => {
    const s = await server({ peer_bidi_stream_count: 1 }, { echo: false });
    const c = await client(s.port);
    // Right after the handshake: one bidirectional stream allowed.
    expect((await quicEvent(c.events, 'streams_available'))[3]).toEqual({ bidi_streams: 1, unidi_streams: 0 });
    const first = stream(c.conn, c.events);
    quicer.asyncSend(first, new Uint8Array([1]));
    const waiting = stream(c.conn, c.events, { start_flag: 8 });
    expect(quicer.getopt(waiting, 'stream_id')).toEqual(['error', 'invalid_state']);
    await serverStream(s);
    expect(quicer.setopt(s.conns[0]!, 'settings', { peer_bidi_stream_count: 4 })).toEqual(['ok']);
    expect(quicer.getopt(s.conns[0]!, 'settings')).toMatchObject(['ok', { peer_bidi_stream_count: 4 }]);
    const avail = await quicEvent(c.events, 'streams_available');
    // 4 allowed: 2 opened (the waiting one started at once).
    expect(avail[3]).toEqual({ bidi_streams: 2, unidi_streams: 0 });
    await quicEvent(c.events, 'peer_accepted');
    expect(quicer.getopt(waiting, 'stream_id')).toEqual(['ok', 4]);
  });
});

describe('sending', () => {
  /** c2s datagrams a client manages to send while the relay drops everything coming back. */
  async function sentBlind(relay: UdpRelay, conn: QuicConn, owner: Inbox, bytes: number, windowMs = 60, opts: Record<string, unknown> = {}): Promise<number> {
    relay.drop = (d) => d.dir === 's2c';
    const from = relay.now();
    quicer.asyncSend(stream(conn, owner, opts), new Uint8Array(bytes));
    await delay(windowMs);
    const n = relay.count('c2s', from);
    relay.drop = undefined;
    return n;
  }

  it('initial_window_packets: bytes in flight before the first ACK are about that many packets', async () => {
    const counts: number[] = [];
    for (const n of [4, 24]) {
      const s = await server({ stream_recv_window_default: 2 ** 24 });
      const relay = await relayTo(s.port);
      const c = await client(relay.port, { initial_window_packets: n });
      counts.push(await sentBlind(relay, c.conn, c.events, 200_000));
    }
    const [few, many] = counts as [number, number];
    expect(few).toBeGreaterThanOrEqual(4);
    expect(few).toBeLessThanOrEqual(4 + 5);
    expect(many - few).toBeGreaterThanOrEqual(20 - 2);
    expect(many - few).toBeLessThanOrEqual(20 + 2);
  });

  /** Bytes the server side received on its streams until a FIN (its harness echoes by reading actively). */
  async function receivedUntilFin(s: TestServer): Promise<number> {
    let n = 0;
    for (;;) {
      const m = await s.events.receive<unknown[]>((x) => Array.isArray(x) && x[1] instanceof Uint8Array);
      n += (m[1] as Uint8Array).length;
      if ((m[3] as { flags: number }).flags & 2) return n;
    }
  }

  it('send_idle_timeout_ms: after sending was idle that long, the window starts over from the initial one', async () => {
    const counts: number[] = [];
    for (const idle of [50, 0]) {
      const s = await server({ stream_recv_window_default: 2 ** 24, peer_unidi_stream_count: 10 });
      const relay = await relayTo(s.port);
      const c = await client(relay.port, { initial_window_packets: 2, send_idle_timeout_ms: idle });
      // Grow the window with a one-way transfer, then stay quiet.
      quicer.asyncSend(stream(c.conn, c.events, { open_flag: 1 }), new Uint8Array(6_000_000), 4);
      expect(await receivedUntilFin(s)).toBe(6_000_000);
      await delay(150);
      counts.push(await sentBlind(relay, c.conn, c.events, 8_000_000, 40, { open_flag: 1 }));
    }
    const [reset, kept] = counts as [number, number];
    expect(reset).toBeGreaterThanOrEqual(2);
    expect(reset).toBeLessThanOrEqual(2 + 1);
    expect(kept).toBeGreaterThan(10);
  });

  it('pacing_enabled: with pacing a window is spread over the RTT; without it goes out in one burst', async () => {
    const spans: number[] = [];
    for (const pacing of [true, false]) {
      const s = await server({ stream_recv_window_default: 2 ** 24, peer_unidi_stream_count: 10 });
      const relay = await relayTo(s.port);
      relay.delay = { c2s: 30, s2c: 30 };
      const c = await client(relay.port, { initial_window_packets: 30, pacing_enabled: pacing });
      // Let path MTU discovery settle (probes of what the window holds, 60 ms RTT): then 30
      // packets are 30 full datagrams.
      for (let i = 0; i < 100 && c.conn.ec!.conn.maxDatagramSize < 65_000; i++) await delay(20);
      expect(c.conn.ec!.conn.maxDatagramSize).toBeGreaterThan(65_000);
      const from = relay.now();
      quicer.asyncSend(stream(c.conn, c.events, { open_flag: 1 }), new Uint8Array(30 * 65_000));
      await delay(100);
      const sent = relay.log.filter((d) => d.dir === 'c2s' && d.t >= from && d.size > 60_000);
      expect(sent.length).toBeGreaterThanOrEqual(25);
      spans.push(sent.at(-1)!.t - sent[0]!.t);
    }
    const [paced, burst] = spans as [number, number];
    expect(paced).toBeGreaterThan(25);
    expect(burst).toBeLessThan(12);
  });

  it('send_buffering_enabled: on, a send completes once queued; off, once the peer acknowledged it', async () => {
    const times: number[] = [];
    for (const buffering of [true, false]) {
      const s = await server();
      const relay = await relayTo(s.port);
      relay.delay = { c2s: 40, s2c: 40 };
      const c = await client(relay.port, { send_buffering_enabled: buffering });
      const st = stream(c.conn, c.events);
      const t0 = performance.now();
      const r = await quicer.send(st, new Uint8Array(5000));
      times.push(performance.now() - t0);
      expect(r).toEqual(['ok', 5000]);
    }
    const [buffered, acked] = times as [number, number];
    expect(buffered).toBeLessThan(20);
    expect(acked).toBeGreaterThanOrEqual(75);
  });

  it('congestion_control_algorithm 0 runs CUBIC and is reported', async () => {
    const s = await server({ congestion_control_algorithm: 0 });
    const c = await client(s.port, { congestion_control_algorithm: 0 });
    expect(c.conn.ec!.conn.cc).toBeInstanceOf(CubicController);
    expect(s.conns[0]!.ec!.conn.cc).toBeInstanceOf(CubicController);
    expect(quicer.getopt(c.conn, 'congestion_control_algorithm')).toEqual(['ok', 0]);
  });
});
