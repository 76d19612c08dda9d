/**
 * The timer settings take effect, observed over UDP loopback between purequic's quicer client
 * and server (through a recording relay or against a silent socket):
 * handshake_idle_timeout_ms, idle_timeout_ms, keep_alive_interval_ms, disconnect_timeout_ms,
 * initial_rtt_ms, max_ack_delay_ms, send_idle_timeout_ms.
 */
import { describe, it, expect } from 'vitest';
import * as quicer from '../../src/quicer/quicer.js';
import { Inbox } from '../../src/quicer/process.js';
import type { QuicStrm } from '../../src/quicer/stream-handle.js';
import { BlackHole, delay, quicEvent, perTest } from './options-harness.js';

const { cleanup, server, client, relayTo } = perTest();




/** ms from `t0` until `['quic', event, …]` arrives in `inbox`, with the message. */
async function timeTo(inbox: Inbox, event: string, t0: number, timeoutMs = 5000): Promise<[number, unknown[]]> {
  const m = await quicEvent(inbox, event, timeoutMs);
  return [performance.now() - t0, m];
}

describe('handshake_idle_timeout_ms', () => {
  it('a handshake that gets no answer ends after that long: transport_shutdown connection_idle with error 1, then closed', async () => {
    const hole = await BlackHole.create();
    cleanup.push(() => hole.close());
    const events = new Inbox();
    cleanup.push(async () => events.exit('normal'));
    const t0 = performance.now();
    const r = await quicer.asyncConnect('127.0.0.1', hole.port, { alpn: ['opt-test'], handshake_idle_timeout_ms: 250 }, { owner: events });
    expect(r[0]).toBe('ok');
    const [t, m] = await timeTo(events, 'transport_shutdown', t0);
    expect(m[3]).toEqual({ status: 'connection_idle', error: 1 });
    expect(t).toBeGreaterThanOrEqual(240);
    expect(t).toBeLessThan(600);
    await quicEvent(events, 'closed');
    expect(hole.arrivals.length).toBeGreaterThanOrEqual(1);
  });

  it("connect's timeout becomes the handshake idle timeout when the key is absent (a transport shutdown, not a timeout error)", async () => {
    const hole = await BlackHole.create();
    cleanup.push(() => hole.close());
    const t0 = performance.now();
    const r = await quicer.connect('127.0.0.1', hole.port, { alpn: ['opt-test'] }, 150, { owner: new Inbox() });
    const t = performance.now() - t0;
    expect(r).toEqual(['error', 'transport_down', { status: 'connection_idle', error: 1 }]);
    expect(t).toBeGreaterThanOrEqual(140);
    expect(t).toBeLessThan(500);
  });
});

describe('initial_rtt_ms', () => {
  it('sets the first PTO: an unanswered first Initial is sent again after about 3x initial_rtt_ms', async () => {
    const gaps: number[] = [];
    for (const rtt of [30, 120]) {
      const hole = await BlackHole.create();
      cleanup.push(() => hole.close());
      const events = new Inbox();
      cleanup.push(async () => events.exit('normal'));
      await quicer.asyncConnect('127.0.0.1', hole.port, { alpn: ['opt-test'], initial_rtt_ms: rtt, handshake_idle_timeout_ms: 1000 }, { owner: events });
      while (hole.arrivals.length < 2) await delay(10);
      const [first, second] = hole.arrivals as unknown as [{ t: number }, { t: number }];
      gaps.push(second.t - first.t);
    }
    const [fast, slow] = gaps as [number, number];
    expect(fast).toBeGreaterThanOrEqual(3 * 30 - 5);
    expect(fast).toBeLessThan(3 * 30 + 60);
    expect(slow).toBeGreaterThanOrEqual(3 * 120 - 5);
    expect(slow).toBeLessThan(3 * 120 + 80);
  });
});

