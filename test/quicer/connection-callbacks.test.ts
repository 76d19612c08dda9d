/**
 * Every callback of the quicer_connection behaviour fires on the event QUICER.md §2a names,
 * with its props shape, between a purequic client (QuicConnection.startLink) and a listener
 * server's acceptors over UDP on loopback.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { QuicConn } from '../../src/quicer/conn-handle.js';
import { QuicStrm } from '../../src/quicer/stream-handle.js';
import * as quicer from '../../src/quicer/quicer.js';
import { QuicConnection } from '../../src/quicer/connection.js';
import { Inbox } from '../../src/quicer/process.js';
import { cleanup, identity, names, next, recorder, sleep, startClient, startServer, UdpRelay } from './connection-harness.js';

afterEach(cleanup);

describe('connection lifecycle callbacks', () => {
  it('client: init (conn_opts + stream_opts + conn), then connected, streamsAvailable, dgramStateChanged, in order', async () => {
    const { port } = await startServer({ lOpts: { alpn: ['a', 'quicer-test'], peer_bidi_stream_count: 3, peer_unidi_stream_count: 2 } });
    const { proc, inbox } = await startClient(port, { alpn: ['quicer-test', 'a'], app_key: 42 }, recorder(), { active: 'once' });
    const [, init] = await next(inbox, 'init');
    const opts = init as Record<string, unknown>;
    expect(opts.app_key).toBe(42);
    expect(opts.alpn).toEqual(['quicer-test', 'a']);
    expect(opts.stream_opts).toEqual({ active: 'once' });
    expect(opts.conn).toBeInstanceOf(QuicConn);
    expect(await QuicConnection.getHandle(proc)).toBe(opts.conn);

    const [, conn, props] = await next(inbox, 'connected');
    expect(conn).toBe(opts.conn);
    // The server picks the first of its own protocols that the client offered.
    expect(props).toEqual({ is_resumed: false, alpns: 'a' });
    const [, , avail] = await next(inbox, 'streamsAvailable');
    expect(avail).toEqual([3, 2]);
    const [, , dgram] = await next(inbox, 'dgramStateChanged');
    expect(dgram).toEqual({ dgram_send_enabled: false, dgram_max_len: 0 });
  });

  it('server: the acceptor runs init on its first connection (c_opts + stream_opts), then newConn with the ClientHello props, then connected', async () => {
    const { port, inbox } = await startServer({ cOpts: { app: 'server-side' }, sOpts: { active: false } });
    expect(names(inbox)).toEqual([]); // acceptors wait: no init yet
    const { inbox: cin } = await startClient(port, { alpn: ['x', 'quicer-test'] });
    const [, init] = await next(inbox, 'init');
    const opts = init as Record<string, unknown>;
    expect(opts.app).toBe('server-side');
    expect(opts.stream_opts).toEqual({ active: false });
    expect(opts.conn).toBeUndefined();
    expect(typeof (opts.conn_callback as { init: unknown }).init).toBe('function');

    const [, conn, props] = await next(inbox, 'newConn');
    expect(conn).toBeInstanceOf(QuicConn);
    const p = props as Record<string, unknown>;
    expect(p.version).toBe(1);
    expect(p.local_addr).toBe(`127.0.0.1:${port}`);
    const clientPort = (quicer.sockname((await next(cin, 'connected'))[1] as QuicConn) as readonly ['ok', { port: number }])[1].port;
    expect(p.remote_addr).toBe(`127.0.0.1:${clientPort}`);
    expect(p.server_name).toBeUndefined(); // an IP literal sends no SNI
    expect(p.alpns).toBe('quicer-test');
    expect(p.client_alpns).toEqual(['x', 'quicer-test']);
    const hello = p.crypto_buffer as Uint8Array;
    expect(hello[0]).toBe(1); // a TLS ClientHello message
    expect(hello.length).toBeGreaterThan(100);

    const [, sconn, sprops] = await next(inbox, 'connected');
    expect(sconn).toBe(conn);
    expect(sprops).toEqual({ is_resumed: false, alpns: 'quicer-test' });
  });

  it('shutdown gets the peer\'s application error code as a bigint; closed fires once on both sides', async () => {
    // The server closes in answer, as quicer_server_conn_callback does: that does not make it an app close.
    const { port, inbox: sin } = await startServer({
      cb: recorder({
        shutdown: (conn, _code, s) => {
          quicer.asyncShutdownConnection(conn);
          return ['ok', s];
        },
      }),
    });
    const { inbox: cin } = await startClient(port);
    const [, conn] = await next(cin, 'connected');
    await next(sin, 'connected');
    expect(await quicer.shutdownConnection(conn as QuicConn, 0, 4242)).toEqual(['ok']);
    const [, sconn, code] = await next(sin, 'shutdown');
    expect(code).toBe(4242n);
    const [, sconn2, sclosed] = await next(sin, 'closed');
    expect(sconn2).toBe(sconn);
    expect(sclosed).toEqual({ is_handshake_completed: true, is_peer_acked: false, is_app_closing: false });
    // Our own close: closed still arrives (purequic, QUICER.md §4), saying the app closed.
    const [, , cclosed] = await next(cin, 'closed');
    expect(cclosed).toMatchObject({ is_handshake_completed: true, is_app_closing: true });
    expect((cclosed as { is_peer_acked: boolean }).is_peer_acked).toBe(true);
    await sleep(50);
    expect(names(sin).filter((n) => n === 'closed')).toEqual([]);
    expect(names(cin).filter((n) => n === 'closed')).toEqual([]);
    expect(names(cin)).not.toContain('transportShutdown');
  });

  it('transportShutdown: an idle timeout reports {status: connection_idle, error: 1}, then closed', async () => {
    const { port, inbox: sin } = await startServer();
    const { inbox: cin } = await startClient(port, { idle_timeout_ms: 150 });
    await next(cin, 'connected');
    const [, , ts] = await next(cin, 'transportShutdown');
    expect(ts).toEqual({ status: 'connection_idle', error: 1 });
    const [, , closed] = await next(cin, 'closed');
    expect(closed).toMatchObject({ is_handshake_completed: true, is_app_closing: false });
    // The server's idle timer is the negotiated minimum too.
    expect((await next(sin, 'transportShutdown'))[2]).toEqual({ status: 'connection_idle', error: 1 });
  });
});

describe('stream callbacks', () => {
  it('newStream: a peer stream with no stream acceptor goes to the connection process as a passive orphan; flags say unidirectional', async () => {
    const { port, inbox: sin } = await startServer({ lOpts: { peer_unidi_stream_count: 1 } });
    const { inbox: cin } = await startClient(port);
    const [, conn] = await next(cin, 'connected');
    const owner = new Inbox();
    const [, bidi] = quicer.startStream(conn as QuicConn, {}, owner) as ['ok', QuicStrm];
    quicer.asyncSend(bidi, new TextEncoder().encode('bidi'), quicer.SendFlag.FIN);
    const [, uni] = quicer.startStream(conn as QuicConn, { open_flag: 1 }, owner) as ['ok', QuicStrm];
    quicer.asyncSend(uni, new TextEncoder().encode('uni'), quicer.SendFlag.FIN);
    const [, s1, p1] = await next(sin, 'newStream');
    const [, s2, p2] = await next(sin, 'newStream');
    expect(s1).toBeInstanceOf(QuicStrm);
    expect(p1).toEqual({ flags: 0, is_orphan: true });
    expect(p2).toEqual({ flags: 1, is_orphan: true });
    expect((s1 as QuicStrm).id).toBe(0);
    expect((s2 as QuicStrm).id).toBe(2);
    // Orphans start passive: the data waits for recv.
    expect((s1 as QuicStrm).active).toBe(false);
    const got = await quicer.recv(s1 as QuicStrm, 4);
    expect(new TextDecoder().decode((got as readonly ['ok', Uint8Array])[1])).toBe('bidi');
    owner.exit();
  });

  it('peerNeedsStreams when the peer is blocked by our limit; raising it with setopt gives the peer streamsAvailable', async () => {
    let serverConn: QuicConn | undefined;
    const { port, inbox: sin } = await startServer({
      lOpts: { peer_bidi_stream_count: 1 },
      cb: recorder({
        peerNeedsStreams: (conn, _dir, s) => {
          serverConn = conn;
          return ['ok', s];
        },
      }),
    });
    const { inbox: cin } = await startClient(port);
    const [, conn] = await next(cin, 'connected');
    expect((await next(cin, 'streamsAvailable'))[2]).toEqual([1, 0]); // a server's unidi default is MsQuic's 0
    const owner = new Inbox();
    expect(quicer.startStream(conn as QuicConn, {}, owner)[0]).toBe('ok');
    // The second waits for credit: STREAMS_BLOCKED tells the server.
    expect(quicer.startStream(conn as QuicConn, {}, owner)[0]).toBe('ok');
    const [, , dir] = await next(sin, 'peerNeedsStreams');
    expect(dir).toBe('bidi_streams');
    expect(quicer.setopt(serverConn!, 'settings', { peer_bidi_stream_count: 5 })).toEqual(['ok']);
    const [, , avail] = await next(cin, 'streamsAvailable', (r) => (r[2] as number[])[0]! > 0);
    // 5 allowed, 2 opened (the queued one started as soon as credit came).
    expect(avail).toEqual([3, 0]);
    owner.exit();
  });
});

describe('TLS-driven callbacks', () => {
  it('peerCertReceived (custom_verify) gets [leaf, chain]; accepting continues the handshake', async () => {
    const me = await identity();
    const { port } = await startServer();
    const { inbox: cin } = await startClient(
      port,
      { custom_verify: true },
      recorder({
        peerCertReceived: (conn, _certs, s) => {
          quicer.completeCertValidation(conn, true);
          return ['ok', s];
        },
      }),
    );
    const [, conn, certs] = await next(cin, 'peerCertReceived');
    const [leaf, chain] = certs as [Uint8Array, Uint8Array[]];
    expect(Buffer.from(leaf).equals(Buffer.from(me.certificate))).toBe(true);
    expect(chain).toHaveLength(1);
    expect(Buffer.from(chain[0]!).equals(Buffer.from(me.certificate))).toBe(true);
    expect((await next(cin, 'connected'))[1]).toBe(conn);
    expect(names(cin).filter((n) => n === 'peerCertReceived')).toEqual([]); // once
  });

  it('nstReceived (quic_event_mask bit 1) gives a ticket; a client resuming with nst is resumed and the server gets resumed', async () => {
    const { port, inbox: sin } = await startServer({ lOpts: { server_resumption_level: 1 } });
    const { inbox: cin, proc } = await startClient(port, { quic_event_mask: 1 });
    await next(cin, 'connected');
    const [, , ticket] = await next(cin, 'nstReceived');
    expect(ticket).toBeInstanceOf(Uint8Array);
    expect((ticket as Uint8Array).length).toBeGreaterThan(16);
    await next(sin, 'connected');
    proc.exit('shutdown');
    await next(sin, 'closed');

    const { inbox: cin2 } = await startClient(port, { nst: ticket });
    expect((await next(cin2, 'connected'))[2]).toEqual({ is_resumed: true, alpns: 'quicer-test' });
    expect((await next(sin, 'connected'))[2]).toEqual({ is_resumed: true, alpns: 'quicer-test' });
    const [, sconn, data] = await next(sin, 'resumed');
    expect(sconn).toBeInstanceOf(QuicConn);
    expect(data).toBe(false); // quicer stores no application data in its tickets
    // Without the mask bit no nstReceived is delivered.
    await sleep(50);
    expect(names(cin2)).not.toContain('nstReceived');
  });

  it('resumed gets the application data the server put in the ticket with sendResumptionTicket (QUICER.md §4)', async () => {
    const { port, inbox: sin } = await startServer({ lOpts: { server_resumption_level: 1 } });
    const { inbox: cin, proc } = await startClient(port, { quic_event_mask: 1 });
    const [, cconn] = await next(cin, 'connected');
    await next(cin, 'nstReceived'); // the automatic ticket, without data
    const [, sconn] = await next(sin, 'connected');
    const saved = new TextEncoder().encode('cart=3 items');
    expect(quicer.sendResumptionTicket(sconn as QuicConn, saved)).toEqual(['ok']);
    const [, , ticket] = await next(cin, 'nstReceived');
    // The client cannot issue tickets; bad data is the caller's error.
    expect(quicer.sendResumptionTicket(cconn as QuicConn, saved)).toEqual(['error', 'invalid_state']);
    expect(() => quicer.sendResumptionTicket(sconn as QuicConn, 'text' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => quicer.sendResumptionTicket(sconn as QuicConn, new Uint8Array(4097))).toThrow(RangeError);
    proc.exit('shutdown');
    await next(sin, 'closed');
    expect(quicer.sendResumptionTicket(sconn as QuicConn, saved)).toEqual(['error', 'closed']);

    const { inbox: cin2 } = await startClient(port, { nst: ticket });
    expect((await next(cin2, 'connected'))[2]).toEqual({ is_resumed: true, alpns: 'quicer-test' });
    const [, , data] = await next(sin, 'resumed');
    expect(new TextDecoder().decode(data as Uint8Array)).toBe('cart=3 items');
  });
});

describe('datagram callbacks', () => {
  it('dgramStateChanged on both sides once datagrams are negotiated; dgramRecv gets the bytes and flags 0', async () => {
    const { port, inbox: sin } = await startServer({ lOpts: { datagram_receive_enabled: 1 } });
    const { inbox: cin } = await startClient(port, { datagram_receive_enabled: true });
    const [, conn] = await next(cin, 'connected');
    const [, , cstate] = await next(cin, 'dgramStateChanged');
    expect((cstate as { dgram_send_enabled: boolean }).dgram_send_enabled).toBe(true);
    expect((cstate as { dgram_max_len: number }).dgram_max_len).toBeGreaterThan(1000);
    const [, sconn, sstate] = await next(sin, 'dgramStateChanged');
    expect((sstate as { dgram_send_enabled: boolean }).dgram_send_enabled).toBe(true);
    expect(quicer.sendDgram(conn as QuicConn, new TextEncoder().encode('ping'))).toEqual(['ok', 4]);
    const [, rconn, data, flags] = await next(sin, 'dgramRecv');
    expect(rconn).toBe(sconn);
    expect(new TextDecoder().decode(data as Uint8Array)).toBe('ping');
    expect(flags).toBe(0);
    quicer.sendDgram(sconn as QuicConn, new TextEncoder().encode('pong'));
    expect(new TextDecoder().decode((await next(cin, 'dgramRecv'))[2] as Uint8Array)).toBe('pong');
    // Path MTU discovery raises what fits in a datagram (loopback carries far more than
    // 1200 bytes): dgramStateChanged reports the new length.
    const first = (cstate as { dgram_max_len: number }).dgram_max_len;
    const [, , grown] = await next(cin, 'dgramStateChanged', (r) => (r[2] as { dgram_max_len: number }).dgram_max_len > first);
    expect(grown).toMatchObject({ dgram_send_enabled: true });
    const bigger = (grown as { dgram_max_len: number }).dgram_max_len;
    expect(quicer.sendDgram(conn as QuicConn, new Uint8Array(bigger))).toEqual(['ok', bigger]);
    expect(((await next(sin, 'dgramRecv'))[2] as Uint8Array).length).toBe(bigger);
  });
});

describe('address callbacks', () => {
  it('peerAddressChanged on the server when the client\'s NAT mapping changes (validated new address, "IP:Port")', async () => {
    const { port, inbox: sin } = await startServer();
    const relay = await UdpRelay.create(port);
    const { inbox: cin } = await startClient(relay.port, { datagram_receive_enabled: 1 });
    const [, conn] = await next(cin, 'connected');
    await next(sin, 'connected');
    await sleep(20); // HANDSHAKE_DONE: the server only follows a confirmed connection
    const before = relay.outsidePort;
    await relay.rebind();
    const owner = new Inbox();
    const [, s] = quicer.startStream(conn as QuicConn, {}, owner) as ['ok', QuicStrm];
    quicer.asyncSend(s, new Uint8Array(100), quicer.SendFlag.FIN);
    const [, , addr] = await next(sin, 'peerAddressChanged');
    expect(addr).toBe(`127.0.0.1:${relay.outsidePort}`);
    expect(relay.outsidePort).not.toBe(before);
    owner.exit();
  });

  it('localAddressChanged on a client moved to a new local address; the server follows (peerAddressChanged) and traffic goes on', async () => {
    const { port, inbox: sin } = await startServer({ lOpts: { datagram_receive_enabled: 1 } });
    const { inbox: cin } = await startClient(port, { datagram_receive_enabled: 1 });
    const [, conn] = await next(cin, 'connected');
    const [, sconn] = await next(sin, 'connected');
    // A client may only migrate once its handshake is confirmed (HANDSHAKE_DONE arrived).
    expect(await quicer.migrateLocalAddress(conn as QuicConn, '127.0.0.1:0')).toEqual(['error', 'invalid_state']);
    while (!(conn as QuicConn).ec!.conn.handshakeConfirmed) await sleep(2);
    const oldPort = (quicer.sockname(conn as QuicConn) as readonly ['ok', { port: number }])[1].port;
    expect(await quicer.migrateLocalAddress(conn as QuicConn, '127.0.0.1:0')).toEqual(['ok']);
    const newPort = (quicer.sockname(conn as QuicConn) as readonly ['ok', { port: number }])[1].port;
    expect(newPort).not.toBe(oldPort);
    const [, lconn, laddr] = await next(cin, 'localAddressChanged');
    expect(lconn).toBe(conn);
    expect(laddr).toBe(`127.0.0.1:${newPort}`);
    const [, pconn, paddr] = await next(sin, 'peerAddressChanged');
    expect(pconn).toBe(sconn);
    expect(paddr).toBe(`127.0.0.1:${newPort}`);
    quicer.sendDgram(sconn as QuicConn, new TextEncoder().encode('after the move'));
    expect(new TextDecoder().decode((await next(cin, 'dgramRecv'))[2] as Uint8Array)).toBe('after the move');
    // quicer's way: setopt(C, local_address, Addr) on the started connection moves it again.
    expect(quicer.setopt(conn as QuicConn, 'local_address', '127.0.0.1:0')).toEqual(['ok']);
    const [, , laddr2] = await next(cin, 'localAddressChanged');
    const thirdPort = (quicer.sockname(conn as QuicConn) as readonly ['ok', { port: number }])[1].port;
    expect(laddr2).toBe(`127.0.0.1:${thirdPort}`);
    expect(thirdPort).not.toBe(newPort);
    expect((await next(sin, 'peerAddressChanged'))[2]).toBe(`127.0.0.1:${thirdPort}`);
    // A server connection cannot move; a hostname is not an address.
    expect(await quicer.migrateLocalAddress(sconn as QuicConn, '127.0.0.1:0')).toEqual(['error', 'invalid_state']);
    expect(quicer.setopt(sconn as QuicConn, 'local_address', '127.0.0.1:0')).toEqual(['error', 'invalid_state']);
    expect(await quicer.migrateLocalAddress(conn as QuicConn, 'localhost:1')).toEqual(['error', 'badarg']);
  });
});

