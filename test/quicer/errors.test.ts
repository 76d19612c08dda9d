/**
 * quicer's error terms as a user of the behaviour sees them (QUICER.md §0.4, §3g), over UDP
 * on loopback: failed negotiations, refused and timed-out connections, application close
 * codes, SILENT closes on the wire, and the user complaints of QUICER.md §5 (2, 15, 16, 17).
 */
import { describe, it, expect, afterEach } from 'vitest';
import { createSocket } from 'node:dgram';
import { QuicConn, ConnShutdownFlag } from '../../src/quicer/conn-handle.js';
import * as quicer from '../../src/quicer/quicer.js';
import { Inbox } from '../../src/quicer/process.js';
import { statusOfTransportCode, transportShutdownProps } from '../../src/quicer/status.js';
import { cleanup, cleanups, names, next, recorder, sleep, startClient, startServer, UdpRelay } from './connection-harness.js';

afterEach(cleanup);

/** A UDP port on loopback where nothing answers. */
async function silentPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  s.on('message', () => {});
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  return s.address().port;
}

describe('status atoms', () => {
  it('transport codes and TLS alerts map to quicer statuses as MsQuic names them; local closes report error 1', () => {
    const table: Array<[number, unknown]> = [
      [0x0, 'success'],
      [0x1, 'internal_error'],
      [0x2, 'connection_refused'],
      [0x3, 'internal_error'], // FLOW_CONTROL_ERROR: no named status
      [0xa, 'protocol_error'],
      [0xc, 'user_canceled'],
      [0x11, 'ver_neg_error'],
      [0x100 + 42, 'bad_certificate'],
      [0x100 + 43, 'unsupported_certificate'],
      [0x100 + 44, 'revoked_certificate'],
      [0x100 + 45, 'expired_certificate'],
      [0x100 + 46, 'unknown_certificate'],
      [0x100 + 48, 'cert_untrusted_root'],
      [0x100 + 40, 'handshake_failure'],
      [0x100 + 90, 'user_canceled'],
      [0x100 + 116, 'required_certificate'],
      [0x100 + 120, 'alpn_neg_failure'],
      [0x100 + 80, ['unknown_quic_tls_status', 80]],
    ];
    for (const [code, status] of table) expect([code, statusOfTransportCode(code)]).toEqual([code, status]);
    const info = (source: string, code = 0n) => ({ source, code, frameType: 0, reason: '' }) as never;
    expect(transportShutdownProps(info('idle-timeout'))).toEqual({ status: 'connection_idle', error: 1 });
    expect(transportShutdownProps(info('handshake-timeout'))).toEqual({ status: 'connection_idle', error: 1 });
    expect(transportShutdownProps(info('disconnect-timeout'))).toEqual({ status: 'connection_timeout', error: 1 });
    expect(transportShutdownProps(info('peer-transport', 0x178n))).toEqual({ status: 'alpn_neg_failure', error: 376 });
    expect(transportShutdownProps(info('peer-application', 5n))).toBeUndefined(); // that is a `shutdown`
    expect(transportShutdownProps(info('application', 5n))).toBeUndefined(); // our own close
  });
});

