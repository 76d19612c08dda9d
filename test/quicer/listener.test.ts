/**
 * quicer_listener (QUICER.md §3b): the acceptor pool kept at conn_acceptors, deferred init
 * reading the conf table as it is when a connection arrives, count_conns, lock / unlock,
 * reload (new certificates, options and address for new connections; established ones and
 * the listener handle untouched), get_conf, stopping, and the caller errors. Over UDP
 * loopback between purequic's client and server.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { QuicListenerServer } from '../../src/quicer/listener-server.js';
import type { QuicConn } from '../../src/quicer/conn-handle.js';
import { Inbox } from '../../src/quicer/process.js';
import { globalRegistration } from '../../src/quicer/registration.js';
import * as quicer from '../../src/quicer/quicer.js';
import { selfSignedCertificate } from '../../src/tls/certificate-authority.js';
import { cleanup, cleanups, identity, names, next, recorder, sleep, startClient, startServer } from './connection-harness.js';

afterEach(cleanup);

/** Waits until `f()` holds (polling), failing after `ms`. */
async function until(f: () => boolean, ms = 2000): Promise<void> {
  const t0 = performance.now();
  while (!f()) {
    if (performance.now() - t0 > ms) throw new Error('condition not reached');
    await sleep(5);
  }
}

/** Connects a recording client and waits for its connected; returns its handle and inbox. */
async function connected(port: number, opts: Record<string, unknown> = {}): Promise<{ conn: QuicConn; inbox: Inbox; proc: Awaited<ReturnType<typeof startClient>>['proc'] }> {
  const { inbox, proc } = await startClient(port, { datagram_receive_enabled: 1, ...opts });
  const [, conn] = await next(inbox, 'connected');
  return { conn: conn as QuicConn, inbox, proc };
}

describe('acceptor pool', () => {
  it('stays at conn_acceptors: each connection takes an acceptor and a replacement is started; count_conns counts the taken ones', async () => {
    const cb = recorder({ closed: (_c, _p, s) => ['stop', 'normal', s] });
    const { server, port, inbox: sin } = await startServer({ acceptors: 2, cb });
    expect(server.listener.acceptorCount).toBe(2);
    expect(await QuicListenerServer.countConns(server)).toBe(0);
    const open = globalRegistration.connectionCount;
    const a = await connected(port);
    await next(sin, 'connected');
    expect(globalRegistration.connectionCount).toBe(open + 2); // the client and the server side
    expect(server.listener.acceptorCount).toBe(2);
    expect(await QuicListenerServer.countConns(server)).toBe(1);
    const b = await connected(port);
    await connected(port);
    await next(sin, 'connected');
    await next(sin, 'connected');
    expect(server.listener.acceptorCount).toBe(2);
    expect(await QuicListenerServer.countConns(server)).toBe(3);
    // A connection process that stops (here on closed) leaves the count.
    await quicer.shutdownConnection(a.conn);
    await quicer.shutdownConnection(b.conn);
    await next(sin, 'closed');
    await next(sin, 'closed');
    await until(() => server.pool.children.size === 3);
    expect(await QuicListenerServer.countConns(server)).toBe(1);
  });

  it('an acceptor that dies before it got a connection is replaced', async () => {
    const { server } = await startServer({ acceptors: 3 });
    const waiting = [...server.pool.children].filter((c) => c.conn === undefined);
    expect(waiting).toHaveLength(3);
    waiting[0]!.exit('kill');
    waiting[1]!.exit('crashed');
    await until(() => server.listener.acceptorCount === 3);
    expect(server.pool.children.size).toBe(3);
    expect(server.pool.children.has(waiting[0]!)).toBe(false);
  });

  it('an acceptor whose deferred init fails ends; its connection is closed; the pool stays full and serves the next client', async () => {
    let calls = 0;
    const cb = recorder({
      init: (opts) => {
        calls++;
        if (calls === 1) throw new Error('init failed');
        return ['ok', { inbox: opts.inbox as Inbox }];
      },
    });
    const { server, port } = await startServer({ acceptors: 2, cb, lOpts: { initial_rtt_ms: 10 } });
    const { inbox: first } = await startClient(port, { initial_rtt_ms: 10 });
    // The connection was still held in its handshake: the client sees the application close as user_canceled.
    expect((await next(first, 'transportShutdown'))[2]).toEqual({ status: 'user_canceled', error: 0xc });
    expect(names(first)).not.toContain('connected');
    await until(() => server.listener.acceptorCount === 2);
    await connected(port);
    expect(calls).toBe(2);
  });

  it('init is deferred to the first connection and reads c_opts / s_opts as they are then (after a reload)', async () => {
    const { server, port, inbox: sin } = await startServer({ cOpts: { generation: 1 }, sOpts: { active: 1 } });
    expect(names(sin)).toEqual([]);
    await connected(port);
    const [, init1] = await next(sin, 'init');
    expect(init1).toMatchObject({ generation: 1, stream_opts: { active: 1 } });
    const [l, c] = await QuicListenerServer.getConf(server);
    expect(await QuicListenerServer.reload(server, [l, { ...c, generation: 2 }, { active: false }])).toEqual(['ok']);
    // The acceptors were queued before the reload; they read the table when the connection comes.
    await connected(port);
    const [, init2] = await next(sin, 'init');
    expect(init2).toMatchObject({ generation: 2, stream_opts: { active: false } });
    expect(await QuicListenerServer.getConf(server)).toEqual([l, { ...c, generation: 2 }, { active: false }]);
  });
});