describe('idle_timeout_ms', () => {
  it('the smaller of both sides applies to both; the close is silent (no datagram) and reported as connection_idle', async () => {
    const s = await server({ idle_timeout_ms: 3000 });
    const relay = await relayTo(s.port);
    const c = await client(relay.port, { idle_timeout_ms: 300 });
    const t0 = performance.now();
    const sconn = s.conns[0]!;
    expect(sconn.ec!.conn.peerParams!.maxIdleTimeout).toBe(300);
    expect(c.conn.ec!.conn.peerParams!.maxIdleTimeout).toBe(3000);
    const [tc, mc] = await timeTo(c.events, 'transport_shutdown', t0);
    const [ts, ms] = await timeTo(s.events, 'transport_shutdown', t0);
    expect(mc[3]).toEqual({ status: 'connection_idle', error: 1 });
    expect(ms[3]).toEqual({ status: 'connection_idle', error: 1 });
    expect(tc).toBeGreaterThan(250);
    expect(tc).toBeLessThan(800);
    expect(ts).toBeGreaterThan(250);
    expect(ts).toBeLessThan(800);
    const last = relay.log.at(-1)!;
    // Nothing was sent when the timers fired: the last datagram is from the handshake's end.
    expect(last.t).toBeLessThan(relay.now() - 200);
  });

  it('0 disables it on one side: the peer value applies', async () => {
    const s = await server({ idle_timeout_ms: 200 });
    const c = await client(s.port, { idle_timeout_ms: 0 });
    expect(s.conns[0]!.ec!.conn.peerParams!.maxIdleTimeout).toBe(0);
    const t0 = performance.now();
    const [tc] = await timeTo(c.events, 'transport_shutdown', t0);
    expect(tc).toBeGreaterThan(150);
    expect(tc).toBeLessThan(700);
  });

  it('never below 3 PTO: a 1 ms idle timeout still lets a connection live through its PTO', async () => {
    const s = await server();
    const c = await client(s.port, { idle_timeout_ms: 1 });
    const t0 = performance.now();
    const pto = c.conn.ec!.conn.recovery.ptoDuration();
    const [tc, m] = await timeTo(c.events, 'transport_shutdown', t0);
    expect(m[3]).toEqual({ status: 'connection_idle', error: 1 });
    expect(tc).toBeGreaterThanOrEqual(3 * pto - 20);
    expect(3 * pto).toBeGreaterThan(20);
  });
});

describe('the longest timeouts', () => {
  it('idle and handshake timeouts of 2^62 - 1 ms are accepted and do not keep the timers spinning', async () => {
    const s = await server({ idle_timeout_ms: 2n ** 62n - 1n });
    const c = await client(s.port, { idle_timeout_ms: 2n ** 62n - 1n, handshake_idle_timeout_ms: 2n ** 62n - 1n });
    await delay(150); // the handshake's own timers are done
    const conn = c.conn.ec!.conn;
    // The endpoint asks for the next deadline whenever it (re)arms its timer.
    let asked = 0;
    const next = conn.nextDeadline.bind(conn);
    conn.nextDeadline = () => {
      asked++;
      return next();
    };
    await delay(300);
    expect(asked).toBeLessThanOrEqual(30);
    expect(c.conn.closed).toBe(false);
    expect(conn.peerParams!.maxIdleTimeout).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('keep_alive_interval_ms', () => {
  it('an idle connection sends PINGs at that interval (the peer answers), and survives an idle timeout shorter than the wait', async () => {
    const s = await server({ idle_timeout_ms: 200 });
    const relay = await relayTo(s.port);
    const c = await client(relay.port, { keep_alive_interval_ms: 50 });
    const from = relay.now() + 50;
    await delay(550);
    const pings = relay.count('c2s', from, from + 500);
    expect(pings).toBeGreaterThanOrEqual(7);
    expect(pings).toBeLessThanOrEqual(13);
    expect(relay.count('s2c', from, from + 500)).toBeGreaterThanOrEqual(5);
    expect(c.conn.closed).toBe(false);
    expect(c.events.pending.some((m) => Array.isArray(m) && m[1] === 'transport_shutdown')).toBe(false);
  });

  it('without it an idle connection sends nothing', async () => {
    const s = await server();
    const relay = await relayTo(s.port);
    await client(relay.port);
    await delay(100);
    const from = relay.now();
    await delay(300);
    expect(relay.count('c2s', from)).toBe(0);
  });
});

describe('disconnect_timeout_ms', () => {
  it('data unacknowledged that long ends the connection with connection_timeout', async () => {
    const s = await server();
    const relay = await relayTo(s.port);
    const c = await client(relay.port, { disconnect_timeout_ms: 300 });
    // Path MTU discovery first (its probes are unacknowledged packets too): the timer then
    // starts with the data below.
    for (let i = 0; i < 100 && c.conn.ec!.conn.maxDatagramSize < 65_000; i++) await delay(20);
    await delay(50);
    relay.drop = (d) => d.dir === 's2c';
    const [, stream] = quicer.startStream(c.conn, {}, c.events) as ['ok', QuicStrm];
    const t0 = performance.now();
    quicer.asyncSend(stream, new Uint8Array(1000));
    const [t, m] = await timeTo(c.events, 'transport_shutdown', t0);
    expect(m[3]).toEqual({ status: 'connection_timeout', error: 1 });
    expect(t).toBeGreaterThanOrEqual(280);
    expect(t).toBeLessThan(900);
  });
});

describe('max_ack_delay_ms', () => {
  it('is the max_ack_delay transport parameter the peer sees', async () => {
    const s = await server({ max_ack_delay_ms: 7 });
    const c = await client(s.port, { max_ack_delay_ms: 0 });
    expect(c.conn.ec!.conn.peerParams!.maxAckDelay).toBe(7);
    expect(s.conns[0]!.ec!.conn.peerParams!.maxAckDelay).toBe(0);
    const d = await client(s.port);
    expect(s.conns[1]!.ec!.conn.peerParams!.maxAckDelay).toBe(25);
    void d;
  });
});
