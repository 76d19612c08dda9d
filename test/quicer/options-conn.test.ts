/**
 * The connection-level quicer keys take effect, over UDP loopback between purequic's quicer
 * client and server: conn_callback, handle (with options preset before connecting),
 * quic_event_mask (bits 1 and 2), local_address, max_operations_per_drain, and the three keys
 * kept for their callbacks: nst + server_resumption_level (resumption), datagram_receive_enabled.
 */
import { describe, it, expect } from 'vitest';
import { createSocket } from 'node:dgram';
import * as quicer from '../../src/quicer/quicer.js';
import { Inbox } from '../../src/quicer/process.js';
import { QuicConnection, type ConnectionCallbacks, type ConnectionProcess } from '../../src/quicer/connection.js';
import type { QuicConn } from '../../src/quicer/conn-handle.js';
import { delay, quicEvent, perTest } from './options-harness.js';

const { cleanup, server, client } = perTest();



/** A UDP port that was free a moment ago. */
async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const has = (inbox: Inbox, event: string) => inbox.pending.some((m) => Array.isArray(m) && m[0] === 'quic' && m[1] === event);

describe('conn_callback', () => {
  it("is the callback module of a listener's acceptors: its init and newConn run for a client connection", async () => {
    const s = await server({}, { acceptor: false });
    const seen = new Inbox();
    cleanup.push(async () => seen.exit('normal'));
    const module: ConnectionCallbacks<{ n: number }> = {
      init: (opts) => {
        seen.send(['init', opts.app_key]);
        return ['ok', { n: 0 }];
      },
      newConn: (conn, props, st) => {
        seen.send(['newConn', props.alpns]);
        quicer.asyncHandshake(conn);
        return ['ok', st];
      },
      connected: (_c, _p, st) => {
        seen.send(['connected']);
        return ['ok', st];
      },
    };
    const acceptors: ConnectionProcess<unknown>[] = [];
    const conf = { l_opts: {}, c_opts: { conn_callback: module, app_key: 'v' }, s_opts: {} };
    const sup = { startChild: () => void acceptors.push((QuicConnection.startAcceptor(s.listener, conf, sup) as ['ok', ConnectionProcess<unknown>])[1]) };
    sup.startChild();
    cleanup.push(async () => acceptors.forEach((a) => a.exit('shutdown')));
    await client(s.port);
    expect(acceptors).toHaveLength(2); // the one that took the connection started its replacement
    expect(await seen.receive()).toEqual(['init', 'v']);
    expect(await seen.receive()).toEqual(['newConn', 'opt-test']);
    expect(await seen.receive()).toEqual(['connected']);
  });

  it('without it an acceptor cannot start', async () => {
    const s = await server();
    expect(QuicConnection.startAcceptor(s.listener, { l_opts: {}, c_opts: {}, s_opts: {} }, { startChild: () => {} })).toEqual(['error', 'missing_conn_callback']);
  });
});

describe('handle', () => {
  it('connect with a handle from openConnection starts that handle, with the options set on it before', async () => {
    const s = await server();
    const owner = new Inbox();
    cleanup.push(async () => owner.exit('normal'));
    const port = await freePort();
    const h = quicer.openConnection(owner);
    expect(quicer.setopt(h, 'settings', { idle_timeout_ms: 4321, keep_alive_interval_ms: 1000 })).toEqual(['ok']);
    expect(quicer.setopt(h, 'local_address', `127.0.0.1:${port}`)).toEqual(['ok']);
    expect(quicer.setopt(h, 'custom_verify', true)).toEqual(['ok']);
    expect(quicer.getopt(h, 'settings')).toMatchObject(['ok', { idle_timeout_ms: 4321, keep_alive_interval_ms: 1000 }]);
    expect(quicer.getopt(h, 'custom_verify')).toEqual(['ok', true]);
    const connecting = quicer.connect('127.0.0.1', s.port, { alpn: ['opt-test'], handle: h }, 3000);
    // custom_verify preset: the owner is asked about the server certificate.
    await quicEvent(owner, 'peer_cert_received');
    quicer.completeCertValidation(h, true);
    const r = await connecting;
    expect(r[0]).toBe('ok');
    expect(r[1]).toBe(h);
    cleanup.push(async () => void (await quicer.shutdownConnection(h, 0, 0, 1000)));
    await quicEvent(owner, 'connected');
    expect(s.conns[0]!.ec!.conn.peerParams!.maxIdleTimeout).toBe(4321);
    expect(quicer.sockname(h)).toEqual(['ok', { address: '127.0.0.1', port }]);
    expect(quicer.getopt(h, 'keep_alive_interval_ms')).toEqual(['ok', 1000]);
  });

  it('a handle that already started cannot be connected again', async () => {
    const s = await server();
    const c = await client(s.port);
    const r = await quicer.connect('127.0.0.1', s.port, { alpn: ['opt-test'], handle: c.conn }, 1000);
    expect(r[0]).toBe('error');
    expect(s.conns).toHaveLength(1);
  });
});