describe('lock, unlock, reload', () => {
  it('lock: new clients time out, established connections go on; unlock: accepting again', async () => {
    const { server, port, inbox: sin } = await startServer({ lOpts: { datagram_receive_enabled: 1 } });
    const est = await connected(port);
    const [, sconn] = await next(sin, 'connected');
    expect(await QuicListenerServer.lock(server)).toEqual(['ok']);
    const { inbox: late } = await startClient(port, { handshake_idle_timeout_ms: 300 });
    expect((await next(late, 'transportShutdown'))[2]).toEqual({ status: 'connection_idle', error: 1 });
    quicer.sendDgram(sconn as QuicConn, new TextEncoder().encode('locked but alive'));
    expect(new TextDecoder().decode((await next(est.inbox, 'dgramRecv'))[2] as Uint8Array)).toBe('locked but alive');
    // A reload does not undo the lock.
    const conf = await QuicListenerServer.getConf(server);
    expect(await QuicListenerServer.reload(server, conf)).toEqual(['ok']);
    expect(server.listener.locked).toBe(true);
    expect(server.listener.endpoint.acceptingNew).toBe(false);
    expect(await QuicListenerServer.unlock(server)).toEqual(['ok']);
    await connected(port);
  });

  it('reload: new certificates for new connections; the established one and the listener handle are untouched', async () => {
    const first = await identity();
    const second = await selfSignedCertificate({ hosts: ['localhost', '127.0.0.1'], now: Date.now() });
    const { server, port, inbox: sin } = await startServer({ lOpts: { datagram_receive_enabled: 1 } });
    const [, handleBefore] = await QuicListenerServer.getHandle(server);
    const leafSeen = async (): Promise<Uint8Array> => {
      const { inbox } = await startClient(
        port,
        { custom_verify: true, datagram_receive_enabled: 1 },
        recorder({
          peerCertReceived: (conn, _c, s) => {
            quicer.completeCertValidation(conn, true);
            return ['ok', s];
          },
        }),
      );
      const [, , certs] = await next(inbox, 'peerCertReceived');
      await next(inbox, 'connected');
      return (certs as [Uint8Array])[0];
    };
    expect(Buffer.from(await leafSeen()).equals(Buffer.from(first.certificate))).toBe(true);
    await next(sin, 'connected'); // that client's server side
    const est = await connected(port);
    const [, sconn] = await next(sin, 'connected');
    const [l] = await QuicListenerServer.getConf(server);
    expect(await QuicListenerServer.reload(server, { ...l, cert: second.certificatePem, key: second.privateKeyPem })).toEqual(['ok']);
    expect(Buffer.from(await leafSeen()).equals(Buffer.from(second.certificate))).toBe(true);
    expect((await QuicListenerServer.getHandle(server))[1]).toBe(handleBefore);
    // The connection made before the reload still carries traffic.
    quicer.sendDgram(sconn as QuicConn, new TextEncoder().encode('old connection'));
    expect(new TextDecoder().decode((await next(est.inbox, 'dgramRecv'))[2] as Uint8Array)).toBe('old connection');
  });

  it('reload on a new address: new clients connect there; the handle is the same; old connections stay', async () => {
    const { server, port, inbox: sin } = await startServer({ lOpts: { datagram_receive_enabled: 1 } });
    const est = await connected(port);
    const [, sconn] = await next(sin, 'connected');
    const [l, c, s] = await QuicListenerServer.getConf(server);
    const [, handle] = await QuicListenerServer.getHandle(server);
    expect(await QuicListenerServer.reload(server, '127.0.0.1:0', [l, c, s])).toEqual(['ok']);
    const newPort = handle.address().port;
    expect(newPort).not.toBe(port);
    expect((await QuicListenerServer.getHandle(server))[1]).toBe(handle);
    await connected(newPort);
    quicer.sendDgram(sconn as QuicConn, new TextEncoder().encode('moved listener'));
    expect(new TextDecoder().decode((await next(est.inbox, 'dgramRecv'))[2] as Uint8Array)).toBe('moved listener');
  });

  it('a reload with bad options throws before anything changes', async () => {
    const { server, port } = await startServer();
    const conf = await QuicListenerServer.getConf(server);
    await expect(QuicListenerServer.reload(server, { ...conf[0], idle_timeout_ms: -5 })).rejects.toThrow(/idle_timeout_ms/);
    await expect(QuicListenerServer.reload(server, { ...conf[0], alpn: [] })).rejects.toThrow(TypeError);
    await expect(QuicListenerServer.reload(server, [conf[0], { conn_callback: 42 }, {}])).rejects.toThrow(/conn_callback/);
    await expect(QuicListenerServer.reload(server, [conf[0], { app: 1 }, {}])).rejects.toThrow(/conn_callback: missing/);
    expect(await QuicListenerServer.getConf(server)).toEqual(conf);
    await connected(port);
  });
});