describe('handshake failures', () => {
  it('no ALPN in common: the client gets transportShutdown {alpn_neg_failure, 376}; the server raises no newConn and keeps its acceptors', async () => {
    const { port, inbox: sin, server } = await startServer({ lOpts: { alpn: ['server-only'] }, acceptors: 2 });
    // A short initial RTT keeps the draining period after the peer's close short (3×PTO).
    const { inbox: cin } = await startClient(port, { alpn: ['client-only'], initial_rtt_ms: 10 });
    const [, , ts] = await next(cin, 'transportShutdown');
    expect(ts).toEqual({ status: 'alpn_neg_failure', error: 376 });
    expect((await next(cin, 'closed'))[2]).toMatchObject({ is_handshake_completed: false, is_app_closing: false });
    await sleep(50);
    expect(names(sin)).toEqual([]); // no init, no newConn
    expect(server.listener.acceptorCount).toBe(2);
    expect(names(cin)).not.toContain('connected');
  });

  it("verify: 'verify_peer' against an untrusted (self-signed) server certificate fails the handshake with a certificate status", async () => {
    const { port, inbox: sin } = await startServer();
    const { inbox: cin } = await startClient(port, { verify: 'verify_peer' });
    const [, , ts] = await next(cin, 'transportShutdown');
    const { status, error } = ts as { status: string; error: number };
    expect(['cert_untrusted_root', 'bad_certificate', 'unknown_certificate', 'handshake_failure']).toContain(status);
    expect(error).toBeGreaterThan(0x100);
    expect(error).toBeLessThan(0x200);
    expect(names(cin)).not.toContain('connected');
    // The server hears the alert as the same error.
    const [, , sts] = await next(sin, 'transportShutdown');
    expect(sts).toEqual({ status, error });
  });

  it('custom_verify rejecting with alert 42 fails the handshake: the peer gets error 298 (bad_certificate)', async () => {
    const { port, inbox: sin } = await startServer();
    const { inbox: cin } = await startClient(
      port,
      { custom_verify: true },
      recorder({
        peerCertReceived: (conn, _certs, s) => {
          quicer.completeCertValidation(conn, false, 42);
          return ['ok', s];
        },
      }),
    );
    await next(cin, 'peerCertReceived');
    expect((await next(sin, 'transportShutdown'))[2]).toEqual({ status: 'bad_certificate', error: 298 });
    expect((await next(cin, 'transportShutdown'))[2]).toEqual({ status: 'bad_certificate', error: 298 });
    expect(names(cin)).not.toContain('connected');
  });

  it('zero acceptors (conn_acceptors 0): the client is refused with connection_refused', async () => {
    const { port, inbox: sin } = await startServer({ acceptors: 0 });
    const { inbox: cin } = await startClient(port, { initial_rtt_ms: 10 });
    const [, , ts] = await next(cin, 'transportShutdown');
    expect(ts).toEqual({ status: 'connection_refused', error: 2 });
    expect((await next(cin, 'closed'))[2]).toMatchObject({ is_handshake_completed: false });
    expect(names(sin)).toEqual([]);
  });

  it('nobody answers: the handshake idle timeout ends the connect with connection_idle, and closed is delivered (QUICER.md §5.13, §5.16)', async () => {
    const port = await silentPort();
    const t0 = performance.now();
    const { inbox: cin } = await startClient(port, { handshake_idle_timeout_ms: 300 });
    expect((await next(cin, 'transportShutdown'))[2]).toEqual({ status: 'connection_idle', error: 1 });
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2000);
    expect((await next(cin, 'closed'))[2]).toEqual({ is_handshake_completed: false, is_peer_acked: false, is_app_closing: false });
    // The blocking connect reports the same as quicer's {error, transport_down, Props}.
    expect(await quicer.connect('127.0.0.1', port, { alpn: ['x'] }, 300)).toEqual(['error', 'transport_down', { status: 'connection_idle', error: 1 }]);
  });
});

describe('closes', () => {
  it('a peer closing with the largest application error code 2^62-1: shutdown gets exactly that bigint', async () => {
    const { port, inbox: sin } = await startServer();
    const { inbox: cin } = await startClient(port);
    await next(cin, 'connected');
    const [, sconn] = await next(sin, 'connected');
    const max = 2n ** 62n - 1n;
    await quicer.shutdownConnection(sconn as QuicConn, 0, max);
    const [, , code] = await next(cin, 'shutdown');
    expect(code).toBe(max);
    expect(typeof code).toBe('bigint');
  });

  it('SILENT close sends no CONNECTION_CLOSE: nothing more leaves for the peer, which learns nothing; a normal close does send', async () => {
    const { port, inbox: sin } = await startServer();
    const relay = await UdpRelay.create(port);
    const { inbox: cin } = await startClient(relay.port);
    const [, conn] = await next(cin, 'connected');
    await next(sin, 'connected');
    await relay.quiet(); // ACKs, HANDSHAKE_DONE and path MTU probes settle first
    const before = relay.toServer;
    expect(await quicer.shutdownConnection(conn as QuicConn, ConnShutdownFlag.SILENT, 7)).toEqual(['ok']);
    expect((await next(cin, 'closed'))[2]).toMatchObject({ is_app_closing: true, is_peer_acked: false });
    await sleep(100);
    expect(relay.toServer).toBe(before);
    expect(names(sin)).not.toContain('shutdown');

    // The same without SILENT: a CONNECTION_CLOSE goes out and the peer gets shutdown 7.
    const relay2 = await UdpRelay.create(port);
    const { inbox: cin2 } = await startClient(relay2.port);
    const [, conn2] = await next(cin2, 'connected');
    await next(sin, 'connected');
    await relay2.quiet();
    const before2 = relay2.toServer;
    await quicer.shutdownConnection(conn2 as QuicConn, ConnShutdownFlag.NONE, 7);
    expect((await next(sin, 'shutdown'))[2]).toBe(7n);
    expect(relay2.toServer).toBeGreaterThan(before2);
  });

  it('close is idempotent: a second shutdownConnection and one on a closed connection answer ok at once (QUICER.md §5.16)', async () => {
    const { port } = await startServer();
    const { inbox: cin } = await startClient(port);
    const [, conn] = await next(cin, 'connected');
    const first = quicer.shutdownConnection(conn as QuicConn, 0, 1);
    const t0 = performance.now();
    const second = await quicer.shutdownConnection(conn as QuicConn, 0, 1);
    expect(second).toEqual(['ok']);
    expect(await first).toEqual(['ok']);
    await next(cin, 'closed');
    expect(await quicer.shutdownConnection(conn as QuicConn)).toEqual(['ok']);
    expect(quicer.asyncShutdownConnection(conn as QuicConn)).toEqual(['ok']);
    expect(performance.now() - t0).toBeLessThan(1000);
    await sleep(30);
    expect(names(cin).filter((n) => n === 'closed')).toEqual([]); // closed only once
  });
});