describe('quic_event_mask', () => {
  it('bit 1 delivers nst_received; without it the ticket is kept but not sent (getopt resumption_ticket)', async () => {
    const s = await server({ server_resumption_level: 1 });
    const masked = await client(s.port, { quic_event_mask: 1 });
    const m = await quicEvent(masked.events, 'nst_received');
    expect(m[3]).toBeInstanceOf(Uint8Array);
    const plain = await client(s.port);
    await delay(150);
    expect(has(plain.events, 'nst_received')).toBe(false);
    const t = quicer.getopt(plain.conn, 'resumption_ticket');
    expect(t[0]).toBe('ok');
    expect((t[1] as Uint8Array).length).toBeGreaterThan(0);
  });

  it('bit 2 suppresses streams_available', async () => {
    const s = await server({ peer_bidi_stream_count: 1 });
    const quiet = await client(s.port, { quic_event_mask: 2 });
    const loud = await client(s.port);
    await quicEvent(loud.events, 'streams_available');
    for (const sc of s.conns) expect(quicer.setopt(sc, 'settings', { peer_bidi_stream_count: 3 })).toEqual(['ok']);
    await delay(100);
    expect(loud.events.pending.filter((x) => Array.isArray(x) && x[1] === 'streams_available')).toHaveLength(1);
    expect(has(quiet.events, 'streams_available')).toBe(false);
    expect(quicer.getopt(quiet.conn, 'local_bidi_stream_count')).toEqual(['ok', 3]);
  });
});

describe('local_address', () => {
  it('binds the client socket there: sockname returns it and the server sees it', async () => {
    const s = await server();
    const port = await freePort();
    const c = await client(s.port, { local_address: `127.0.0.1:${port}` });
    expect(quicer.sockname(c.conn)).toEqual(['ok', { address: '127.0.0.1', port }]);
    expect(quicer.getopt(c.conn, 'local_address')).toEqual(['ok', { address: '127.0.0.1', port }]);
    expect(((await quicEvent(s.events, 'new_conn'))[3] as { remote_addr: string }).remote_addr).toBe(`127.0.0.1:${port}`);
    expect(quicer.peername(s.conns[0]!)).toEqual(['ok', { address: '127.0.0.1', port }]);
  });

  it('a port number alone binds that port; a port in use fails the connect before anything is sent', async () => {
    const s = await server();
    const port = await freePort();
    const c = await client(s.port, { local_address: port });
    expect((quicer.sockname(c.conn) as readonly ['ok', { port: number }])[1].port).toBe(port);
    const r = await quicer.connect('127.0.0.1', s.port, { alpn: ['opt-test'], verify: 'none', local_address: `127.0.0.1:${port}` }, 1000, { owner: new Inbox() });
    expect(r[0]).toBe('error');
    expect(s.conns).toHaveLength(1);
  });
});

