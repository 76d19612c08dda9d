/**
 * Settings changed on a running connection (`setopt(conn, 'settings', Map)`, and the map of
 * `asyncHandshake(conn, ConnOpts)` on a server connection before its handshake continues),
 * observed on the wire through a recording UDP relay or by the peer.
 */
import { describe, it, expect } from 'vitest';
import * as quicer from '../../src/quicer/quicer.js';
import type { QuicConn } from '../../src/quicer/conn-handle.js';
import type { QuicStrm } from '../../src/quicer/stream-handle.js';
import { delay, quicEvent, perTest } from './options-harness.js';

const { cleanup, server, client, relayTo } = perTest();




describe("setopt(conn, 'settings', …) on a running connection", () => {
  it('keep_alive_interval_ms switched on sends PINGs from then on; switched off they stop', async () => {
    const s = await server();
    const relay = await relayTo(s.port);
    const c = await client(relay.port);
    await delay(100);
    let from = relay.now();
    await delay(200);
    expect(relay.count('c2s', from)).toBe(0);
    expect(quicer.setopt(c.conn, 'settings', { keep_alive_interval_ms: 40 })).toEqual(['ok']);
    from = relay.now();
    await delay(400);
    expect(relay.count('c2s', from)).toBeGreaterThanOrEqual(6);
    expect(quicer.setopt(c.conn, 'settings', { keep_alive_interval_ms: 0 })).toEqual(['ok']);
    await delay(60);
    from = relay.now();
    await delay(250);
    expect(relay.count('c2s', from)).toBe(0);
  });

  it('raising peer_unidi_stream_count sends MAX_STREAMS: the peer gets streams_available and may open more', async () => {
    const s = await server();
    const c = await client(s.port, { peer_unidi_stream_count: 0 });
    const sc = s.conns[0]!;
    expect(quicer.getopt(sc, 'local_unidi_stream_count')).toEqual(['ok', 0]);
    expect(quicer.setopt(c.conn, 'settings', { peer_unidi_stream_count: 2 })).toEqual(['ok']);
    const m = await s.events.receive<unknown[]>((x) => Array.isArray(x) && x[1] === 'streams_available' && (x[3] as { unidi_streams: number }).unidi_streams > 0);
    expect(m[3]).toMatchObject({ unidi_streams: 2 });
    expect(quicer.getopt(sc, 'local_unidi_stream_count')).toEqual(['ok', 2]);
  });

  it('disconnect_timeout_ms shortened at runtime: unacknowledged data ends the connection after the new timeout', async () => {
    const s = await server();
    const relay = await relayTo(s.port);
    const c = await client(relay.port);
    expect(quicer.setopt(c.conn, 'settings', { disconnect_timeout_ms: 200 })).toEqual(['ok']);
    relay.drop = (d) => d.dir === 's2c';
    const t0 = performance.now();
    quicer.asyncSend((quicer.startStream(c.conn, {}, c.events) as ['ok', QuicStrm])[1], new Uint8Array(100));
    expect((await quicEvent(c.events, 'transport_shutdown'))[3]).toEqual({ status: 'connection_timeout', error: 1 });
    expect(performance.now() - t0).toBeLessThan(800);
  });

  it('the whole map is checked first: one bad key changes nothing', async () => {
    const s = await server();
    const relay = await relayTo(s.port);
    const c = await client(relay.port);
    await delay(100); // path MTU probing after the handshake is over
    expect(quicer.setopt(c.conn, 'settings', { keep_alive_interval_ms: 30, initial_rtt_ms: 10 })).toEqual(['error', 'invalid_parameter']);
    expect(quicer.getopt(c.conn, 'keep_alive_interval_ms')).toEqual(['ok', 0]);
    const from = relay.now();
    await delay(200);
    expect(relay.count('c2s', from)).toBe(0);
  });
});

describe('asyncHandshake(conn, ConnOpts): settings for one server connection before its handshake continues', () => {
  it('applies them (here a keep-alive only this connection sends); a bad map is param_error and the handshake waits', async () => {
    let held: QuicConn | undefined;
    const s = await server({}, { onNewConn: (c) => (held = c) });
    const relay = await relayTo(s.port);
    const events = await (async () => {
      const r = await quicer.asyncConnect('127.0.0.1', relay.port, { alpn: ['opt-test'], verify: 'none' }, {});
      return r;
    })();
    const conn = (events as ['ok', QuicConn])[1];
    cleanup.push(async () => void (await quicer.shutdownConnection(conn, 0, 0, 500)));
    while (held === undefined) await delay(5);
    expect(quicer.asyncHandshake(held, { idle_timeout_ms: 100 })).toEqual(['error', 'param_error']);
    expect(quicer.asyncHandshake(held, { keep_alive_interval_ms: 'often' })).toEqual(['error', 'param_error']);
    expect(quicer.asyncHandshake(held, { keep_alive_interval_ms: 40, verify: 'verify_peer' })).toEqual(['error', 'param_error']);
    await delay(50);
    expect(held.handshakeCompleted).toBe(false);
    expect(quicer.asyncHandshake(held, { keep_alive_interval_ms: 40 })).toEqual(['ok']);
    await quicEvent(s.events, 'connected');
    await delay(60);
    const from = relay.now();
    await delay(300);
    expect(relay.count('s2c', from)).toBeGreaterThanOrEqual(5);
    expect(quicer.getopt(held, 'keep_alive_interval_ms')).toEqual(['ok', 40]);
    expect(quicer.getopt(s.listener, 'keep_alive_interval_ms')).toEqual(['ok', 0]);
  });
});