describe('starting and stopping', () => {
  it('stopping the listener server ends its connection processes: peers see shutdown with 0', async () => {
    const { server, port, inbox: sin } = await startServer();
    const a = await connected(port);
    await next(sin, 'connected');
    await QuicListenerServer.stop(server);
    expect(server.alive).toBe(false);
    expect(server.pool.alive).toBe(false);
    expect((await next(a.inbox, 'shutdown'))[2]).toBe(0n);
    expect(QuicListenerServer.whereis(server.name)).toBeUndefined();
  });

  it('the listener server ends with the process it is linked to', async () => {
    const me = await identity();
    const parent = new Inbox();
    const r = await QuicListenerServer.startLink('linked-listener', '127.0.0.1:0', [{ alpn: ['x'], cert: me.certificatePem, key: me.privateKeyPem, conn_acceptors: 1 }, { conn_callback: recorder() }, {}], { link: parent });
    expect(r[0]).toBe('ok');
    const server = r[1] as QuicListenerServer;
    cleanups.push(() => server.listener.shutdown());
    expect(QuicListenerServer.whereis('linked-listener')).toBe(server);
    parent.exit('kill');
    await until(() => !server.alive);
    expect(server.listener.closed).toBe(true);
  });

  it('caller errors: conn_acceptors missing or bad, no conn_callback, a name taken, unknown calls', async () => {
    const me = await identity();
    const l = { alpn: ['x'], cert: me.certificatePem, key: me.privateKeyPem };
    const cb = { conn_callback: recorder() };
    await expect(QuicListenerServer.startLink('e1', 0, [l, cb, {}])).rejects.toThrow(/conn_acceptors: missing/);
    await expect(QuicListenerServer.startLink('e1', 0, [{ ...l, conn_acceptors: -1 }, cb, {}])).rejects.toThrow(RangeError);
    await expect(QuicListenerServer.startLink('e1', 0, [{ ...l, conn_acceptors: 'two' }, cb, {}])).rejects.toThrow(/conn_acceptors: "two" is not allowed/);
    await expect(QuicListenerServer.startLink('e1', 0, [{ ...l, conn_acceptors: 1, alpn: undefined }, cb, {}])).rejects.toThrow(/alpn/);
    expect(await QuicListenerServer.startLink('e1', 0, [{ ...l, conn_acceptors: 1 }, {}, {}])).toEqual(['error', 'missing_conn_callback']);
    const { server } = await startServer();
    expect(await QuicListenerServer.startLink(server.name, 0, [{ ...l, conn_acceptors: 1 }, cb, {}])).toEqual(['error', ['already_started', server]]);
    expect(await server.call('frobnicate')).toEqual(['error', ['unimpl', 'frobnicate']]);
  });
});