describe('max_operations_per_drain', () => {
  /** Where a setImmediate queued before `n` casts lands among the casts the process handles. */
  async function turnAfter(proc: ConnectionProcess<unknown>, log: unknown[], n: number): Promise<number> {
    log.length = 0;
    setImmediate(() => log.push('turn'));
    for (let i = 0; i < n; i++) proc.cast(i);
    while (log.filter((x) => x !== 'turn').length < n || !log.includes('turn')) await delay(5);
    return log.indexOf('turn');
  }

  it("is how many messages the connection process handles in one turn before others run (default 16), also changed at runtime", async () => {
    const s = await server();
    const log: unknown[] = [];
    const events = new Inbox();
    cleanup.push(async () => events.exit('normal'));
    const module: ConnectionCallbacks<null> = {
      init: () => ['ok', null],
      connected: (_c, _p, st) => (events.send('connected'), ['ok', st]),
      handleCast: (req, st) => (log.push(req), ['ok', st]),
    };
    const procs: ConnectionProcess<null>[] = [];
    for (const opts of [{ max_operations_per_drain: 2 }, {}]) {
      const r = await QuicConnection.startLink(module, ['127.0.0.1', s.port], [{ alpn: ['opt-test'], ...opts }, {}]);
      const proc = (r as ['ok', ConnectionProcess<null>])[1];
      procs.push(proc);
      cleanup.push(async () => proc.exit('shutdown'));
      await events.receive((m) => m === 'connected');
      await delay(30);
    }
    const [two, dflt] = procs as [ConnectionProcess<null>, ConnectionProcess<null>];
    expect(await turnAfter(two, log, 10)).toBe(2);
    expect(await turnAfter(dflt, log, 20)).toBe(16);
    const conn = (await QuicConnection.getHandle(two))!;
    expect(quicer.setopt(conn, 'settings', { max_operations_per_drain: 5 })).toEqual(['ok']);
    expect(await turnAfter(two, log, 10)).toBe(5);
    expect(quicer.getopt(conn, 'settings')).toMatchObject(['ok', { max_operations_per_drain: 5 }]);
  });
});

describe('kept for their callbacks: nst, server_resumption_level, datagram_receive_enabled', () => {
  it('server_resumption_level 1 issues a ticket; nst resumes with it (is_resumed, and the server learns of it)', async () => {
    const s = await server({ server_resumption_level: 1 });
    const first = await client(s.port, { quic_event_mask: 1 });
    const ticket = (await quicEvent(first.events, 'nst_received'))[3] as Uint8Array;
    const again = await client(s.port, { nst: ticket });
    expect((await quicEvent(again.events, 'connected'))[3]).toMatchObject({ is_resumed: true });
    await quicEvent(s.events, 'connection_resumed');
    const none = await server();
    const c = await client(none.port, { quic_event_mask: 1 });
    await delay(100);
    expect(has(c.events, 'nst_received')).toBe(false);
  });

  it('datagram_receive_enabled lets the peer send datagrams (dgram_state_changed says so); without it the peer cannot', async () => {
    const s = await server();
    const on = await client(s.port, { datagram_receive_enabled: true });
    const off = await client(s.port);
    const [sOn, sOff] = s.conns as [QuicConn, QuicConn];
    expect((await quicEvent(on.events, 'dgram_state_changed'))[3]).toEqual({ dgram_send_enabled: false, dgram_max_len: 0 });
    expect(quicer.getopt(sOn, 'datagram_send_enabled')).toEqual(['ok', true]);
    expect(quicer.getopt(on.conn, 'datagram_receive_enabled')).toEqual(['ok', true]);
    expect(quicer.sendDgram(sOn, new Uint8Array([7, 7]))).toEqual(['ok', 2]);
    const d = await on.events.receive<unknown[]>((m) => Array.isArray(m) && m[1] instanceof Uint8Array);
    expect([...(d[1] as Uint8Array)]).toEqual([7, 7]);
    expect(quicer.sendDgram(sOff, new Uint8Array([1]))).toEqual(['error', 'dgram_send_error', 'invalid_state']);
    expect(quicer.getopt(off.conn, 'datagram_receive_enabled')).toEqual(['ok', false]);
  });
});