describe('QUICER.md §5 complaints', () => {
  it('§5.2: pending stream acceptors are told when the connection dies (acceptStream → closed; async acceptors get a closed message)', async () => {
    const { port, inbox: sin } = await startServer();
    const { inbox: cin } = await startClient(port);
    const [, conn] = await next(cin, 'connected');
    await next(sin, 'connected');
    const pending = quicer.acceptStream(conn as QuicConn, {}, Infinity);
    const acceptor = new Inbox();
    expect(quicer.asyncAcceptStream(conn as QuicConn, {}, acceptor)).toEqual(['ok', conn]);
    await sleep(10);
    quicer.asyncShutdownConnection(conn as QuicConn, 0, 0);
    expect(await pending).toEqual(['error', 'closed']);
    expect(await acceptor.receive()).toEqual(['quic', 'closed', undefined, undefined]);
    expect(await quicer.acceptStream(conn as QuicConn)).toEqual(['error', 'closed']);
    acceptor.exit();
  });

  it('§5.15: opening a stream on a server connection before its handshake fails fast with stm_open_error invalid_state', async () => {
    const results: unknown[] = [];
    const { port, inbox: sin } = await startServer({
      cb: recorder({
        newConn: (conn, _props, s) => {
          results.push(quicer.startStream(conn, {}));
          quicer.asyncHandshake(conn);
          return ['ok', s];
        },
      }),
    });
    const { inbox: cin } = await startClient(port);
    await next(sin, 'newConn');
    expect(results).toEqual([['error', 'stm_open_error', 'invalid_state']]);
    await next(cin, 'connected'); // the connection itself goes on
  });

  it('§5.17: controllingProcess moves the owner monitor: the old owner\'s death no longer closes the connection, the new owner\'s does', async () => {
    const { port, inbox: sin } = await startServer({ lOpts: { datagram_receive_enabled: 1 } });
    const oldOwner = new Inbox();
    const newOwner = new Inbox();
    const r = await quicer.connect('127.0.0.1', port, { alpn: ['quicer-test'], verify: 'none', datagram_receive_enabled: 1 }, 3000, { owner: oldOwner });
    expect(r[0]).toBe('ok');
    const conn = r[1] as QuicConn;
    cleanups.push(() => quicer.shutdownConnection(conn));
    const [, sconn] = await next(sin, 'connected');
    expect(quicer.controllingProcess(conn, newOwner)).toEqual(['ok']);
    oldOwner.exit('kill');
    await sleep(50);
    expect(names(sin)).not.toContain('shutdown');
    quicer.sendDgram(sconn as QuicConn, new TextEncoder().encode('still here'));
    const m = await newOwner.receive<unknown[]>((x) => Array.isArray(x) && x[1] instanceof Uint8Array);
    expect(new TextDecoder().decode(m[1] as Uint8Array)).toBe('still here');
    newOwner.exit('kill');
    expect((await next(sin, 'shutdown'))[2]).toBe(0n);
  });
});
